/**
 * Revocation (PROTOCOL.md 1.5, 1.8) and CRLs (1.6) against a real server process: the admin API, the CLI,
 * curl and openssl, a restart of the server on the same home, and an issuer tainted with the CLI.
 */
import { expect } from 'chai';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir, removeTempDir, startBroker, type BrokerProcess } from './helpers/broker-process.js';
import { expectProblem, send, type Credential, type Reply } from './helpers/https-client.js';
import { describeResult, runCli, runCurl, runOpenssl } from './helpers/run-command.js';
import { attestNew, pemBlocks, randomResourcePath } from './helpers/v1-protocol.js';

interface Tee {
  serial: string;
  credential: Credential;
  certFile: string;
}

describe('e2e: certificate revocation and CRLs', function () {
  this.timeout(60_000);
  let home: string;
  let broker: BrokerProcess;
  let admin: Credential & { dir: string };
  let work: string;
  const resource = randomResourcePath('key', 'revocation');

  async function attestTee(name: string): Promise<Tee> {
    const { response, credential } = await attestNew(broker);
    const certFile = join(work, `${name}.pem`);
    writeFileSync(certFile, response.certificate);
    return { serial: response.serial, credential, certFile };
  }

  const fetchResource = (tee: Tee): Promise<Reply> => send(broker, { path: `/kbs/v1/resource/${resource}`, credential: tee.credential });
  /** `credential` null sends no client certificate. */
  const revoke = (serial: string, body?: unknown, credential: Credential | null = admin): Promise<Reply> => send(broker, {
    method: 'POST', path: `/kbs/v1/admin/certificates/${serial}/revoke`, ...(credential ? { credential } : {}),
    ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
  });
  const adminCli = (args: string[]) => runCli(home, [...args, '--url', broker.url, '--admin', admin.dir, '--cacert', broker.bundlePath], { cwd: work });

  async function crlFile(name: string): Promise<string> {
    const reply = await send(broker, { path: '/kbs/v1/ca/crl' });
    expect(reply.status, reply.text()).to.equal(200);
    expect(reply.headers['content-type']).to.equal('application/pkix-crl');
    const file = join(work, name);
    writeFileSync(file, reply.body);
    return file;
  }

  async function crlText(): Promise<string> {
    const result = await runOpenssl(['crl', '-inform', 'DER', '-in', await crlFile('crl.der'), '-noout', '-text']);
    expect(result.code, describeResult(result)).to.equal(0);
    return result.stdout.toString('utf8').toLowerCase();
  }

  async function opensslVerify(tee: Tee): Promise<{ code: number | null; output: string }> {
    const pem = await send(broker, { path: '/kbs/v1/ca/crl', headers: { accept: 'application/x-pem-file' } });
    const crl = join(work, 'crls.pem');
    writeFileSync(crl, pem.body);
    const result = await runOpenssl(['verify', '-crl_check', '-CAfile', broker.bundlePath, '-CRLfile', crl, tee.certFile]);
    return { code: result.code, output: result.stdout.toString('utf8') + result.stderr };
  }

  before(async function () {
    home = makeTempDir();
    work = join(home, 'work');
    broker = await startBroker({ home, toml: '[ca]\nauto_rotate = false\n' });
    const dir = join(work, 'ops');
    const issued = await runCli(home, ['ca', 'issue-admin', '--name', 'ops', '--out', dir], { cwd: home });
    expect(issued.code, describeResult(issued)).to.equal(0);
    admin = { dir, cert: readFileSync(join(dir, 'cert.pem'), 'utf8'), key: readFileSync(join(dir, 'key.pem'), 'utf8') };
    const put = await send(broker, { method: 'PUT', path: `/kbs/v1/admin/resource/${resource}`, body: 'secret-bytes', credential: admin, headers: { 'content-type': 'application/octet-stream' } });
    expect(put.status, put.text()).to.equal(201);
  });

  after(async function () {
    await broker?.stop();
    if (home) removeTempDir(home);
  });

  let revokedByApi: Tee;
  let revokedByCli: Tee;
  let good: Tee;

  it('revokes through the API: the certificate fails its next request with 401 certificate-revoked, others go on', async () => {
    revokedByApi = await attestTee('api');
    good = await attestTee('good');
    expect((await fetchResource(revokedByApi)).status).to.equal(200);

    const reply = await revoke(revokedByApi.serial, { reason: 'keyCompromise' });
    expect(reply.status, reply.text()).to.equal(200);
    expect(reply.json()).to.deep.include({ serial: revokedByApi.serial, status: 'revoked', reason: 'keyCompromise', revoked_by: 'ops', newly_revoked: true });

    expectProblem(await fetchResource(revokedByApi), 401, 'certificate-revoked', home);
    expect((await fetchResource(good)).status).to.equal(200);

    const again = await revoke(revokedByApi.serial.toUpperCase(), { reason: 'superseded' });
    expect(again.status).to.equal(200);
    expect(again.json()).to.deep.include({ reason: 'keyCompromise', newly_revoked: false });
  });

  it('refuses unknown serials (404), malformed input (400) and callers without the admin role', async () => {
    expectProblem(await revoke('0123456789abcdef'), 404, 'not-found', home);
    expectProblem(await revoke('not-hex'), 400, 'bad-request', home);
    expectProblem(await revoke(good.serial, { reason: 'because' }), 400, 'bad-request', home);
    expectProblem(await revoke(good.serial, undefined, good.credential), 403, 'admin-forbidden', home);
    expectProblem(await revoke(good.serial, undefined, null), 401, 'admin-auth-required', home);
    expect((await fetchResource(good)).status).to.equal(200);
  });

  it('revokes with "keybroker admin revoke SERIAL" and lists with "admin list-certificates"', async () => {
    revokedByCli = await attestTee('cli');
    const result = await adminCli(['admin', 'revoke', '--reason', 'superseded', revokedByCli.serial]);
    expect(result.code, describeResult(result)).to.equal(0);
    expect(result.stdout.toString()).to.match(new RegExp(`^revoked ${revokedByCli.serial} \\(issuer \\S+, reason superseded, at \\S+ by ops\\)\\n$`));
    expectProblem(await fetchResource(revokedByCli), 401, 'certificate-revoked', home);

    const again = await adminCli(['admin', 'revoke', revokedByCli.serial, '--json']);
    expect(again.code, describeResult(again)).to.equal(0);
    expect(JSON.parse(again.stdout.toString())).to.deep.include({ serial: revokedByCli.serial, newly_revoked: false, reason: 'superseded' });

    const unknown = await adminCli(['admin', 'revoke', 'abcdef']);
    expect(unknown.code).to.equal(1);
    expect(unknown.stderr).to.match(/^keybroker: 404 not-found: /);
    expect((await adminCli(['admin', 'revoke'])).code).to.equal(2);

    const listed = await adminCli(['admin', 'list-certificates', '--json']);
    expect(listed.code, describeResult(listed)).to.equal(0);
    const statuses = Object.fromEntries((JSON.parse(listed.stdout.toString()) as { certificates: { serial: string; status: string }[] }).certificates.map((entry) => [entry.serial, entry.status]));
    expect(statuses).to.deep.include({ [revokedByApi.serial]: 'revoked', [revokedByCli.serial]: 'revoked', [good.serial]: 'valid' });
  });

  it('serves the active issuer CRL as DER that openssl reads, with both revoked serials', async () => {
    const text = await crlText();
    expect(text).to.include(`serial number: ${revokedByApi.serial}`);
    expect(text).to.include(`serial number: ${revokedByCli.serial}`);
    expect(text).to.include('key compromise');
    expect(text).to.not.include(good.serial);
    // curl fetches the same DER.
    const out = join(work, 'curl.crl');
    const curl = await runCurl(['-sS', '--fail', '--cacert', broker.bundlePath, '-o', out, `${broker.url}/kbs/v1/ca/crl`]);
    expect(curl.code, describeResult(curl)).to.equal(0);
    expect((await runOpenssl(['crl', '-inform', 'DER', '-in', out, '-noout'])).code).to.equal(0);
  });

  it('makes openssl verify -crl_check reject the revoked leaves and accept the good one', async () => {
    const revoked = await opensslVerify(revokedByApi);
    expect(revoked.code).to.not.equal(0);
    expect(revoked.output).to.include('certificate revoked');
    const accepted = await opensslVerify(good);
    expect(accepted.code, accepted.output).to.equal(0);
  });

  it('answers PEM on request, one CRL per issuer, and 404 for an unknown ?issuer=', async () => {
    const reply = await send(broker, { path: '/kbs/v1/ca/crl', headers: { accept: 'application/x-pem-file' } });
    expect(reply.status).to.equal(200);
    expect(reply.headers['content-type']).to.equal('application/x-pem-file');
    expect(pemBlocks(reply.text(), 'X509 CRL')).to.have.lengthOf(1);
    expectProblem(await send(broker, { path: '/kbs/v1/ca/crl?issuer=no-such-issuer' }), 404, 'not-found', home);
  });

  it('keeps revocations, the certificate log and the CRL across a restart', async () => {
    await broker.stop();
    broker = await startBroker({ home, toml: '[ca]\nauto_rotate = false\n' });
    expectProblem(await fetchResource(revokedByApi), 401, 'certificate-revoked', home);
    expectProblem(await fetchResource(revokedByCli), 401, 'certificate-revoked', home);
    expect((await fetchResource(good)).status).to.equal(200);
    const text = await crlText();
    expect(text).to.include(`serial number: ${revokedByApi.serial}`);
    const listed = await send(broker, { path: '/kbs/v1/admin/certificates?status=revoked', credential: admin });
    expect(listed.status).to.equal(200);
    expect(listed.json<{ certificates: { serial: string }[] }>().certificates.map((entry) => entry.serial).sort()).to.deep.equal([revokedByApi.serial, revokedByCli.serial].sort());
  });

  it('refuses every leaf of an issuer tainted with the CLI (401 certificate-invalid); a retired issuer\'s leaves stay valid', async () => {
    const status = async (): Promise<{ id: string; state: string }[]> => JSON.parse((await runCli(home, ['ca', 'status', '--json'])).stdout.toString()).issuers;
    const old = (await status()).find((issuer) => issuer.state === 'active')!.id;
    for (const step of [['ca', 'prepare'], ['ca', 'activate']]) {
      const result = await runCli(home, step);
      expect(result.code, describeResult(result)).to.equal(0);
    }
    const reload = async (expected: number): Promise<Reply> => {
      process.kill(broker.pid, 'SIGHUP');
      for (let attempt = 0; ; attempt++) {
        const reply = await fetchResource(good);
        if (reply.status === expected || attempt === 50) return reply;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    };
    // Retired: the old issuer's leaf still works, and a new attestation comes from the new issuer.
    expect((await reload(200)).status).to.equal(200);
    const fresh = await attestTee('fresh');
    expect((await fetchResource(fresh)).status).to.equal(200);

    const tainted = await runCli(home, ['ca', 'taint', old]);
    expect(tainted.code, describeResult(tainted)).to.equal(0);
    expectProblem(await reload(401), 401, 'certificate-invalid', home);
    expect((await fetchResource(fresh)).status).to.equal(200);
  });
});
