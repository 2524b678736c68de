/**
 * Conformance of the listener's TLS settings (PROTOCOL.md preamble and 1.5's commands as written) and of the
 * CLI names of DESIGN.md "Operator interface" that exist today, with their exit codes.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import type { BrokerProcess } from '../helpers/broker-process.js';
import { describeResult, runCli, runCurl, runOpenssl, type CommandResult } from '../helpers/run-command.js';
import { sharedAdmin, sharedBroker } from '../helpers/shared-broker.js';
import { assertProblem, attestSample, call, certificatesIn, Scratch, type Attested } from './wire.js';

function expectOneLineFailure(result: CommandResult): void {
  expect(result.code, describeResult(result)).to.not.equal(0);
  expect(result.signal).to.equal(null);
  expect(result.stderr.trim().split('\n'), describeResult(result)).to.have.lengthOf(1);
  expect(result.stderr).not.to.match(/\n\s+at /);
}

describe('conformance: TLS listener and operator CLI (default configuration)', function () {
  let broker: BrokerProcess;
  let attested: Attested;
  let teeCert: string;
  let teeKey: string;
  const scratch = new Scratch();
  const cli = (args: string[]) => runCli(broker.home, args, { cwd: scratch.dir });

  before(async function () {
    broker = await sharedBroker();
    attested = await attestSample(broker, scratch);
    teeCert = scratch.file('tee.pem');
    teeKey = attested.tee.keyPath;
    writeFileSync(teeCert, attested.body.certificate);
    const admin = await sharedAdmin();
    const put = await call(broker, { method: 'PUT', path: '/kbs/v1/admin/resource/conformance/op/secret', body: 'operator-secret', identity: admin });
    expect([200, 201]).to.include(put.status);
  });

  after(function () {
    scratch.release();
  });

  describe('TLS', function () {
    it('asks for a client certificate (CertificateRequest naming our CAs) but completes the handshake without one', async function () {
      const result = await runOpenssl(['s_client', '-connect', `127.0.0.1:${broker.port}`, '-CAfile', broker.bundlePath, '-verify_return_error', '-ign_eof'],
        { input: 'GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n', timeoutMs: 10_000 });
      expect(result.code, describeResult(result)).to.equal(0);
      const out = result.stdout.toString('utf8');
      expect(out).to.include('Acceptable client certificate CA names');
      expect(out).to.match(/HTTP\/1\.1 200 /);
    });

    it('`curl --cert tee.pem --key tee.key --cacert bundle.pem https://localhost:PORT/kbs/v1/resource/...` works as written', async function () {
      const result = await runCurl(['-sS', '--cert', teeCert, '--key', teeKey, '--cacert', broker.bundlePath,
        `https://localhost:${broker.port}/kbs/v1/resource/conformance/op/secret`]);
      expect(result.code, describeResult(result)).to.equal(0);
      expect(result.stdout.toString('utf8')).to.equal('operator-secret');
    });

    it('`openssl s_client -connect localhost:PORT -cert tee.pem -key tee.key -CAfile bundle.pem` verifies and fetches', async function () {
      const result = await runOpenssl(['s_client', '-connect', `localhost:${broker.port}`, '-cert', teeCert, '-key', teeKey, '-CAfile', broker.bundlePath, '-quiet', '-verify_return_error'],
        { input: 'GET /kbs/v1/resource/conformance/op/secret HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n', timeoutMs: 10_000 });
      expect(result.code, describeResult(result)).to.equal(0);
      const out = result.stdout.toString('utf8');
      expect(out).to.match(/^HTTP\/1\.1 200 /);
      expect(out).to.match(/\r\n\r\noperator-secret$/);
    });
  });

  describe('CLI', function () {
    it('`ca status --json` answers {"issuers":[{"id","state","not_before","not_after"}]} with the active issuer of the leaves', async function () {
      const result = await cli(['ca', 'status', '--json']);
      expect(result.code, describeResult(result)).to.equal(0);
      const status = JSON.parse(result.stdout.toString('utf8')) as { issuers: Array<Record<string, string>> };
      expect(status).to.have.all.keys('issuers');
      for (const issuer of status.issuers) expect(issuer).to.have.all.keys('id', 'state', 'not_before', 'not_after');
      const active = status.issuers.filter((issuer) => issuer.state === 'active');
      expect(active).to.have.lengthOf(1);
      const signer = new X509Certificate(certificatesIn(attested.body.chain)[0]!);
      expect(Date.parse(active[0]!.not_after)).to.equal(Date.parse(signer.validTo));
      const plain = await cli(['ca', 'status']);
      expect(plain.code, describeResult(plain)).to.equal(0);
      expect(plain.stdout.toString('utf8')).to.include(active[0]!.id);
    });

    it('`ca init` on a home that has a CA exits non-zero with one line and leaves the CA as it was', async function () {
      expectOneLineFailure(await cli(['ca', 'init']));
      expect(readFileSync(broker.bundlePath, 'utf8')).to.equal(broker.bundlePem);
    });

    it('`ca issue-server --dns localhost --ip 127.0.0.1 --out DIR` writes a server credential that openssl verifies', async function () {
      const out = join(scratch.dir, 'server');
      const result = await cli(['ca', 'issue-server', '--dns', 'localhost', '--ip', '127.0.0.1', '--out', out]);
      expect(result.code, describeResult(result)).to.equal(0);
      expect(statSync(join(out, 'key.pem')).mode & 0o777).to.equal(0o600);
      const certificate = new X509Certificate(readFileSync(join(out, 'cert.pem')));
      expect(certificate.checkHost('localhost')).to.equal('localhost');
      expect(certificate.checkIP('127.0.0.1')).to.equal('127.0.0.1');
      const verify = await runOpenssl(['verify', '-CAfile', broker.bundlePath, '-purpose', 'sslserver', join(out, 'cert.pem')]);
      expect(verify.code, describeResult(verify)).to.equal(0);
      // A certificate of this broker that is no TEE client certificate gets no resource.
      assertProblem(await call(broker, {
        path: '/kbs/v1/resource/conformance/op/secret',
        identity: { cert: readFileSync(join(out, 'cert.pem'), 'utf8'), key: readFileSync(join(out, 'key.pem'), 'utf8') },
      }), 401, 'certificate-invalid');
    });

    it('`ca issue-admin --out DIR` without --name, `ca` with an unknown verb and `cert show` of a non-certificate fail with one line', async function () {
      expectOneLineFailure(await cli(['ca', 'issue-admin', '--out', join(scratch.dir, 'nameless')]));
      expectOneLineFailure(await cli(['ca', 'no-such-verb']));
      const garbage = scratch.file('garbage.pem');
      writeFileSync(garbage, 'not a certificate\n');
      expectOneLineFailure(await cli(['cert', 'show', garbage]));
    });

    it('`cert show FILE` decodes the claims extension of a TEE certificate', async function () {
      const result = await cli(['cert', 'show', teeCert]);
      expect(result.code, describeResult(result)).to.equal(0);
      expect(result.stdout.toString('utf8')).to.include(attested.body.spiffe_id);
      expect(result.stdout.toString('utf8')).to.include('"affirming"');
    });
  });
});
