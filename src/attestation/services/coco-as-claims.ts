import type { JWTPayload } from 'jose';
import type { AttestationStatus, TrustVector } from '../../domain/claims.js';
import { KbsError } from '../../domain/errors.js';
import type { TokenReading } from './service-adapter.js';
import { isRecord } from '../../domain/json-record.js';
import { hexClaim, hexText, requireRecord } from './token-claims.js';

/** The EAR submodule trustee's attestation service reports the TEE in. */
const SUBMODULE = 'cpu0';
const STATUSES: readonly AttestationStatus[] = ['affirming', 'warning', 'contraindicated', 'none'];
/** The TEE sections of the annotated evidence whose names say which TEE the token is about. */
const TEE_SECTIONS = ['sample', 'snp', 'tdx', 'sgx', 'az-snp-vtpm', 'az-tdx-vtpm', 'azsnpvtpm', 'aztdxvtpm', 'cca', 'csv', 'se', 'tpm'];
/** Where each TEE's verifier puts its launch measurement, by last path segment. */
const MEASUREMENT_FIELDS = ['measurement', 'mr_td', 'mr_enclave', 'realm_initial_measurement'];
const MAX_CLAIM_TEXT = 256;

function tier(vector: Record<string, unknown>, name: string): number {
  const value = vector[name];
  return typeof value === 'number' && Number.isInteger(value) && value >= -128 && value <= 127 ? value : 0;
}

/** Scalars (and arrays of scalars) of a nested section as dotted keys; reserved fields and long texts stay out to keep certificates small. */
function flatten(section: Record<string, unknown>, prefix: string, into: Record<string, unknown>): Record<string, unknown> {
  for (const [key, value] of Object.entries(section)) {
    const path = prefix === '' ? key : `${prefix}.${key}`;
    if (key.startsWith('reserved')) continue;
    if (isRecord(value)) flatten(value, path, into);
    else if (typeof value === 'number' || typeof value === 'boolean' || (typeof value === 'string' && value.length <= MAX_CLAIM_TEXT)) into[path] = value;
    else if (Array.isArray(value) && value.every((item) => typeof item === 'string' && item.length <= MAX_CLAIM_TEXT)) into[path] = value;
  }
  return into;
}

function lastSegment(path: string): string {
  return path.slice(path.lastIndexOf('.') + 1);
}

/**
 * Reads trustee's EAR token (draft-ietf-rats-ear): `submods.cpu0` holds `ear.status`, `ear.trustworthiness-vector`
 * and `ear.veraison.annotated-evidence`, whose `runtime_data_claims` is the runtime data the service bound and whose
 * TEE section (e.g. `snp`, `tdx`, `sgx`) holds the parsed evidence.
 */
export function readEarToken(payload: JWTPayload, tee: string): TokenReading {
  const submodule = requireRecord(requireRecord(payload.submods, 'EAR "submods"')[SUBMODULE], `EAR submodule "${SUBMODULE}"`);
  const status = submodule['ear.status'];
  if (typeof status !== 'string' || !(STATUSES as readonly string[]).includes(status)) throw new KbsError('attestation-failed', 'the EAR token has no valid "ear.status"');
  const vector = isRecord(submodule['ear.trustworthiness-vector']) ? submodule['ear.trustworthiness-vector'] : {};
  const evidence = requireRecord(submodule['ear.veraison.annotated-evidence'], 'EAR "ear.veraison.annotated-evidence"');
  const sections = Object.keys(evidence).filter((key) => TEE_SECTIONS.includes(key));
  const teeSection = sections.find((key) => key === tee || key === tee.replaceAll('-', ''));
  if (sections.length > 0 && teeSection === undefined) throw new KbsError('attestation-failed', `the EAR token is about TEE ${JSON.stringify(sections[0])}, not "${tee}"`);
  const teeClaims = teeSection !== undefined && isRecord(evidence[teeSection]) ? flatten(evidence[teeSection], '', {}) : {};
  const policy = submodule['ear.appraisal-policy-id'];
  if (typeof policy === 'string' && policy.length <= MAX_CLAIM_TEXT) teeClaims['ear.appraisal-policy-id'] = policy;
  const measurementPath = Object.keys(teeClaims).find((path) => MEASUREMENT_FIELDS.includes(lastSegment(path)) && hexText(teeClaims[path]) !== undefined);
  const tcbStatus = Object.keys(teeClaims).find((path) => lastSegment(path) === 'tcb_status' && typeof teeClaims[path] === 'string');
  const trustVector: TrustVector = { hardware: tier(vector, 'hardware'), executables: tier(vector, 'executables'), configuration: tier(vector, 'configuration') };
  const initData = typeof evidence.init_data === 'string' ? hexClaim(evidence.init_data, evidence.init_data.length / 2) : undefined;
  const measurement = measurementPath !== undefined ? hexText(teeClaims[measurementPath]) : undefined;
  return {
    claims: {
      status: status as AttestationStatus,
      tcb_status: tcbStatus !== undefined ? String(teeClaims[tcbStatus]) : 'unknown',
      ...(measurement !== undefined ? { measurement } : {}),
      trust_vector: trustVector,
      tee_claims: teeClaims,
    },
    runtimeData: evidence.runtime_data_claims,
    ...(initData && initData.length > 0 ? { initData } : {}),
  };
}
