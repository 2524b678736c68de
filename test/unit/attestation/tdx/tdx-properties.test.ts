import fc from 'fast-check';
import { signedJsonFromPcsBody } from '../../../../src/attestation/verifiers/tdx/signed-json.js';
import { tdxCollateralFromBundle, verifyTdxCollateral } from '../../../../src/attestation/verifiers/tdx/tdx-collateral.js';
import { readTdxEvidence } from '../../../../src/attestation/verifiers/tdx/tdx-verifier.js';
import { verifyTdxQuote } from '../../../../src/attestation/verifiers/tdx/verify-tdx-quote.js';
import { KbsError } from '../../../../src/domain/errors.js';
import { FAKE_NOW, makeFakeIntelPki, makeTdxCollateral, makeTdxQuote, pcsBodies } from './fake-intel-pki.js';

/** Runs the action; anything thrown other than a KbsError fails the property. */
function onlyKbsErrors(action: () => unknown): void {
  try {
    action();
  } catch (error) {
    if (!(error instanceof KbsError)) throw error;
  }
}

/** A byte-level mutation of a buffer: overwrite, insert, delete or truncate at a position. */
const mutation = fc.record({
  kind: fc.constantFrom('overwrite', 'insert', 'delete', 'truncate'),
  at: fc.nat(),
  bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }),
});

function mutate(input: Buffer, { kind, at, bytes }: { kind: string; at: number; bytes: Uint8Array }): Buffer {
  const position = input.length === 0 ? 0 : at % input.length;
  if (kind === 'truncate') return input.subarray(0, position);
  if (kind === 'delete') return Buffer.concat([input.subarray(0, position), input.subarray(position + bytes.length)]);
  if (kind === 'insert') return Buffer.concat([input.subarray(0, position), bytes, input.subarray(position)]);
  const copy = Buffer.from(input);
  Buffer.from(bytes).copy(copy, position);
  return copy;
}

describe('attestation/verifiers/tdx: properties', () => {
  const pki = makeFakeIntelPki();
  const trustedRoots = new Set([pki.rootFingerprint]);
  const collateral = verifyTdxCollateral(makeTdxCollateral(pki), trustedRoots);
  const quotes = [makeTdxQuote(pki), makeTdxQuote(pki, { version: 5, bodyType: 3 })];
  const options = { trustedRoots, at: FAKE_NOW, allowDebug: false, collateral };

  it('random buffers, and random buffers behind a valid header, throw nothing but KbsError', () => {
    const header = quotes[1]!.subarray(0, 54);
    fc.assert(fc.property(fc.uint8Array({ maxLength: 6000 }), fc.boolean(), (bytes, withHeader) => {
      onlyKbsErrors(() => verifyTdxQuote(withHeader ? Buffer.concat([header, bytes]) : Buffer.from(bytes), options));
    }), { numRuns: 300 });
  });

  it('mutated quotes throw nothing but KbsError', () => {
    fc.assert(fc.property(fc.constantFrom(...quotes), fc.array(mutation, { minLength: 1, maxLength: 4 }), (quote, mutations) => {
      onlyKbsErrors(() => verifyTdxQuote(mutations.reduce(mutate, quote), options));
    }), { numRuns: 300 });
  });

  it('mutated collateral documents throw nothing but KbsError', () => {
    const bodies = pcsBodies(makeTdxCollateral(pki));
    fc.assert(fc.property(fc.constantFrom(bodies.tcbInfo, bodies.qeIdentity), fc.array(mutation, { minLength: 1, maxLength: 3 }), (body, mutations) => {
      const mutated = mutations.reduce(mutate, Buffer.from(body)).toString('utf8');
      onlyKbsErrors(() => {
        const tcbInfo = signedJsonFromPcsBody(mutated, body === bodies.tcbInfo ? 'tcbInfo' : 'enclaveIdentity');
        const good = makeTdxCollateral(pki);
        verifyTdxCollateral(body === bodies.tcbInfo ? { ...good, tcbInfo } : { ...good, qeIdentity: tcbInfo }, trustedRoots);
      });
    }), { numRuns: 200 });
  });

  it('arbitrary JSON as evidence or as a collateral bundle throws nothing but KbsError', () => {
    fc.assert(fc.property(fc.jsonValue(), (value) => {
      onlyKbsErrors(() => readTdxEvidence(value));
      onlyKbsErrors(() => tdxCollateralFromBundle(JSON.stringify(value)));
    }), { numRuns: 300 });
  });
});
