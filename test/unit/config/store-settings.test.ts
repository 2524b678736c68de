import { expect } from 'chai';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../../../src/config/load-config.js';
import { useTempDir } from '../../helpers/temp-dir.js';

describe('[store] settings for PostgreSQL', () => {
  const home = useTempDir('store-config');

  async function load(toml: string, env: NodeJS.ProcessEnv = {}) {
    await writeFile(join(home(), 'keybroker.toml'), toml);
    return loadConfig({ home: home(), dev: false, env }).store;
  }

  async function refusal(toml: string, env: NodeJS.ProcessEnv = {}): Promise<ConfigError> {
    try {
      await load(toml, env);
    } catch (error) {
      expect(error).to.be.instanceOf(ConfigError);
      return error as ConfigError;
    }
    throw new Error('expected a ConfigError');
  }

  it('reads backend, url and the cache settings from the file', async () => {
    const store = await load('[store]\nbackend = "postgres"\nurl = "postgresql://kb:pw@db.example:6432/keybroker"\ncache_max_age_ms = 250\npool_size = 4');
    expect(store).to.deep.include({ backend: 'postgres', url: 'postgresql://kb:pw@db.example:6432/keybroker', cacheMaxAgeMs: 250, poolSize: 4 });
  });

  it('takes KEYBROKER_DATABASE_URL over the file, and as the only URL', async () => {
    const env = { KEYBROKER_DATABASE_URL: 'postgres://kb@10.0.0.5/prod' };
    expect((await load('[store]\nbackend = "postgres"\nurl = "postgres://kb@file-host/kb"', env)).url).to.equal('postgres://kb@10.0.0.5/prod');
    expect((await load('[store]\nbackend = "postgres"', env)).url).to.equal('postgres://kb@10.0.0.5/prod');
  });

  it('names the variable when it is bad or set for the file backend, never repeating a password', async () => {
    const bad = await refusal('[store]\nbackend = "postgres"', { KEYBROKER_DATABASE_URL: 'http://kb:hunter2@db/kb' });
    expect(bad.subject).to.equal('KEYBROKER_DATABASE_URL');
    expect(bad.message).not.to.include('hunter2');
    const unused = await refusal('', { KEYBROKER_DATABASE_URL: 'postgres://kb:hunter2@db/kb' });
    expect(unused.subject).to.equal('KEYBROKER_DATABASE_URL');
    expect(unused.message).not.to.include('hunter2');
  });

  it('does not repeat the password of a malformed URL in the file', async () => {
    const error = await refusal('[store]\nbackend = "postgres"\nurl = "postgres://kb:hunter2@"');
    expect(error.subject).to.equal('[store] url');
    expect(error.message).not.to.include('hunter2');
  });
});
