import type { TrustVector } from '../../domain/claims.js';
import { KbsError } from '../../domain/errors.js';
import { isRecord } from '../../domain/json-record.js';
import { hexClaim, hexText, scalarClaims, statusOf, TIER } from './token-claims.js';
import type { TokenReading } from './service-adapter.js';

/** TEEs Intel Trust Authority appraises, with the claim prefix and the `attester_type` of its tokens. */
const ITA_TEES = {
  tdx: { prefix: 'tdx_', attesterType: 'TDX', measurement: 'tdx_mrtd', debug: ['tdx_is_debuggable', 'tdx_td_attributes_debug'] },
  sgx: { prefix: 'sgx_', attesterType: 'SGX', measurement: 'sgx_mrenclave', debug: ['sgx_is_debuggable'] },
} as const;

export type IntelTaTee = keyof typeof ITA_TEES;
export const INTEL_TA_TEES = Object.keys(ITA_TEES) as IntelTaTee[];

/** TCB statuses of Intel's appraisal that leave the platform usable but behind (see Intel's TCB recovery guidance). */
const TCB_WARNING = new Set(['SWHardeningNeeded', 'ConfigurationNeeded', 'ConfigurationAndSWHardeningNeeded', 'OutOfDate', 'OutOfDateConfigurationNeeded']);

/** Claims that are not about the TEE's state, or too large for a certificate. */
const NOT_TEE_CLAIMS = new Set(['attester_runtime_data', 'attester_held_data', 'attester_user_data', 'verifier_nonce']);

/**
 * The claims of one TEE in a token: v2 tokens nest them under `tdx` (or `sgx`); v1 tokens carry them at the top
 * level, where `attester_type` names the TEE.
 */
function teeSection(payload: Record<string, unknown>, tee: IntelTaTee): Record<string, unknown> {
  const nested = payload[tee];
  if (isRecord(nested)) return nested;
  if (payload.attester_type === ITA_TEES[tee].attesterType) return payload;
  throw new KbsError('attestation-failed', `the Intel Trust Authority token carries no ${tee} claims`);
}

function idList(value: unknown): string[] {
  if (!Array.isArray(value)) return [];
  return value.map((entry) => (isRecord(entry) && typeof entry.id === 'string' ? entry.id : String(entry)));
}

function hardwareTier(tcbStatus: unknown): number {
  if (tcbStatus === 'UpToDate') return TIER.affirming;
  if (typeof tcbStatus === 'string' && TCB_WARNING.has(tcbStatus)) return TIER.warning;
  if (tcbStatus === 'Revoked') return TIER.contraindicated;
  return TIER.none;
}

/**
 * Maps a verified Intel Trust Authority token (v2, or v1) to normalized claims (PROTOCOL.md 1.4).
 * - hardware: `attester_tcb_status` UpToDate affirming, the "needed"/OutOfDate family warning, Revoked contraindicated;
 * - executables: an appraisal policy that did not match (`policy_ids_unmatched`) is contraindicated, matched ones affirm;
 * - configuration: a debuggable TD or enclave is a warning.
 * `tee_claims` are the TEE's scalar claims under Intel's names, plus the matched and unmatched policy ids.
 */
export function intelTaClaims(payload: Record<string, unknown>, tee: IntelTaTee): TokenReading {
  const spec = ITA_TEES[tee];
  const section = teeSection(payload, tee);
  const matched = idList(section.policy_ids_matched ?? payload.policy_ids_matched);
  const unmatched = idList(section.policy_ids_unmatched ?? payload.policy_ids_unmatched);
  const debug = spec.debug.some((key) => section[key] === true);
  const tcbStatus = section.attester_tcb_status;
  const trustVector: TrustVector = {
    hardware: hardwareTier(tcbStatus),
    executables: unmatched.length > 0 ? TIER.contraindicated : matched.length > 0 ? TIER.affirming : TIER.none,
    configuration: debug ? TIER.warning : TIER.none,
  };
  const measurement = hexText(section[spec.measurement]);
  const initData = tee === 'tdx' ? hexClaim(section.tdx_mrconfigid, 48) : undefined;
  return {
    claims: {
      status: statusOf(trustVector),
      tcb_status: typeof tcbStatus === 'string' ? tcbStatus : 'unknown',
      ...(measurement !== undefined ? { measurement } : {}),
      trust_vector: trustVector,
      tee_claims: {
        ...scalarClaims(section, (key) => (key.startsWith(spec.prefix) || key.startsWith('attester_')) && !NOT_TEE_CLAIMS.has(key)),
        policy_ids_matched: matched,
        policy_ids_unmatched: unmatched,
      },
    },
    runtimeData: section.attester_runtime_data,
    ...(initData !== undefined ? { initData } : {}),
  };
}
