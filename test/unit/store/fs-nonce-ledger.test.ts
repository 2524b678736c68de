import { expect } from 'chai';
import { appendFile, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FsNonceLedger } from '../../../src/store/fs/fs-nonce-ledger.js';

const START = Date.parse('2026-01-01T00:00:00Z');

describe('FsNonceLedger', () => {
  let dataDir: string;
  let ledgerFile: string;
  let clock: number;
  const now = () => clock;
  const inSeconds = (seconds: number) => new Date(clock + seconds * 1000);
  const open = () => FsNonceLedger.open(dataDir, { now });
  const ledgerLines = async () => (await readFile(ledgerFile, 'utf8')).split('\n').filter((line) => line !== '');
  let opened: FsNonceLedger[];

  /** Opens a ledger that is closed after the test. */
  async function openLedger(): Promise<FsNonceLedger> {
    const ledger = await open();
    opened.push(ledger);
    return ledger;
  }

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'keybroker-nonces-'));
    ledgerFile = join(dataDir, 'nonce-ledger.jsonl');
    clock = START;
    opened = [];
  });

  afterEach(async () => {
    for (const ledger of opened) await ledger.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('accepts a nonce once and refuses it afterwards', async () => {
    const ledger = await openLedger();
    expect(await ledger.consume('n1', inSeconds(300))).to.equal(true);
    expect(await ledger.consume('n1', inSeconds(300))).to.equal(false);
    expect(await ledger.consume('n2', inSeconds(300))).to.equal(true);
  });

  it('reports a nonce as used only after it was consumed, also after a reopen', async () => {
    const first = await open();
    expect(await first.isUsed('n1')).to.equal(false);
    await first.consume('n1', inSeconds(300));
    expect(await first.isUsed('n1')).to.equal(true);
    expect(await first.isUsed('n2')).to.equal(false);
    await first.close();
    expect(await (await openLedger()).isUsed('n1')).to.equal(true);
  });

  it('gives exactly one of two concurrent consumes of one nonce true', async () => {
    const ledger = await openLedger();
    const results = await Promise.all([ledger.consume('n', inSeconds(300)), ledger.consume('n', inSeconds(300))]);
    expect(results.filter(Boolean)).to.have.length(1);
  });

  it('accepts many different nonces concurrently and records each one line', async () => {
    const ledger = await openLedger();
    const ids = Array.from({ length: 50 }, (_, i) => `nonce-${i}`);
    const results = await Promise.all(ids.map((id) => ledger.consume(id, inSeconds(300))));
    expect(results.every(Boolean)).to.equal(true);
    const recorded = (await ledgerLines()).map((line) => JSON.parse(line) as { id: string; exp: number });
    expect(recorded.map((entry) => entry.id).sort()).to.deep.equal([...ids].sort());
    expect(recorded.every((entry) => entry.exp === clock + 300_000)).to.equal(true);
  });

  it('persists a consumed nonce before answering, with file mode 0600', async () => {
    const ledger = await openLedger();
    await ledger.consume('durable', inSeconds(60));
    expect(await ledgerLines()).to.deep.equal([JSON.stringify({ id: 'durable', exp: clock + 60_000 })]);
    expect((await stat(ledgerFile)).mode & 0o777).to.equal(0o600);
  });

  it('remembers consumed nonces across a reopen', async () => {
    const first = await open();
    await first.consume('n1', inSeconds(300));
    await first.close();
    const second = await openLedger();
    expect(await second.consume('n1', inSeconds(300))).to.equal(false);
    expect(await second.consume('n2', inSeconds(300))).to.equal(true);
  });

  it('refuses a nonce whose expiry has already passed', async () => {
    const ledger = await openLedger();
    expect(await ledger.consume('late', new Date(clock))).to.equal(false);
    expect(await ledger.consume('late', new Date(Number.NaN))).to.equal(false);
    expect(ledger.size).to.equal(0);
  });

  it('prunes expired nonces from memory', async () => {
    const ledger = await openLedger();
    await ledger.consume('short', inSeconds(10));
    await ledger.consume('long', inSeconds(600));
    expect(ledger.size).to.equal(2);
    clock += 10_000;
    ledger.prune();
    expect(ledger.size).to.equal(1);
    expect(await ledger.consume('long', inSeconds(600))).to.equal(false);
  });

  it('prunes on its own timer', async () => {
    const ledger = await FsNonceLedger.open(dataDir, { now, pruneIntervalMs: 5 });
    opened.push(ledger);
    await ledger.consume('short', inSeconds(1));
    clock += 1_000;
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(ledger.size).to.equal(0);
  });

  it('drops expired entries from the file when it reopens', async () => {
    const first = await open();
    await first.consume('short', inSeconds(10));
    await first.consume('long', inSeconds(600));
    await first.close();
    clock += 60_000;
    await openLedger();
    expect((await ledgerLines()).map((line) => (JSON.parse(line) as { id: string }).id)).to.deep.equal(['long']);
  });

  it('compacts the file while running once it holds enough lines, keeping used nonces used', async () => {
    const ledger = await FsNonceLedger.open(dataDir, { now, compactAfterLines: 4 });
    opened.push(ledger);
    await ledger.consume('a', inSeconds(10));
    await ledger.consume('b', inSeconds(10));
    await ledger.consume('c', inSeconds(600));
    clock += 20_000;
    ledger.prune();
    await ledger.consume('d', inSeconds(600));
    expect((await ledgerLines()).map((line) => (JSON.parse(line) as { id: string }).id)).to.deep.equal(['c', 'd']);
    await ledger.consume('e', inSeconds(600));
    expect(await ledger.consume('c', inSeconds(600))).to.equal(false);
    expect((await ledgerLines()).map((line) => (JSON.parse(line) as { id: string }).id)).to.deep.equal(['c', 'd', 'e']);
    const reopened = await FsNonceLedger.open(dataDir, { now });
    opened.push(reopened);
    for (const id of ['c', 'd', 'e']) expect(await reopened.isUsed(id), id).to.equal(true);
  });

  it('tolerates a torn last line, dropping it from the file', async () => {
    const kept = JSON.stringify({ id: 'kept', exp: clock + 300_000 });
    await writeFile(ledgerFile, `${kept}\n{"id":"torn","ex`);
    const ledger = await openLedger();
    expect(await ledgerLines()).to.deep.equal([kept]);
    expect(await ledger.consume('kept', inSeconds(300))).to.equal(false);
    // The torn append was never acknowledged, so that nonce was never reported as consumed.
    expect(await ledger.consume('torn', inSeconds(300))).to.equal(true);
  });

  it('refuses to open a ledger with a corrupt line before the last', async () => {
    await writeFile(ledgerFile, 'garbage\n');
    await appendFile(ledgerFile, `${JSON.stringify({ id: 'x', exp: clock + 1000 })}\n`);
    let failure: unknown;
    try {
      await open();
    } catch (error) {
      failure = error;
    }
    expect(failure).to.have.property('message', `nonce ledger ${ledgerFile}: line 1 is corrupt`);
  });

  it('refuses consumes after close', async () => {
    const ledger = await open();
    await ledger.close();
    let failure: unknown;
    try {
      await ledger.consume('n', inSeconds(60));
    } catch (error) {
      failure = error;
    }
    expect(failure).to.have.property('message', 'nonce ledger is closed');
  });
});
