import { isKnownTee } from '../../domain/claims.js';
import { KbsError } from '../../domain/errors.js';
import type { BrokerContext } from '../broker-context.js';
import { requireObject, requireString } from '../json-fields.js';
import { extraParamsAnswer, negotiateHashAlgorithm } from './hash-algorithm.js';
import { newSession, sealSession } from './session.js';
import { TrusteeError } from './trustee-errors.js';
import type { V0Services } from './v0-services.js';

export const PROTOCOL_VERSION = '0.4.0';

export interface AuthResult {
  body: { nonce: string; 'extra-params': ReturnType<typeof extraParamsAnswer> };
  /** The value of the `kbs-session-id` cookie. */
  cookie: string;
}

/**
 * PROTOCOL.md 2, `POST /kbs/v0/auth`: version check, TEE, hash negotiation, a new session with a fresh nonce.
 * Nothing is stored: the session is sealed into its cookie.
 */
export function auth(context: BrokerContext, v0: V0Services, body: unknown): AuthResult {
  const request = requireObject(body);
  const version = requireString(request, 'version', 32);
  if (version !== PROTOCOL_VERSION) throw new TrusteeError('AttestationError', 'nonce-invalid', `protocol version ${PROTOCOL_VERSION} is required, not ${JSON.stringify(version)}`);
  const tee = requireString(request, 'tee', 64);
  if (!isKnownTee(tee)) throw new KbsError('unsupported-tee', `unknown TEE "${tee}"`);
  context.verifiers.select(tee);
  const hashAlgorithm = negotiateHashAlgorithm(tee, request['extra-params']);
  const expiresAt = new Date(Math.floor(context.clock().getTime() / 1000) * 1000 + v0.sessionTtlSeconds * 1000);
  const session = newSession(tee, hashAlgorithm, expiresAt);
  return { body: { nonce: session.nonce, 'extra-params': extraParamsAnswer(hashAlgorithm) }, cookie: sealSession(v0.sessionBox, session) };
}
