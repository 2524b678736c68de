import type { AttestationStatus, Claims, TrustVector } from '../../../domain/claims.js';
import type { TdxQuoteCheck } from './verify-tdx-quote.js';

/** `tcb_status` when no collateral was configured: the quote is genuine, its TCB currency is not known. */
export const TCB_STATUS_UNKNOWN = 'unknown';

// EAR trustworthiness tiers: 0 no claim, 2 affirming, 32 warning.
const AFFIRMING = 2;
const WARNING = 32;
const NO_CLAIM = 0;

/**
 * Status and trust vector: `affirming` only for an UpToDate TCB of a non-debug TD. Any other TCB status (known
 * vulnerabilities or configuration needed), an unknown status (no collateral) or an allowed debug TD is a
 * `warning`, which the default attestation policy refuses; a custom policy can accept it through `tcb_status`.
 */
function appraise(check: TdxQuoteCheck): { status: AttestationStatus; trustVector: TrustVector } {
  const tcbStatus = check.tcb?.tcbStatus;
  const hardware = tcbStatus === undefined ? NO_CLAIM : tcbStatus === 'UpToDate' ? AFFIRMING : WARNING;
  const configuration = check.debug ? WARNING : NO_CLAIM;
  const status: AttestationStatus = hardware === AFFIRMING && !check.debug ? 'affirming' : 'warning';
  return { status, trustVector: { hardware, executables: NO_CLAIM, configuration } };
}

const hex = (bytes: Buffer): string => bytes.toString('hex');

/** The TEE-specific claims, flat, named after trustee's `tdx.quote.body.*` fields; byte fields as lowercase hex. */
export function tdxTeeClaims(check: TdxQuoteCheck): Record<string, unknown> {
  const { quote, platform, tcb } = check;
  const body = quote.body;
  return {
    quote_version: quote.version,
    tee_tcb_svn: hex(body.teeTcbSvn),
    mr_seam: hex(body.mrSeam),
    mr_signer_seam: hex(body.mrSignerSeam),
    seam_attributes: hex(body.seamAttributes),
    td_attributes: hex(body.tdAttributes),
    debug: check.debug,
    xfam: hex(body.xfam),
    mr_td: hex(body.mrTd),
    mr_config_id: hex(body.mrConfigId),
    mr_owner: hex(body.mrOwner),
    mr_owner_config: hex(body.mrOwnerConfig),
    rtmr0: hex(body.rtmrs[0]),
    rtmr1: hex(body.rtmrs[1]),
    rtmr2: hex(body.rtmrs[2]),
    rtmr3: hex(body.rtmrs[3]),
    report_data: hex(body.reportData),
    ...(body.teeTcbSvn2 ? { tee_tcb_svn2: hex(body.teeTcbSvn2) } : {}),
    ...(body.mrServiceTd ? { mr_servicetd: hex(body.mrServiceTd) } : {}),
    fmspc: hex(platform.fmspc),
    pce_svn: platform.pceSvn,
    tcb_status: tcb?.tcbStatus ?? TCB_STATUS_UNKNOWN,
    advisory_ids: tcb?.advisoryIds ?? [],
    ...(tcb ? { tcb_date: tcb.tcbDate, tcb_evaluation_data_number: tcb.tcbEvaluationDataNumber } : {}),
  };
}

/** Normalized claims (PROTOCOL.md 1.4): `measurement` is MRTD. */
export function tdxClaims(check: TdxQuoteCheck, verifierName: string): Omit<Claims, 'iat'> {
  const { status, trustVector } = appraise(check);
  return {
    v: 1,
    tee: 'tdx',
    verifier: verifierName,
    status,
    tcb_status: check.tcb?.tcbStatus ?? TCB_STATUS_UNKNOWN,
    measurement: hex(check.quote.body.mrTd),
    trust_vector: trustVector,
    tee_claims: tdxTeeClaims(check),
  };
}
