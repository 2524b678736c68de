import { expect } from 'chai';
import {
  acceptsLeaves, dueRotationStep, isInTrustBundle, ISSUER_STATES, lifePoint, nextState, statusDocument, TransitionRefused,
  type IssuerAction, type IssuerState, type IssuerStatus,
} from '../../../src/pki/issuer-states.js';

const HOUR = 3600_000;
const START = new Date('2026-03-01T00:00:00Z');
/** An issuer living 60 hours from START: half-life at +30 h, five sixths at +50 h. */
function issuer(id: string, state: IssuerState, startOffsetHours = 0, lifeHours = 60): IssuerStatus {
  const notBefore = new Date(START.getTime() + startOffsetHours * HOUR);
  return { id, state, notBefore, notAfter: new Date(notBefore.getTime() + lifeHours * HOUR) };
}
const at = (hours: number): Date => new Date(START.getTime() + hours * HOUR);

function refusal(action: () => unknown): string {
  try {
    action();
  } catch (error) {
    expect(error).to.be.instanceOf(TransitionRefused);
    return (error as Error).message;
  }
  return '(nothing thrown)';
}

describe('pki/issuer-states', () => {
  describe('nextState', () => {
    const allowed: [IssuerAction, IssuerState, IssuerState][] = [
      ['activate', 'prepared', 'active'],
      ['retire', 'active', 'retired'],
      ['taint', 'retired', 'tainted'],
      ['taint', 'prepared', 'tainted'],
      ['revoke', 'tainted', 'revoked'],
      ['revoke', 'retired', 'revoked'],
      ['revoke', 'prepared', 'revoked'],
    ];
    for (const [action, from, to] of allowed) {
      it(`${action}: ${from} -> ${to}`, () => {
        expect(nextState({ id: 'x', state: from }, action)).to.equal(to);
      });
    }

    it('answers undefined when the issuer is already in the target state (a repeated step is a no-op)', () => {
      expect(nextState({ id: 'x', state: 'revoked' }, 'revoke')).to.equal(undefined);
      expect(nextState({ id: 'x', state: 'tainted' }, 'taint')).to.equal(undefined);
      expect(nextState({ id: 'x', state: 'active' }, 'activate')).to.equal(undefined);
    });

    it('refuses to activate a retired, tainted or revoked issuer, naming the issuer and what to do', () => {
      expect(refusal(() => nextState({ id: 'old-1', state: 'retired' }, 'activate'))).to.equal('cannot activate issuer old-1 (retired): a retired issuer never becomes active again; prepare a new one');
      expect(refusal(() => nextState({ id: 't', state: 'tainted' }, 'activate'))).to.match(/cannot activate issuer t \(tainted\)/);
      expect(refusal(() => nextState({ id: 'r', state: 'revoked' }, 'activate'))).to.match(/cannot activate issuer r \(revoked\)/);
    });

    it('refuses to taint or revoke the active issuer: exactly one must stay active', () => {
      expect(refusal(() => nextState({ id: 'cur', state: 'active' }, 'revoke'))).to.match(/^cannot revoke issuer cur \(active\): it is the active issuer; activate a successor first/);
      expect(refusal(() => nextState({ id: 'cur', state: 'active' }, 'taint'))).to.match(/^cannot taint issuer cur \(active\)/);
    });

    it('never leaves revoked, and never moves a tainted issuer back', () => {
      for (const action of ['activate', 'retire', 'taint'] as const) expect(refusal(() => nextState({ id: 'r', state: 'revoked' }, action))).to.match(/^cannot/);
      for (const action of ['activate', 'retire'] as const) expect(refusal(() => nextState({ id: 't', state: 'tainted' }, action))).to.match(/^cannot/);
    });
  });

  describe('dueRotationStep (injected clock)', () => {
    it('prepares a successor once half of the active issuer\'s life is gone, not before', () => {
      const issuers = [issuer('a', 'active')];
      expect(dueRotationStep(issuers, at(0))).to.equal(undefined);
      expect(dueRotationStep(issuers, at(29.99))).to.equal(undefined);
      expect(dueRotationStep(issuers, at(30))).to.equal('prepare');
      expect(dueRotationStep(issuers, at(55))).to.equal('prepare');
    });

    it('activates the prepared successor once five sixths are gone, not before', () => {
      const issuers = [issuer('a', 'active'), issuer('b', 'prepared', 30)];
      expect(dueRotationStep(issuers, at(30))).to.equal(undefined);
      expect(dueRotationStep(issuers, at(49.99))).to.equal(undefined);
      expect(dueRotationStep(issuers, at(50))).to.equal('activate');
    });

    it('waits for a successor whose certificate is not valid yet', () => {
      expect(dueRotationStep([issuer('a', 'active'), issuer('b', 'prepared', 51)], at(50.5))).to.equal(undefined);
    });

    it('follows the successor\'s own life after activation, whatever the retired issuers do', () => {
      const issuers = [issuer('a', 'retired'), issuer('b', 'active', 30), issuer('c', 'revoked')];
      expect(dueRotationStep(issuers, at(59))).to.equal(undefined);
      expect(dueRotationStep(issuers, at(60))).to.equal('prepare');
      expect(lifePoint(issuers[1]!, 5 / 6).toISOString()).to.equal(at(80).toISOString());
    });

    it('does nothing for a CA home without exactly one active issuer', () => {
      expect(dueRotationStep([issuer('a', 'retired')], at(59))).to.equal(undefined);
      expect(dueRotationStep([issuer('a', 'active'), issuer('b', 'active')], at(59))).to.equal(undefined);
    });
  });

  describe('trust bundle membership and leaf acceptance', () => {
    it('holds prepared, active and retired-unexpired issuers; drops retired ones at expiry, tainted and revoked ones at once', () => {
      expect(isInTrustBundle(issuer('p', 'prepared'), at(1))).to.equal(true);
      expect(isInTrustBundle(issuer('a', 'active'), at(1))).to.equal(true);
      expect(isInTrustBundle(issuer('r', 'retired'), at(59.9))).to.equal(true);
      expect(isInTrustBundle(issuer('r', 'retired'), at(60))).to.equal(false);
      expect(isInTrustBundle(issuer('t', 'tainted'), at(1))).to.equal(false);
      expect(isInTrustBundle(issuer('v', 'revoked'), at(1))).to.equal(false);
    });

    it('accepts leaves of active and retired issuers only', () => {
      expect(ISSUER_STATES.filter(acceptsLeaves)).to.deep.equal(['active', 'retired']);
    });
  });

  it('statusDocument lists the oldest issuer first', () => {
    expect(statusDocument([issuer('b', 'active', 30), issuer('z', 'retired'), issuer('a', 'prepared', 40)]).issuers.map((entry) => entry.id)).to.deep.equal(['z', 'b', 'a']);
  });

  it('statusDocument has the shape of GET /kbs/v1/admin/ca', () => {
    expect(statusDocument([issuer('a', 'active')])).to.deep.equal({
      issuers: [{ id: 'a', state: 'active', not_before: '2026-03-01T00:00:00.000Z', not_after: '2026-03-03T12:00:00.000Z' }],
    });
  });
});
