// The shipped defaults (policies/attestation.cel, policies/resource.json) keep the meaning of the vertical slice's rules.
import { expect } from 'chai';
import { compileAttestationPolicy } from '../../../src/policy/attestation-policy.js';
import { loadDefaultPolicies } from '../../../src/policy/default-policies.js';
import { compileResourcePolicy } from '../../../src/policy/resource-policy.js';
import { claimsFor, requestFor } from './policy-fixtures.js';

describe('policy/default-policies (policies/ at the repository root)', () => {
  let defaults: Awaited<ReturnType<typeof loadDefaultPolicies>>;
  before(async () => {
    defaults = await loadDefaultPolicies();
  });

  const attestation = (sampleEnabled: boolean) => compileAttestationPolicy(defaults.attestation, { devMode: sampleEnabled, sampleEnabled }).policy;
  const resource = (devMode: boolean) => compileResourcePolicy(defaults.resource, { devMode, sampleEnabled: devMode }).policy;
  const attestInput = (tee: string, status: 'affirming' | 'warning' | 'contraindicated' | 'none' = 'affirming') => {
    const { iat: _iat, ...claims } = claimsFor(tee, { status });
    return { claims, tee };
  };

  it('attestation: affirming sample claims only while the sample TEE is enabled', () => {
    expect(attestation(true).evaluate(attestInput('sample')).allow).to.equal(true);
    expect(attestation(false).evaluate(attestInput('sample')).allow).to.equal(false);
  });

  it('attestation: affirming claims of other TEEs whether or not sample is enabled; no id override', () => {
    for (const enabled of [true, false]) expect(attestation(enabled).evaluate(attestInput('snp'))).to.deep.equal({ allow: true });
  });

  for (const status of ['warning', 'contraindicated', 'none'] as const) {
    it(`attestation: ${status} claims are denied`, () => {
      expect(attestation(true).evaluate(attestInput('snp', status)).allow).to.equal(false);
      expect(attestation(true).evaluate(attestInput('sample', status)).allow).to.equal(false);
    });
  }

  it('resource: one */*/* rule; real TEEs allowed in and outside development mode', () => {
    for (const devMode of [true, false]) expect(resource(devMode).evaluate(requestFor('any/key/x'))).to.deep.include({ allow: true, rule: '#1 */*/*' });
  });

  it('resource: sample certificates in development mode only', () => {
    expect(resource(true).evaluate(requestFor('a/b/c', claimsFor('sample'))).allow).to.equal(true);
    expect(resource(false).evaluate(requestFor('a/b/c', claimsFor('sample'))).allow).to.equal(false);
  });

  it('resource: non-affirming claims are denied', () => {
    expect(resource(true).evaluate(requestFor('a/b/c', claimsFor('tdx', { status: 'contraindicated' }))).allow).to.equal(false);
  });
});
