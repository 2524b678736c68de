/** `[[verifier]]` tables (src/config/verifier-tables.ts) read through loadConfig from a real TOML file. */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { expect } from 'chai';
import { ConfigError, loadConfig } from '../../../src/config/load-config.js';
import { useTempDir } from '../../helpers/temp-dir.js';

describe('[[verifier]] tables', () => {
  const home = useTempDir('verifier-config');

  async function load(toml: string) {
    await writeFile(join(home(), 'keybroker.toml'), toml);
    return loadConfig({ home: home(), dev: false, env: {} });
  }

  async function errorOf(toml: string): Promise<string> {
    try {
      await load(toml);
    } catch (error) {
      expect(error).to.be.instanceOf(ConfigError);
      return (error as Error).message;
    }
    throw new Error('expected a ConfigError');
  }

  it('reads the issue\'s example table with defaults, empty strings as unset, and paths against the home', async () => {
    const config = await load([
      '[attestation]', 'nonce_ttl_seconds = 120',
      '[[verifier]]', 'name = "coco-as"', 'type = "coco-as"', 'tees = ["snp", "tdx"]', 'url = "https://as.internal:8080/"',
      'jwks = "file:///etc/keybroker/coco-as-jwks.json"', 'trusted_certs = ["certs/as-ca.pem"]', 'issuer = ""', 'api_key_file = ""', 'timeout_ms = 5000',
      '[[verifier]]', 'name = "builtin"', 'type = "builtin"', 'tees = ["sample"]',
    ].join('\n'));
    expect(config.attestation.nonceTtlSeconds).to.equal(120);
    expect(config.verifiers).to.deep.equal([
      {
        name: 'coco-as', type: 'coco-as', tees: ['snp', 'tdx'], url: 'https://as.internal:8080', jwks: 'file:///etc/keybroker/coco-as-jwks.json',
        trustedCerts: [join(home(), 'certs/as-ca.pem')], timeoutMs: 5000, skewSeconds: 60, policyIds: [],
      },
      { name: 'builtin', type: 'builtin', tees: ['sample'] },
    ]);
  });

  it('reads the optional keys: audience, algorithms, skew, TLS trust, API key file, a relative JWKS path', async () => {
    const [ita] = (await load([
      '[[verifier]]', 'name = "ita"', 'type = "intel-ta"', 'tees = ["tdx"]', 'url = "https://api.trustauthority.intel.com"',
      'api_key_file = "secrets/ita-key"', 'jwks = "keys/ita.json"', 'audience = "kbs"', 'issuer = "https://portal.trustauthority.intel.com"',
      'algorithms = ["PS384", "RS256"]', 'skew_seconds = 5', 'tls_ca_file = "ca.pem"', 'timeout_ms = 800',
    ].join('\n'))).verifiers;
    expect(ita).to.deep.include({
      apiKeyFile: join(home(), 'secrets/ita-key'), jwks: pathToFileURL(join(home(), 'keys/ita.json')).href, audience: 'kbs',
      algorithms: ['PS384', 'RS256'], skewSeconds: 5, tlsCaFile: join(home(), 'ca.pem'), timeoutMs: 800,
    });
  });

  const base = ['[[verifier]]', 'name = "as"', 'type = "coco-as"', 'tees = ["snp"]', 'trusted_certs = ["ca.pem"]'];
  const cases: [string, string[], RegExp][] = [
    ['alg none', [...base, 'algorithms = ["none"]'], /algorithms\[0\].*never "none" or HMAC/],
    ['an HMAC algorithm', [...base, 'algorithms = ["HS256"]'], /algorithms\[0\]/],
    ['an http URL', [...base, 'url = "http://as:8080"'], /url.*https/],
    ['an http JWKS', [...base, 'jwks = "http://as/keys"'], /jwks.*file:\/\/ or https:\/\//],
    ['an unknown TEE', ['[[verifier]]', 'name = "as"', 'type = "coco-as"', 'tees = ["sev9"]', 'trusted_certs = ["ca.pem"]'], /tees\[0\].*not a TEE/],
    ['no tees', ['[[verifier]]', 'name = "as"', 'type = "coco-as"', 'trusted_certs = ["ca.pem"]'], /tees.*required/],
    ['an unknown type', ['[[verifier]]', 'name = "as"', 'type = "veraison"', 'tees = ["snp"]'], /type.*must be one of/],
    ['an unknown key', [...base, 'colour = "blue"'], /colour.*unknown key/],
    ['a coco-as without any key source', ['[[verifier]]', 'name = "as"', 'type = "coco-as"', 'tees = ["snp"]', 'url = "https://as"'], /needs jwks or trusted_certs/],
    ['an intel-ta url without API key', ['[[verifier]]', 'name = "ita"', 'type = "intel-ta"', 'tees = ["tdx"]', 'url = "https://ita"'], /api_key_file.*required/],
    ['a duplicate name', [...base, ...base], /name.*used by another verifier/],
    ['a builtin table under another name', ['[[verifier]]', 'name = "local"', 'type = "builtin"', 'tees = ["snp"]'], /must be "builtin"/],
    ['a service named builtin', ['[[verifier]]', 'name = "builtin"', 'type = "coco-as"', 'tees = ["snp"]', 'trusted_certs = ["ca.pem"]'], /reserved/],
    ['a zero timeout', [...base, 'timeout_ms = 0'], /timeout_ms.*out of range/],
    ['verifier as a plain table', ['[verifier]', 'name = "as"'], /array of tables/],
  ];
  for (const [what, lines, message] of cases) {
    it(`refuses ${what} with the key's name`, async () => {
      expect(await errorOf(lines.join('\n'))).to.match(message);
    });
  }
});
