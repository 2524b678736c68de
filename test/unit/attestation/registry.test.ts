import { expect } from 'chai';
import { VerifierRegistry } from '../../../src/attestation/registry.js';
import type { Verifier } from '../../../src/attestation/verifier.js';
import { sampleVerifier } from '../../../src/attestation/verifiers/sample.js';
import { KbsError } from '../../../src/domain/errors.js';
import { errorCodeOf } from '../pki/helpers.js';

function fakeVerifier(name: string, tees: string[]): Verifier {
  return { name, tees, verify: async () => { throw new KbsError('attestation-failed', 'fake'); } };
}

describe('attestation/registry', () => {
  const builtin = sampleVerifier();
  const dev = sampleVerifier('dev');
  const snp = fakeVerifier('snp-builtin', ['snp']);
  const remote = fakeVerifier('coco-as', ['snp', 'tdx']);
  let registry: VerifierRegistry;

  beforeEach(() => {
    registry = new VerifierRegistry().register(builtin).register(dev).register(snp).register(remote, { defaultFor: ['tdx'] });
  });

  it('selects the default verifier of each TEE: the first registered for it unless defaultFor says otherwise', () => {
    expect(registry.select('sample')).to.equal(builtin);
    expect(registry.select('snp')).to.equal(snp);
    expect(registry.select('tdx')).to.equal(remote);
  });

  it('selects a named verifier that handles the TEE', () => {
    expect(registry.select('sample', 'dev')).to.equal(dev);
    expect(registry.select('sample', 'builtin')).to.equal(builtin);
    expect(registry.select('snp', 'coco-as')).to.equal(remote);
  });

  it('answers unsupported-tee for a TEE no verifier is enabled for', async () => {
    expect(await errorCodeOf(() => registry.select('sgx'))).to.equal('unsupported-tee');
    expect(await errorCodeOf(() => registry.select('no-such-tee'))).to.equal('unsupported-tee');
    expect(await errorCodeOf(() => new VerifierRegistry().select('sample'))).to.equal('unsupported-tee');
  });

  it('answers bad-request for an unknown verifier name', async () => {
    expect(await errorCodeOf(() => registry.select('sample', 'nope'))).to.equal('bad-request');
  });

  it('answers unsupported-tee for a named verifier that does not handle the TEE', async () => {
    expect(await errorCodeOf(() => registry.select('sample', 'snp-builtin'))).to.equal('unsupported-tee');
    expect(await errorCodeOf(() => registry.select('tdx', 'builtin'))).to.equal('unsupported-tee');
  });

  it('does not make a verifier the default for TEEs outside defaultFor', async () => {
    const only = new VerifierRegistry().register(remote, { defaultFor: ['tdx'] });
    expect(await errorCodeOf(() => only.select('snp'))).to.equal('unsupported-tee');
    expect(only.select('snp', 'coco-as')).to.equal(remote);
  });

  it('finds verifiers by name and lists the enabled TEEs', () => {
    expect(registry.get('dev')).to.equal(dev);
    expect(registry.get('nope')).to.equal(undefined);
    expect(registry.enabledTees().sort()).to.deep.equal(['sample', 'snp', 'tdx']);
  });
});
