import { expect } from 'chai';
import { GENESIS_HASH, recordHash } from '../../src/domain/audit-chain.js';
import type { AuditLog, PolicyStore } from '../../src/store/ports.js';
import { useFreshBacking, type Backing } from './backing.js';

/** Handles on one backing's PolicyStore and AuditLog; each `open()` is another process or replica. */
export interface PolicyAuditHandle {
  policies: PolicyStore;
  audit: AuditLog;
  close(): Promise<void>;
}

/** `sharedByProcesses`: several processes may append to one audit chain at once (PostgreSQL); a file chain has one writer. */
export type PolicyAuditBacking = Backing<PolicyAuditHandle>;

const T0 = new Date('2026-11-29T10:00:00.000Z');

/**
 * The behaviour a PolicyStore and an AuditLog adapter must show (the file adapters run it in
 * fs-policy-audit.test.ts; a PostgreSQL adapter adds one line there with its backing).
 */
export function policyAuditContract(adapter: string, freshBacking: () => Promise<PolicyAuditBacking>): void {
  describe(`policy store and audit log contract: ${adapter}`, () => {
    const backing = useFreshBacking(freshBacking);
    const open = backing.open;

    describe('PolicyStore', () => {
      it('has no version until one is stored; versions count from 1 per kind and keep text, author and time', async () => {
        const { policies } = await open();
        expect(await policies.latest('resource')).to.equal(undefined);
        const first = await policies.append('resource', '{"rules":[]}', 'alice', T0);
        expect(first).to.deep.equal({ version: 1, text: '{"rules":[]}', author: 'alice', created_at: T0.toISOString() });
        const second = await policies.append('resource', '{"rules":[1]}', 'bob', T0);
        expect(second.version).to.equal(2);
        expect(await policies.append('attestation', '{"allow":"true"}', 'carol', T0)).to.deep.include({ version: 1 });
        expect(await policies.latest('resource')).to.deep.equal(second);
        expect(await policies.get('resource', 1)).to.deep.equal(first);
        expect(await policies.get('resource', 3)).to.equal(undefined);
        expect(await policies.get('resource', 0)).to.equal(undefined);
      });

      it('keeps versions across a reopen', async () => {
        const stored = await (await open()).policies.append('resource', 'text', 'alice', T0);
        expect(await (await open()).policies.latest('resource')).to.deep.equal(stored);
      });

      it('gives concurrent appends from two handles distinct, consecutive numbers without losing any', async () => {
        const [one, two] = [await open(), await open()];
        const results = await Promise.all(Array.from({ length: 10 }, (_, index) => (index % 2 ? one : two).policies.append('resource', `text ${index}`, 'a', T0)));
        expect(results.map((result) => result.version).sort((a, b) => a - b)).to.deep.equal([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
        for (const result of results) expect(await one.policies.get('resource', result.version)).to.deep.equal(result);
      });
    });

    describe('AuditLog', () => {
      it('chains records: seq from 1, prev = the previous hash, hash over the record', async () => {
        const { audit } = await open();
        const first = await audit.append({ type: 'a', n: 1 }, T0);
        const second = await audit.append({ type: 'b', nested: { x: 'y' } }, T0);
        expect(first).to.deep.include({ seq: 1, prev: GENESIS_HASH, time: T0.toISOString(), event: { type: 'a', n: 1 } });
        expect(first.hash).to.equal(recordHash(first));
        expect(second).to.deep.include({ seq: 2, prev: first.hash });
        expect(second.hash).to.equal(recordHash(second));
      });

      it('continues the chain after a reopen', async () => {
        const handle = await open();
        const last = await handle.audit.append({ type: 'a' }, T0);
        const next = await (await backing.reopen(handle)).audit.append({ type: 'b' }, T0);
        expect(next).to.deep.include({ seq: last.seq + 1, prev: last.hash });
      });

      it('orders concurrent appends into one chain', async () => {
        const { audit } = await open();
        const records = await Promise.all(Array.from({ length: 20 }, (_, index) => audit.append({ type: 'n', index }, T0)));
        const bySeq = [...records].sort((a, b) => a.seq - b.seq);
        expect(bySeq.map((record) => record.seq)).to.deep.equal(Array.from({ length: 20 }, (_, index) => index + 1));
        bySeq.forEach((record, index) => expect(record.prev).to.equal(index === 0 ? GENESIS_HASH : bySeq[index - 1]!.hash));
      });

      it('orders concurrent appends of several replicas into one chain', async function () {
        if (!backing.current().sharedByProcesses) this.skip();
        const handles = [await open(), await open(), await open()];
        const records = await Promise.all(Array.from({ length: 30 }, (_, index) => handles[index % 3]!.audit.append({ type: 'n', index }, T0)));
        const bySeq = [...records].sort((a, b) => a.seq - b.seq);
        expect(bySeq.map((record) => record.seq)).to.deep.equal(Array.from({ length: 30 }, (_, index) => index + 1));
        bySeq.forEach((record, index) => expect(record.prev).to.equal(index === 0 ? GENESIS_HASH : bySeq[index - 1]!.hash));
        expect(new Set(bySeq.map((record) => (record.event as { index: number }).index)).size).to.equal(30);
      });
    });
  });
}
