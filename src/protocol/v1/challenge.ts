import { isKnownTee } from '../../domain/claims.js';
import { isServiceVerifier, type AnyVerifier } from '../../attestation/verifier.js';
import { KbsError } from '../../domain/errors.js';
import type { BrokerContext } from '../broker-context.js';
import { optionalString, requireObject, requireString } from '../json-fields.js';

export interface ChallengeResponse {
  nonce: string;
  expires_at: string;
  /** The external verifier's own nonce, as the service returned it (Intel Trust Authority). */
  verifier_nonce?: unknown;
}

/** PROTOCOL.md 1.1: a sealed, single-use nonce bound to the TEE and verifier it was asked for. */
export function createChallenge(context: BrokerContext, body: unknown): ChallengeResponse {
  return sealChallenge(context, body).response;
}

/** PROTOCOL.md 1.1 with the verifier's nonce hook: a service that needs its own nonce is asked for one. */
export async function createChallengeWithVerifierNonce(context: BrokerContext, body: unknown): Promise<ChallengeResponse> {
  const { response, tee, verifier } = sealChallenge(context, body);
  if (!isServiceVerifier(verifier) || !verifier.verifierNonce) return response;
  return { ...response, verifier_nonce: await verifier.verifierNonce(tee) };
}

function sealChallenge(context: BrokerContext, body: unknown): { tee: string; verifier: AnyVerifier; response: ChallengeResponse } {
  const request = requireObject(body);
  // Any string is well-formed; a name that is not a known TEE, however long, is `unsupported-tee`.
  const tee = requireString(request, 'tee');
  if (!isKnownTee(tee)) throw new KbsError('unsupported-tee', `unknown TEE "${tee.slice(0, 64)}"`);
  const verifierName = optionalString(request, 'verifier', 128);
  const verifier = context.verifiers.select(tee, verifierName);
  const now = context.clock();
  const expiresAt = new Date(Math.floor(now.getTime() / 1000) * 1000 + context.nonceTtlSeconds * 1000);
  const { nonce } = context.nonces.seal({ tee, verifier: verifier.name, expiresAt });
  return { tee, verifier, response: { nonce, expires_at: expiresAt.toISOString().replace(/\.\d{3}Z$/, 'Z') } };
}
