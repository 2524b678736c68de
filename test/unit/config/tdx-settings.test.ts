import { expect } from 'chai';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../../../src/config/load-config.js';
import { tdxSettingWarnings } from '../../../src/config/tdx-settings.js';
import { useTempDir } from '../../helpers/temp-dir.js';

describe('[attestation] tdx_* settings', () => {
  const home = useTempDir('tdx-config');

  async function tdxSettings(lines: string[]) {
    await writeFile(join(home(), 'keybroker.toml'), ['[attestation]', ...lines, ''].join('\n'));
    return loadConfig({ home: home(), dev: false, env: {} }).attestation.tdx;
  }

  it('defaults: enabled, no collateral directory, Intel PCS off, debug TDs refused, only the Intel root', async () => {
    expect(await tdxSettings([])).to.deep.equal({
      enabled: true, pcs: false, pcsUrl: 'https://api.trustedservices.intel.com', allowDebug: false, extraRootSha256: [],
    });
  });

  it('reads every TDX key, the collateral directory relative to the home', async () => {
    const settings = await tdxSettings([
      'enable_tdx = false', 'tdx_collateral_dir = "intel"', 'tdx_pcs = true', 'tdx_pcs_url = "https://pccs.example.test:8081/"',
      'tdx_allow_debug = true', `tdx_extra_root_sha256 = ["${'CD'.repeat(32)}"]`,
    ]);
    expect(settings).to.deep.equal({
      enabled: false, collateralDir: join(home(), 'intel'), pcs: true, pcsUrl: 'https://pccs.example.test:8081', allowDebug: true, extraRootSha256: ['cd'.repeat(32)],
    });
  });

  it('refuses a plain-HTTP PCS URL and a malformed root fingerprint, naming the key', async () => {
    const subjects: string[] = [];
    for (const line of ['tdx_pcs_url = "http://pcs.example.test"', 'tdx_extra_root_sha256 = ["not-hex"]']) {
      try {
        await tdxSettings([line]);
      } catch (error) {
        if (error instanceof ConfigError) subjects.push(error.subject);
      }
    }
    expect(subjects).to.deep.equal(['[attestation] tdx_pcs_url', '[attestation] tdx_extra_root_sha256[0]']);
  });

  it('warns about extra trusted roots and allowed debug TDs, and not about the defaults', async () => {
    expect(tdxSettingWarnings(await tdxSettings([]))).to.deep.equal([]);
    const warnings = tdxSettingWarnings(await tdxSettings([`tdx_extra_root_sha256 = ["${'ab'.repeat(32)}"]`, 'tdx_allow_debug = true']));
    expect(warnings).to.have.lengthOf(2);
    expect(warnings[0]).to.match(/tdx_extra_root_sha256 trusts 1 root\(s\) besides the Intel SGX Root CA/);
    expect(warnings[1]).to.match(/tdx_allow_debug accepts debug TDs/);
  });
});
