/**
 * `attest({ protocol: "v0" })` of `keybroker/client` against a real broker process with a 10-second v0 session:
 * the three TEE key types, the attester's 64 bytes of report data, a policy deny, renewal before the token's
 * `exp` while loops of requests run, and the v0 example program of the README.
 */
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { expect } from 'chai';
import { decodeJwt, type JWK } from 'jose';
import { attest, KbsClientError, sampleAttester, type Attester, type RenewalFailure, type V0KeyType, type V0Session } from '../../src/client/index.js';
import { REPO_ROOT, startBroker, type BrokerProcess } from './helpers/broker-process.js';
import { send } from './helpers/https-client.js';
import { describeResult, runCommand } from './helpers/run-command.js';
import { issueAdmin, type AdminCredential } from './helpers/shared-broker.js';
import { randomResourcePath } from './helpers/v1-protocol.js';
import { rejection } from '../helpers/rejection.js';

const SESSION_TTL_SECONDS = 10;

describe('e2e: client library with protocol v0', function () {
  let broker: BrokerProcess;
  let admin: AdminCredential;
  const secret = Buffer.concat([randomBytes(40), Buffer.from([0, 13, 10, 0xff])]);
  const path = randomResourcePath('key', 'libv0');
  const deniedPath = `denied${randomBytes(4).toString('hex')}/key/db`;

  async function adminRequest(method: string, requestPath: string, body: string | Buffer, contentType: string): Promise<void> {
    const reply = await send(broker, { method, path: requestPath, body, credential: admin, headers: { 'content-type': contentType } });
    if (reply.status !== 200 && reply.status !== 201) throw new Error(`${method} ${requestPath}: ${reply.status} ${reply.text()}`);
  }

  before(async function () {
    broker = await startBroker({ toml: `[v0]\nsession_ttl_seconds = ${SESSION_TTL_SECONDS}\n` });
    admin = await issueAdmin(broker.home, 'ops');
    await adminRequest('PUT', `/kbs/v1/admin/resource/${path}`, secret, 'application/octet-stream');
    await adminRequest('PUT', `/kbs/v1/admin/resource/${deniedPath}`, 'never released', 'application/octet-stream');
    await adminRequest('PUT', '/kbs/v1/admin/policy/resource', JSON.stringify({
      rules: [
        { match: deniedPath, allow: 'claims.tee == "snp"' },
        { match: '*/*/*', allow: 'claims.status == "affirming"' },
      ],
    }), 'application/json');
  });

  after(async function () {
    await broker?.stop();
  });

  const keyTypes: Array<[V0KeyType, Partial<JWK>]> = [
    ['ec-p256', { kty: 'EC', crv: 'P-256' }], ['ec-p384', { kty: 'EC', crv: 'P-384' }], ['rsa-3072', { kty: 'RSA' }],
  ];
  for (const [keyType, expectedKey] of keyTypes) {
    it(`${keyType}: attests with the attester's 64 bytes of report data, and getResource decrypts the secret`, async function () {
      const reportData: Uint8Array[] = [];
      const sample = sampleAttester();
      const recording: Attester = (data) => {
        reportData.push(data);
        return sample(data);
      };
      const session = await attest({ url: broker.url, tee: 'sample', ca: broker.bundlePem, protocol: 'v0', keyType, attester: recording, renew: false });
      try {
        expect(session.protocol).to.equal('v0');
        expect(reportData.map((data) => data.length)).to.deep.equal([64]);
        const claims = decodeJwt(session.token);
        expect(claims['tee-pubkey']).to.include(expectedKey);
        if (keyType === 'rsa-3072') expect(Buffer.from((claims['tee-pubkey'] as JWK).n!, 'base64url')).to.have.length(384);
        expect(session.spiffeId).to.equal(claims.sub).and.match(/^spiffe:\/\/keybroker\.local\/tee\/sample\/[0-9a-f]{16}$/);
        expect(session.serial).to.equal(claims.jti);
        expect(session.expiresAt.getTime()).to.equal(claims.exp! * 1000);
        expect(session.claims).to.include({ tee: 'sample' });
        expect(session).not.to.have.property('agent');

        const fetched = await session.getResource(path);
        expect(fetched.equals(secret), 'the decrypted bytes are the secret').to.equal(true);
      } finally {
        await session.close();
      }
      expect((await rejection(session.getResource(path))).message).to.match(/closed/);
    });
  }

  it('a policy deny reaches the caller as KbsClientError 403 PolicyDeny; other paths still work', async function () {
    const session = await attest({ url: broker.url, tee: 'sample', ca: broker.bundlePem, protocol: 'v0', renew: false });
    try {
      const error = await rejection(session.getResource(deniedPath));
      expect(error).to.be.instanceOf(KbsClientError);
      expect((error as KbsClientError).status).to.equal(403);
      expect((error as KbsClientError).code).to.equal('PolicyDeny');
      expect(error.message).to.equal('403 PolicyDeny: the resource policy denied this request');
      expect(error.message).not.to.include('never released');
      expect((await session.getResource(path)).equals(secret)).to.equal(true);
    } finally {
      await session.close();
    }
  });

  it('an unknown protocol is refused before anything is sent', async function () {
    const options = { url: broker.url, tee: 'sample', ca: broker.bundlePem, protocol: 'v2' } as unknown as Parameters<typeof attest>[0];
    expect((await rejection(attest(options))).message).to.equal('unknown protocol "v2" (v1, v0)');
  });

  it(`renews twice before the token's exp (${SESSION_TTL_SECONDS}-second sessions) while two loops of requests run, with zero failures`, async function () {
    this.timeout(40_000);
    const session: V0Session = await attest({ url: broker.url, tee: 'sample', ca: broker.bundlePem, protocol: 'v0', renew: { at: 0.5 } });
    const tokens = [session.token];
    const serials = [session.serial];
    const expiries = [session.expiresAt.getTime()];
    const renewalErrors: RenewalFailure[] = [];
    session.on('renewal-error', (failure: RenewalFailure) => renewalErrors.push(failure));
    const twoRenewals = new Promise<void>((resolve) => {
      session.on('renewed', ({ serial, expiresAt }: { serial: string; expiresAt: Date }) => {
        serials.push(serial);
        tokens.push(session.token);
        expiries.push(expiresAt.getTime());
        if (tokens.length === 3) resolve();
      });
    });
    const failures: string[] = [];
    const served = [0, 0];
    let done = false;
    const loops = served.map(async (_, loop) => {
      while (!done) {
        try {
          if (!(await session.getResource(path)).equals(secret)) throw new Error('wrong bytes');
          served[loop]! += 1;
        } catch (error) {
          failures.push((error as Error).message);
        }
      }
    });
    try {
      await twoRenewals;
    } finally {
      done = true;
      await Promise.all(loops);
      await session.close();
    }
    expect(failures, 'requests that failed').to.deep.equal([]);
    expect(renewalErrors).to.deep.equal([]);
    expect(new Set(tokens).size, 'three different tokens').to.equal(3);
    expect(serials, 'renewed reports the jti of the new token').to.deep.equal(tokens.map((token) => decodeJwt(token).jti));
    expect(new Set(tokens.map((token) => JSON.stringify(decodeJwt(token)['tee-pubkey']))).size, 'a fresh TEE key each time').to.equal(3);
    expect(expiries[1]! > expiries[0]! && expiries[2]! > expiries[1]!, 'each token expires later').to.equal(true);
    expect(served.every((count) => count > 0), `requests served per loop: ${served.join(', ')}`).to.equal(true);
  });

  it('the v0 example workload fetches the secret', async function () {
    const result = await runCommand(process.execPath, [join(REPO_ROOT, 'examples', 'fetch-secret-v0.mjs'), broker.url, broker.bundlePath, path], { cwd: REPO_ROOT, timeoutMs: 15_000 });
    expect(result.code, describeResult(result)).to.equal(0);
    const output = result.stdout.toString('utf8');
    expect(output).to.match(new RegExp(`^fetched ${path}: sha256 ${createHash('sha256').update(secret).digest('hex')} with token [0-9a-f-]{36}\n$`));
    expect(output).not.to.include(secret.toString('base64'));
  });
});
