// Unit tests of src/policy/default-policies.ts (kept under test/unit/protocol: the handlers are its only callers).
import { expect } from 'chai';
import type { AttestationStatus, Claims } from '../../../src/domain/claims.js';
import { defaultAttestationPolicy, defaultResourcePolicy } from '../../../src/policy/default-policies.js';
import type { ResourceRequest } from '../../../src/policy/policy.js';

function claimsFor(tee: string, status: AttestationStatus = 'affirming'): Claims {
  return {
    v: 1, tee, verifier: 'builtin', status, tcb_status: 'UpToDate', trust_vector: { hardware: 2, executables: 2, configuration: 2 }, tee_claims: {}, iat: 1764410000,
  };
}

function resourceRequest(claims: Claims): ResourceRequest {
  return {
    claims,
    resource: { repository: 'default', type: 'key', tag: 'one', path: 'default/key/one' },
    client: { spiffe_id: `spiffe://keybroker.test/tee/${claims.tee}/abc`, serial: '01', not_after: '2026-12-01T00:00:00Z' },
  };
}

describe('policy/default-policies', () => {
  describe('defaultAttestationPolicy', () => {
    it('allows affirming sample claims only while the sample TEE is enabled', () => {
      const { iat: _iat, ...sample } = claimsFor('sample');
      expect(defaultAttestationPolicy({ sampleEnabled: true }).evaluate({ claims: sample, tee: 'sample' }).allow).to.equal(true);
      const denied = defaultAttestationPolicy({ sampleEnabled: false }).evaluate({ claims: sample, tee: 'sample' });
      expect(denied.allow).to.equal(false);
      expect(denied.reason).to.be.a('string').and.match(/sample/);
    });

    it('allows affirming claims of other TEEs whether or not sample is enabled', () => {
      const { iat: _iat, ...snp } = claimsFor('snp');
      for (const sampleEnabled of [true, false]) {
        const decision = defaultAttestationPolicy({ sampleEnabled }).evaluate({ claims: snp, tee: 'snp' });
        expect(decision.allow).to.equal(true);
        expect(decision.id).to.equal(undefined);
      }
    });

    for (const status of ['warning', 'contraindicated', 'none'] as const) {
      it(`denies ${status} claims`, () => {
        const { iat: _iat, ...claims } = claimsFor('snp', status);
        const decision = defaultAttestationPolicy({ sampleEnabled: true }).evaluate({ claims, tee: 'snp' });
        expect(decision.allow).to.equal(false);
        expect(decision.reason).to.contain(status);
        const { iat: _iat2, ...sample } = claimsFor('sample', status);
        expect(defaultAttestationPolicy({ sampleEnabled: true }).evaluate({ claims: sample, tee: 'sample' }).allow).to.equal(false);
      });
    }
  });

  describe('defaultResourcePolicy', () => {
    it('allows certificates of real TEEs in and outside development mode', () => {
      for (const devMode of [true, false]) {
        const decision = defaultResourcePolicy({ devMode }).evaluate(resourceRequest(claimsFor('snp')));
        expect(decision.allow).to.equal(true);
        expect(decision.rule).to.be.a('string').and.not.equal('');
      }
    });

    it('allows sample certificates in development mode only', () => {
      expect(defaultResourcePolicy({ devMode: true }).evaluate(resourceRequest(claimsFor('sample'))).allow).to.equal(true);
      expect(defaultResourcePolicy({ devMode: false }).evaluate(resourceRequest(claimsFor('sample'))).allow).to.equal(false);
    });

    it('does not allow non-affirming claims', () => {
      expect(defaultResourcePolicy({ devMode: true }).evaluate(resourceRequest(claimsFor('tdx', 'contraindicated'))).allow).to.equal(false);
    });
  });
});
