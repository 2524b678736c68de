/** `keybroker client attest|get` on top of the library: key types, --json output, attester choice. */
import { randomBytes, X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import type { BrokerProcess } from './helpers/broker-process.js';
import { send } from './helpers/https-client.js';
import { describeResult, runCli } from './helpers/run-command.js';
import { sharedAdmin, sharedBroker } from './helpers/shared-broker.js';
import { randomResourcePath } from './helpers/v1-protocol.js';

describe('e2e: client CLI (kbs-client parity)', function () {
  let broker: BrokerProcess;
  let work: string;
  const secret = Buffer.concat([randomBytes(20), Buffer.from([0, 0xff, 10])]);
  const path = randomResourcePath('key', 'cli');

  before(async function () {
    broker = await sharedBroker();
    const admin = await sharedAdmin();
    work = mkdtempSync(join(broker.home, 'client-cli-'));
    const reply = await send(broker, { method: 'PUT', path: `/kbs/v1/admin/resource/${path}`, body: secret, credential: admin, headers: { 'content-type': 'application/octet-stream' } });
    expect(reply.status, reply.text()).to.equal(201);
  });

  it('client attest --key-type ed25519 --json, then client get --json: base64 of the value with path and size', async function () {
    const dir = join(work, 'ed');
    const attested = await runCli(broker.home, ['client', 'attest', '--url', broker.url, '--tee', 'sample', '--attester', 'sample', '--cacert', broker.bundlePath, '--key-type', 'ed25519', '--out', dir, '--json'], { cwd: work });
    expect(attested.code, describeResult(attested)).to.equal(0);
    const summary = JSON.parse(attested.stdout.toString('utf8')) as { spiffe_id: string; serial: string; claims: { tee: string } };
    expect(summary.claims.tee).to.equal('sample');
    const certificate = new X509Certificate(readFileSync(join(dir, 'cert.pem')));
    expect(certificate.publicKey.asymmetricKeyType).to.equal('ed25519');
    expect(certificate.serialNumber.toLowerCase()).to.equal(summary.serial.toLowerCase());

    const fetched = await runCli(broker.home, ['client', 'get', '--url', broker.url, '--cert-dir', dir, '--cacert', broker.bundlePath, '--json', path], { cwd: work });
    expect(fetched.code, describeResult(fetched)).to.equal(0);
    expect(JSON.parse(fetched.stdout.toString('utf8'))).to.deep.equal({ path, size: secret.length, value: secret.toString('base64') });
  });

  it('client attest --tee snp without configfs-tsm exits 1 with one clear line, writing nothing', async function () {
    const dir = join(work, 'snp');
    const result = await runCli(broker.home, ['client', 'attest', '--url', broker.url, '--tee', 'snp', '--tsm-root', join(work, 'missing'), '--cacert', broker.bundlePath, '--out', dir], { cwd: work });
    expect(result.code, describeResult(result)).to.equal(1);
    expect(result.stderr.trim().split('\n')).to.have.length(1);
    expect(result.stderr).to.match(/^keybroker: no TEE attestation interface: .*configfs-tsm/);
    expect(existsSync(dir)).to.equal(false);
  });

  it('client attest --attester with an unknown name is a usage error (exit 2)', async function () {
    const result = await runCli(broker.home, ['client', 'attest', '--url', broker.url, '--tee', 'sample', '--attester', 'magic', '--out', join(work, 'x')], { cwd: work });
    expect(result.code, describeResult(result)).to.equal(2);
    expect(result.stderr).to.match(/--attester must be one of sample, tsm, auto/);
  });
});
