import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { initDataClaim, initDataMatchesReport, readInitData } from '../../../src/attestation/init-data.js';
import { errorCodeOf } from '../pki/helpers.js';

const digest = (algorithm: string, text: string): Buffer => createHash(algorithm).update(text, 'utf8').digest();
const padded = (bytes: Buffer, length: number): Buffer => Buffer.concat([bytes, Buffer.alloc(length - bytes.length)]);

describe('attestation/init-data', () => {
  const plain = 'version = "0.1.0"\n[data]\n"policy.rego" = "package agent_policy"\n';
  const sha384Toml = 'version = "0.1.0"\nalgorithm = "sha384"\n[data]\n';

  it('defaults to SHA-256 for a 32-byte field (SNP HOST_DATA) and SHA-384 for a 48-byte field (TDX MRCONFIGID)', () => {
    const initData = readInitData('toml', plain);
    expect(initDataMatchesReport(initData, digest('sha256', plain))).to.equal(true);
    expect(initDataMatchesReport(initData, digest('sha384', plain))).to.equal(true);
    expect(initDataMatchesReport(initData, padded(digest('sha384', plain), 48).fill(0, 47))).to.equal(false);
  });

  it('uses the document\'s algorithm key, zero-padding a shorter digest to the field', () => {
    const initData = readInitData('toml', sha384Toml);
    expect(initDataMatchesReport(initData, digest('sha384', sha384Toml))).to.equal(true);
    const sha256Toml = 'algorithm = "sha256"\n';
    expect(initDataMatchesReport(readInitData('toml', sha256Toml), padded(digest('sha256', sha256Toml), 48))).to.equal(true);
    expect(initDataMatchesReport(readInitData('json', '{"algorithm":"sha512"}'), digest('sha512', '{"algorithm":"sha512"}'))).to.equal(true);
  });

  it('does not match a field of zeros, another body or a digest that does not fit the field', async () => {
    expect(initDataMatchesReport(readInitData('toml', plain), Buffer.alloc(32))).to.equal(false);
    expect(initDataMatchesReport(readInitData('toml', `${plain}# changed\n`), digest('sha256', plain))).to.equal(false);
    expect(await errorCodeOf(() => initDataMatchesReport(readInitData('toml', sha384Toml), Buffer.alloc(32)))).to.equal('binding-mismatch');
  });

  it('refuses a body that does not parse or names an unknown algorithm (400)', async () => {
    expect(await errorCodeOf(() => readInitData('toml', 'this is = = not toml'))).to.equal('bad-request');
    expect(await errorCodeOf(() => readInitData('json', '{'))).to.equal('bad-request');
    expect(await errorCodeOf(() => readInitData('toml', 'algorithm = "md5"'))).to.equal('bad-request');
    expect(await errorCodeOf(() => readInitData('toml', 'algorithm = 1'))).to.equal('bad-request');
  });

  it('records SHA-384 hex of the body as the claim, whatever the report field holds', () => {
    expect(initDataClaim(readInitData('toml', plain))).to.equal(digest('sha384', plain).toString('hex'));
  });
});
