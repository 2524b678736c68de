import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { SealedBox } from '../../../src/protocol/sealed-box.js';

describe('SealedBox', () => {
  const key = randomBytes(32);

  it('opens what it sealed, for the same purpose and key only', () => {
    const sealed = new SealedBox(key, 'purpose-a').seal({ a: 1, b: 'two' });
    expect(sealed).to.match(/^[A-Za-z0-9_-]+$/);
    expect(new SealedBox(key, 'purpose-a').open(sealed)).to.deep.equal({ a: 1, b: 'two' });
    expect(new SealedBox(key, 'purpose-b').open(sealed)).to.equal(undefined);
    expect(new SealedBox(randomBytes(32), 'purpose-a').open(sealed)).to.equal(undefined);
  });

  it('refuses altered, truncated and non-canonical text', () => {
    const box = new SealedBox(key, 'p');
    const sealed = box.seal({ x: 1 });
    const flipped = `${sealed.slice(0, 20)}${sealed[20] === 'A' ? 'B' : 'A'}${sealed.slice(21)}`;
    for (const text of [flipped, sealed.slice(0, -4), `${sealed}=`, `${sealed}!`, '', 'AAAA']) expect(box.open(text), text).to.equal(undefined);
  });

  it('needs a 32-byte key', () => {
    expect(() => new SealedBox(randomBytes(16), 'p')).to.throw('32 bytes');
  });
});
