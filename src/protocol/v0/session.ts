import { randomBytes } from 'node:crypto';
import type { V0HashAlgorithm } from '../../attestation/binding.js';
import type { BrokerContext } from '../broker-context.js';
import type { SealedBox } from '../sealed-box.js';
import { TrusteeError } from './trustee-errors.js';

export const SESSION_COOKIE = 'kbs-session-id';
const MAX_COOKIE_CHARS = 1024;

/** A session of the trustee protocol, from /auth until it expires; it travels sealed in the cookie. */
export interface V0Session {
  /** 128 random bits, hex: the key of the nonce ledger and of the session store. */
  id: string;
  tee: string;
  /** The nonce answered by /auth (standard base64 of 32 random bytes). */
  nonce: string;
  hashAlgorithm: V0HashAlgorithm;
  expiresAt: Date;
}

export function newSession(tee: string, hashAlgorithm: V0HashAlgorithm, expiresAt: Date): V0Session {
  return { id: randomBytes(16).toString('hex'), tee, nonce: randomBytes(32).toString('base64'), hashAlgorithm, expiresAt };
}

/** The cookie value: the session sealed under the server key, so any replica can read it without shared state. */
export function sealSession(box: SealedBox, session: V0Session): string {
  return box.seal({ i: session.id, t: session.tee, n: session.nonce, h: session.hashAlgorithm, e: Math.floor(session.expiresAt.getTime() / 1000) });
}

/** `Set-Cookie` of a new session (PROTOCOL.md 2): not readable by scripts, HTTPS only, never sent cross-site. */
export function sessionCookie(value: string, ttlSeconds: number): string {
  return `${SESSION_COOKIE}=${value}; Max-Age=${ttlSeconds}; Path=/kbs; HttpOnly; Secure; SameSite=Strict`;
}

/** The unexpired session sealed in the cookie; a missing, forged or expired one is 401. */
export function openSession(context: BrokerContext, box: SealedBox, cookie: string | undefined): V0Session {
  if (cookie === undefined || cookie === '') throw new TrusteeError('AttestationError', 'nonce-invalid', `no "${SESSION_COOKIE}" cookie: call /kbs/v0/auth first`);
  const record = cookie.length <= MAX_COOKIE_CHARS ? box.open(cookie) : undefined;
  if (record === undefined) throw new TrusteeError('AttestationError', 'nonce-invalid', 'the session cookie is not one this broker issued');
  const { i, t, n, h, e } = record as { i: string; t: string; n: string; h: V0HashAlgorithm; e: number };
  const session: V0Session = { id: i, tee: t, nonce: n, hashAlgorithm: h, expiresAt: new Date(e * 1000) };
  if (session.expiresAt <= context.clock()) throw new TrusteeError('AttestationError', 'nonce-invalid', 'the session has expired: call /kbs/v0/auth again');
  return session;
}
