import { verify } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tdxCollateralFromBundle } from './tdx-collateral.js';
import { parseTdxQuote } from './tdx-quote.js';
import { tdxVerificationWithCachedCollateral } from './tdx-verifier.js';
import { attestationPublicKey } from './verify-tdx-quote.js';

export interface TdxBenchmark {
  /** One full verification of a real quote (PCK chain, QE report, quote signature, CRLs, TCB status, claims) with its collateral cached. */
  verifyOnce(): void;
  /** The bare node:crypto ECDSA P-256 verification of the same quote's signature: the floor to compare against. */
  rawVerifyOnce(): void;
}

/**
 * For `npm run bench`: dcap-qvl's TDX quote and its collateral (`<vectorsDir>/tdx/dcap-qvl-tdx_quote.bin` and
 * `dcap-qvl-tdx_quote_collateral.json`) verified as of 2025-07-01, when that collateral is current; the collateral is
 * checked once before measuring.
 */
export async function prepareTdxBenchmark(vectorsDir: string): Promise<TdxBenchmark> {
  const [quote, bundle] = await Promise.all([
    readFile(join(vectorsDir, 'tdx', 'dcap-qvl-tdx_quote.bin')),
    readFile(join(vectorsDir, 'tdx', 'dcap-qvl-tdx_quote_collateral.json'), 'utf8'),
  ]);
  const verifyOnce = tdxVerificationWithCachedCollateral(quote, tdxCollateralFromBundle(bundle), new Date('2025-07-01T00:00:00Z'));
  verifyOnce();
  const parsed = parseTdxQuote(quote);
  const key = attestationPublicKey(parsed.attestationKey);
  return {
    verifyOnce: () => { verifyOnce(); },
    rawVerifyOnce: () => {
      if (!verify('sha256', parsed.signedBytes, { key, dsaEncoding: 'ieee-p1363' }, parsed.signature)) throw new Error('benchmark quote does not verify');
    },
  };
}
