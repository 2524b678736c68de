import { expect } from 'chai';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createBuiltinVerifier } from '../../../src/attestation/verifiers/builtin-verifiers.js';
import { loadConfig } from '../../../src/config/load-config.js';
import { useTempDir } from '../../helpers/temp-dir.js';
import { errorCodeOf, thrownBy } from '../pki/helpers.js';

describe('attestation/verifiers/builtin-verifiers', () => {
  const home = useTempDir('builtin');

  async function attestation(toml: string, dev = false) {
    await writeFile(join(home(), 'keybroker.toml'), toml);
    return loadConfig({ home: home(), dev, env: {} }).attestation;
  }

  it('is one verifier named "builtin" for every enabled TEE, dispatching by TEE', async () => {
    const verifier = (await createBuiltinVerifier(await attestation('', true), () => new Date()))!;
    expect(verifier.name).to.equal('builtin');
    expect(verifier.tees).to.include.members(['sample', 'snp']);
    const sample = await verifier.verify('sample', { svn: '1', report_data: Buffer.alloc(64, 1).toString('base64') });
    expect(sample.claims).to.include({ tee: 'sample', verifier: 'builtin' });
    expect(await errorCodeOf(() => verifier.verify('snp', { svn: '1' }))).to.equal('bad-evidence-format');
    expect(await errorCodeOf(() => verifier.verify('sgx', {}))).to.equal('unsupported-tee');
  });

  it('leaves out what the config disables, and is undefined when nothing is enabled', async () => {
    const snpOnly = (await createBuiltinVerifier(await attestation('[attestation]\nenable_tdx = false\n'), () => new Date()))!;
    expect(snpOnly.tees).to.deep.equal(['snp']);
    expect(await createBuiltinVerifier(await attestation('[attestation]\nenable_snp = false\nenable_tdx = false\n'), () => new Date())).to.equal(undefined);
  });

  it('stops with a message naming the SNP certificate directory when it cannot be read', async () => {
    const settings = await attestation('[attestation]\nsnp_cert_dir = "missing"\n');
    const error = await thrownBy(() => createBuiltinVerifier(settings, () => new Date()));
    expect(String(error)).to.contain(`SNP certificate directory ${join(home(), 'missing')}`);
  });

  it('refuses a certificate directory file that is not a certificate', async () => {
    await writeFile(join(home(), 'bad.pem'), 'not a certificate');
    const settings = await attestation('[attestation]\nsnp_cert_dir = "."\n');
    expect(await errorCodeOf(() => createBuiltinVerifier(settings, () => new Date()))).to.equal('bad-request');
  });
});
