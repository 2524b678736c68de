import { expect } from 'chai';
import type { AttestedCredential } from '../../../src/client/attest.js';
import { renewalSettings } from '../../../src/client/renewal-schedule.js';
import { RenewalError, type Renewal, type RenewalFailure } from '../../../src/client/renewing-session.js';
import { Session } from '../../../src/client/session.js';
import { closedPort } from '../../helpers/closed-port.js';
import { rejection } from '../../helpers/rejection.js';
import { makeRoot } from '../pki/helpers.js';

/** A certificate and its key, enough for a TLS client context; no broker is ever reached in these tests. */
function credential(serial: string, lifetimeMs: number): AttestedCredential {
  const { issued, privateKey } = makeRoot();
  return {
    key: privateKey, keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), certificatePem: issued.pem, chainPem: '',
    spiffeId: 'spiffe://keybroker.local/tee/sample/0000000000000000', serial, expiresAt: new Date(Date.now() + lifetimeMs), claims: {},
  };
}

const CA = makeRoot().issued.pem;

function collect<T>(session: Session, event: string, count: number): Promise<T[]> {
  const seen: T[] = [];
  return new Promise((resolve) => {
    session.on(event, (value: T) => {
      seen.push(value);
      if (seen.length === count) resolve(seen);
    });
  });
}

describe('client: session renewal state', () => {
  // Renew after 1/1000 of a minute (60 ms), no jitter; back off from 10 ms to 40 ms.
  const settings = renewalSettings({ at: 0.001, jitter: 0, minBackoffMs: 10, maxBackoffMs: 40 });
  let sessions: Session[] = [];

  afterEach(async () => {
    await Promise.all(sessions.map((session) => session.close()));
    sessions = [];
  });

  it('reports each failed renewal with a doubling, capped wait; a failing request carries the renewal error; success resets', async () => {
    let outcome: () => Promise<AttestedCredential> = () => Promise.reject(new Error('broker down'));
    const second = credential('02', 60_000);
    const session = new Session(`https://127.0.0.1:${await closedPort()}`, CA, credential('01', 60_000), () => outcome(), settings);
    sessions.push(session);

    const failures = await collect<RenewalFailure>(session, 'renewal-error', 4);
    expect(failures.map((failure) => [failure.failures, failure.retryInMs])).to.deep.equal([[1, 10], [2, 20], [3, 40], [4, 40]]);
    expect(failures.every((failure) => failure.error.message === 'broker down')).to.equal(true);

    const failed = await rejection(session.getResource('a/b/c'));
    expect(failed).to.be.instanceOf(RenewalError);
    expect((failed as RenewalError).cause).to.have.property('message', 'broker down');
    expect((failed as RenewalError).requestError?.message).to.match(/ECONNREFUSED/);
    expect(failed.message).to.match(/ECONNREFUSED.*\(certificate renewal fails: broker down\)/);

    outcome = async () => second;
    const [renewal] = await collect<Renewal>(session, 'renewed', 1);
    expect(renewal!.serial).to.equal('02');
    expect(session.serial).to.equal('02');
    expect(session.certificate).to.equal(second.certificatePem);
    expect(session.key).to.equal(second.key);

    outcome = () => Promise.reject(new Error('down again'));
    const [next] = await collect<RenewalFailure>(session, 'renewal-error', 1);
    expect([next!.failures, next!.retryInMs], 'the count starts over after a success').to.deep.equal([1, 10]);
    const plain = await rejection(session.getResource('a/b/c'));
    expect(plain).to.be.instanceOf(RenewalError);
  });

  it('without a pending renewal error a failing request rejects with its own error', async () => {
    const session = new Session(`https://127.0.0.1:${await closedPort()}`, CA, credential('01', 60_000), () => Promise.reject(new Error('unused')), undefined);
    sessions.push(session);
    const failed = await rejection(session.getResource('a/b/c'));
    expect(failed).not.to.be.instanceOf(RenewalError);
    expect(failed.message).to.match(/ECONNREFUSED/);
  });

  it('stops renewing when closed and refuses further requests', async () => {
    let attempts = 0;
    const session = new Session('https://127.0.0.1:1', CA, credential('01', 60_000), () => {
      attempts += 1;
      return Promise.reject(new Error('down'));
    }, settings);
    await collect<RenewalFailure>(session, 'renewal-error', 1);
    await session.close();
    const afterClose = attempts;
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(attempts, 'no attempt after close').to.equal(afterClose);
    expect((await rejection(session.getResource('a/b/c'))).message).to.match(/closed/);
  });
});
