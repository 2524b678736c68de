import { createHash, type X509Certificate } from 'node:crypto';
import type { TdxSettings } from '../../../config/tdx-settings.js';
import { KbsError } from '../../../domain/errors.js';
import type { HttpsCollateralFetcher } from '../../collateral/https-cache.js';
import type { VerifiedEvidence } from '../../verifier.js';
import { INTEL_SGX_ROOT_CA_SHA256 } from './intel-chain.js';
import { verifyTdxCollateral, type TdxCollateral, type VerifiedTdxCollateral } from './tdx-collateral.js';
import { directoryCollateralSource, firstCollateralSource, pcsCollateralSource, type PckCa, type TdxCollateralSource } from './tdx-collateral-source.js';
import { tdxClaims } from './tdx-claims.js';
import { appraiseTdxTcb, verifyGenuineTdxQuote, type TdxQuoteCheck } from './verify-tdx-quote.js';

export interface TdxVerifierDependencies {
  /** `claims.verifier` of the result. */
  name: string;
  clock: () => Date;
  /** The shared HTTPS collateral fetcher; without it Intel PCS is never asked. */
  fetcher?: HttpsCollateralFetcher;
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const MAX_QUOTE_BYTES = 64 * 1024;
const MAX_CACHED_COLLATERAL = 64;

/** Trustee's TDX evidence: `{"quote": "<base64 TD quote>", "cc_eventlog"?: "<base64 CCEL>"}`. */
export function readTdxEvidence(evidence: unknown): Buffer {
  if (typeof evidence !== 'object' || evidence === null || Array.isArray(evidence)) throw new KbsError('bad-evidence-format', 'TDX evidence must be a JSON object');
  const { quote, cc_eventlog: eventLog } = evidence as Record<string, unknown>;
  if (typeof quote !== 'string' || quote.length % 4 !== 0 || !BASE64.test(quote)) {
    throw new KbsError('bad-evidence-format', 'TDX evidence "quote" must be standard padded base64');
  }
  if (quote.length > (MAX_QUOTE_BYTES / 3) * 4) throw new KbsError('bad-evidence-format', `TDX evidence "quote" is larger than ${MAX_QUOTE_BYTES} bytes`);
  if (eventLog !== undefined && eventLog !== null && typeof eventLog !== 'string') {
    throw new KbsError('bad-evidence-format', 'TDX evidence "cc_eventlog" must be a base64 string when present');
  }
  return Buffer.from(quote, 'base64');
}

/** The roots a PCK chain or collateral chain may end in: the pinned Intel SGX Root CA and any configured extra. */
export function tdxTrustedRoots(extraRootSha256: readonly string[]): ReadonlySet<string> {
  return new Set([INTEL_SGX_ROOT_CA_SHA256, ...extraRootSha256.map((fingerprint) => fingerprint.toLowerCase())]);
}

function collateralDigest(collateral: TdxCollateral): string {
  const hash = createHash('sha256');
  for (const part of [
    collateral.tcbInfo.text, collateral.tcbInfo.signature, collateral.tcbInfoIssuerChain,
    collateral.qeIdentity.text, collateral.qeIdentity.signature, collateral.qeIdentityIssuerChain,
    collateral.pckCrl ?? '', collateral.rootCaCrl ?? '',
  ]) {
    hash.update(String(part.length)).update(':').update(part);
  }
  return hash.digest('hex');
}

/** Verifies collateral signatures once per distinct collateral; time windows are still checked per quote. */
function verifiedCollateralCache(trustedRoots: ReadonlySet<string>): (collateral: TdxCollateral) => VerifiedTdxCollateral {
  const cache = new Map<string, VerifiedTdxCollateral>();
  return (collateral) => {
    const key = collateralDigest(collateral);
    let verified = cache.get(key);
    if (!verified) {
      verified = verifyTdxCollateral(collateral, trustedRoots);
      if (cache.size >= MAX_CACHED_COLLATERAL) cache.clear();
      cache.set(key, verified);
    }
    return verified;
  };
}

/** Which Intel CA issued the PCK certificate, from the issuing CA's subject. */
function pckCaOf(issuer: X509Certificate): PckCa {
  return issuer.subject.includes('Processor CA') ? 'processor' : 'platform';
}

/** The verifier port's answer: claims, REPORTDATA for the binding check, MRCONFIGID as the init-data field. */
function verifiedEvidence(check: TdxQuoteCheck, verifierName: string): VerifiedEvidence {
  return { claims: tdxClaims(check, verifierName), reportData: check.quote.body.reportData, initData: check.quote.body.mrConfigId };
}

function collateralSource(settings: TdxSettings, fetcher: HttpsCollateralFetcher | undefined): TdxCollateralSource | undefined {
  const sources: TdxCollateralSource[] = [];
  if (settings.collateralDir !== undefined) sources.push(directoryCollateralSource(settings.collateralDir));
  if (settings.pcs && fetcher) sources.push(pcsCollateralSource(fetcher, settings.pcsUrl));
  return sources.length > 0 ? firstCollateralSource(sources) : undefined;
}

/**
 * The built-in TDX verifier: trustee's evidence shape in, normalized claims out. Collateral comes from the
 * configured directory, then Intel PCS; with none configured `tcb_status` is `unknown`.
 */
export function createTdxVerifier(settings: TdxSettings, dependencies: TdxVerifierDependencies): (evidence: unknown) => Promise<VerifiedEvidence> {
  const trustedRoots = tdxTrustedRoots(settings.extraRootSha256);
  const source = collateralSource(settings, dependencies.fetcher);
  const verifyCollateral = verifiedCollateralCache(trustedRoots);
  return async (evidence) => {
    const at = dependencies.clock();
    const genuine = verifyGenuineTdxQuote(readTdxEvidence(evidence), { trustedRoots, at, allowDebug: settings.allowDebug });
    // Collateral is looked up only for quotes that verified, so forged quotes never reach Intel PCS.
    const raw = source ? await source.collateralFor(genuine.platform.fmspc.toString('hex'), pckCaOf(genuine.pckChain[1]!)) : undefined;
    return verifiedEvidence(raw ? { ...genuine, tcb: appraiseTdxTcb(genuine, verifyCollateral(raw), at) } : genuine, dependencies.name);
  };
}

/**
 * For `npm run bench`: checks `collateral` once, then each call of the returned function verifies `quote` at `at`
 * exactly as the broker does with cached collateral (signatures, chain, CRLs, windows, TCB status, claims).
 */
export function tdxVerificationWithCachedCollateral(quote: Buffer, collateral: TdxCollateral, at: Date, trustedRoots = tdxTrustedRoots([])): () => VerifiedEvidence {
  const verified = verifyTdxCollateral(collateral, trustedRoots);
  return () => {
    const genuine = verifyGenuineTdxQuote(quote, { trustedRoots, at, allowDebug: false });
    return verifiedEvidence({ ...genuine, tcb: appraiseTdxTcb(genuine, verified, at) }, 'builtin');
  };
}
