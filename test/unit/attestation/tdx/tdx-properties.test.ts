import fc from 'fast-check';
import { signedJsonFromPcsBody } from '../../../../src/attestation/verifiers/tdx/signed-json.js';
import { tdxCollateralFromBundle, verifyTdxCollateral } from '../../../../src/attestation/verifiers/tdx/tdx-collateral.js';
import { readTdxEvidence } from '../../../../src/attestation/verifiers/tdx/tdx-verifier.js';
import { verifyTdxQuote } from '../../../../src/attestation/verifiers/tdx/verify-tdx-quote.js';
import { mutate, mutation, onlyKbsErrors } from '../../../helpers/fuzz.js';
import { FAKE_NOW, makeFakeIntelPki, makeTdxCollateral, makeTdxQuote, pcsBodies } from './fake-intel-pki.js';

describe('attestation/verifiers/tdx: properties', () => {
  const pki = makeFakeIntelPki();
  const trustedRoots = new Set([pki.rootFingerprint]);
  const collateral = verifyTdxCollateral(makeTdxCollateral(pki), trustedRoots);
  const quotes = [makeTdxQuote(pki), makeTdxQuote(pki, { version: 5, bodyType: 3 })];
  const options = { trustedRoots, at: FAKE_NOW, allowDebug: false, collateral };

  it('random buffers, and random buffers behind a valid header, throw nothing but KbsError', async () => {
    const header = quotes[1]!.subarray(0, 54);
    await fc.assert(fc.asyncProperty(fc.uint8Array({ maxLength: 6000 }), fc.boolean(), async (bytes, withHeader) => {
      await onlyKbsErrors(() => verifyTdxQuote(withHeader ? Buffer.concat([header, bytes]) : Buffer.from(bytes), options));
    }), { numRuns: 300 });
  });

  it('mutated quotes throw nothing but KbsError', async () => {
    await fc.assert(fc.asyncProperty(fc.constantFrom(...quotes), fc.array(mutation, { minLength: 1, maxLength: 4 }), async (quote, mutations) => {
      await onlyKbsErrors(() => verifyTdxQuote(mutations.reduce(mutate, quote), options));
    }), { numRuns: 300 });
  });

  it('mutated collateral documents throw nothing but KbsError', async () => {
    const bodies = pcsBodies(makeTdxCollateral(pki));
    await fc.assert(fc.asyncProperty(fc.constantFrom(bodies.tcbInfo, bodies.qeIdentity), fc.array(mutation, { minLength: 1, maxLength: 3 }), async (body, mutations) => {
      const mutated = mutations.reduce(mutate, Buffer.from(body)).toString('utf8');
      await onlyKbsErrors(() => {
        const tcbInfo = signedJsonFromPcsBody(mutated, body === bodies.tcbInfo ? 'tcbInfo' : 'enclaveIdentity');
        const good = makeTdxCollateral(pki);
        verifyTdxCollateral(body === bodies.tcbInfo ? { ...good, tcbInfo } : { ...good, qeIdentity: tcbInfo }, trustedRoots);
      });
    }), { numRuns: 200 });
  });

  it('arbitrary JSON as evidence or as a collateral bundle throws nothing but KbsError', async () => {
    await fc.assert(fc.asyncProperty(fc.jsonValue(), async (value) => {
      await onlyKbsErrors(() => readTdxEvidence(value));
      await onlyKbsErrors(() => tdxCollateralFromBundle(JSON.stringify(value)));
    }), { numRuns: 300 });
  });
});
