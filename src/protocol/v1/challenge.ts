import { isKnownTee } from '../../domain/claims.js';
import { KbsError } from '../../domain/errors.js';
import type { BrokerContext } from '../broker-context.js';
import { optionalString, requireObject, requireString } from '../json-fields.js';

export interface ChallengeResponse {
  nonce: string;
  expires_at: string;
}

/** PROTOCOL.md 1.1: a sealed, single-use nonce bound to the TEE and verifier it was asked for. */
export function createChallenge(context: BrokerContext, body: unknown): ChallengeResponse {
  const request = requireObject(body);
  // Any string is well-formed; a name that is not a known TEE, however long, is `unsupported-tee`.
  const tee = requireString(request, 'tee');
  if (!isKnownTee(tee)) throw new KbsError('unsupported-tee', `unknown TEE "${tee.slice(0, 64)}"`);
  const verifierName = optionalString(request, 'verifier', 128);
  const verifier = context.verifiers.select(tee, verifierName);
  const now = context.clock();
  const expiresAt = new Date(Math.floor(now.getTime() / 1000) * 1000 + context.nonceTtlSeconds * 1000);
  const { nonce } = context.nonces.seal({ tee, verifier: verifier.name, expiresAt });
  return { nonce, expires_at: expiresAt.toISOString().replace(/\.\d{3}Z$/, 'Z') };
}
