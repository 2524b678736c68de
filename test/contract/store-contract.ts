import { expect } from 'chai';
import type { CoreStores as Stores } from '../../src/store/ports.js';
import { useFreshBacking, type Backing } from './backing.js';
import { nonceLedgerContract } from './nonce-ledger.contract.js';
import { resourceStoreContract } from './resource-store.contract.js';
import { v0SessionStoreContract } from './v0-session-store.contract.js';

/** One test's storage: each `open()` is another process or replica over the same data. */
export type StoreBacking = Backing<Stores>;

/** Opens stores over the current test's backing; closed after the test. */
export type OpenStores = () => Promise<Stores>;

/** Handles for concurrent users: one per replica where the backing is shared by processes, else one handle for all. */
export type OpenReplicas = (count: number) => Promise<Stores[]>;

/**
 * The behaviour every store adapter must show. `freshBacking` gives each test empty storage. A new port adds its
 * `<port>Contract(open)` call here, and every adapter runs it.
 */
export function storeContract(adapter: string, freshBacking: () => Promise<StoreBacking>): void {
  describe(`store contract: ${adapter}`, () => {
    const backing = useFreshBacking(freshBacking);
    const open: OpenStores = backing.open;

    const replicas: OpenReplicas = async (count) => {
      if (backing.current().sharedByProcesses) return Promise.all(Array.from({ length: count }, open));
      const single = await open();
      return Array.from({ length: count }, () => single);
    };

    it('is ready while open', async () => {
      expect(await (await open()).ready()).to.equal(true);
    });

    resourceStoreContract(open, replicas);
    nonceLedgerContract(open, replicas);
    v0SessionStoreContract(open, replicas);
  });
}
