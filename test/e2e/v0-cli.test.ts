/**
 * The trustee protocol against a real `keybroker serve --dev` process: an admin stores a secret with a bearer
 * JWT of a configured identity provider (curl), then `client attest --protocol v0` and `client get --protocol v0`
 * fetch it; curl reads the JWKS, sends the token by hand, and runs the whole flow with a cookie jar.
 */
import { generateKeyPairSync, createPublicKey, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { flattenedDecrypt, SignJWT, type FlattenedJWE } from 'jose';
import { makeTempDir, startBroker, type BrokerProcess } from './helpers/broker-process.js';
import { describeResult, runCli, runCurl } from './helpers/run-command.js';
import { randomResourcePath } from './helpers/v1-protocol.js';
import { v0AttestBody, v0Digest, v0Key, v0SampleEvidence } from './helpers/v0-protocol.js';

describe('e2e: v0 with the CLI', function () {
  this.timeout(60_000);
  let broker: BrokerProcess;
  let work: string;
  const idpKey = generateKeyPairSync('ed25519').privateKey;
  const secret = Buffer.concat([randomBytes(32), Buffer.from([0, 10, 13, 0xff])]);
  const resource = randomResourcePath('key', 'v0');

  before(async function () {
    const home = makeTempDir();
    writeFileSync(join(home, 'idp.pem'), createPublicKey(idpKey).export({ type: 'spki', format: 'pem' }));
    broker = await startBroker({
      home,
      removeHome: true,
      toml: ['[admin]', 'role = "kbs-admin"', '[[admin.identity_provider]]', 'name = "corp"', 'public_key_file = "idp.pem"', 'algorithms = ["EdDSA"]', 'issuer = "https://idp.test"'].join('\n'),
    });
    work = join(broker.home, 'work');
    mkdirSync(work);
  });

  after(async function () {
    await broker?.stop();
  });

  function curl(args: string[], input?: Buffer) {
    return runCurl(['-sS', '--cacert', broker.bundlePath, '-o', '-', '-w', '\n%{http_code}', ...args], input ? { input } : {});
  }

  it('an admin stores the secret with POST /kbs/v0/resource and a bearer JWT of the identity provider', async function () {
    const token = await new SignJWT({ role: 'kbs-admin', sub: 'alice' }).setProtectedHeader({ alg: 'EdDSA' }).setIssuer('https://idp.test').setExpirationTime('5m').sign(idpKey);
    const result = await curl(['-X', 'POST', '-H', `Authorization: Bearer ${token}`, '--data-binary', '@-', `${broker.url}/kbs/v0/resource/${resource}`], secret);
    expect(result.code, describeResult(result)).to.equal(0);
    expect(result.stdout.toString().trim().split('\n').at(-1)).to.equal('200');
    const reader = await new SignJWT({ role: 'reader' }).setProtectedHeader({ alg: 'EdDSA' }).setIssuer('https://idp.test').setExpirationTime('5m').sign(idpKey);
    const denied = await curl(['-X', 'POST', '-H', `Authorization: Bearer ${reader}`, '--data-binary', 'x', `${broker.url}/kbs/v0/resource/${resource}`]);
    const lines = denied.stdout.toString().trim().split('\n');
    expect(lines.at(-1)).to.equal('403');
    expect(JSON.parse(lines[0]!)).to.have.property('type', 'https://github.com/confidential-containers/kbs/errors/AdminAuthAccess');
  });

  for (const keyType of ['ec-p256', 'ec-p384', 'rsa-3072']) {
    it(`client attest --protocol v0 --key-type ${keyType}, then client get --protocol v0 prints the secret`, async function () {
      const dir = join(work, `tee-${keyType}`);
      const attested = await runCli(broker.home, ['client', 'attest', '--protocol', 'v0', '--url', broker.url, '--tee', 'sample', '--key-type', keyType, '--cacert', broker.bundlePath, '--out', dir], { cwd: work });
      expect(attested.code, describeResult(attested)).to.equal(0);
      expect(attested.stdout.toString()).to.include('token.jwt').and.include('spiffe://keybroker.local/tee/sample/');
      for (const file of ['token.jwt', 'key.pem']) expect(statSync(join(dir, file)).mode & 0o777, file).to.equal(0o600);
      const fetched = await runCli(broker.home, ['client', 'get', '--protocol', 'v0', '--url', broker.url, '--cert-dir', dir, '--cacert', broker.bundlePath, resource], { cwd: work });
      expect(fetched.code, describeResult(fetched)).to.equal(0);
      expect(fetched.stdout).to.deep.equal(secret);
    });
  }

  it('curl: the token as bearer answers a JWE; the JWKS lists the signing key; a missing resource is 404', async function () {
    const dir = join(work, 'tee-ec-p256');
    const token = readFileSync(join(dir, 'token.jwt'), 'utf8').trim();
    const result = await curl(['-H', `Authorization: Bearer ${token}`, `${broker.url}/kbs/v0/resource/${resource}`]);
    const [body, status] = result.stdout.toString().trim().split('\n');
    expect(status).to.equal('200');
    expect(JSON.parse(body!)).to.have.all.keys('protected', 'encrypted_key', 'iv', 'ciphertext', 'tag');
    const jwks = await curl([`${broker.url}/kbs/v0/.well-known/jwks.json`]);
    const kid = JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString('utf8')).kid as string;
    expect(JSON.parse(jwks.stdout.toString().trim().split('\n')[0]!).keys.map((key: { kid: string }) => key.kid)).to.include(kid);
    const asJson = await runCli(broker.home, ['client', 'get', '--protocol', 'v0', '--json', '--url', broker.url, '--cert-dir', dir, '--cacert', broker.bundlePath, resource], { cwd: work });
    expect(asJson.code, describeResult(asJson)).to.equal(0);
    expect(JSON.parse(asJson.stdout.toString())).to.deep.equal({ path: resource, size: secret.length, value: secret.toString('base64') });
    const missing = await runCli(broker.home, ['client', 'get', '--protocol', 'v0', '--url', broker.url, '--cert-dir', dir, '--cacert', broker.bundlePath, 'nothing/key/here'], { cwd: work });
    expect(missing.code).to.equal(1);
    expect(missing.stderr).to.include('404 PluginInternalError');
  });

  it('curl with a cookie jar: auth, attest and get with the session cookie alone', async function () {
    const jar = join(work, 'cookies.txt');
    const auth = await curl(['-c', jar, '-H', 'content-type: application/json', '--data', '{"version":"0.4.0","tee":"sample","extra-params":""}', `${broker.url}/kbs/v0/auth`]);
    const [challenge, authStatus] = auth.stdout.toString().trim().split('\n');
    expect(authStatus, describeResult(auth)).to.equal('200');
    const { nonce } = JSON.parse(challenge!) as { nonce: string };
    const key = await v0Key('P-384');
    const body = JSON.stringify(v0AttestBody(nonce, key.jwk, v0SampleEvidence(v0Digest(key.jwk, nonce))));
    const attested = await curl(['-b', jar, '-H', 'content-type: application/json', '--data-binary', '@-', `${broker.url}/kbs/v0/attest`], Buffer.from(body));
    expect(attested.stdout.toString().trim().split('\n').at(-1), describeResult(attested)).to.equal('200');
    const fetched = await curl(['-b', jar, `${broker.url}/kbs/v0/resource/${resource}`]);
    const [jwe, status] = fetched.stdout.toString().trim().split('\n');
    expect(status).to.equal('200');
    const { plaintext } = await flattenedDecrypt(JSON.parse(jwe!) as FlattenedJWE, key.privateKey);
    expect(Buffer.from(plaintext)).to.deep.equal(secret);
  });

  it('refuses an unknown --protocol with a usage error', async function () {
    const result = await runCli(broker.home, ['client', 'attest', '--protocol', 'v2', '--url', broker.url, '--tee', 'sample', '--out', join(work, 'x')], { cwd: work });
    expect(result.code).to.equal(2);
    expect(result.stderr).to.include('--protocol must be v1 or v0');
  });
});
