import { createHash } from 'node:crypto';
import { expect } from 'chai';
import canonicalizeModule from 'canonicalize';
import { v0BindingDigest, v0ReportData, v0ReportDataMatches } from '../../../src/attestation/binding.js';

const canonicalize = canonicalizeModule as unknown as (input: unknown) => string;

describe('v0 binding', () => {
  it('the JCS vector of the issue: {"b":1,"a":"test","c":{"d":"e"}} with SHA-384', () => {
    const canonical = canonicalize({ b: 1, a: 'test', c: { d: 'e' } });
    expect(canonical).to.equal('{"a":"test","b":1,"c":{"d":"e"}}');
    expect(createHash('sha384').update(canonical).digest('hex'))
      .to.equal('e71ce8e70d814ba6639c3612ebee0ff1f76f650f8dbb5e47157e0f3f525cd22c4597480a186427c813ca941da78870c3');
  });

  const jwk = { kty: 'EC', crv: 'P-256', x: 'x-coordinate', y: 'y-coordinate' };

  it('hashes the canonical JSON of tee-pubkey, nonce and additional-evidence, keys sorted whatever their order', () => {
    const expected = createHash('sha384')
      .update('{"additional-evidence":"","nonce":"bm9uY2U=","tee-pubkey":{"crv":"P-256","kty":"EC","x":"x-coordinate","y":"y-coordinate"}}')
      .digest();
    expect(v0BindingDigest({ teePubkey: jwk, nonce: 'bm9uY2U=', additionalEvidence: '' }, 'sha384')).to.deep.equal(expected);
    expect(v0BindingDigest({ teePubkey: jwk, nonce: 'bm9uY2U=', additionalEvidence: '' }, 'sha512')).to.have.length(64);
    expect(v0BindingDigest({ teePubkey: jwk, nonce: 'bm9uY2U=', additionalEvidence: 'x' }, 'sha384')).not.to.deep.equal(expected);
  });

  it('right-pads the digest with zeros to 64 bytes', () => {
    const digest = Buffer.alloc(48, 7);
    const padded = v0ReportData(digest);
    expect(padded).to.have.length(64);
    expect(padded.subarray(0, 48)).to.deep.equal(digest);
    expect(padded.subarray(48)).to.deep.equal(Buffer.alloc(16));
  });

  it('accepts the padded digest, its first 32 bytes, and the bare digest for sample only', () => {
    const digest = createHash('sha384').update('x').digest();
    expect(v0ReportDataMatches(v0ReportData(digest), digest, 'snp')).to.equal(true);
    expect(v0ReportDataMatches(v0ReportData(digest).subarray(0, 32), digest, 'tpm')).to.equal(true);
    expect(v0ReportDataMatches(digest, digest, 'sample')).to.equal(true);
    expect(v0ReportDataMatches(digest, digest, 'snp')).to.equal(false);
    const tampered = v0ReportData(digest);
    tampered[63] = 1;
    expect(v0ReportDataMatches(tampered, digest, 'snp')).to.equal(false);
    expect(v0ReportDataMatches(Buffer.alloc(16), digest, 'sample')).to.equal(false);
  });
});
