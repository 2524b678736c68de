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

export interface TdxQuoteCheck {
  quote: TdxQuote;
  platform: PckPlatform;
  debug: boolean;
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
function attestationPublicKey(raw: Buffer): KeyObject {
  try {
    return createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: raw.subarray(0, 32).toString('base64url'), y: raw.subarray(32, 64).toString('base64url') }, format: 'jwk' });
  } catch {
    throw failed('TDX quote: the attestation key is not a P-256 point');
  }
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
 * signature with the PCK key, the attestation key's binding in the QE report data, the quote signature, the debug
 * attribute, and with collateral the revocation lists, validity windows and TCB status. Pure: no I/O, and every
 * failure is a KbsError (`bad-evidence-format` for a malformed quote, `attestation-failed` otherwise).
 */
export function verifyTdxQuote(quoteBytes: Buffer, options: TdxQuoteCheckOptions): TdxQuoteCheck {
  const quote = parseTdxQuote(quoteBytes);
  const chain = readPemChain(quote.pckChainPem, 'TDX PCK chain');
  verifyChainSignatures(chain, options.trustedRoots, 'TDX PCK chain');
  requireWithin(chainValidity(chain), options.at, 'TDX PCK certificate chain');
  const pck = chain[0]!;
  const platform = readPckPlatform(pck);

  if (!p1363Verify(quote.qeReport.raw, pck.publicKey, quote.qeReportSignature)) throw failed('TDX quote: the QE report signature does not verify with the PCK key');
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

  const { collateral } = options;
  if (!collateral) return { quote, platform, debug };
  for (const window of collateral.windows) requireWithin(window, options.at, window.what);
  checkRevocation(collateral, pck, chain[1]!, options.at);
  const tcb = evaluateTdxTcb(collateral.tcbInfo, collateral.qeIdentity, platform, quote.body, quote.qeReport);
  if (tcb.tcbStatus === 'Revoked') throw failed('TDX TCB: the platform TCB is Revoked');
  return { quote, platform, debug, tcb };
}
