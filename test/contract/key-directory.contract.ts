import { expect } from 'chai';
import type { KeyDirectory } from '../../src/store/ports.js';
import { useFreshBacking, type Backing } from './backing.js';

export interface KeyDirectoryHandle {
  keys: KeyDirectory;
  close(): Promise<void>;
}

const jwk = (kid: string) => ({ kty: 'EC', crv: 'P-256', x: `x-of-${kid}`, y: `y-of-${kid}`, kid, alg: 'ES256', use: 'sig' });
const key = (kid: string, purpose = 'v0-token') => ({ purpose, kid, publicJwk: jwk(kid) });
const at = (minute: number) => new Date(Date.UTC(2026, 2, 1, 12, minute));

/** The behaviour of a KeyDirectory: only the shared store has one (a single process holds all its keys). */
export function keyDirectoryContract(adapter: string, freshBacking: () => Promise<Backing<KeyDirectoryHandle>>): void {
  describe(`key directory contract: ${adapter}`, () => {
    const { open } = useFreshBacking(freshBacking);

    it('answers the most recent keys of a purpose, newest first, and keeps the first record of a key', async () => {
      const [one, two] = [await open(), await open()];
      await one.keys.publish([key('k1'), key('k2')], at(1));
      await two.keys.publish([key('k2'), key('k3')], at(2));
      await two.keys.publish([key('s1', 'other')], at(3));
      await one.keys.publish([{ ...key('k1'), publicJwk: jwk('replaced') }], at(4));

      const recent = await two.keys.recent('v0-token', 10);
      expect(recent.map((entry) => `${entry.kid}@${entry.publishedAt}`)).to.deep.equal([
        `k3@${at(2).toISOString()}`, `k1@${at(1).toISOString()}`, `k2@${at(1).toISOString()}`,
      ]);
      expect(recent.find((entry) => entry.kid === 'k1')!.publicJwk).to.deep.equal(jwk('k1'));
      expect((await one.keys.recent('v0-token', 2)).map((entry) => entry.kid)).to.deep.equal(['k3', 'k1']);
      expect((await one.keys.recent('other', 10)).map((entry) => entry.kid)).to.deep.equal(['s1']);
      expect(await one.keys.recent('unknown', 10)).to.deep.equal([]);
    });
  });
}
