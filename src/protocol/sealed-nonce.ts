import { randomBytes } from 'node:crypto';
import { KbsError } from '../domain/errors.js';
import { SealedBox } from './sealed-box.js';

/**
 * Challenge nonces sealed with AES-256-GCM under a server key: random bytes, TEE, verifier and expiry travel
 * inside, so any replica holding the key can check a nonce without shared session state. Single use is
 * enforced separately by the nonce ledger, keyed by `id`.
 */
export interface NonceContents {
  /** 16 random bytes, hex: the ledger key. */
  id: string;
  tee: string;
  verifier: string;
  expiresAt: Date;
}

const MAX_NONCE_CHARS = 512;
const NONCE_ALPHABET = /^[A-Za-z0-9_-]{43,512}$/;

export class NonceSealer {
  private readonly box: SealedBox;

  constructor(key: Buffer) {
    if (key.length !== 32) throw new Error('nonce sealing key must be 32 bytes');
    this.box = new SealedBox(key, 'keybroker-nonce-v1');
  }

  seal(contents: Omit<NonceContents, 'id'>): { nonce: string; id: string } {
    const id = randomBytes(16).toString('hex');
    const nonce = this.box.seal({ i: id, t: contents.tee, v: contents.verifier, e: Math.floor(contents.expiresAt.getTime() / 1000) });
    if (nonce.length > MAX_NONCE_CHARS) throw new Error('sealed nonce too long');
    return { nonce, id };
  }

  /** Opens a nonce sealed by this key and unexpired at `now`; anything else is 401 `nonce-invalid`. */
  open(nonce: string, now: Date): NonceContents {
    const record = NONCE_ALPHABET.test(nonce) ? this.box.open(nonce) : undefined;
    if (record === undefined) throw new KbsError('nonce-invalid', 'nonce is not one this broker issued');
    const { i, t, v, e } = record as { i: string; t: string; v: string; e: number };
    const expiresAt = new Date(e * 1000);
    if (expiresAt <= now) throw new KbsError('nonce-invalid', 'nonce has expired; request a new challenge');
    return { id: i, tee: t, verifier: v, expiresAt };
  }
}
