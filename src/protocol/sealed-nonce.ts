import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { KbsError } from '../domain/errors.js';

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

const VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const AAD = Buffer.from('keybroker-nonce-v1', 'ascii');
const MAX_NONCE_CHARS = 512;
const NONCE_ALPHABET = /^[A-Za-z0-9_-]{43,512}$/;

export class NonceSealer {
  constructor(private readonly key: Buffer) {
    if (key.length !== 32) throw new Error('nonce sealing key must be 32 bytes');
  }

  seal(contents: Omit<NonceContents, 'id'>): { nonce: string; id: string } {
    const id = randomBytes(16).toString('hex');
    const plaintext = Buffer.from(JSON.stringify({ i: id, t: contents.tee, v: contents.verifier, e: Math.floor(contents.expiresAt.getTime() / 1000) }), 'utf8');
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv).setAAD(AAD);
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    const nonce = Buffer.concat([Buffer.from([VERSION]), iv, ciphertext, cipher.getAuthTag()]).toString('base64url');
    if (nonce.length > MAX_NONCE_CHARS) throw new Error('sealed nonce too long');
    return { nonce, id };
  }

  /** Opens a nonce sealed by this key and unexpired at `now`; anything else is 401 `nonce-invalid`. */
  open(nonce: string, now: Date): NonceContents {
    if (!NONCE_ALPHABET.test(nonce)) throw new KbsError('nonce-invalid', 'nonce is not one this broker issued');
    const sealed = Buffer.from(nonce, 'base64url');
    // Node's base64url decoder ignores stray trailing bits and characters; only the canonical text is ours.
    if (sealed.toString('base64url') !== nonce) throw new KbsError('nonce-invalid', 'nonce is not one this broker issued');
    if (sealed.length < 1 + IV_BYTES + TAG_BYTES + 1 || sealed[0] !== VERSION) throw new KbsError('nonce-invalid', 'nonce is not one this broker issued');
    const iv = sealed.subarray(1, 1 + IV_BYTES);
    const tag = sealed.subarray(sealed.length - TAG_BYTES);
    let plaintext: Buffer;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, iv).setAAD(AAD).setAuthTag(tag);
      plaintext = Buffer.concat([decipher.update(sealed.subarray(1 + IV_BYTES, sealed.length - TAG_BYTES)), decipher.final()]);
    } catch {
      throw new KbsError('nonce-invalid', 'nonce is not one this broker issued');
    }
    const { i, t, v, e } = JSON.parse(plaintext.toString('utf8')) as { i: string; t: string; v: string; e: number };
    const expiresAt = new Date(e * 1000);
    if (expiresAt <= now) throw new KbsError('nonce-invalid', 'nonce has expired; request a new challenge');
    return { id: i, tee: t, verifier: v, expiresAt };
  }
}
