/**
 * The one error type of keybroker. Every layer throws a KbsError with a code from PROTOCOL.md section 0;
 * the HTTP status is looked up from the code at the edge (see `statusOf`), never chosen by the thrower.
 */
export const ERROR_STATUS = {
  'bad-request': 400,
  'bad-csr': 400,
  'bad-evidence-format': 400,
  'unsupported-tee': 400,
  'no-client-certificate': 401,
  'certificate-invalid': 401,
  'certificate-revoked': 401,
  'nonce-invalid': 401,
  'token-invalid': 401,
  'admin-auth-required': 401,
  'attestation-failed': 403,
  'binding-mismatch': 403,
  'policy-denied': 403,
  'admin-forbidden': 403,
  'resource-not-found': 404,
  'not-found': 404,
  'method-not-allowed': 405,
  'not-allowed': 409,
  'payload-too-large': 413,
  'unsupported-media-type': 415,
  'rate-limited': 429,
  'internal-error': 500,
  'verifier-unavailable': 502,
  'unavailable': 503,
  'verifier-timeout': 504,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

const TITLES: Record<ErrorCode, string> = {
  'bad-request': 'Bad request',
  'bad-csr': 'Bad certificate signing request',
  'bad-evidence-format': 'Bad evidence format',
  'unsupported-tee': 'Unsupported TEE',
  'no-client-certificate': 'No client certificate',
  'certificate-invalid': 'Client certificate invalid',
  'certificate-revoked': 'Client certificate revoked',
  'nonce-invalid': 'Nonce invalid',
  'token-invalid': 'Token invalid',
  'admin-auth-required': 'Admin authentication required',
  'attestation-failed': 'Attestation failed',
  'binding-mismatch': 'Key binding mismatch',
  'policy-denied': 'Denied by policy',
  'admin-forbidden': 'Admin role required',
  'resource-not-found': 'Resource not found',
  'not-found': 'Not found',
  'method-not-allowed': 'Method not allowed',
  'not-allowed': 'Transition not allowed',
  'payload-too-large': 'Payload too large',
  'unsupported-media-type': 'Unsupported media type',
  'rate-limited': 'Rate limited',
  'internal-error': 'Internal error',
  'verifier-unavailable': 'Verifier unavailable',
  'unavailable': 'Service unavailable',
  'verifier-timeout': 'Verifier timeout',
};

export class KbsError extends Error {
  readonly code: ErrorCode;
  /** Safe to show to a client: never a secret, key, stack trace or file path. */
  readonly detail: string;

  constructor(code: ErrorCode, detail: string, options?: { cause?: unknown }) {
    super(`${code}: ${detail}`, options);
    this.name = 'KbsError';
    this.code = code;
    this.detail = detail;
  }

  get status(): number {
    return statusOf(this.code);
  }

  get title(): string {
    return TITLES[this.code];
  }
}

export function statusOf(code: ErrorCode): number {
  return ERROR_STATUS[code];
}

export function isKbsError(value: unknown): value is KbsError {
  return value instanceof KbsError;
}

/** The message of anything thrown, for logs and one-line errors. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
