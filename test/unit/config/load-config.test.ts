import { expect } from 'chai';
import { useTempDir } from '../../helpers/temp-dir.js';
import { writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { ConfigError, loadConfig } from '../../../src/config/load-config.js';

describe('loadConfig', () => {
  const home = useTempDir('config');

  async function writeToml(text: string, name = 'keybroker.toml'): Promise<string> {
    const file = join(home(), name);
    await writeFile(file, text);
    return file;
  }

  /** Loads `toml` as the home()'s keybroker.toml and returns the ConfigError it must raise. */
  async function configErrorFor(toml: string, env: NodeJS.ProcessEnv = {}): Promise<ConfigError> {
    await writeToml(toml);
    try {
      loadConfig({ home: home(), dev: false, env });
    } catch (error) {
      expect(error).to.be.instanceOf(ConfigError);
      return error as ConfigError;
    }
    throw new Error(`expected a ConfigError for ${JSON.stringify(toml)}`);
  }

  describe('defaults', () => {
    it('gives the documented defaults when there is no config file', () => {
      expect(loadConfig({ home: home(), dev: false, env: {} })).to.deep.equal({
        home: home(),
        dev: false,
        server: { listen: { host: '0.0.0.0', port: 8080 }, maxBodyBytes: 2097152, tlsMinVersion: 'TLSv1.3' },
        ca: {
          dir: join(home(), 'ca'),
          trustDomain: 'keybroker.local',
          leafTtlSeconds: 600,
          adminTtlSeconds: 604800,
          issuerTtlSeconds: 31536000,
          rootTtlSeconds: 315360000,
          serverTtlSeconds: 7776000,
          autoRotate: true,
          checkIntervalMs: 10000,
          crlValiditySeconds: 86400,
          keyStorage: 'file',
        },
        attestation: {
          nonceTtlSeconds: 300,
          enableSample: false,
          collateralCacheDir: join(home(), 'data', 'collateral-cache'),
          snp: { enabled: true, kds: false, kdsUrl: 'https://kdsintf.amd.com', allowDebug: false, maxVmpl: 0, extraArkSha256: [] },
          tdx: { enabled: true, pcs: false, pcsUrl: 'https://api.trustedservices.intel.com', allowDebug: false, extraRootSha256: [] },
        },
        v0: { sessionTtlSeconds: 300, allowRsa1_5: false },
        admin: { role: 'admin', identityProviders: [] },
        store: { backend: 'fs', dataDir: join(home(), 'data'), cacheMaxAgeMs: 1000, poolSize: 10 },
        verifiers: [],
      });
    });

    it('reads the v0 and admin settings, identity provider paths relative to the home', async () => {
      await writeToml([
        '[v0]', 'session_ttl_seconds = 60', 'allow_rsa1_5 = true',
        '[admin]', 'role = "kbs-admin"',
        '[[admin.identity_provider]]', 'name = "corp"', 'public_key_file = "idp/corp.pem"', 'algorithms = ["ES256"]', 'issuer = "https://idp"', 'audience = "kbs"',
        '[[admin.identity_provider]]', 'name = "sso"', 'jwks_url = "https://sso.example/jwks.json"', 'jwks_ca_file = "idp/ca.pem"',
      ].join('\n'));
      const config = loadConfig({ home: home(), dev: false, env: {} });
      expect(config.v0).to.deep.equal({ sessionTtlSeconds: 60, allowRsa1_5: true });
      expect(config.admin).to.deep.equal({
        role: 'kbs-admin',
        identityProviders: [
          { name: 'corp', source: { publicKeyFile: join(home(), 'idp/corp.pem') }, algorithms: ['ES256'], issuer: 'https://idp', audience: 'kbs' },
          { name: 'sso', source: { jwksUrl: 'https://sso.example/jwks.json', caFile: join(home(), 'idp/ca.pem') }, algorithms: ['EdDSA', 'ES256', 'RS256'] },
        ],
      });
    });

    it('enables the sample TEE by default in development mode only', () => {
      expect(loadConfig({ home: home(), dev: true, env: {} }).attestation.enableSample).to.equal(true);
      expect(loadConfig({ home: home(), dev: false, env: {} }).attestation.enableSample).to.equal(false);
    });

    it('lets the file turn the sample TEE off in development mode', async () => {
      await writeToml('[attestation]\nenable_sample = false\n');
      expect(loadConfig({ home: home(), dev: true, env: {} }).attestation.enableSample).to.equal(false);
    });
  });

  describe('home', () => {
    it('takes KEYBROKER_HOME when no home() is given', () => {
      expect(loadConfig({ dev: false, env: { KEYBROKER_HOME: home() } }).home).to.equal(home());
    });

    it('prefers the home() option over KEYBROKER_HOME', () => {
      expect(loadConfig({ home: home(), dev: false, env: { KEYBROKER_HOME: '/elsewhere' } }).home).to.equal(home());
    });

    it('makes a relative home() absolute', () => {
      const config = loadConfig({ home: relative(process.cwd(), home()), dev: false, env: {} });
      expect(config.home).to.equal(home());
      expect(config.store.dataDir).to.equal(join(home(), 'data'));
    });

    it('falls back to the working directory', () => {
      expect(loadConfig({ dev: false, env: {} }).home).to.equal(process.cwd());
    });
  });

  describe('config file and environment', () => {
    it('reads <home()>/keybroker.toml', async () => {
      await writeToml(
        [
          '[server]',
          'listen = "127.0.0.1:9443"',
          'max_body_bytes = 4096',
          'tls_min_version = "1.2"',
          '[ca]',
          'dir = "/srv/ca"',
          'trust_domain = "kbs.example.org"',
          'leaf_ttl_seconds = 86400',
          '[attestation]',
          'nonce_ttl_seconds = 60',
          'enable_sample = true',
          '[store]',
          'backend = "fs"',
          'data_dir = "var/data"',
        ].join('\n'),
      );
      const config = loadConfig({ home: home(), dev: false, env: {} });
      expect(config.server).to.deep.equal({
        listen: { host: '127.0.0.1', port: 9443 },
        maxBodyBytes: 4096,
        tlsMinVersion: 'TLSv1.2',
      });
      expect(config.ca.dir).to.equal('/srv/ca');
      expect(config.ca.trustDomain).to.equal('kbs.example.org');
      expect(config.ca.leafTtlSeconds).to.equal(86400);
      expect(config.ca.adminTtlSeconds).to.equal(604800);
      expect(config.attestation).to.deep.include({ nonceTtlSeconds: 60, enableSample: true, collateralCacheDir: join(home(), 'var/data/collateral-cache') });
      expect(config.store.dataDir).to.equal(join(home(), 'var/data'));
    });

    it('reads the file named by KEYBROKER_CONFIG', async () => {
      const file = await writeToml('[server]\nlisten = "127.0.0.1:1"\n', 'other.toml');
      await writeToml('[server]\nlisten = "127.0.0.1:2"\n');
      const config = loadConfig({ home: home(), dev: false, env: { KEYBROKER_CONFIG: file } });
      expect(config.server.listen.port).to.equal(1);
    });

    it('prefers the configFile option over KEYBROKER_CONFIG', async () => {
      const chosen = await writeToml('[server]\nlisten = "127.0.0.1:3"\n', 'chosen.toml');
      const ignored = await writeToml('[server]\nlisten = "127.0.0.1:4"\n', 'ignored.toml');
      const config = loadConfig({ home: home(), configFile: chosen, dev: false, env: { KEYBROKER_CONFIG: ignored } });
      expect(config.server.listen.port).to.equal(3);
    });

    it('lets KEYBROKER_LISTEN override [server] listen', async () => {
      await writeToml('[server]\nlisten = "127.0.0.1:9000"\n');
      const config = loadConfig({ home: home(), dev: false, env: { KEYBROKER_LISTEN: '[::1]:0' } });
      expect(config.server.listen).to.deep.equal({ host: '::1', port: 0 });
    });

    it('treats an empty environment variable as unset', async () => {
      await writeToml('[server]\nlisten = "127.0.0.1:9000"\n');
      const config = loadConfig({ home: home(), dev: false, env: { KEYBROKER_LISTEN: '', KEYBROKER_CONFIG: '' } });
      expect(config.server.listen.port).to.equal(9000);
    });

    it('still validates the file listen address when the environment overrides it', async () => {
      const error = await configErrorFor('[server]\nlisten = "nonsense"\n', { KEYBROKER_LISTEN: '127.0.0.1:1' });
      expect(error.message).to.equal('config: [server] listen: "nonsense" is not host:port (IPv6 as "[::1]:8080")');
    });

    it('names KEYBROKER_LISTEN when its value is bad', () => {
      expect(() => loadConfig({ home: home(), dev: false, env: { KEYBROKER_LISTEN: 'abc' } }))
        .to.throw(ConfigError)
        .with.property('message')
        .that.matches(/^config: KEYBROKER_LISTEN: "abc" is not host:port/);
    });

    it('accepts host names and IPv6 in brackets', () => {
      const listen = (value: string) => loadConfig({ home: home(), dev: false, env: { KEYBROKER_LISTEN: value } }).server.listen;
      expect(listen('localhost:8080')).to.deep.equal({ host: 'localhost', port: 8080 });
      expect(listen('[::]:65535')).to.deep.equal({ host: '::', port: 65535 });
      expect(listen('kbs.Example.org:443')).to.deep.equal({ host: 'kbs.Example.org', port: 443 });
    });

    it('refuses a missing config file that was named explicitly', () => {
      const missing = join(home(), 'missing.toml');
      expect(() => loadConfig({ home: home(), configFile: missing, dev: false, env: {} })).to.throw(
        ConfigError,
        `config: ${missing}: config file not found`,
      );
      expect(() => loadConfig({ home: home(), dev: false, env: { KEYBROKER_CONFIG: missing } })).to.throw(ConfigError, missing);
    });

    it('reports a TOML syntax error with the file name and line, on one line', async () => {
      const error = await configErrorFor('[server]\nlisten = "127.0.0.1:1"\nmax_body_bytes = = 3\n');
      const file = join(home(), 'keybroker.toml');
      expect(error.message).to.match(new RegExp(`^config: ${file}:3:\\d+: invalid TOML: \\S`));
      expect(error.message).not.to.include('\n');
    });
  });

  describe('validation', () => {
    const cases: Array<[toml: string, key: string, problem: string]> = [
      ['[server]\nlisten = "abc"', '[server] listen', '"abc" is not host:port'],
      ['[server]\nlisten = "::1:8080"', '[server] listen', 'is not host:port'],
      ['[server]\nlisten = "127.0.0.1:65536"', '[server] listen', 'port 65536 is out of range 0..65535'],
      ['[server]\nlisten = "[localhost]:80"', '[server] listen', '"localhost" is not a host name or IP address'],
      ['[server]\nlisten = "999.1.1.1:80"', '[server] listen', 'is not a host name or IP address'],
      ['[server]\nlisten = "bad host:80"', '[server] listen', 'is not a host name or IP address'],
      ['[server]\nlisten = 8080', '[server] listen', 'must be a string, got integer 8080'],
      ['[server]\nmax_body_bytes = 1023', '[server] max_body_bytes', '1023 is out of range 1024..1073741824'],
      ['[server]\nmax_body_bytes = 1073741825', '[server] max_body_bytes', 'out of range'],
      ['[server]\nmax_body_bytes = "2MiB"', '[server] max_body_bytes', 'must be an integer, got "2MiB"'],
      ['[server]\nmax_body_bytes = 2048.0', '[server] max_body_bytes', 'must be an integer, got float 2048'],
      ['[server]\ntls_min_version = "1.1"', '[server] tls_min_version', '"1.1" is not allowed (allowed: "1.2", "1.3")'],
      ['[server]\ntls_min_version = 1.3', '[server] tls_min_version', 'must be a string'],
      ['[ca]\ndir = ""', '[ca] dir', 'must not be empty'],
      ['[ca]\ntrust_domain = "Keybroker.Local"', '[ca] trust_domain', 'is not a DNS name'],
      ['[ca]\ntrust_domain = "-bad.local"', '[ca] trust_domain', 'is not a DNS name'],
      ['[ca]\ntrust_domain = "a..b"', '[ca] trust_domain', 'is not a DNS name'],
      ['[ca]\nleaf_ttl_seconds = 86401', '[ca] leaf_ttl_seconds', '86401 is out of range 1..86400'],
      ['[ca]\nleaf_ttl_seconds = 0', '[ca] leaf_ttl_seconds', 'out of range'],
      ['[ca]\nadmin_ttl_seconds = 59', '[ca] admin_ttl_seconds', '59 is out of range 60..31536000'],
      ['[ca]\nadmin_ttl_seconds = 31536001', '[ca] admin_ttl_seconds', 'out of range'],
      ['[ca]\nissuer_ttl_seconds = 0', '[ca] issuer_ttl_seconds', 'out of range'],
      ['[ca]\ncheck_interval_ms = 99', '[ca] check_interval_ms', 'out of range'],
      ['[ca]\nauto_rotate = "yes"', '[ca] auto_rotate', 'must be true or false'],
      ['[ca]\nroot_ttl_seconds = -1', '[ca] root_ttl_seconds', 'out of range'],
      ['[ca]\nroot_ttl_seconds = 99999999999999999999', '[ca] root_ttl_seconds', 'out of range'],
      ['[ca]\nserver_ttl_seconds = "90d"', '[ca] server_ttl_seconds', 'must be an integer'],
      ['[attestation]\nnonce_ttl_seconds = 9', '[attestation] nonce_ttl_seconds', '9 is out of range 10..3600'],
      ['[attestation]\nnonce_ttl_seconds = 3601', '[attestation] nonce_ttl_seconds', 'out of range'],
      ['[attestation]\nenable_sample = "yes"', '[attestation] enable_sample', 'must be true or false, got "yes"'],
      ['[store]\nbackend = "sqlite"', '[store] backend', '"sqlite" is not allowed (allowed: "fs", "postgres")'],
      ['[store]\nbackend = "postgres"', '[store] url', 'backend = "postgres" needs a database URL here or in KEYBROKER_DATABASE_URL'],
      ['[store]\nurl = "postgres://db/kb"', '[store] url', 'only used with [store] backend = "postgres"'],
      ['[store]\nbackend = "postgres"\nurl = "mysql://u:pw@db/kb"', '[store] url', 'must be a URL postgres://'],
      ['[store]\nbackend = "postgres"\nurl = "postgres://db"', '[store] url', 'must be a URL postgres://'],
      ['[store]\ncache_max_age_ms = 60001', '[store] cache_max_age_ms', 'out of range 0..60000'],
      ['[store]\npool_size = 0', '[store] pool_size', 'out of range 1..100'],
      ['[store]\ndata_dir = 1', '[store] data_dir', 'must be a string, got integer 1'],
      ['[v0]\nsession_ttl_seconds = 9', '[v0] session_ttl_seconds', '9 is out of range 10..3600'],
      ['[v0]\nallow_rsa1_5 = "no"', '[v0] allow_rsa1_5', 'must be true or false'],
      ['[admin]\nrole = ""', '[admin] role', 'must be 1 to 128 characters'],
      ['[admin]\nidentity_provider = 1', '[admin] identity_provider', 'must be an array of tables'],
      ['[[admin.identity_provider]]\npublic_key_file = "k.pem"', '[admin] identity_provider[0] name', 'is required'],
      ['[[admin.identity_provider]]\nname = "a"', '[admin] identity_provider[0]', 'needs exactly one of public_key_file, jwks_file, jwks_url'],
      ['[[admin.identity_provider]]\nname = "a"\njwks_file = "j"\njwks_url = "https://x/j"', '[admin] identity_provider[0]', 'needs exactly one of'],
      ['[[admin.identity_provider]]\nname = "a"\njwks_url = "http://idp/jwks"', '[admin] identity_provider[0] jwks_url', 'must be an https:// URL'],
      ['[[admin.identity_provider]]\nname = "a"\njwks_file = "j"\nalgorithms = ["HS256"]', '[admin] identity_provider[0] algorithms', 'must be a non-empty array of "EdDSA", "ES256", "RS256"'],
      ['[[admin.identity_provider]]\nname = "a"\njwks_file = "j"\njwks_ca_file = "ca.pem"', '[admin] identity_provider[0] jwks_ca_file', 'is only used with jwks_url'],
      ['[[admin.identity_provider]]\nname = "a"\njwks_file = "j"\nscope = "x"', '[admin] identity_provider[0] scope', 'unknown key'],
      ['[[admin.identity_provider]]\nname = "a"\njwks_file = "j"\n[[admin.identity_provider]]\nname = "a"\njwks_file = "k"', '[admin] identity_provider[1] name', 'is used by another identity provider'],
      ['[server]\nlisen = "127.0.0.1:1"', '[server] lisen', 'unknown key (known: listen, '],
      ['[store]\nbackend = "fs"\n[store.options]\nx = 1', '[store] options', 'unknown key'],
      ['[serverr]\nlisten = "127.0.0.1:1"', '[serverr]', 'unknown section (known: [server], [ca], [attestation], [store], [pkcs11], [v0], [admin])'],
      ['listen = "127.0.0.1:1"', 'listen', 'unknown top-level key; settings belong in a section'],
      ['server = 1', '[server]', 'must be a table, got integer 1'],
      ['[[ca]]\ndir = "x"', '[ca]', 'must be a table, got an array'],
    ];

    for (const [toml, key, problem] of cases) {
      it(`${key}: refuses ${JSON.stringify(toml.split('\n').at(-1))}`, async () => {
        const error = await configErrorFor(toml);
        expect(error.subject).to.equal(key);
        expect(error.message.startsWith(`config: ${key}: `), error.message).to.equal(true);
        expect(error.message).to.include(problem);
        expect(error.message).not.to.include('\n');
      });
    }
  });
});
