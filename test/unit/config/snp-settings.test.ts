import { expect } from 'chai';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../../../src/config/load-config.js';
import { snpSettingWarnings } from '../../../src/config/verifier-settings.js';
import { useTempDir } from '../../helpers/temp-dir.js';

describe('[attestation] snp_* settings', () => {
  const home = useTempDir('snp-config');

  async function load(toml: string) {
    await writeFile(join(home(), 'keybroker.toml'), toml);
    return loadConfig({ home: home(), dev: false, env: {} }).attestation;
  }

  it('reads every SNP key, paths relative to the home', async () => {
    const fingerprint = 'AB'.repeat(32);
    const attestation = await load([
      '[attestation]', 'enable_snp = false', 'snp_cert_dir = "amd"', 'snp_kds = true', 'snp_kds_url = "https://kds.example.test/"',
      'snp_allow_debug = true', 'snp_max_vmpl = 2', `snp_extra_ark_sha256 = ["${fingerprint}"]`, 'collateral_cache_dir = "cache"',
    ].join('\n'));
    expect(attestation.snp).to.deep.equal({
      enabled: false, certDir: join(home(), 'amd'), kds: true, kdsUrl: 'https://kds.example.test', allowDebug: true, maxVmpl: 2, extraArkSha256: ['ab'.repeat(32)],
    });
    expect(attestation.collateralCacheDir).to.equal(join(home(), 'cache'));
  });

  for (const [toml, subject, problem] of [
    ['snp_max_vmpl = 4', '[attestation] snp_max_vmpl', 'out of range 0..3'],
    ['snp_kds_url = "http://kds.example.test"', '[attestation] snp_kds_url', 'must be an https URL'],
    ['snp_kds_url = "https://kds.example.test/?x=1"', '[attestation] snp_kds_url', 'without query'],
    ['snp_extra_ark_sha256 = "ab"', '[attestation] snp_extra_ark_sha256', 'must be an array'],
    ['snp_extra_ark_sha256 = ["abc"]', '[attestation] snp_extra_ark_sha256[0]', 'must be 64 hex digits'],
    ['snp_allow_debug = 1', '[attestation] snp_allow_debug', 'must be true or false'],
  ] as const) {
    it(`refuses ${toml} naming ${subject}`, async () => {
      let caught: unknown;
      try {
        await load(`[attestation]\n${toml}\n`);
      } catch (error) {
        caught = error;
      }
      expect(caught).to.be.instanceOf(ConfigError);
      expect((caught as ConfigError).subject).to.equal(subject);
      expect((caught as ConfigError).message).to.contain(problem);
    });
  }

  it('warns about extra trusted ARKs and allowed debug guests, and not about the defaults', async () => {
    expect(snpSettingWarnings((await load('')).snp)).to.deep.equal([]);
    const warnings = snpSettingWarnings((await load(`[attestation]\nsnp_extra_ark_sha256 = ["${'ab'.repeat(32)}"]\nsnp_allow_debug = true\n`)).snp);
    expect(warnings).to.have.lengthOf(2);
    expect(warnings[0]).to.match(/snp_extra_ark_sha256 trusts 1 ARK\(s\) besides AMD's/);
    expect(warnings[1]).to.match(/snp_allow_debug/);
    expect(snpSettingWarnings((await load('[attestation]\nenable_snp = false\nsnp_allow_debug = true\n')).snp)).to.deep.equal([]);
  });
});
