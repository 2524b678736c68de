import { expect } from 'chai';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '../../../src/config/config.js';
import { ConfigError, loadConfig } from '../../../src/config/load-config.js';
import { useTempDir } from '../../helpers/temp-dir.js';

describe('loadConfig [ca] key_storage and [pkcs11]', () => {
  const home = useTempDir('pkcs11-config');

  async function load(toml: string, env: NodeJS.ProcessEnv = {}): Promise<Config> {
    await writeFile(join(home(), 'keybroker.toml'), toml);
    return loadConfig({ home: home(), dev: false, env });
  }

  async function errorOf(toml: string, env: NodeJS.ProcessEnv = {}): Promise<string> {
    try {
      await load(toml, env);
    } catch (error) {
      expect(error).to.be.instanceOf(ConfigError);
      return (error as Error).message;
    }
    throw new Error('expected a ConfigError');
  }

  it('reads the PKCS#11 settings, resolving paths against the home', async () => {
    const config = await load('[ca]\nkey_storage = "pkcs11"\n[pkcs11]\nmodule = "/usr/lib/softhsm/libsofthsm2.so"\ntoken_label = "kb"\npin_file = "secrets/pin"\n');
    expect(config.ca.keyStorage).to.equal('pkcs11');
    expect(config.pkcs11).to.deep.equal({ modulePath: '/usr/lib/softhsm/libsofthsm2.so', tokenLabel: 'kb', pinFile: join(home(), 'secrets/pin'), keyLabelPrefix: 'keybroker-issuer-' });
  });

  it('takes the PIN from KEYBROKER_PKCS11_PIN when there is no pin_file, without putting it in the config', async () => {
    const config = await load('[ca]\nkey_storage = "pkcs11"\n[pkcs11]\nmodule = "/m.so"\ntoken_label = "kb"\nkey_label_prefix = "ca-"\n', { KEYBROKER_PKCS11_PIN: '98765' });
    expect(config.pkcs11).to.deep.equal({ modulePath: '/m.so', tokenLabel: 'kb', keyLabelPrefix: 'ca-' });
    expect(JSON.stringify(config)).to.not.include('98765');
  });

  it('names the missing setting when key_storage is pkcs11', async () => {
    expect(await errorOf('[ca]\nkey_storage = "pkcs11"\n')).to.include('[pkcs11] module: is required');
    expect(await errorOf('[ca]\nkey_storage = "pkcs11"\n[pkcs11]\nmodule = "/m.so"\n')).to.include('[pkcs11] token_label: is required');
    expect(await errorOf('[ca]\nkey_storage = "pkcs11"\n[pkcs11]\nmodule = "/m.so"\ntoken_label = "kb"\n')).to.include('KEYBROKER_PKCS11_PIN');
  });

  it('refuses an unknown storage and unknown [pkcs11] keys, and ignores [pkcs11] for file storage', async () => {
    expect(await errorOf('[ca]\nkey_storage = "tpm"\n')).to.include('[ca] key_storage');
    expect(await errorOf('[pkcs11]\nslot = 1\n')).to.include('[pkcs11] slot: unknown key');
    const config = await load('[pkcs11]\nmodule = "/m.so"\n');
    expect(config.ca.keyStorage).to.equal('file');
    expect(config.pkcs11).to.equal(undefined);
  });
});
