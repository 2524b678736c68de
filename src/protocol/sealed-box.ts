import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * Small JSON records sealed with AES-256-GCM under a server key, as base64url text: a version byte, a random IV,
 * the ciphertext and the tag. `purpose` goes in as AAD, so a record sealed for one purpose never opens as another.
 * Any replica holding the key can open what another sealed, without shared state.
 */
export class SealedBox {
  private readonly aad: Buffer;

  constructor(private readonly key: Buffer, purpose: string) {
    if (key.length !== 32) throw new Error('sealing key must be 32 bytes');
    this.aad = Buffer.from(purpose, 'ascii');
  }

  seal(record: unknown): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv).setAAD(this.aad);
    const ciphertext = Buffer.concat([cipher.update(JSON.stringify(record), 'utf8'), cipher.final()]);
    return Buffer.concat([Buffer.from([VERSION]), iv, ciphertext, cipher.getAuthTag()]).toString('base64url');
  }

  /** The record, or undefined when `text` was not sealed by this key for this purpose. */
  open(text: string): unknown {
    if (!/^[A-Za-z0-9_-]+$/.test(text)) return undefined;
    const sealed = Buffer.from(text, 'base64url');
    // Node's base64url decoder ignores stray trailing bits and characters; only the canonical text is ours.
    if (sealed.toString('base64url') !== text) return undefined;
    if (sealed.length < 1 + IV_BYTES + TAG_BYTES + 1 || sealed[0] !== VERSION) return undefined;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, sealed.subarray(1, 1 + IV_BYTES)).setAAD(this.aad).setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
      const plaintext = Buffer.concat([decipher.update(sealed.subarray(1 + IV_BYTES, sealed.length - TAG_BYTES)), decipher.final()]);
      return JSON.parse(plaintext.toString('utf8')) as unknown;
    } catch {
      return undefined;
    }
  }
}
