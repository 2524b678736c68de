import { X509Certificate } from 'node:crypto';
import { expect } from 'chai';
import { azureMaaClaims } from '../../../../src/attestation/services/azure-maa-claims.js';
import { withKeysFromX5c } from '../../../../src/attestation/services/jwks-x5c.js';
import { isKbsError } from '../../../../src/domain/errors.js';
import { makeSigningKey } from '../../../helpers/token-service-standin.js';

const hex = (byte: number, bytes: number): string => byte.toString(16).padStart(2, '0').repeat(bytes);
const RUNTIME = { nonce: 'n-1', 'tee-pubkey': { kty: 'EC', crv: 'P-256', x: 'x', y: 'y' } };

/** The SEV-SNP claims of an Azure Attestation token, flat (SevSnpVm) or under x-ms-isolation-tee (vTPM). */
function snpSection(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    'x-ms-attestation-type': 'sevsnpvm',
    'x-ms-compliance-status': 'azure-compliant-cvm',
    'x-ms-sevsnpvm-authorkeydigest': hex(0, 48),
    'x-ms-sevsnpvm-bootloader-svn': 4,
    'x-ms-sevsnpvm-familyId': hex(1, 16),
    'x-ms-sevsnpvm-guestsvn': 2,
    'x-ms-sevsnpvm-hostdata': hex(0x4d, 32),
    'x-ms-sevsnpvm-idkeydigest': hex(2, 48),
    'x-ms-sevsnpvm-imageId': hex(3, 16),
    'x-ms-sevsnpvm-is-debuggable': false,
    'x-ms-sevsnpvm-launchmeasurement': hex(0xa7, 48),
    'x-ms-sevsnpvm-microcode-svn': 213,
    'x-ms-sevsnpvm-migration-allowed': false,
    'x-ms-sevsnpvm-reportdata': hex(0x42, 64),
    'x-ms-sevsnpvm-reportid': hex(5, 32),
    'x-ms-sevsnpvm-smt-allowed': true,
    'x-ms-sevsnpvm-snpfw-svn': 22,
    'x-ms-sevsnpvm-tee-svn': 0,
    'x-ms-sevsnpvm-vmpl': 0,
    ...extra,
  };
}

function sevSnpVmToken(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { ...snpSection(extra), 'x-ms-runtime': RUNTIME, 'x-ms-ver': '1.0', 'x-ms-policy-hash': 'abc', iss: 'https://shared.weu.attest.azure.net', exp: 1764410300, iat: 1764410000, nbf: 1764410000 };
}

function expectFailure(run: () => unknown): void {
  let caught: unknown;
  try {
    run();
  } catch (error) {
    caught = error;
  }
  expect(isKbsError(caught) && caught.code).to.equal('attestation-failed');
}

describe('azureMaaClaims: Azure Attestation token to normalized claims', () => {
  it('maps a compliant SevSnpVm token: affirming, launch measurement, HOST_DATA as init data, x-ms-runtime as runtime data', () => {
    const reading = azureMaaClaims(sevSnpVmToken(), 'snp');
    expect(reading.claims).to.deep.include({
      status: 'affirming', tcb_status: 'azure-compliant-cvm', measurement: hex(0xa7, 48),
      trust_vector: { hardware: 2, executables: 0, configuration: 0 },
    });
    expect(reading.claims.tee_claims).to.include({ 'x-ms-sevsnpvm-snpfw-svn': 22, 'x-ms-sevsnpvm-vmpl': 0, 'x-ms-attestation-type': 'sevsnpvm' });
    expect(reading.claims.tee_claims).not.to.have.property('x-ms-runtime');
    expect(Buffer.from(reading.initData!).toString('hex')).to.equal(hex(0x4d, 32));
    expect(reading.runtimeData).to.deep.equal(RUNTIME);
  });

  it('makes another compliance verdict contraindicated, none at all status none, and a debuggable guest a warning', () => {
    expect(azureMaaClaims(sevSnpVmToken({ 'x-ms-compliance-status': 'azure-non-compliant' }), 'snp').claims.status).to.equal('contraindicated');
    const { 'x-ms-compliance-status': _dropped, ...noVerdict } = sevSnpVmToken();
    expect(azureMaaClaims(noVerdict, 'snp').claims).to.include({ status: 'none', tcb_status: 'unknown' });
    expect(azureMaaClaims(sevSnpVmToken({ 'x-ms-sevsnpvm-is-debuggable': true }), 'snp').claims.status).to.equal('warning');
  });

  it('maps a TdxVm token: MRTD, MRCONFIGID, the TCB status Azure reports', () => {
    const reading = azureMaaClaims({
      'x-ms-attestation-type': 'tdxvm', 'x-ms-compliance-status': 'azure-compliant-cvm', attester_tcb_status: 'UpToDate',
      tdx_mrtd: hex(0x5d, 48), tdx_mrconfigid: hex(0x0c, 48), tdx_td_attributes_debug: false, 'x-ms-runtime': RUNTIME, exp: 1764410300,
    }, 'tdx');
    expect(reading.claims).to.include({ status: 'affirming', tcb_status: 'UpToDate', measurement: hex(0x5d, 48) });
    expect(Buffer.from(reading.initData!).toString('hex')).to.equal(hex(0x0c, 48));
  });

  it('reads a vTPM (azurevm) token: hardware claims under x-ms-isolation-tee, runtime data from client-payload', () => {
    const reading = azureMaaClaims({
      'x-ms-attestation-type': 'azurevm',
      'x-ms-azurevm-vmid': 'B0B5A7C1-7F0A-4A8D-9C6C-2E1B0E9B3C11',
      'x-ms-isolation-tee': { ...snpSection(), 'x-ms-runtime': { keys: [] } },
      'x-ms-runtime': { 'client-payload': RUNTIME, keys: [] },
      exp: 1764410300,
    }, 'az-snp-vtpm');
    expect(reading.claims).to.include({ status: 'affirming', measurement: hex(0xa7, 48) });
    expect(reading.runtimeData).to.deep.equal(RUNTIME);
  });

  it('refuses a token of another attestation type than the TEE\'s (403 attestation-failed)', () => {
    expectFailure(() => azureMaaClaims(sevSnpVmToken(), 'tdx'));
    expectFailure(() => azureMaaClaims(sevSnpVmToken(), 'az-snp-vtpm'));
    expectFailure(() => azureMaaClaims({ 'x-ms-attestation-type': 'azurevm', 'x-ms-isolation-tee': snpSection() }, 'snp'));
    expectFailure(() => azureMaaClaims({ tdx: { attester_type: 'TDX' } }, 'tdx'));
  });
});

describe('withKeysFromX5c: JWKS keys given only by their certificate', () => {
  it('takes the public members from the first x5c certificate and keeps kid; complete keys and bad certificates stay as they are', async () => {
    const key = await makeSigningKey();
    const [completed, complete, broken] = withKeysFromX5c({ keys: [
      { kty: 'RSA', kid: key.kid, x5c: [key.certificate] },
      { kty: 'RSA', kid: 'k2', n: 'AQAB', e: 'AQAB' },
      { kty: 'RSA', kid: 'k3', x5c: ['bm90IGEgY2VydGlmaWNhdGU='] },
    ] }).keys;
    expect(completed).to.include({ kid: key.kid, n: key.publicJwk.n, e: key.publicJwk.e });
    expect(new X509Certificate(Buffer.from(completed!.x5c![0]!, 'base64')).publicKey.export({ format: 'jwk' })).to.include({ n: key.publicJwk.n });
    expect(complete).to.deep.equal({ kty: 'RSA', kid: 'k2', n: 'AQAB', e: 'AQAB' });
    expect(broken).not.to.have.property('n');
  });
});
