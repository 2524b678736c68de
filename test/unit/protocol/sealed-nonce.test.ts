import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { NonceSealer } from '../../../src/protocol/sealed-nonce.js';
import { KbsError } from '../../../src/domain/errors.js';
import { errorCodeOf } from '../pki/helpers.js';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const NONCE_SHAPE = /^[A-Za-z0-9_-]{43,512}$/;

/** `text` with the character at `index` replaced by another of the alphabet whose 6-bit value differs by `xor`. */
function replaceAt(text: string, index: number, xor: number): string {
  const value = ALPHABET.indexOf(text[index]!);
  return text.slice(0, index) + ALPHABET[value ^ xor]! + text.slice(index + 1);
}

describe('protocol/sealed-nonce', () => {
  const now = new Date('2026-03-01T12:00:00Z');
  const expiresAt = new Date('2026-03-01T12:05:00Z');
  const key = randomBytes(32);
  const sealer = new NonceSealer(key);

  it('refuses a key that is not 32 bytes', () => {
    expect(() => new NonceSealer(randomBytes(16))).to.throw();
    expect(() => new NonceSealer(randomBytes(33))).to.throw();
  });

  it('round-trips TEE, verifier, expiry and id', () => {
    const { nonce, id } = sealer.seal({ tee: 'sample', verifier: 'builtin', expiresAt });
    expect(id).to.match(/^[0-9a-f]{32}$/);
    const opened = sealer.open(nonce, now);
    expect(opened).to.deep.equal({ id, tee: 'sample', verifier: 'builtin', expiresAt });
  });

  it('keeps the expiry to whole seconds', () => {
    const { nonce } = sealer.seal({ tee: 'snp', verifier: 'x', expiresAt: new Date('2026-03-01T12:05:00.999Z') });
    expect(sealer.open(nonce, now).expiresAt.toISOString()).to.equal('2026-03-01T12:05:00.000Z');
  });

  it('gives every nonce a fresh id and a different string for the same contents', () => {
    const ids = new Set<string>();
    const nonces = new Set<string>();
    for (let round = 0; round < 100; round++) {
      const sealed = sealer.seal({ tee: 'sample', verifier: 'builtin', expiresAt });
      ids.add(sealed.id);
      nonces.add(sealed.nonce);
    }
    expect(ids.size).to.equal(100);
    expect(nonces.size).to.equal(100);
  });

  it('produces 43..512 characters of [A-Za-z0-9_-] for short and long TEE and verifier names', () => {
    for (const [tee, verifier] of [['sample', 'builtin'], ['s', 'v'], ['az-snp-vtpm', 'coco-as'], ['t'.repeat(64), 'v'.repeat(128)]] as const) {
      const { nonce } = sealer.seal({ tee, verifier, expiresAt });
      expect(nonce, `${tee}/${verifier}`).to.match(NONCE_SHAPE);
      expect(sealer.open(nonce, now).verifier).to.equal(verifier);
    }
  });

  it('is valid until just before its expiry and nonce-invalid from the expiry on', async () => {
    const { nonce } = sealer.seal({ tee: 'sample', verifier: 'builtin', expiresAt });
    expect(sealer.open(nonce, new Date(expiresAt.getTime() - 1)).tee).to.equal('sample');
    expect(await errorCodeOf(() => sealer.open(nonce, expiresAt))).to.equal('nonce-invalid');
    expect(await errorCodeOf(() => sealer.open(nonce, new Date(expiresAt.getTime() + 3600_000)))).to.equal('nonce-invalid');
  });

  it('throws a KbsError with status 401 for an expired nonce', () => {
    const { nonce } = sealer.seal({ tee: 'sample', verifier: 'builtin', expiresAt: new Date(now.getTime() - 1000) });
    let thrown: unknown;
    try {
      sealer.open(nonce, now);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).to.be.instanceOf(KbsError);
    expect((thrown as KbsError).status).to.equal(401);
    expect((thrown as KbsError).code).to.equal('nonce-invalid');
  });

  it('refuses a nonce sealed under another key', async () => {
    const { nonce } = new NonceSealer(randomBytes(32)).seal({ tee: 'sample', verifier: 'builtin', expiresAt });
    expect(await errorCodeOf(() => sealer.open(nonce, now))).to.equal('nonce-invalid');
  });

  // Sealed sizes of 111, 107 and 104 bytes: the last base64url character carries 6, 2 and 4 bits of data.
  for (const [tee, verifier] of [['sample', 'builtin'], ['se', 'builtin'], ['se', 'coco']] as const) {
    it(`refuses every single-character change (${tee}/${verifier}, any bit of any character)`, async () => {
      const { nonce } = sealer.seal({ tee, verifier, expiresAt });
      expect(sealer.open(nonce, now).tee).to.equal(tee);
      for (let index = 0; index < nonce.length; index++) {
        for (const xor of [1, 2, 4, 8, 16, 32]) {
          const tampered = replaceAt(nonce, index, xor);
          expect(await errorCodeOf(() => sealer.open(tampered, now)), `index ${index} of ${nonce.length}, xor ${xor}`).to.equal('nonce-invalid');
        }
      }
    });
  }

  it('refuses truncated and extended nonces', async () => {
    const { nonce } = sealer.seal({ tee: 'sample', verifier: 'builtin', expiresAt });
    for (const length of [0, 1, 42, 43, 44, nonce.length - 4, nonce.length - 1]) {
      expect(await errorCodeOf(() => sealer.open(nonce.slice(0, length), now)), `length ${length}`).to.equal('nonce-invalid');
    }
    expect(await errorCodeOf(() => sealer.open(`${nonce}AAAA`, now))).to.equal('nonce-invalid');
  });

  it('refuses strings the broker never issued that decode to the same bytes (non-canonical base64url)', async () => {
    const { nonce } = sealer.seal({ tee: 'sample', verifier: 'builtin', expiresAt });
    expect(nonce.length % 4).to.equal(0);
    // One extra character cannot form a base64 byte; a lenient decoder drops it.
    expect(await errorCodeOf(() => sealer.open(`${nonce}A`, now))).to.equal('nonce-invalid');
    const { nonce: short } = sealer.seal({ tee: 'se', verifier: 'builtin', expiresAt });
    expect(short.length % 4).to.equal(3);
    // The last character of a 3-character group carries 2 unused bits; flipping one changes the string, not the bytes.
    expect(await errorCodeOf(() => sealer.open(replaceAt(short, short.length - 1, 1), now))).to.equal('nonce-invalid');
  });

  it('refuses random strings and strings outside the alphabet or length', async () => {
    const candidates = [
      randomBytes(32).toString('base64url'),
      randomBytes(100).toString('base64url'),
      randomBytes(384).toString('base64url'),
      `${'A'.repeat(100)}=`,
      `${'A'.repeat(50)}+/${'A'.repeat(50)}`,
      'A'.repeat(513),
      `${'A'.repeat(60)} `,
      'é'.repeat(60),
    ];
    for (const candidate of candidates) {
      expect(await errorCodeOf(() => sealer.open(candidate, now)), candidate.slice(0, 20)).to.equal('nonce-invalid');
    }
  });

  it('refuses a nonce with another version byte', async () => {
    const { nonce } = sealer.seal({ tee: 'sample', verifier: 'builtin', expiresAt });
    const bytes = Buffer.from(nonce, 'base64url');
    bytes[0] = 2;
    expect(await errorCodeOf(() => sealer.open(bytes.toString('base64url'), now))).to.equal('nonce-invalid');
  });
});
