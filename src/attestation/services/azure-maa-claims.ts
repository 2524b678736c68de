import type { TrustVector } from '../../domain/claims.js';
import { KbsError } from '../../domain/errors.js';
import { isRecord } from '../../domain/json-record.js';
import { hexClaim, hexText, requireRecord, scalarClaims, statusOf, TIER } from './token-claims.js';
import type { TokenReading } from './service-adapter.js';

/**
 * TEEs Azure Attestation appraises. `snp` and `tdx` are confidential VMs attested directly (`/attest/SevSnpVm`,
 * `/attest/TdxVm`, token type `sevsnpvm` / `tdxvm`); the `az-*-vtpm` TEEs are Azure CVMs attested through their
 * vTPM (guest attestation), whose tokens have type `azurevm` and nest the hardware claims under `x-ms-isolation-tee`.
 */
const MAA_TEES = {
  snp: { type: 'sevsnpvm', isolated: false },
  tdx: { type: 'tdxvm', isolated: false },
  'az-snp-vtpm': { type: 'sevsnpvm', isolated: true },
  'az-tdx-vtpm': { type: 'tdxvm', isolated: true },
} as const;

export type AzureMaaTee = keyof typeof MAA_TEES;
export const AZURE_MAA_TEES = Object.keys(MAA_TEES) as AzureMaaTee[];

/** The compliance verdict of Azure's default policies for a confidential VM. */
export const AZURE_COMPLIANT_CVM = 'azure-compliant-cvm';

const SNP_PREFIX = 'x-ms-sevsnpvm-';

/** The claims about the hardware TEE: the token itself, or its `x-ms-isolation-tee` for a vTPM attestation. */
function hardwareSection(payload: Record<string, unknown>, tee: AzureMaaTee): Record<string, unknown> {
  const spec = MAA_TEES[tee];
  const type = payload['x-ms-attestation-type'];
  if (!spec.isolated) {
    if (type !== spec.type) throw new KbsError('attestation-failed', `the Azure Attestation token is of type ${JSON.stringify(type)}, not ${spec.type}`);
    return payload;
  }
  const isolation = requireRecord(payload['x-ms-isolation-tee'], 'x-ms-isolation-tee claims');
  if (type !== 'azurevm' || isolation['x-ms-attestation-type'] !== spec.type) {
    throw new KbsError('attestation-failed', `the Azure Attestation token is not a vTPM attestation of a ${spec.type} isolation TEE`);
  }
  return isolation;
}

/**
 * The runtime data the TEE gave the service (PROTOCOL.md 1.2): `x-ms-runtime` when the VM was attested directly with
 * `runtimeData` of type JSON; for a vTPM attestation the guest's own payload, `x-ms-runtime.client-payload`.
 */
function runtimeDataOf(payload: Record<string, unknown>, tee: AzureMaaTee): unknown {
  const runtime = payload['x-ms-runtime'];
  if (!MAA_TEES[tee].isolated) return runtime;
  return isRecord(runtime) ? runtime['client-payload'] : undefined;
}

function hardwareTier(compliance: unknown): number {
  if (compliance === AZURE_COMPLIANT_CVM) return TIER.affirming;
  return compliance === undefined ? TIER.none : TIER.contraindicated;
}

/**
 * Maps a verified Azure Attestation token to normalized claims (PROTOCOL.md 1.4).
 * - hardware: `x-ms-compliance-status` `azure-compliant-cvm` affirming, another verdict contraindicated, none: no claim;
 * - configuration: a debuggable guest is a warning.
 * `tcb_status` is the TDX `attester_tcb_status` when reported, else the compliance verdict (SNP tokens carry no TCB
 * status). `tee_claims` are the hardware section's scalar `x-ms-*` and `tdx_*` claims under Microsoft's names.
 */
export function azureMaaClaims(payload: Record<string, unknown>, tee: AzureMaaTee): TokenReading {
  const section = hardwareSection(payload, tee);
  const isSnp = MAA_TEES[tee].type === 'sevsnpvm';
  const compliance = section['x-ms-compliance-status'] ?? payload['x-ms-compliance-status'];
  const debug = isSnp ? section[`${SNP_PREFIX}is-debuggable`] === true : section.tdx_td_attributes_debug === true;
  const trustVector: TrustVector = { hardware: hardwareTier(compliance), executables: TIER.none, configuration: debug ? TIER.warning : TIER.none };
  const tcbStatus = typeof section.attester_tcb_status === 'string' ? section.attester_tcb_status : typeof compliance === 'string' ? compliance : 'unknown';
  const measurement = hexText(isSnp ? section[`${SNP_PREFIX}launchmeasurement`] : section.tdx_mrtd);
  const initData = isSnp ? hexClaim(section[`${SNP_PREFIX}hostdata`], 32) : hexClaim(section.tdx_mrconfigid, 48);
  return {
    claims: {
      status: statusOf(trustVector),
      tcb_status: tcbStatus,
      ...(measurement !== undefined ? { measurement } : {}),
      trust_vector: trustVector,
      tee_claims: scalarClaims(section, (key) => key.startsWith('x-ms-') || key.startsWith('tdx_') || key === 'attester_tcb_status'),
    },
    runtimeData: runtimeDataOf(payload, tee),
    ...(initData !== undefined ? { initData } : {}),
  };
}
