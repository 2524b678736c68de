/**
 * The five user steps of the README, with the real CLI, curl and openssl: start a broker, issue an admin
 * certificate, store a secret, attest, and fetch the secret three ways. Also CA reuse across restarts.
 */
import { X509Certificate, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { startBroker, type BrokerProcess } from './helpers/broker-process.js';
import { send } from './helpers/https-client.js';
import { describeResult, runCli, runCurl, runOpenssl } from './helpers/run-command.js';
import { randomResourcePath } from './helpers/v1-protocol.js';

describe('e2e: the five user steps', function () {
  let broker: BrokerProcess;
  let work: string;
  let adminDir: string;
  let teeDir: string;
  const secret = Buffer.concat([randomBytes(48), Buffer.from([0, 10, 13, 0xff]), randomBytes(12)]);
  const resource = randomResourcePath('key', 'secret');

  before(async function () {
    // Step 1: start.
    broker = await startBroker();
    work = join(broker.home, 'work');
    mkdirSync(work);
    adminDir = join(work, 'ops');
    teeDir = join(work, 'tee');
  });

  after(async function () {
    await broker?.stop();
  });

  it('step 1: the broker creates a development CA and says where it listens', function () {
    expect(broker.port).to.be.within(1, 65535);
    expect(broker.stderr()).to.match(/keybroker listening on https:\/\/127\.0\.0\.1:\d+ \(development mode\)/);
    expect(broker.bundlePem).to.match(/^-----BEGIN CERTIFICATE-----/);
    expect(statSync(join(broker.home, 'ca', 'root', 'cert.pem')).isFile()).to.equal(true);
  });

  it('step 2: `ca issue-admin --name ops --out DIR` writes key.pem, cert.pem and chain.pem', async function () {
    const result = await runCli(broker.home, ['ca', 'issue-admin', '--name', 'ops', '--out', adminDir], { cwd: work });
    expect(result.code, describeResult(result)).to.equal(0);
    const certificate = new X509Certificate(readFileSync(join(adminDir, 'cert.pem')));
    expect(certificate.subjectAltName).to.equal('URI:spiffe://keybroker.local/admin/ops');
    expect(statSync(join(adminDir, 'key.pem')).mode & 0o077, 'key.pem must not be readable by others').to.equal(0);
    expect(readFileSync(join(adminDir, 'chain.pem'), 'utf8')).to.match(/-----BEGIN CERTIFICATE-----/);
  });

  it('step 3: `admin set-resource` stores random bytes read from stdin', async function () {
    const result = await runCli(broker.home, ['admin', 'set-resource', '--url', broker.url, '--admin', adminDir, '--cacert', broker.bundlePath, resource], { cwd: work, input: secret });
    expect(result.code, describeResult(result)).to.equal(0);
    expect(result.stdout.toString()).to.include(resource);
    const listed = await runCli(broker.home, ['admin', 'list-resources', '--url', broker.url, '--admin', adminDir, '--cacert', broker.bundlePath, '--prefix', resource.split('/')[0]!], { cwd: work });
    expect(listed.code, describeResult(listed)).to.equal(0);
    expect(listed.stdout.toString()).to.include(resource).and.include(String(secret.length));
  });

  it('step 4: `client attest --tee sample` writes a TEE credential that openssl verifies against the bundle', async function () {
    const result = await runCli(broker.home, ['client', 'attest', '--url', broker.url, '--tee', 'sample', '--cacert', broker.bundlePath, '--out', teeDir], { cwd: work });
    expect(result.code, describeResult(result)).to.equal(0);
    for (const file of ['key.pem', 'cert.pem', 'chain.pem']) expect(statSync(join(teeDir, file)).size, file).to.be.greaterThan(0);
    const certificate = new X509Certificate(readFileSync(join(teeDir, 'cert.pem')));
    expect(certificate.subjectAltName).to.match(/^URI:spiffe:\/\/keybroker\.local\/tee\/sample\/[0-9a-f]{16}$/);

    const verified = await runOpenssl(['verify', '-CAfile', broker.bundlePath, join(teeDir, 'cert.pem')]);
    expect(verified.code, describeResult(verified)).to.equal(0);
    expect(verified.stdout.toString()).to.match(/cert\.pem: OK/);
    const asClient = await runOpenssl(['verify', '-purpose', 'sslclient', '-CAfile', broker.bundlePath, join(teeDir, 'cert.pem')]);
    expect(asClient.stdout.toString(), describeResult(asClient)).to.match(/cert\.pem: OK/);
  });

  it('step 5a: curl --cert --key --cacert fetches the secret byte for byte', async function () {
    const out = join(work, 'curl.out');
    const result = await runCurl(['-sS', '--cert', join(teeDir, 'cert.pem'), '--key', join(teeDir, 'key.pem'), '--cacert', broker.bundlePath,
      '-o', out, '-w', '%{http_code} %{content_type}', `${broker.url}/kbs/v1/resource/${resource}`]);
    expect(result.code, describeResult(result)).to.equal(0);
    expect(result.stdout.toString()).to.equal('200 application/octet-stream');
    expect(readFileSync(out).equals(secret), 'curl body equals the secret').to.equal(true);
  });

  it('step 5b: `client get` prints the same bytes on stdout', async function () {
    const result = await runCli(broker.home, ['client', 'get', '--url', broker.url, '--cert-dir', teeDir, '--cacert', broker.bundlePath, resource], { cwd: work });
    expect(result.code, describeResult(result)).to.equal(0);
    expect(result.stdout.equals(secret), 'client get output equals the secret').to.equal(true);
  });

  it('step 5c: openssl s_client with a typed HTTP/1.1 request gets the secret', async function () {
    const request = `GET /kbs/v1/resource/${resource} HTTP/1.1\r\nHost: 127.0.0.1:${broker.port}\r\nConnection: close\r\n\r\n`;
    const result = await runOpenssl(['s_client', '-connect', `127.0.0.1:${broker.port}`, '-cert', join(teeDir, 'cert.pem'), '-key', join(teeDir, 'key.pem'),
      '-CAfile', broker.bundlePath, '-verify_return_error', '-quiet'], { input: request });
    expect(result.code, describeResult(result)).to.equal(0);
    expect(result.stdout.toString('latin1')).to.match(/^HTTP\/1\.1 200 /);
    expect(result.stdout.toString('latin1').toLowerCase()).to.include('cache-control: no-store');
    const headerEnd = result.stdout.indexOf('\r\n\r\n');
    expect(headerEnd).to.be.greaterThan(0);
    expect(result.stdout.subarray(headerEnd + 4).equals(secret), 'response body equals the secret').to.equal(true);
  });

  for (const keyType of ['ec-p384', 'ed25519', 'rsa-3072'] as const) {
    it(`\`client attest --key-type ${keyType}\` gives a credential that curl uses to fetch the secret`, async function () {
      const dir = join(work, `tee-${keyType}`);
      const attested = await runCli(broker.home, ['client', 'attest', '--url', broker.url, '--tee', 'sample', '--cacert', broker.bundlePath, '--out', dir, '--key-type', keyType], { cwd: work });
      expect(attested.code, describeResult(attested)).to.equal(0);
      const result = await runCurl(['-sS', '--fail', '--cert', join(dir, 'cert.pem'), '--key', join(dir, 'key.pem'), '--cacert', broker.bundlePath, `${broker.url}/kbs/v1/resource/${resource}`]);
      expect(result.code, describeResult(result)).to.equal(0);
      expect(result.stdout.equals(secret), 'curl body equals the secret').to.equal(true);
    });
  }

  it('`client get` of a missing resource exits non-zero with one line on stderr', async function () {
    const result = await runCli(broker.home, ['client', 'get', '--url', broker.url, '--cert-dir', teeDir, '--cacert', broker.bundlePath, randomResourcePath()], { cwd: work });
    expect(result.code).to.not.equal(0);
    expect(result.stdout.length).to.equal(0);
    expect(result.stderr.trim().split('\n')).to.have.lengthOf(1);
    expect(result.stderr).to.include('404');
  });

  it('GET /kbs/v1/ca/bundle equals the bundle file; /healthz and /readyz answer 200', async function () {
    const bundle = await send(broker, { path: '/kbs/v1/ca/bundle' });
    expect(bundle.status).to.equal(200);
    expect(bundle.text()).to.equal(readFileSync(broker.bundlePath, 'utf8'));
    expect((await send(broker, { path: '/healthz' })).status).to.equal(200);
    expect((await send(broker, { path: '/readyz' })).status).to.equal(200);
  });
});

describe('e2e: a second start on the same home', function () {
  let home: string | undefined;
  const brokers: BrokerProcess[] = [];

  after(async function () {
    for (const broker of brokers) await broker.stop();
  });

  it('reuses the CA: same root certificate bytes, and certificates issued before still work', async function () {
    const first = await startBroker({ removeHome: false });
    brokers.push(first);
    home = first.home;
    const rootBefore = readFileSync(join(home, 'ca', 'root', 'cert.pem'));
    const work = join(home, 'work');
    mkdirSync(work);
    const adminDir = join(work, 'ops');
    const issued = await runCli(home, ['ca', 'issue-admin', '--name', 'ops', '--out', adminDir], { cwd: work });
    expect(issued.code, describeResult(issued)).to.equal(0);
    expect(await first.stop()).to.equal(0);
    expect(first.running()).to.equal(false);

    const second = await startBroker({ home, removeHome: true });
    brokers.push(second);
    const rootAfter = readFileSync(join(home, 'ca', 'root', 'cert.pem'));
    expect(rootAfter.equals(rootBefore), 'root certificate bytes changed').to.equal(true);
    expect(second.stderr()).not.to.include('creating a development CA');
    expect(second.bundlePem).to.equal(first.bundlePem);
    const served = await send(second, { path: '/kbs/v1/ca/bundle' });
    expect(served.text()).to.include(rootBefore.toString('utf8').trim());

    const put = await runCli(home, ['admin', 'set-resource', '--url', second.url, '--admin', adminDir, '--cacert', second.bundlePath, randomResourcePath()], { cwd: work, input: 'x' });
    expect(put.code, describeResult(put)).to.equal(0);
  });
});
