import { expect } from 'chai';
import type { KbsError } from '../../../../src/domain/errors.js';
import { extraParamsAnswer, negotiateHashAlgorithm } from '../../../../src/protocol/v0/hash-algorithm.js';

describe('v0 hash-algorithm negotiation', () => {
  it('defaults to SHA-384 and answers "" for it', () => {
    expect(negotiateHashAlgorithm('sample', '')).to.equal('sha384');
    expect(negotiateHashAlgorithm('snp', { 'supported-hash-algorithms': ['sha256', 'sha384', 'sha512'] })).to.equal('sha384');
    expect(extraParamsAnswer('sha384')).to.equal('');
  });

  it('takes the strongest listed algorithm when SHA-384 is not listed, and reads extra-params given as JSON text', () => {
    expect(negotiateHashAlgorithm('tdx', '{"supported-hash-algorithms":["SHA512","sha256"]}')).to.equal('sha512');
    expect(negotiateHashAlgorithm('tdx', { 'supported-hash-algorithms': ['sha256'] })).to.equal('sha256');
    expect(extraParamsAnswer('sha512')).to.deep.equal({ 'selected-hash-algorithm': 'sha512' });
  });

  it('needs SHA-512 for se', () => {
    expect(negotiateHashAlgorithm('se', '')).to.equal('sha512');
    expect(negotiateHashAlgorithm('se', { 'supported-hash-algorithms': ['sha384', 'sha512'] })).to.equal('sha512');
  });

  for (const [tee, extra] of [['se', { 'supported-hash-algorithms': ['sha384'] }], ['snp', { 'supported-hash-algorithms': ['md5'] }], ['snp', { 'supported-hash-algorithms': 'sha384' }], ['snp', '{not json'], ['snp', [1]]] as const) {
    it(`refuses ${JSON.stringify(extra)} for ${tee} with 400`, () => {
      try {
        negotiateHashAlgorithm(tee, extra);
        expect.fail('accepted');
      } catch (error) {
        expect((error as KbsError).code).to.equal('bad-request');
      }
    });
  }
});
