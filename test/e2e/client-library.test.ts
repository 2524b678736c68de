/**
 * The `keybroker/client` library against real broker processes: the four key types, renewal with a 3-second
 * leaf TTL under a loop of requests, backoff while the broker is down, and the example workload program.
 */
import { once } from 'node:events';
import { randomBytes, X509Certificate } from 'node:crypto';
import { request as httpsRequest, type Agent } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { expect } from 'chai';
import { request as undiciRequest } from 'undici';
import { attest, KbsClientError, RenewalError, type RenewalFailure, type Session } from '../../src/client/index.js';
import type { ClientKeyType } from '../../src/pki/create-csr.js';
import { makeTempDir, REPO_ROOT, removeTempDir, startBroker, type BrokerProcess } from './helpers/broker-process.js';
import { send } from './helpers/https-client.js';
import { describeResult, runCommand } from './helpers/run-command.js';
import { issueAdmin, sharedAdmin, sharedBroker, type AdminCredential } from './helpers/shared-broker.js';
import { randomResourcePath } from './helpers/v1-protocol.js';
import { rejection } from '../helpers/rejection.js';

const SHORT_TTL_TOML = '[ca]\nleaf_ttl_seconds = 3\n';

async function putSecret(broker: BrokerProcess, admin: AdminCredential, path: string, secret: Buffer): Promise<void> {
  const reply = await send(broker, { method: 'PUT', path: `/kbs/v1/admin/resource/${path}`, body: secret, credential: admin, headers: { 'content-type': 'application/octet-stream' } });
  if (reply.status !== 201) throw new Error(`PUT ${path}: ${reply.status} ${reply.text()}`);
}

/** GET through an https.Agent; resolves to the body and the serial of the client certificate the TLS connection presented. */
function getWithAgent(url: string, agent: Agent): Promise<{ status: number; body: Buffer; serial: string }> {
  return new Promise((resolve, reject) => {
    httpsRequest(url, { agent }, (response) => {
      const serial = (response.socket as TLSSocket).getCertificate();
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks), serial: serial && 'serialNumber' in serial ? serial.serialNumber.toLowerCase() : '' }));
      response.on('error', reject);
    }).on('error', reject).end();
  });
}

async function getWithDispatcher(url: string, session: Session): Promise<{ status: number; body: Buffer }> {
  const response = await undiciRequest(url, { dispatcher: session.dispatcher });
  return { status: response.statusCode, body: Buffer.from(await response.body.arrayBuffer()) };
}

describe('e2e: client library (keybroker/client)', function () {
  describe('key types against a real broker', function () {
    let broker: BrokerProcess;
    const secret = randomBytes(40);
    const path = randomResourcePath('key', 'lib');

    before(async function () {
      broker = await sharedBroker();
      await putSecret(broker, await sharedAdmin(), path, secret);
    });

    const keyTypes: Array<[ClientKeyType, string, string | undefined]> = [
      ['ec-p256', 'ec', 'prime256v1'], ['ec-p384', 'ec', 'secp384r1'], ['ed25519', 'ed25519', undefined], ['rsa-3072', 'rsa', undefined],
    ];
    for (const [keyType, algorithm, curve] of keyTypes) {
      it(`${keyType}: attests, and getResource, the https.Agent and the undici Dispatcher fetch the secret`, async function () {
        const session = await attest({ url: broker.url, tee: 'sample', ca: broker.bundlePem, keyType, renew: false });
        try {
          const certificate = new X509Certificate(session.certificate);
          expect(certificate.publicKey.asymmetricKeyType).to.equal(algorithm);
          expect(session.key.asymmetricKeyType).to.equal(algorithm);
          if (curve) expect(certificate.publicKey.asymmetricKeyDetails?.namedCurve).to.equal(curve);
          if (keyType === 'rsa-3072') expect(certificate.publicKey.asymmetricKeyDetails?.modulusLength).to.equal(3072);
          expect(certificate.checkPrivateKey(session.key), 'the session key belongs to the certificate').to.equal(true);
          expect(session.chain).to.match(/^-----BEGIN CERTIFICATE-----/);
          expect(certificate.checkIssued(new X509Certificate(session.chain))).to.equal(true);
          expect(session.spiffeId).to.match(/^spiffe:\/\/keybroker\.local\/tee\/sample\/[0-9a-f]{16}$/);

          expect((await session.getResource(path)).equals(secret)).to.equal(true);
          const viaAgent = await getWithAgent(`${broker.url}/kbs/v1/resource/${path}`, session.agent);
          expect(viaAgent.status).to.equal(200);
          expect(viaAgent.body.equals(secret)).to.equal(true);
          expect(viaAgent.serial).to.equal(session.serial.toLowerCase());
          const viaDispatcher = await getWithDispatcher(`${broker.url}/kbs/v1/resource/${path}`, session);
          expect(viaDispatcher.status).to.equal(200);
          expect(viaDispatcher.body.equals(secret)).to.equal(true);
        } finally {
          await session.close();
        }
      });
    }

    it('a refusal of the broker reaches the caller as KbsClientError with status and problem code', async function () {
      const session = await attest({ url: broker.url, tee: 'sample', ca: broker.bundlePem, renew: false });
      try {
        const error = await rejection(session.getResource(randomResourcePath()));
        expect(error).to.be.instanceOf(KbsClientError);
        expect((error as KbsClientError).status).to.equal(404);
        expect((error as KbsClientError).code).to.equal('resource-not-found');
      } finally {
        await session.close();
      }
      expect((await rejection(session.getResource(path))).message).to.match(/closed/);
    });

    it('a TEE without configfs-tsm gets a clear error, not sample evidence', async function () {
      const error = await rejection(attest({ url: broker.url, tee: 'snp', ca: broker.bundlePem, tsmRoot: join(REPO_ROOT, 'no-such-configfs') }));
      expect(error.message).to.match(/no TEE attestation interface/);
    });
  });

  describe('renewal with a 3-second leaf TTL', function () {
    let broker: BrokerProcess;
    const secret = randomBytes(32);
    const path = randomResourcePath('key', 'renewed');

    before(async function () {
      broker = await startBroker({ toml: SHORT_TTL_TOML });
      await putSecret(broker, await issueAdmin(broker.home, 'ops'), path, secret);
    });

    after(async function () {
      await broker?.stop();
    });

    it('renews at least three times while four loops of requests run, with zero failures', async function () {
      this.timeout(30_000);
      const session = await attest({ url: broker.url, tee: 'sample', ca: broker.bundlePem });
      const serials = [session.serial];
      const renewalErrors: RenewalFailure[] = [];
      session.on('renewal-error', (failure: RenewalFailure) => renewalErrors.push(failure));
      const threeRenewals = new Promise<void>((resolve) => {
        session.on('renewed', ({ serial }: { serial: string }) => {
          serials.push(serial);
          if (serials.length === 4) resolve();
        });
      });
      const failures: string[] = [];
      const agentSerials = new Set<string>();
      const served = [0, 0, 0, 0];
      let done = false;
      const url = `${broker.url}/kbs/v1/resource/${path}`;
      const loops = [0, 1, 2, 3].map(async (loop) => {
        while (!done) {
          try {
            const body = loop === 0 ? await session.getResource(path)
              : loop === 1 ? await getWithAgent(url, session.agent).then((reply) => {
                agentSerials.add(reply.serial);
                if (reply.status !== 200) throw new Error(`agent: ${reply.status} ${reply.body.toString('utf8')}`);
                return reply.body;
              })
              : await getWithDispatcher(url, session).then((reply) => {
                if (reply.status !== 200) throw new Error(`dispatcher: ${reply.status} ${reply.body.toString('utf8')}`);
                return reply.body;
              });
            if (!body.equals(secret)) throw new Error('wrong bytes');
            served[loop]! += 1;
          } catch (error) {
            failures.push((error as Error).message);
          }
        }
      });
      try {
        await threeRenewals;
      } finally {
        done = true;
        await Promise.all(loops);
        await session.close();
      }
      expect(failures, 'requests that failed').to.deep.equal([]);
      expect(renewalErrors).to.deep.equal([]);
      expect(new Set(serials).size, 'four different certificates').to.equal(4);
      expect(agentSerials.size, 'the agent presented several of them').to.be.at.least(3);
      for (const serial of agentSerials) expect(serials.map((value) => value.toLowerCase())).to.include(serial);
      expect(served.every((count) => count > 0), `requests served per loop: ${served.join(', ')}`).to.equal(true);
    });

    it('the example workload fetches the secret across several renewals', async function () {
      this.timeout(30_000);
      const result = await runCommand(process.execPath, [join(REPO_ROOT, 'examples', 'fetch-secret.mjs'), broker.url, broker.bundlePath, path, '8', '800'], { cwd: REPO_ROOT, timeoutMs: 25_000 });
      expect(result.code, describeResult(result)).to.equal(0);
      const lines = result.stdout.toString('utf8').trim().split('\n');
      const fetched = lines.filter((line) => line.startsWith('fetched '));
      expect(fetched).to.have.length(8);
      const digest = (await import('node:crypto')).createHash('sha256').update(secret).digest('hex');
      for (const line of fetched) expect(line).to.include(`sha256 ${digest}`);
      expect(lines.filter((line) => line.startsWith('renewed: ')).length, result.stdout.toString('utf8')).to.be.at.least(2);
      const certificates = new Set(fetched.map((line) => /with certificate (\S+)$/.exec(line)?.[1]));
      expect(certificates.size, 'fetches used at least three certificates').to.be.at.least(3);
      expect(result.stdout.toString('utf8')).not.to.include(secret.toString('base64'));
    });
  });

  describe('renewal while the broker is down', function () {
    it('backs off exponentially up to the cap, reports each failure, fails getResource once expired, recovers when the broker returns', async function () {
      this.timeout(40_000);
      const home = makeTempDir();
      let broker: BrokerProcess | undefined = await startBroker({ home, toml: SHORT_TTL_TOML, removeHome: false });
      const { port, url, bundlePem } = broker;
      const secret = randomBytes(24);
      const path = randomResourcePath('key', 'backoff');
      await putSecret(broker, await issueAdmin(home, 'ops'), path, secret);
      const session = await attest({ url, tee: 'sample', ca: bundlePem, renew: { minBackoffMs: 200, maxBackoffMs: 800 } });
      try {
        expect((await session.getResource(path)).equals(secret)).to.equal(true);
        const failures: RenewalFailure[] = [];
        const fourFailures = new Promise<void>((resolve) => {
          session.on('renewal-error', (failure: RenewalFailure) => {
            failures.push(failure);
            if (failures.length === 4) resolve();
          });
        });
        await broker.stop();
        broker = undefined;
        await fourFailures;
        expect(failures.map((failure) => failure.failures)).to.deep.equal([1, 2, 3, 4]);
        expect(failures.map((failure) => failure.retryInMs)).to.deep.equal([200, 400, 800, 800]);
        // The first attempt may meet the broker still shutting down; the later ones find nothing listening.
        for (const failure of failures.slice(1)) expect(failure.error.message).to.match(/ECONNREFUSED/);

        await sleep(Math.max(0, session.expiresAt.getTime() - Date.now() + 100));
        const expired = await rejection(session.getResource(path));
        expect(expired).to.be.instanceOf(RenewalError);
        expect(expired.message).to.match(/certificate expired and renewal fails: .*ECONNREFUSED/);
        expect((expired as RenewalError).cause).to.be.instanceOf(Error);

        const oldSerial = session.serial;
        const renewed = once(session, 'renewed');
        broker = await startBroker({ home, port, removeHome: false });
        await renewed;
        expect(session.serial).not.to.equal(oldSerial);
        expect((await session.getResource(path)).equals(secret)).to.equal(true);
      } finally {
        await session.close();
        await broker?.stop();
        removeTempDir(home);
      }
    });
  });
});
