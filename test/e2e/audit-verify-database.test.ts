/**
 * `keybroker audit verify` against the chain in PostgreSQL: written through the adapter, then checked by the CLI,
 * intact and after rows were edited or deleted behind the broker's back.
 */
import { expect } from 'chai';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { silentLogger } from '../../src/domain/logger.js';
import { openPgStores } from '../../src/store/postgres/pg-stores.js';
import { createTestDatabase, type TestDatabase } from '../helpers/pg-test-database.js';
import { describeResult, runCli } from './helpers/run-command.js';

describe('e2e: keybroker audit verify with the PostgreSQL store', function () {
  let database: TestDatabase;
  let home: string;

  before(async function () {
    database = await createTestDatabase();
    home = await mkdtemp(join(tmpdir(), 'keybroker-audit-db-'));
    const stores = await openPgStores({ url: database.url(), log: silentLogger, cacheMaxAgeMs: 1000 });
    try {
      await Promise.all(Array.from({ length: 6 }, (_, index) => stores.audit.append({ type: 'admin', index }, new Date())));
    } finally {
      await stores.close();
    }
  });

  after(async function () {
    await rm(home, { recursive: true, force: true });
    await database?.drop();
  });

  async function sql(text: string): Promise<void> {
    const client = new pg.Client({ connectionString: database.url() });
    await client.connect();
    try {
      await client.query(text);
    } finally {
      await client.end();
    }
  }

  it('intact, read through [store] of the configuration: exit 0 with the count', async function () {
    await writeFile(join(home, 'keybroker.toml'), `[store]\nbackend = "postgres"\nurl = "${database.url()}"\n`);
    const result = await runCli(home, ['audit', 'verify']);
    expect(result.code, describeResult(result)).to.equal(0);
    expect(result.stdout.toString()).to.match(/^audit log intact: 6 records checked, last seq 6, hash [0-9a-f]{64}\n$/);
  });

  it('an unreachable database: exit 1 naming host, port and database, never the password', async function () {
    const result = await runCli(home, ['audit', 'verify', '--database', `postgres://postgres:s3cret-pw@127.0.0.1:1/${database.name}`]);
    expect(result.code, describeResult(result)).to.equal(1);
    expect(result.stderr.toString()).to.match(new RegExp(`^keybroker: cannot read the audit log from PostgreSQL at 127\\.0\\.0\\.1:1/${database.name}: `));
    expect(result.stderr.toString()).not.to.include('s3cret-pw');
  });

  it('--file and --database together: usage error (exit 2)', async function () {
    const result = await runCli(home, ['audit', 'verify', '--file', 'x.jsonl', '--database', database.url()]);
    expect(result.code, describeResult(result)).to.equal(2);
  });

  it('an edited row, then a deleted one: exit 1 naming the record', async function () {
    await sql(`UPDATE keybroker_audit_log SET line = replace(line, '"index":', '"index":1') WHERE seq = 4`);
    const edited = await runCli(home, ['audit', 'verify', '--database', database.url()]);
    expect(edited.code, describeResult(edited)).to.equal(1);
    expect(edited.stderr.toString()).to.match(/^keybroker: audit log broken at record 4 \(line 4\): .*edited/);

    await sql('DELETE FROM keybroker_audit_log WHERE seq = 3');
    const deleted = await runCli(home, ['audit', 'verify', '--database', database.url(), '--json']);
    expect(deleted.code, describeResult(deleted)).to.equal(1);
    expect(JSON.parse(deleted.stdout.toString())).to.deep.include({ ok: false, seq: 3 });
  });
});
