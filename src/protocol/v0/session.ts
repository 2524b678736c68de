import { createHash, randomBytes } from 'node:crypto';
import type { V0Session } from '../../store/ports.js';
import type { BrokerContext } from '../broker-context.js';
import { TrusteeError } from './trustee-errors.js';

export const SESSION_COOKIE = 'kbs-session-id';
/** Trustee's session ids are 32 hex characters; ours are 128 random bits in the same shape. */
const SESSION_ID = /^[0-9a-f]{32}$/;

export function newSessionId(): string {
  return randomBytes(16).toString('hex');
}

/** The store key of a session: a digest, so the store never holds a cookie that would open the session. */
export function sessionKey(sessionId: string): string {
  return createHash('sha256').update(sessionId, 'ascii').digest('hex');
}

/** `Set-Cookie` of a new session (PROTOCOL.md 2): not readable by scripts, HTTPS only, never sent cross-site. */
export function sessionCookie(sessionId: string, ttlSeconds: number): string {
  return `${SESSION_COOKIE}=${sessionId}; Max-Age=${ttlSeconds}; Path=/kbs; HttpOnly; Secure; SameSite=Strict`;
}

/** The unexpired session named by the cookie; a missing, malformed, unknown or expired one is 401. */
export async function openSession(context: BrokerContext, sessionId: string | undefined): Promise<{ key: string; session: V0Session }> {
  if (sessionId === undefined || sessionId === '') throw new TrusteeError('AttestationError', 'nonce-invalid', `no "${SESSION_COOKIE}" cookie: call /kbs/v0/auth first`);
  if (!SESSION_ID.test(sessionId)) throw new TrusteeError('AttestationError', 'nonce-invalid', 'the session cookie is not one this broker issued');
  const key = sessionKey(sessionId);
  const session = await context.stores.v0Sessions.get(key, context.clock());
  if (!session) throw new TrusteeError('AttestationError', 'nonce-invalid', 'the session is unknown or expired: call /kbs/v0/auth again');
  return { key, session };
}
