import { expect } from 'chai';
import type { OpenReplicas, OpenStores } from './store-contract.js';

const inMinutes = (minutes: number) => new Date(Date.now() + minutes * 60_000);

/** NonceLedger: each nonce id is consumed once, across handles and restarts, until it expires. */
export function nonceLedgerContract(open: OpenStores, replicas: OpenReplicas): void {
  describe('NonceLedger', () => {
    it('consumes a nonce once; isUsed tells it after', async () => {
      const { nonces } = await open();
      expect(await nonces.isUsed('nonce-a')).to.equal(false);
      expect(await nonces.consume('nonce-a', inMinutes(5))).to.equal(true);
      expect(await nonces.isUsed('nonce-a')).to.equal(true);
      expect(await nonces.consume('nonce-a', inMinutes(5))).to.equal(false);
      expect(await nonces.isUsed('nonce-b')).to.equal(false);
      expect(await nonces.consume('nonce-b', inMinutes(5))).to.equal(true);
    });

    it('refuses a nonce that has already expired', async () => {
      const { nonces } = await open();
      expect(await nonces.consume('late', new Date(Date.now() - 1000))).to.equal(false);
    });

    it('lets exactly one of many concurrent consumers of one nonce win, across handles', async () => {
      const handles = await replicas(2);
      const attempts = Array.from({ length: 20 }, (_, index) => handles[index % 2]!.nonces.consume('contested', inMinutes(5)));
      const outcomes = await Promise.all(attempts);
      expect(outcomes.filter(Boolean)).to.have.length(1);
    });

    it('remembers a consumed nonce after the store is reopened', async () => {
      const first = await open();
      expect(await first.nonces.consume('durable', inMinutes(5))).to.equal(true);
      await first.close();
      const second = await open();
      expect(await second.nonces.isUsed('durable')).to.equal(true);
      expect(await second.nonces.consume('durable', inMinutes(5))).to.equal(false);
    });
  });
}
