/**
 * CoCo AS (`type = "coco-as"`) through the broker over real TLS, against the loopback stand-in of
 * test/helpers/coco-as-standin.ts: background-check and passport for v1 and v0, key rotation, and every refusal.
 */
import { createHash, createPublicKey } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { expect } from 'chai';
import { claimsOfCertificate } from '../../../../src/pki/claims-extension.js';
import { expectProblem, type Target } from '../../../e2e/helpers/https-client.js';
import { challenge, createCsr, fromPem, generateTeeKey, postAttest, type AttestResponse, type TeeKey } from '../../../e2e/helpers/v1-protocol.js';
import { decodeJwtPart, v0AttestBody, v0Auth, v0Key, v0PostAttest } from '../../../e2e/helpers/v0-protocol.js';
import { cocoEvidence, startCocoAsStandIn, type CocoAsStandIn } from '../../../helpers/coco-as-standin.js';
import { tokenPayload, unsecuredToken } from '../../../helpers/token-service-standin.js';
import { makeTempDir, removeDir } from '../../pki/helpers.js';
import { startServiceBroker, type ServiceBroker } from './service-broker.js';

const MEASUREMENT = Buffer.alloc(48, 0x5a);

/** PROTOCOL.md 1.2: the runtime data a TEE gives the service, with the CSR key as a JWK of its required members. */
function runtimeData(nonce: string, spki: Buffer): { nonce: string; 'tee-pubkey': Record<string, unknown> } {
  return { nonce, 'tee-pubkey': createPublicKey({ key: spki, format: 'der', type: 'spki' }).export({ format: 'jwk' }) as Record<string, unknown> };
}

describe('coco-as: trustee\'s CoCo attestation service through the broker', function () {
  this.timeout(30_000);
  let coco: CocoAsStandIn;
  let foreign: CocoAsStandIn;
  let down: CocoAsStandIn;
  let setup: ServiceBroker;
  let target: Target;
  let dir: string;
  let jwksFile: string;

  async function publishJwks(): Promise<void> {
    await writeFile(jwksFile, JSON.stringify({ keys: [{ ...coco.signingKey.publicJwk, kid: coco.signingKey.kid, alg: 'ES256' }] }));
  }

  before(async () => {
    [coco, foreign, down] = await Promise.all([startCocoAsStandIn(), startCocoAsStandIn(), startCocoAsStandIn()]);
    await down.close();
    dir = await makeTempDir('coco-as');
    jwksFile = join(dir, 'coco-jwks.json');
    await publishJwks();
    setup = await startServiceBroker([
      { name: 'coco-as', type: 'coco-as', tees: ['snp'], service: coco.service, trustedCertsPem: [coco.ca.pem], timeoutMs: 1000 },
      { name: 'coco-jwks', type: 'coco-as', tees: ['snp'], service: coco.service, jwks: pathToFileURL(jwksFile).href },
      { name: 'coco-down', type: 'coco-as', tees: ['snp'], service: down.service, trustedCertsPem: [down.ca.pem] },
    ]);
    target = setup.target;
  });

  after(async () => {
    await setup.close();
    await Promise.all([coco.close(), foreign.close()]);
    await removeDir(dir);
  });

  afterEach(() => {
    coco.behaviour.status = 'affirming';
    coco.behaviour.lifetimeSeconds = 300;
    coco.behaviour.x5c = true;
    coco.behaviour.kid = false;
    coco.service.failWith = undefined;
    coco.service.delayMs = 0;
  });

  async function backgroundCheck(verifier = 'coco-as', key?: TeeKey) {
    const teeKey = key ?? await generateTeeKey();
    const { nonce } = await challenge(target, 'snp', verifier);
    const evidence = cocoEvidence(runtimeData(nonce, teeKey.spki), MEASUREMENT);
    return { reply: await postAttest(target, { nonce, csr: await createCsr(teeKey), evidence }), key: teeKey, nonce };
  }

  /** Passport: the TEE asks the service itself and gets a token bound to `nonce` and `spki`. */
  async function passportToken(service: CocoAsStandIn, nonce: string, spki: Buffer): Promise<string> {
    const data = runtimeData(nonce, spki);
    return service.requestToken('snp', cocoEvidence(data, MEASUREMENT), data);
  }

  async function attestWithToken(token: string, nonce: string, key: TeeKey) {
    return postAttest(target, { nonce, csr: await createCsr(key), token });
  }

  it('background-check (v1): sends trustee\'s request body and issues a certificate whose claims name the service', async () => {
    const { reply, nonce, key } = await backgroundCheck();
    expect(reply.status, reply.text()).to.equal(201);
    const response = reply.json<AttestResponse>();
    expect(response.claims).to.include({ v: 1, tee: 'snp', verifier: 'coco-as', status: 'affirming', tcb_status: 'unknown', measurement: MEASUREMENT.toString('hex') });
    expect(response.claims.trust_vector).to.deep.equal({ hardware: 2, executables: 2, configuration: 2 });
    expect(response.claims.tee_claims).to.include({ measurement: MEASUREMENT.toString('hex'), 'ear.appraisal-policy-id': 'default' });
    expect(claimsOfCertificate(fromPem(response.certificate, 'CERTIFICATE'))).to.include({ verifier: 'coco-as', tee: 'snp', status: 'affirming' });

    const sent = JSON.parse(coco.service.requests.at(-1)!.body.toString('utf8')) as Record<string, unknown>;
    expect(sent).to.include({ tee: 'snp', runtime_data_hash_algorithm: 'sha384' });
    expect(JSON.parse(Buffer.from(sent.evidence as string, 'base64url').toString('utf8'))).to.have.property('measurement', MEASUREMENT.toString('hex'));
    expect(sent.runtime_data).to.deep.equal({ structured: runtimeData(nonce, key.spki) });
  });

  it('passport (v1): a token the TEE got itself is accepted', async () => {
    const key = await generateTeeKey();
    const { nonce } = await challenge(target, 'snp');
    const reply = await attestWithToken(await passportToken(coco, nonce, key.spki), nonce, key);
    expect(reply.status, reply.text()).to.equal(201);
    expect(reply.json<AttestResponse>().claims).to.include({ verifier: 'coco-as', status: 'affirming' });
  });

  it('background-check (v0): the session nonce and tee-pubkey go to the service; keybroker\'s token names it', async () => {
    const { cookie, nonce } = await v0Auth(target, { version: '0.4.0', tee: 'snp', 'extra-params': '' });
    const key = await v0Key('P-256');
    const evidence = cocoEvidence({ nonce, 'tee-pubkey': key.jwk }, MEASUREMENT);
    const reply = await v0PostAttest(target, cookie, v0AttestBody(nonce, key.jwk, evidence));
    expect(reply.status, reply.text()).to.equal(200);
    const claims = decodeJwtPart(reply.json<{ token: string }>().token, 1)['kbs-claims'] as Record<string, unknown>;
    expect(claims).to.include({ verifier: 'coco-as', tee: 'snp', status: 'affirming', measurement: MEASUREMENT.toString('hex') });
  });

  it('passport (v0): primary_evidence {"token"} is verified and bound like v1', async () => {
    const { cookie, nonce } = await v0Auth(target, { version: '0.4.0', tee: 'snp', 'extra-params': '' });
    const key = await v0Key('P-256');
    const spki = createPublicKey({ key: key.jwk, format: 'jwk' }).export({ type: 'spki', format: 'der' });
    const token = await passportToken(coco, nonce, spki);
    const reply = await v0PostAttest(target, cookie, v0AttestBody(nonce, key.jwk, { token }));
    expect(reply.status, reply.text()).to.equal(200);
    expect(decodeJwtPart(reply.json<{ token: string }>().token, 1)['kbs-claims']).to.include({ verifier: 'coco-as' });
  });

  it('follows a key rotation at the service: a new key under the trusted CA (x5c), and a new kid in the JWKS file', async () => {
    await coco.rotate();
    const viaChain = await backgroundCheck();
    expect(viaChain.reply.status, viaChain.reply.text()).to.equal(201);

    coco.behaviour.kid = true;
    coco.behaviour.x5c = false;
    expect((await backgroundCheck('coco-jwks')).reply.status).to.equal(403);
    await publishJwks();
    const viaJwks = await backgroundCheck('coco-jwks');
    expect(viaJwks.reply.status, viaJwks.reply.text()).to.equal(201);
    expect(viaJwks.reply.json<AttestResponse>().claims.verifier).to.equal('coco-jwks');
  });

  it('refuses a forged signature with 403 attestation-failed', async () => {
    const key = await generateTeeKey();
    const { nonce } = await challenge(target, 'snp');
    const [header, payload, signature] = (await passportToken(coco, nonce, key.spki)).split('.');
    const tampered = Buffer.from(JSON.stringify({ ...tokenPayload(`${header}.${payload}.`), exp: Math.floor(Date.now() / 1000) + 86400 })).toString('base64url');
    expectProblem(await attestWithToken(`${header}.${tampered}.${signature}`, nonce, key), 403, 'attestation-failed');
  });

  it('refuses a token of another attestation service (its x5c leads to an untrusted CA) with 403 attestation-failed', async () => {
    const key = await generateTeeKey();
    const { nonce } = await challenge(target, 'snp');
    const reply = await attestWithToken(await passportToken(foreign, nonce, key.spki), nonce, key);
    expect(expectProblem(reply, 403, 'attestation-failed').detail).to.contain('trusted certificate');
  });

  it('never trusts a key the token only embeds (header jwk without x5c)', async () => {
    coco.behaviour.x5c = false;
    expectProblem((await backgroundCheck()).reply, 403, 'attestation-failed');
  });

  it('refuses alg "none" with 403 attestation-failed', async () => {
    const key = await generateTeeKey();
    const { nonce } = await challenge(target, 'snp');
    const genuine = await passportToken(coco, nonce, key.spki);
    expectProblem(await attestWithToken(unsecuredToken(tokenPayload(genuine)), nonce, key), 403, 'attestation-failed');
  });

  it('refuses an expired token with 403 attestation-failed', async () => {
    coco.behaviour.lifetimeSeconds = -600;
    expect(expectProblem((await backgroundCheck()).reply, 403, 'attestation-failed').detail).to.contain('expired');
  });

  it('refuses a token bound to the nonce of another challenge with 403 attestation-failed', async () => {
    const key = await generateTeeKey();
    const first = await challenge(target, 'snp');
    const token = await passportToken(coco, first.nonce, key.spki);
    const second = await challenge(target, 'snp');
    expect(expectProblem(await attestWithToken(token, second.nonce, key), 403, 'attestation-failed').detail).to.contain('nonce');
  });

  it('refuses a token bound to a key other than the CSR\'s with 403 binding-mismatch', async () => {
    const key = await generateTeeKey();
    const other = await generateTeeKey();
    const { nonce } = await challenge(target, 'snp');
    expectProblem(await attestWithToken(await passportToken(coco, nonce, other.spki), nonce, key), 403, 'binding-mismatch');
  });

  it('answers 502 verifier-unavailable for a 5xx or an unreachable service, and consumes nothing', async () => {
    const key = await generateTeeKey();
    const { nonce } = await challenge(target, 'snp');
    const body = { nonce, csr: await createCsr(key), evidence: cocoEvidence(runtimeData(nonce, key.spki), MEASUREMENT) };
    coco.service.failWith = 503;
    expectProblem(await postAttest(target, body), 502, 'verifier-unavailable');
    coco.service.failWith = undefined;
    expect((await postAttest(target, body)).status, 'the nonce is still unused').to.equal(201);
    expectProblem((await backgroundCheck('coco-down')).reply, 502, 'verifier-unavailable');
  });

  it('answers 504 verifier-timeout when the service does not answer within timeout_ms', async () => {
    coco.service.delayMs = 10_000;
    expectProblem((await backgroundCheck()).reply, 504, 'verifier-timeout');
  });

  it('checks the request\'s init_data against the init_data the token reports (403 binding-mismatch when it differs)', async () => {
    const initData = { format: 'toml', body: 'algorithm = "sha256"\nversion = "0.1.0"\n' };
    const reported = createHash('sha256').update(initData.body, 'utf8').digest('hex');
    const key = await generateTeeKey();
    const { nonce } = await challenge(target, 'snp');
    const evidence = { ...cocoEvidence(runtimeData(nonce, key.spki), MEASUREMENT), init_data: reported };
    const reply = await postAttest(target, { nonce, csr: await createCsr(key), evidence, init_data: initData });
    expect(reply.status, reply.text()).to.equal(201);
    expect(reply.json<AttestResponse>().claims.init_data).to.equal(createHash('sha384').update(initData.body, 'utf8').digest('hex'));

    const second = await challenge(target, 'snp');
    const zeros = cocoEvidence(runtimeData(second.nonce, key.spki), MEASUREMENT);
    expectProblem(await postAttest(target, { nonce: second.nonce, csr: await createCsr(key), evidence: zeros, init_data: initData }), 403, 'binding-mismatch');
  });

  it('refuses a contraindicated appraisal with 403 policy-denied (default attestation policy)', async () => {
    coco.behaviour.status = 'contraindicated';
    expectProblem((await backgroundCheck()).reply, 403, 'policy-denied');
  });
});
