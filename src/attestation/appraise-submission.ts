import type { Claims } from '../domain/claims.js';
import { KbsError } from '../domain/errors.js';
import { isServiceVerifier, type AnyVerifier, type BindingRequest, type Submission } from './verifier.js';

/**
 * One verifier's verdict as the protocol handlers use it. `reportData` is present when the caller must still check
 * the binding with its protocol's rule (in-process verifiers); absent when the service checked it (PROTOCOL.md 1.2).
 */
export interface Appraisal {
  claims: Omit<Claims, 'iat'>;
  reportData?: Uint8Array;
  initData?: Uint8Array;
}

/** Hands a TEE's submission to its verifier, whichever kind: a token goes to services only. */
export async function appraiseSubmission(verifier: AnyVerifier, tee: string, submission: Submission, binding: BindingRequest): Promise<Appraisal> {
  if (isServiceVerifier(verifier)) return verifier.appraise({ tee, submission, binding });
  if (submission.mode === 'passport') throw new KbsError('bad-request', `verifier "${verifier.name}" takes evidence, not a token`);
  return verifier.verify(tee, submission.evidence);
}
