import { expect } from 'chai';
import { compileAttestationPolicy } from '../../../src/policy/attestation-policy.js';
import { claimsFor, DEV } from './policy-fixtures.js';

function input(tee: string, measurement?: string) {
  const { iat: _iat, ...claims } = claimsFor(tee, measurement ? { measurement } : {});
  return { claims, tee };
}

describe('policy/attestation-policy', () => {
  it('`allow` decides over claims and tee', () => {
    const { policy } = compileAttestationPolicy({ allow: 'tee == "snp" && claims.measurement == "aa"' }, DEV);
    expect(policy.evaluate(input('snp', 'aa'))).to.deep.equal({ allow: true });
    const denied = policy.evaluate(input('snp', 'bb'));
    expect(denied.allow).to.equal(false);
    expect(denied.reason).to.be.a('string');
  });

  it('`id` sets the certificate id segment when the TEE is allowed', () => {
    const { policy, document } = compileAttestationPolicy({ allow: 'true', id: '"web-" + claims.measurement' }, DEV);
    expect(document).to.deep.equal({ allow: 'true', id: '"web-" + claims.measurement' });
    expect(policy.evaluate(input('snp', 'aa'))).to.deep.equal({ allow: true, id: 'web-aa' });
  });

  it('an `id` that fails to evaluate or is not a string denies', () => {
    const missing = compileAttestationPolicy({ allow: 'true', id: 'claims.no_such_claim' }, DEV).policy.evaluate(input('snp'));
    expect(missing.allow).to.equal(false);
    expect(missing.reason).to.match(/evaluation error/);
    const notString = compileAttestationPolicy({ allow: 'true', id: 'claims.trust_vector' }, DEV).policy.evaluate(input('snp'));
    expect(notString).to.deep.include({ allow: false });
    expect(notString.reason).to.match(/string/);
  });
});
