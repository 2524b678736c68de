import { createHash, createPublicKey, verify, type KeyObject, type X509Certificate } from 'node:crypto';
import { KbsError } from '../../../domain/errors.js';
import { chainValidity, readPemChain, requireWithin, verifyChainSignatures } from './intel-chain.js';
import { isRevoked } from './intel-crl.js';
import { readPckPlatform, type PckPlatform } from './sgx-extensions.js';
import type { VerifiedTdxCollateral } from './tdx-collateral.js';
import { parseTdxQuote, type TdxQuote } from './tdx-quote.js';
import { evaluateTdxTcb, type TdxTcbEvaluation } from './tdx-tcb-status.js';

export interface TdxQuoteCheckOptions {
  /** Lowercase SHA-256 hex of the roots a PCK chain may end in (the Intel SGX Root CA, plus test roots). */
  trustedRoots: ReadonlySet<string>;
  /** The verification time: certificates and collateral must be valid then. */
  at: Date;
  /** Verified collateral for the quote's FMSPC; without it the TCB status is not evaluated. */
  collateral?: VerifiedTdxCollateral;
  /** Accept TDs with the DEBUG attribute (never in production: the host can read a debug TD's memory). */
  allowDebug: boolean;
}

/** A quote whose signatures and PCK chain verified; the TCB is appraised separately, with collateral. */
export interface GenuineTdxQuote {
  quote: TdxQuote;
  /** PCK leaf first, the pinned root last (Intel's: leaf, PCK Platform or Processor CA, root). */
  pckChain: X509Certificate[];
  platform: PckPlatform;
  debug: boolean;
}

export interface TdxQuoteCheck extends GenuineTdxQuote {
  /** Undefined when no collateral was given. */
  tcb?: TdxTcbEvaluation;
}

const TD_ATTRIBUTE_DEBUG = 0x01;

function failed(detail: string): KbsError {
  return new KbsError('attestation-failed', detail);
}

function p1363Verify(data: Buffer, key: KeyObject, signature: Buffer): boolean {
  return verify('sha256', data, { key, dsaEncoding: 'ieee-p1363' }, signature);
}

/** The attestation key travels as raw x‖y; a point that is not on P-256 fails here. */
export function attestationPublicKey(raw: Buffer): KeyObject {
  try {
    return createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: raw.subarray(0, 32).toString('base64url'), y: raw.subarray(32, 64).toString('base64url') }, format: 'jwk' });
  } catch {
    throw failed('TDX quote: the attestation key is not a P-256 point');
  }
}

interface VerifiedPckChain {
  pckChain: X509Certificate[];
  pckKey: KeyObject;
  validity: { notBefore: Date; notAfter: Date };
  platform: PckPlatform;
}

const MAX_CACHED_CHAINS = 1024;
const pckChainCache = new WeakMap<ReadonlySet<string>, Map<string, VerifiedPckChain>>();

/**
 * The PCK chain checked up to a pinned root, with its platform data. A platform sends the same chain in every quote
 * and parsing certificates costs more than the signatures, so verified chains are kept per trusted-root set, keyed
 * by their PEM text. Validity dates are compared by the caller at each verification time.
 */
function verifiedPckChain(pem: string, trustedRoots: ReadonlySet<string>): VerifiedPckChain {
  let cache = pckChainCache.get(trustedRoots);
  if (!cache) {
    cache = new Map();
    pckChainCache.set(trustedRoots, cache);
  }
  const cached = cache.get(pem);
  if (cached) return cached;
  const pckChain = readPemChain(pem, 'TDX PCK chain');
  verifyChainSignatures(pckChain, trustedRoots, 'TDX PCK chain');
  const verified = { pckChain, pckKey: pckChain[0]!.publicKey, validity: chainValidity(pckChain), platform: readPckPlatform(pckChain[0]!) };
  if (cache.size >= MAX_CACHED_CHAINS) cache.clear();
  cache.set(pem, verified);
  return verified;
}

function checkRevocation(collateral: VerifiedTdxCollateral, leaf: X509Certificate, issuer: X509Certificate, at: Date): void {
  const crl = collateral.pckCrlFor(issuer);
  if (crl) {
    requireWithin({ notBefore: crl.thisUpdate, notAfter: crl.nextUpdate }, at, 'TDX collateral: PCK CRL');
    if (isRevoked(crl, leaf)) throw failed('TDX PCK chain: the PCK certificate is revoked');
  }
  if (collateral.revokedByRoot(issuer)) throw failed('TDX PCK chain: the PCK issuing CA is revoked');
}

/**
 * Verifies a TD quote (v4 or v5) with ECDSA P-256 attestation: the PCK chain to a pinned root, the QE report
 * signature with the PCK key, the attestation key's binding in the QE report data, the quote signature and the
 * debug attribute. Pure: no I/O; a malformed quote throws `bad-evidence-format`, any failed check `attestation-failed`.
 */
export function verifyGenuineTdxQuote(quoteBytes: Buffer, options: Omit<TdxQuoteCheckOptions, 'collateral'>): GenuineTdxQuote {
  const quote = parseTdxQuote(quoteBytes);
  const { pckChain, pckKey, validity, platform } = verifiedPckChain(quote.pckChainPem, options.trustedRoots);
  requireWithin(validity, options.at, 'TDX PCK certificate chain');

  if (!p1363Verify(quote.qeReport.raw, pckKey, quote.qeReportSignature)) throw failed('TDX quote: the QE report signature does not verify with the PCK key');
  const expectedBinding = createHash('sha256').update(quote.attestationKey).update(quote.qeAuthData).digest();
  const qeReportData = quote.qeReport.reportData;
  if (!qeReportData.subarray(0, 32).equals(expectedBinding) || qeReportData.subarray(32).some((byte) => byte !== 0)) {
    throw failed('TDX quote: the QE report data does not bind the attestation key');
  }
  if (!p1363Verify(quote.signedBytes, attestationPublicKey(quote.attestationKey), quote.signature)) {
    throw failed('TDX quote: the quote signature does not verify with the attestation key');
  }

  const debug = (quote.body.tdAttributes[0]! & TD_ATTRIBUTE_DEBUG) !== 0;
  if (debug && !options.allowDebug) throw failed('TDX quote: the TD has the DEBUG attribute (debug TDs are refused unless configured)');
  return { quote, pckChain, platform, debug };
}

/** With verified collateral: validity windows at `at`, revocation of the PCK chain, and the TCB status (Revoked refused). */
export function appraiseTdxTcb(genuine: GenuineTdxQuote, collateral: VerifiedTdxCollateral, at: Date): TdxTcbEvaluation {
  for (const window of collateral.windows) requireWithin(window, at, window.what);
  checkRevocation(collateral, genuine.pckChain[0]!, genuine.pckChain[1]!, at);
  const tcb = evaluateTdxTcb(collateral.tcbInfo, collateral.qeIdentity, genuine.platform, genuine.quote.body, genuine.quote.qeReport);
  if (tcb.tcbStatus === 'Revoked') throw failed('TDX TCB: the platform TCB is Revoked');
  return tcb;
}

/** Both steps: a genuine quote, then its TCB when collateral is given. */
export function verifyTdxQuote(quoteBytes: Buffer, options: TdxQuoteCheckOptions): TdxQuoteCheck {
  const genuine = verifyGenuineTdxQuote(quoteBytes, options);
  return options.collateral ? { ...genuine, tcb: appraiseTdxTcb(genuine, options.collateral, options.at) } : genuine;
}
