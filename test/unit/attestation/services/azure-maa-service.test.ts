/**
 * Azure Attestation (`type = "azure-maa"`) through the broker over real TLS, against the loopback stand-in of
 * test/helpers/azure-maa-standin.ts: SEV-SNP and TDX background-check, passport, v0, every refusal, and tokens of
 * one service presented as the other's.
 */
import type { KeyObject } from 'node:crypto';
import { createPublicKey } from 'node:crypto';
import { expect } from 'chai';
import { claimsOfCertificate } from '../../../../src/pki/claims-extension.js';
import { expectProblem, postJson, type Reply, type Target } from '../../../e2e/helpers/https-client.js';
import { challenge, createCsr, fromPem, generateTeeKey, postAttest, type AttestResponse, type TeeKey } from '../../../e2e/helpers/v1-protocol.js';
import { decodeJwtPart, v0AttestBody, v0Auth, v0Key, v0PostAttest } from '../../../e2e/helpers/v0-protocol.js';
import { maaReportData, maaSnpEvidence, startAzureMaaStandIn, type AzureMaaStandIn } from '../../../helpers/azure-maa-standin.js';
import { itaEvidence, startIntelTaStandIn, type IntelTaStandIn, type ItaNonce } from '../../../helpers/intel-ta-standin.js';
import { callService, makeSigningKey, runtimeDataBytes, signToken, tokenPayload, unsecuredToken } from '../../../helpers/token-service-standin.js';
import { p384Key } from '../snp/fake-amd-pki.js';
import { makeFakeIntelPki, makeTdxQuote } from '../tdx/fake-intel-pki.js';
import { startServiceBroker, type ServiceBroker } from './service-broker.js';

const LAUNCH_MEASUREMENT = Buffer.alloc(48, 0xa7);
const MRTD = Buffer.alloc(48, 0x5d);

describe('azure-maa: Azure Attestation through the broker', function () {
  this.timeout(30_000);
  const pki = makeFakeIntelPki();
  let vcek: KeyObject;
  let maa: AzureMaaStandIn;
  let ita: IntelTaStandIn;
  let setup: ServiceBroker;
  let target: Target;

  before(async () => {
    vcek = await p384Key();
    [maa, ita] = await Promise.all([startAzureMaaStandIn(), startIntelTaStandIn()]);
    setup = await startServiceBroker([
      { name: 'maa', type: 'azure-maa', tees: ['snp', 'tdx'], service: maa.service, timeoutMs: 1000 },
      { name: 'ita', type: 'intel-ta', tees: ['tdx'], service: ita.service, apiKey: ita.apiKey },
    ]);
    target = setup.target;
  });

  after(async () => {
    await setup.close();
    await Promise.all([maa.close(), ita.close()]);
  });

  afterEach(() => {
    maa.appraisal.compliance = 'azure-compliant-cvm';
    maa.appraisal.lifetimeSeconds = 300;
    maa.service.failWith = undefined;
    maa.service.delayMs = 0;
  });

  const snpEvidence = (nonce: string, spki: Buffer): { report: string } => maaSnpEvidence(vcek, nonce, spki, LAUNCH_MEASUREMENT);

  function tdxEvidence(nonce: string, spki: Buffer): { quote: string } {
    return { quote: makeTdxQuote(pki, { mrTd: MRTD, reportData: maaReportData(runtimeDataBytes(nonce, spki)) }).toString('base64url') };
  }

  /** Passport: the VM asks the service itself. */
  async function passportToken(nonce: string, spki: Buffer): Promise<string> {
    const reply = await callService(maa.service, '/attest/SevSnpVm?api-version=2022-08-01', {
      json: { ...snpEvidence(nonce, spki), runtimeData: { data: runtimeDataBytes(nonce, spki).toString('base64url'), dataType: 'JSON' } },
    });
    expect(reply.status, JSON.stringify(reply.json)).to.equal(200);
    return reply.json.token as string;
  }

  async function attestWithToken(token: string, nonce: string, key: TeeKey): Promise<Reply> {
    return postAttest(target, { nonce, csr: await createCsr(key), token });
  }

  async function backgroundCheck(tee: 'snp' | 'tdx' = 'snp'): Promise<Reply> {
    const key = await generateTeeKey();
    const { nonce } = await challenge(target, tee);
    const evidence = tee === 'snp' ? snpEvidence(nonce, key.spki) : tdxEvidence(nonce, key.spki);
    return postAttest(target, { nonce, csr: await createCsr(key), evidence });
  }

  it('background-check SEV-SNP (SevSnpVm): the certificate names the service and carries its claims', async () => {
    const reply = await backgroundCheck('snp');
    expect(reply.status, reply.text()).to.equal(201);
    const response = reply.json<AttestResponse>();
    expect(response.claims).to.include({ tee: 'snp', verifier: 'maa', status: 'affirming', tcb_status: 'azure-compliant-cvm', measurement: LAUNCH_MEASUREMENT.toString('hex') });
    expect(response.claims.tee_claims).to.include({ 'x-ms-attestation-type': 'sevsnpvm', 'x-ms-sevsnpvm-snpfw-svn': 22, 'x-ms-sevsnpvm-is-debuggable': false });
    expect(claimsOfCertificate(fromPem(response.certificate, 'CERTIFICATE'))).to.include({ verifier: 'maa', tee: 'snp' });
    const call = maa.service.requests.filter((request) => request.path === '/attest/SevSnpVm').at(-1)!;
    expect(call.query.get('api-version')).to.equal('2022-08-01');
    expect(JSON.parse(call.body.toString('utf8'))).to.have.nested.property('runtimeData.dataType', 'JSON');
  });

  it('background-check TDX (TdxVm)', async () => {
    const reply = await backgroundCheck('tdx');
    expect(reply.status, reply.text()).to.equal(201);
    expect(reply.json<AttestResponse>().claims).to.include({ tee: 'tdx', verifier: 'maa', status: 'affirming', tcb_status: 'UpToDate', measurement: MRTD.toString('hex') });
  });

  it('passport (v1): a token the VM got itself is accepted', async () => {
    const key = await generateTeeKey();
    const { nonce } = await challenge(target, 'snp');
    const reply = await attestWithToken(await passportToken(nonce, key.spki), nonce, key);
    expect(reply.status, reply.text()).to.equal(201);
    expect(reply.json<AttestResponse>().claims).to.include({ verifier: 'maa', status: 'affirming' });
  });

  for (const mode of ['background-check', 'passport'] as const) {
    it(`v0 ${mode}: keybroker's own token names the service`, async () => {
      const { cookie, nonce } = await v0Auth(target, { version: '0.4.0', tee: 'snp', 'extra-params': '' });
      const key = await v0Key('P-256');
      const spki = createPublicKey({ key: key.jwk, format: 'jwk' }).export({ type: 'spki', format: 'der' });
      const evidence = mode === 'passport' ? { token: await passportToken(nonce, spki) } : snpEvidence(nonce, spki);
      const reply = await v0PostAttest(target, cookie, v0AttestBody(nonce, key.jwk, evidence));
      expect(reply.status, reply.text()).to.equal(200);
      expect(decodeJwtPart(reply.json<{ token: string }>().token, 1)['kbs-claims']).to.include({ verifier: 'maa', tee: 'snp' });
    });
  }

  it('follows a key rotation at the service (keys published by x5c only): one more fetch of /certs', async () => {
    const fetchesBefore = maa.service.requests.filter((request) => request.path === '/certs').length;
    await maa.keys.rotate();
    const reply = await backgroundCheck();
    expect(reply.status, reply.text()).to.equal(201);
    expect(maa.service.requests.filter((request) => request.path === '/certs').length).to.equal(fetchesBefore + 1);
  });

  it('refuses a forged signature, alg "none" and an expired token with 403 attestation-failed', async () => {
    const key = await generateTeeKey();
    const { nonce } = await challenge(target, 'snp');
    const genuine = tokenPayload(await passportToken(nonce, key.spki));
    const forger = { ...(await makeSigningKey()), kid: maa.keys.current.kid };
    expectProblem(await attestWithToken(await signToken(genuine, forger, 'RS256'), nonce, key), 403, 'attestation-failed');
    expectProblem(await attestWithToken(unsecuredToken(genuine), nonce, key), 403, 'attestation-failed');
    maa.appraisal.lifetimeSeconds = -600;
    expect(expectProblem(await backgroundCheck(), 403, 'attestation-failed').detail).to.contain('expired');
  });

  it('refuses the nonce of another challenge (403 attestation-failed) and a key other than the CSR\'s (403 binding-mismatch)', async () => {
    const key = await generateTeeKey();
    const first = await challenge(target, 'snp');
    const token = await passportToken(first.nonce, key.spki);
    const second = await challenge(target, 'snp');
    expectProblem(await attestWithToken(token, second.nonce, key), 403, 'attestation-failed');
    const other = await generateTeeKey();
    expectProblem(await attestWithToken(await passportToken(second.nonce, other.spki), second.nonce, key), 403, 'binding-mismatch');
  });

  it('answers 502 verifier-unavailable when the service fails and 504 verifier-timeout when it is slow', async () => {
    maa.service.failWith = 500;
    expectProblem(await backgroundCheck(), 502, 'verifier-unavailable');
    maa.service.failWith = undefined;
    maa.service.delayMs = 10_000;
    expectProblem(await backgroundCheck(), 504, 'verifier-timeout');
  });

  it('refuses a VM that is not azure-compliant-cvm with 403 policy-denied (contraindicated, or no verdict at all)', async () => {
    maa.appraisal.compliance = 'azure-non-compliant';
    expectProblem(await backgroundCheck(), 403, 'policy-denied');
    maa.appraisal.compliance = undefined;
    expectProblem(await backgroundCheck(), 403, 'policy-denied');
  });

  it('refuses a token of one service presented to the other (403 attestation-failed)', async () => {
    const key = await generateTeeKey();
    // Intel Trust Authority's token to the Azure verifier (the default for tdx here).
    const toMaa = await challenge(target, 'tdx');
    const itaNonce = (await callService(ita.service, '/appraisal/v2/nonce', { headers: { 'x-api-key': ita.apiKey } })).json as unknown as ItaNonce;
    const runtimeData = runtimeDataBytes(toMaa.nonce, key.spki).toString('base64');
    const itaToken = (await callService(ita.service, '/appraisal/v2/attest', {
      headers: { 'x-api-key': ita.apiKey }, json: { tdx: { ...itaEvidence(pki, itaNonce, toMaa.nonce, key.spki), runtime_data: runtimeData } },
    })).json.token as string;
    expectProblem(await attestWithToken(itaToken, toMaa.nonce, key), 403, 'attestation-failed');

    // Azure's token to the Intel Trust Authority verifier, picked by name at the challenge.
    const toIta = (await postJson(target, '/kbs/v1/challenge', { tee: 'tdx', verifier: 'ita' })).json<{ nonce: string }>();
    const maaToken = (await callService(maa.service, '/attest/TdxVm?api-version=2022-08-01', {
      json: { ...tdxEvidence(toIta.nonce, key.spki), runtimeData: { data: runtimeDataBytes(toIta.nonce, key.spki).toString('base64url'), dataType: 'JSON' } },
    })).json.token as string;
    expectProblem(await attestWithToken(maaToken, toIta.nonce, key), 403, 'attestation-failed');
  });
});
