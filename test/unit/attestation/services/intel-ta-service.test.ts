/**
 * Intel Trust Authority (`type = "intel-ta"`) through the broker over real TLS, against the loopback stand-in of
 * test/helpers/intel-ta-standin.ts: background-check and passport for v1, passport for v0, and every refusal.
 */
import { createPublicKey } from 'node:crypto';
import { expect } from 'chai';
import { claimsOfCertificate } from '../../../../src/pki/claims-extension.js';
import { expectProblem, postJson, type Target } from '../../../e2e/helpers/https-client.js';
import { challenge, createCsr, fromPem, generateTeeKey, postAttest, type AttestResponse, type TeeKey } from '../../../e2e/helpers/v1-protocol.js';
import { decodeJwtPart, v0AttestBody, v0Auth, v0Key, v0PostAttest } from '../../../e2e/helpers/v0-protocol.js';
import { itaEvidence, startIntelTaStandIn, type IntelTaStandIn, type ItaNonce } from '../../../helpers/intel-ta-standin.js';
import { callService, makeSigningKey, runtimeDataBytes, signToken, tokenPayload, unsecuredToken } from '../../../helpers/token-service-standin.js';
import { makeFakeIntelPki, makeTdxQuote } from '../tdx/fake-intel-pki.js';
import { startServiceBroker, type ServiceBroker } from './service-broker.js';

const MRTD = Buffer.alloc(48, 0x3c);

describe('intel-ta: Intel Trust Authority through the broker', function () {
  this.timeout(30_000);
  const pki = makeFakeIntelPki();
  let ita: IntelTaStandIn;
  let setup: ServiceBroker;
  let target: Target;

  before(async () => {
    ita = await startIntelTaStandIn();
    setup = await startServiceBroker([{ name: 'ita', type: 'intel-ta', tees: ['tdx'], service: ita.service, apiKey: ita.apiKey, timeoutMs: 1000 }]);
    target = setup.target;
  });

  after(async () => {
    await setup.close();
    await ita.close();
  });

  afterEach(() => {
    ita.appraisal.tcbStatus = 'UpToDate';
    ita.appraisal.policyIdsUnmatched = [];
    ita.appraisal.lifetimeSeconds = 300;
    ita.service.failWith = undefined;
    ita.service.delayMs = 0;
  });


  /** Passport: the TD asks the service itself, with its own API key, and gets a token bound to `nonce` and `spki`. */
  async function passportToken(nonce: string, spki: Buffer): Promise<string> {
    const itaNonce = (await callService(ita.service, '/appraisal/v2/nonce', { headers: { 'x-api-key': ita.apiKey } })).json as unknown as ItaNonce;
    const runtimeData = runtimeDataBytes(nonce, spki).toString('base64');
    const reply = await callService(ita.service, '/appraisal/v2/attest', {
      headers: { 'x-api-key': ita.apiKey },
      json: { tdx: { ...itaEvidence(pki, itaNonce, nonce, spki, MRTD), runtime_data: runtimeData }, token_signing_alg: 'RS256' },
    });
    expect(reply.status, JSON.stringify(reply.json)).to.equal(200);
    return reply.json.token as string;
  }

  async function attestWithToken(token: string, nonce: string, key: TeeKey) {
    return postAttest(target, { nonce, csr: await createCsr(key), token });
  }

  async function backgroundCheck(): Promise<{ reply: Awaited<ReturnType<typeof postAttest>>; key: TeeKey; nonce: string }> {
    const key = await generateTeeKey();
    const { nonce, verifier_nonce: verifierNonce } = await challenge(target, 'tdx');
    const evidence = itaEvidence(pki, verifierNonce as ItaNonce, nonce, key.spki, MRTD);
    return { reply: await postAttest(target, { nonce, csr: await createCsr(key), evidence }), key, nonce };
  }

  it('background-check: the challenge carries the service nonce; the certificate names the service and carries its claims', async () => {
    const { reply, nonce } = await backgroundCheck();
    expect(reply.status, reply.text()).to.equal(201);
    const response = reply.json<AttestResponse>();
    expect(response.claims).to.include({ v: 1, tee: 'tdx', verifier: 'ita', status: 'affirming', tcb_status: 'UpToDate', measurement: MRTD.toString('hex') });
    expect(response.claims.tee_claims).to.include({ tdx_mrtd: MRTD.toString('hex'), attester_tcb_status: 'UpToDate', tdx_is_debuggable: false });
    const inCertificate = claimsOfCertificate(fromPem(response.certificate, 'CERTIFICATE'));
    expect(inCertificate).to.include({ verifier: 'ita', tee: 'tdx', status: 'affirming' });

    const attestCall = ita.service.requests.filter((request) => request.path === '/appraisal/v2/attest').at(-1)!;
    expect(attestCall.headers['x-api-key']).to.equal(ita.apiKey);
    const sent = JSON.parse(attestCall.body.toString('utf8')) as { tdx: { runtime_data: string } };
    expect(JSON.parse(Buffer.from(sent.tdx.runtime_data, 'base64').toString('utf8'))).to.have.property('nonce', nonce);
  });

  it('passport (v1): a token the TD got itself, RS256, is accepted', async () => {
    const key = await generateTeeKey();
    const { nonce } = await challenge(target, 'tdx');
    const reply = await attestWithToken(await passportToken(nonce, key.spki), nonce, key);
    expect(reply.status, reply.text()).to.equal(201);
    expect(reply.json<AttestResponse>().claims).to.include({ verifier: 'ita', status: 'affirming' });
  });

  it('passport (v0): primary_evidence {"token"} yields keybroker\'s own token naming the service', async () => {
    const { cookie, nonce } = await v0Auth(target, { version: '0.4.0', tee: 'tdx', 'extra-params': '' });
    const key = await v0Key('P-256');
    const spki = createPublicKey({ key: key.jwk, format: 'jwk' }).export({ type: 'spki', format: 'der' });
    const token = await passportToken(nonce, spki);
    const reply = await v0PostAttest(target, cookie, v0AttestBody(nonce, key.jwk, { token }));
    expect(reply.status, reply.text()).to.equal(200);
    const claims = decodeJwtPart(reply.json<{ token: string }>().token, 1)['kbs-claims'] as Record<string, unknown>;
    expect(claims).to.include({ verifier: 'ita', tee: 'tdx', status: 'affirming' });
  });

  it('follows a key rotation at the service: an unknown kid makes the broker fetch /certs again', async () => {
    const fetchesBefore = ita.service.requests.filter((request) => request.path === '/certs').length;
    await ita.keys.PS384.rotate();
    const { reply } = await backgroundCheck();
    expect(reply.status, reply.text()).to.equal(201);
    expect(ita.service.requests.filter((request) => request.path === '/certs').length).to.equal(fetchesBefore + 1);
  });

  it('refuses a forged signature (same kid, another key) with 403 attestation-failed', async () => {
    const key = await generateTeeKey();
    const { nonce } = await challenge(target, 'tdx');
    const genuine = await passportToken(nonce, key.spki);
    const forger = { ...(await makeSigningKey()), kid: ita.keys.RS256.current.kid };
    expectProblem(await attestWithToken(await signToken(tokenPayload(genuine), forger, 'RS256'), nonce, key), 403, 'attestation-failed');
  });

  it('refuses alg "none" with 403 attestation-failed', async () => {
    const key = await generateTeeKey();
    const { nonce } = await challenge(target, 'tdx');
    const genuine = await passportToken(nonce, key.spki);
    expectProblem(await attestWithToken(unsecuredToken(tokenPayload(genuine)), nonce, key), 403, 'attestation-failed');
  });

  it('refuses an expired token with 403 attestation-failed', async () => {
    ita.appraisal.lifetimeSeconds = -600;
    const { reply } = await backgroundCheck();
    const problem = expectProblem(reply, 403, 'attestation-failed');
    expect(problem.detail).to.contain('expired');
  });

  it('refuses a token bound to the nonce of another challenge with 403 attestation-failed', async () => {
    const key = await generateTeeKey();
    const first = await challenge(target, 'tdx');
    const token = await passportToken(first.nonce, key.spki);
    const second = await challenge(target, 'tdx');
    expectProblem(await attestWithToken(token, second.nonce, key), 403, 'attestation-failed');
  });

  it('refuses a token bound to a key other than the CSR\'s with 403 binding-mismatch', async () => {
    const key = await generateTeeKey();
    const other = await generateTeeKey();
    const { nonce } = await challenge(target, 'tdx');
    expectProblem(await attestWithToken(await passportToken(nonce, other.spki), nonce, key), 403, 'binding-mismatch');
  });

  it('answers 502 verifier-unavailable when the service fails, at the challenge (nonce) and at attest', async () => {
    const key = await generateTeeKey();
    const { nonce, verifier_nonce: verifierNonce } = await challenge(target, 'tdx');
    ita.service.failWith = 503;
    expectProblem(await postJson(target, '/kbs/v1/challenge', { tee: 'tdx' }), 502, 'verifier-unavailable');
    const evidence = itaEvidence(pki, verifierNonce as ItaNonce, nonce, key.spki, MRTD);
    expectProblem(await postAttest(target, { nonce, csr: await createCsr(key), evidence }), 502, 'verifier-unavailable');
  });

  it('answers 504 verifier-timeout when the service does not answer within timeout_ms', async () => {
    const key = await generateTeeKey();
    const { nonce, verifier_nonce: verifierNonce } = await challenge(target, 'tdx');
    ita.service.delayMs = 10_000;
    const evidence = itaEvidence(pki, verifierNonce as ItaNonce, nonce, key.spki, MRTD);
    expectProblem(await postAttest(target, { nonce, csr: await createCsr(key), evidence }), 504, 'verifier-timeout');
  });

  it('refuses with 403 policy-denied what the default policy does not accept: an unmatched ITA policy, an out-of-date TCB', async () => {
    ita.appraisal.policyIdsUnmatched = ['d3b8ae5c-5b6d-4e1c-9a7b-0f3f4d1c2b10'];
    expectProblem((await backgroundCheck()).reply, 403, 'policy-denied');
    ita.appraisal.policyIdsUnmatched = [];
    ita.appraisal.tcbStatus = 'OutOfDate';
    expectProblem((await backgroundCheck()).reply, 403, 'policy-denied');
  });

  it('takes evidence only with the challenge\'s verifier_nonce (400 bad-evidence-format otherwise), and the API key never appears in answers', async () => {
    const key = await generateTeeKey();
    const { nonce } = await challenge(target, 'tdx');
    const quote = makeTdxQuote(pki).toString('base64');
    const reply = await postAttest(target, { nonce, csr: await createCsr(key), evidence: { quote } });
    expectProblem(reply, 400, 'bad-evidence-format');
    expect(reply.text()).not.to.contain(ita.apiKey);
  });
});
