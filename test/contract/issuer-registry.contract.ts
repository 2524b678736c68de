import { expect } from 'chai';
import type { IssuerEntry, IssuerRegistry, IssuerState } from '../../src/domain/issuer-registry.js';
import { useFreshBacking, type Backing } from './backing.js';

/** A handle on one backing's issuer registry; each `open()` is another process or replica over the same states. */
export interface IssuerRegistryHandle {
  issuers: IssuerRegistry;
  close(): Promise<void>;
}

export type IssuerRegistryBacking = Backing<IssuerRegistryHandle>;

/** The registry stores certificates as text; it never parses them, so distinct PEM-shaped texts stand in here. */
const pemOf = (id: string): string => `-----BEGIN CERTIFICATE-----\n${Buffer.from(`issuer ${id}`).toString('base64')}\n-----END CERTIFICATE-----\n`;
const entry = (id: string, state: IssuerState) => ({ id, state, certificatePem: pemOf(id) });
const T1 = new Date('2026-03-01T12:00:00.000Z');
const T2 = new Date('2026-03-01T13:00:00.000Z');
const summary = (entries: IssuerEntry[]) => entries.map(({ id, state }) => `${id}:${state}`);

/** The behaviour every issuer registry (the CA home's state.json files, PostgreSQL) must show. */
export function issuerRegistryContract(adapter: string, freshBacking: () => Promise<IssuerRegistryBacking>): void {
  describe(`issuer registry contract: ${adapter}`, () => {
    const backing = useFreshBacking(freshBacking);
    const { open, reopen } = backing;

    it('starts empty, records issuers with their certificates, lists them by id, and keeps them across a reopen', async () => {
      const handle = await open();
      expect(await handle.issuers.list()).to.deep.equal([]);
      await handle.issuers.record([entry('20260301-bbbb0002', 'prepared'), entry('20260301-aaaa0001', 'active')], T1);
      const { issuers } = await reopen(handle);
      expect(await issuers.list()).to.deep.equal([
        { id: '20260301-aaaa0001', state: 'active', certificatePem: pemOf('20260301-aaaa0001'), updatedAt: T1.toISOString() },
        { id: '20260301-bbbb0002', state: 'prepared', certificatePem: pemOf('20260301-bbbb0002'), updatedAt: T1.toISOString() },
      ]);
    });

    it('changes the state and time of a known issuer but never its certificate', async () => {
      const { issuers } = await open();
      await issuers.record([entry('issuer-a', 'active')], T1);
      await issuers.record([{ id: 'issuer-a', state: 'retired', certificatePem: pemOf('someone else') }], T2);
      expect(await issuers.list()).to.deep.equal([{ id: 'issuer-a', state: 'retired', certificatePem: pemOf('issuer-a'), updatedAt: T2.toISOString() }]);
    });

    it('shows every reader, also another replica, exactly one active issuer while activations swap it', async () => {
      const [writer, reader] = [await open(), await open()];
      await writer.issuers.record([entry('issuer-a', 'active'), entry('issuer-b', 'prepared')], T1);
      let active = 'issuer-a';
      const seen: number[] = [];
      const swaps = (async () => {
        for (let round = 0; round < 20; round += 1) {
          const successor = active === 'issuer-a' ? 'issuer-b' : 'issuer-a';
          // As activation records it: the successor first, then the predecessor.
          await writer.issuers.record([entry(successor, 'active'), entry(active, 'retired')], T2);
          active = successor;
        }
      })();
      const reads = (async () => {
        for (let read = 0; read < 40; read += 1) seen.push((await reader.issuers.list()).filter((issuer) => issuer.state === 'active').length);
      })();
      await Promise.all([swaps, reads]);
      expect(seen.filter((count) => count === 0), 'reads without an active issuer').to.deep.equal([]);
      expect(summary(await reader.issuers.list())).to.deep.equal([`issuer-a:${active === 'issuer-a' ? 'active' : 'retired'}`, `issuer-b:${active === 'issuer-b' ? 'active' : 'retired'}`]);
    });

    it('runs the exclusive steps of two replicas one after the other, and releases the section after a failed step', async () => {
      const [one, two] = [await open(), await open()];
      const timeline: string[] = [];
      const step = (name: string) => async () => {
        timeline.push(`${name} in`);
        await new Promise((resolve) => setTimeout(resolve, 50));
        timeline.push(`${name} out`);
        return name;
      };
      expect(await Promise.all([one.issuers.exclusive(step('one')), two.issuers.exclusive(step('two'))])).to.deep.equal(['one', 'two']);
      expect([timeline.slice(0, 2), timeline.slice(2)].map((pair) => pair[0]!.split(' ')[0] === pair[1]!.split(' ')[0])).to.deep.equal([true, true]);

      const failure = await one.issuers.exclusive(async () => { throw new Error('refused'); }).catch((error: Error) => error.message);
      expect(failure).to.equal('refused');
      expect(await two.issuers.exclusive(async () => 'after a failure')).to.equal('after a failure');
    });
  });
}
