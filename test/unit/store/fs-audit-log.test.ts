// The audit log's hash chain (src/domain/audit-chain.ts) and its file adapter.
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { appendFile, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import canonicalizeModule from 'canonicalize';
import { GENESIS_HASH, verifyChain } from '../../../src/domain/audit-chain.js';
import { AUDIT_FILE, FsAuditLog } from '../../../src/store/fs/fs-audit-log.js';
import { useTempDir } from '../../helpers/temp-dir.js';

const canonicalize = canonicalizeModule as unknown as (value: unknown) => string;
const T0 = new Date('2026-11-29T10:00:00Z');

async function lines(dir: string): Promise<string[]> {
  return (await readFile(join(dir, AUDIT_FILE), 'utf8')).split('\n').filter((line) => line !== '');
}

describe('store/fs/fs-audit-log and the audit hash chain', () => {
  const dir = useTempDir('audit');

  it('writes one canonical JSON line per record, chained by SHA-256 of the record without its hash', async () => {
    const log = await FsAuditLog.open(dir());
    const first = await log.append({ type: 'admin', admin: 'ops', action: 'x' }, T0);
    const second = await log.append({ type: 'resource', path: 'a/b/c' }, T0);
    await log.close();
    const written = await lines(dir());
    expect(written).to.have.length(2);
    const [one, two] = written.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(written[0]).to.equal(canonicalize(one));
    expect(one).to.deep.include({ seq: 1, prev: GENESIS_HASH, time: T0.toISOString() });
    const { hash, ...unsealed } = one!;
    // Computed here independently: SHA-256 over the RFC 8785 form of {event, prev, seq, time}.
    expect(hash).to.equal(createHash('sha256').update(canonicalize(unsealed)).digest('hex'));
    expect(two).to.deep.include({ seq: 2, prev: hash });
    expect(first.hash).to.equal(hash);
    expect(second.prev).to.equal(first.hash);
    expect((await stat(join(dir(), AUDIT_FILE))).mode & 0o777).to.equal(0o600);
    expect(await verifyChain(written)).to.deep.include({ ok: true, checked: 2 });
  });

  it('continues the chain after a reopen, and drops a torn last line that was never acknowledged', async () => {
    const log = await FsAuditLog.open(dir());
    await log.append({ type: 'a' }, T0);
    await log.close();
    await appendFile(join(dir(), AUDIT_FILE), '{"event":{"type":"torn"');
    const reopened = await FsAuditLog.open(dir());
    const next = await reopened.append({ type: 'b' }, T0);
    await reopened.close();
    expect(next.seq).to.equal(2);
    const written = await lines(dir());
    expect(written).to.have.length(2);
    expect(await verifyChain(written)).to.deep.include({ ok: true, checked: 2 });
  });

  it('concurrent appends get consecutive numbers in call order and one valid chain', async () => {
    const log = await FsAuditLog.open(dir());
    const records = await Promise.all(Array.from({ length: 50 }, (_, i) => log.append({ type: 'n', i }, T0)));
    await log.close();
    expect(records.map((record) => record.seq)).to.deep.equal(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(await verifyChain(await lines(dir()))).to.deep.include({ ok: true, checked: 50 });
  });

  describe('verifyChain names the first broken record', () => {
    let intact: string[];
    beforeEach(async () => {
      const log = await FsAuditLog.open(dir());
      for (let i = 1; i <= 5; i++) await log.append({ type: 'resource', outcome: 'released', path: `p/k/${i}` }, T0);
      await log.close();
      intact = await lines(dir());
    });

    it('an edited record (its own hash breaks)', async () => {
      const edited = [...intact];
      edited[2] = edited[2]!.replace('p/k/3', 'p/k/X');
      expect(await verifyChain(edited)).to.deep.include({ ok: false, seq: 3, line: 3 });
    });

    it('an edited record whose hash was recomputed (the next record\'s prev breaks)', async () => {
      const { hash: _hash, ...record } = JSON.parse(intact[2]!) as Record<string, unknown>;
      const unsealed = { ...record, event: { type: 'resource', outcome: 'released', path: 'p/k/X' } };
      const forged = [...intact];
      forged[2] = canonicalize({ ...unsealed, hash: createHash('sha256').update(canonicalize(unsealed)).digest('hex') });
      const verdict = await verifyChain(forged);
      expect(verdict).to.deep.include({ ok: false, seq: 4 });
      expect(verdict.ok ? '' : verdict.reason).to.match(/record 3/);
    });

    it('a deleted record', async () => {
      expect(await verifyChain(intact.filter((_, index) => index !== 1))).to.deep.include({ ok: false, seq: 2 });
    });

    it('two records swapped', async () => {
      expect(await verifyChain([intact[0]!, intact[1]!, intact[3]!, intact[2]!, intact[4]!])).to.deep.include({ ok: false, seq: 3 });
    });

    it('a field added to a record (the hash does not cover unknown fields, the canonical form does)', async () => {
      const edited = [...intact];
      edited[1] = edited[1]!.replace('"seq":2', '"seq":2,"note":"x"');
      const verdict = await verifyChain(edited);
      expect(verdict).to.deep.include({ ok: false, seq: 2 });
      expect(verdict.ok ? '' : verdict.reason).to.match(/canonical/);
    });

    it('a line that is not a record', async () => {
      expect(await verifyChain([...intact.slice(0, 4), 'garbage'])).to.deep.include({ ok: false, seq: 5 });
    });

    it('--from N checks from record N on, taking its prev on trust', async () => {
      const edited = [...intact];
      edited[0] = edited[0]!.replace('p/k/1', 'p/k/X');
      expect(await verifyChain(edited)).to.deep.include({ ok: false, seq: 1 });
      expect(await verifyChain(edited, 2)).to.deep.include({ ok: true, checked: 4 });
      expect(await verifyChain(intact, 9)).to.deep.include({ ok: false, seq: 9 });
    });
  });
});
