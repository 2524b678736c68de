/** The EAR token reader (coco-as-claims.ts) against trustee's real example token, and the stand-in's tokens against its shape. */
import { createPublicKey } from 'node:crypto';
import { expect } from 'chai';
import { decodeJwt, type JWTPayload } from 'jose';
import { readEarToken } from '../../../../src/attestation/services/coco-as-claims.js';
import { isKbsError } from '../../../../src/domain/errors.js';
import { cocoEvidence, startCocoAsStandIn } from '../../../helpers/coco-as-standin.js';
import { useSharedVectors } from '../../../helpers/shared-vectors.js';
import { ecKey } from '../../pki/helpers.js';

function codeOf(action: () => unknown): string | undefined {
  try {
    action();
  } catch (error) {
    return isKbsError(error) ? error.code : String(error);
  }
  return undefined;
}

function keysOf(value: unknown): string[] {
  return Object.keys(value as Record<string, unknown>).sort();
}

describe('coco-as EAR claims', function () {
  const vector = useSharedVectors(this);
  const example = (): JWTPayload => JSON.parse(vector('coco-as/example.token.json').toString('utf8')) as JWTPayload;

  it('maps trustee\'s example token (SGX) to normalized claims: status, trust vector, TCB status, measurement', () => {
    const reading = readEarToken(example(), 'sgx');
    expect(reading.claims).to.include({ status: 'contraindicated', tcb_status: 'OutOfDate', measurement: '8f173e4613ff05c52aaf04162d234edae8c9977eae47eb2299ae16a553011c68' });
    expect(reading.claims.trust_vector).to.deep.equal({ hardware: 97, executables: 33, configuration: 36 });
    expect(reading.claims.tee_claims).to.include({ 'body.mr_signer': '83d719e77deaca1470f6baf62a4d774303c899db69020f9c70ee1dfc08c7ce9e', 'ear.appraisal-policy-id': 'default' });
    expect(Object.keys(reading.claims.tee_claims).some((key) => key.includes('reserved'))).to.equal(false);
    expect(reading.runtimeData).to.equal(null);
    expect(JSON.stringify(reading.claims).length).to.be.below(4096);
  });

  it('refuses a token about another TEE, an unknown status and a token without the EAR submodule (attestation-failed)', () => {
    expect(codeOf(() => readEarToken(example(), 'snp'))).to.equal('attestation-failed');
    const token = example();
    (token.submods as { cpu0: Record<string, unknown> }).cpu0['ear.status'] = 'fine';
    expect(codeOf(() => readEarToken(token, 'sgx'))).to.equal('attestation-failed');
    expect(codeOf(() => readEarToken({ ...example(), submods: {} }, 'sgx'))).to.equal('attestation-failed');
  });

  it('the stand-in issues tokens of exactly the example\'s shape, with an ES256 header key and x5c', async () => {
    const standIn = await startCocoAsStandIn();
    try {
      const jwk = createPublicKey(ecKey()).export({ format: 'jwk' });
      const runtimeData = { nonce: 'n'.repeat(43), 'tee-pubkey': jwk };
      const token = await standIn.requestToken('sgx', cocoEvidence(runtimeData, Buffer.alloc(32, 1)), runtimeData);
      const header = JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString('utf8')) as Record<string, unknown>;
      expect(header).to.include({ alg: 'ES256' });
      expect(header).to.have.property('jwk');
      expect(header.x5c).to.be.an('array').with.length(2);
      const payload = decodeJwt(token);
      const reference = example();
      expect(keysOf(payload)).to.deep.equal(keysOf(reference));
      const cpu0 = (payload.submods as Record<string, Record<string, unknown>>).cpu0!;
      const referenceCpu0 = (reference.submods as Record<string, Record<string, unknown>>).cpu0!;
      expect(keysOf(cpu0)).to.deep.equal(keysOf(referenceCpu0));
      expect(keysOf(cpu0['ear.trustworthiness-vector'])).to.deep.equal(keysOf(referenceCpu0['ear.trustworthiness-vector']));
      expect(keysOf(cpu0['ear.veraison.annotated-evidence'])).to.deep.equal(keysOf(referenceCpu0['ear.veraison.annotated-evidence']));
      expect(payload['ear.verifier-id']).to.deep.equal(reference['ear.verifier-id']);
      expect(readEarToken(payload, 'sgx').runtimeData).to.deep.equal(runtimeData);
    } finally {
      await standIn.close();
    }
  });
});
