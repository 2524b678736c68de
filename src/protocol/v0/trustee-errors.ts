import { KbsError, type ErrorCode } from '../../domain/errors.js';

/**
 * Error bodies of the trustee protocol (PROTOCOL.md 2): `{"type": "<prefix>/<Variant>", "detail": "..."}` with
 * the variant names of trustee's KBS. The HTTP status still comes from keybroker's error code (honest 400, 401,
 * 403, 404 instead of trustee's 401 for almost everything).
 */
export const TRUSTEE_ERROR_PREFIX = 'https://github.com/confidential-containers/kbs/errors';

export type TrusteeVariant =
  | 'AdminAuthAccess'
  | 'AttestationError'
  | 'InvalidRequestPath'
  | 'JweError'
  | 'PluginInternalError'
  | 'PolicyDeny'
  | 'SerdeError'
  | 'TokenNotFound'
  | 'TokenVerifierError';

/** Which part of the protocol answered: the same keybroker code maps to the variant trustee uses there. */
export type V0Area = 'attestation' | 'resource' | 'admin';

/** A KbsError that names its trustee variant itself, where the code alone does not tell (e.g. a missing token). */
export class TrusteeError extends KbsError {
  constructor(readonly variant: TrusteeVariant, code: ErrorCode, detail: string) {
    super(code, detail);
  }
}

const BY_CODE: Partial<Record<ErrorCode, TrusteeVariant>> = {
  'token-invalid': 'TokenVerifierError',
  'policy-denied': 'PolicyDeny',
  'resource-not-found': 'PluginInternalError',
  'admin-auth-required': 'AdminAuthAccess',
  'admin-forbidden': 'AdminAuthAccess',
  'not-found': 'InvalidRequestPath',
  'method-not-allowed': 'InvalidRequestPath',
  'payload-too-large': 'SerdeError',
  'unsupported-media-type': 'SerdeError',
};

export function trusteeVariantOf(error: KbsError, area: V0Area): TrusteeVariant {
  if (error instanceof TrusteeError) return error.variant;
  // Everything that goes wrong while authenticating or attesting is an attestation error in trustee.
  if (area === 'attestation') return 'AttestationError';
  if (error.code === 'bad-request') return 'InvalidRequestPath';
  return BY_CODE[error.code] ?? 'PluginInternalError';
}

export function trusteeErrorBody(error: KbsError, area: V0Area): { type: string; detail: string } {
  return { type: `${TRUSTEE_ERROR_PREFIX}/${trusteeVariantOf(error, area)}`, detail: error.detail };
}
