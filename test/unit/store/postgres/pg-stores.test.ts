import { expect } from 'chai';
import pg from 'pg';
import { KbsError } from '../../../../src/domain/errors.js';
import type { Logger } from '../../../../src/domain/logger.js';
import { recordingLogger } from '../../../helpers/recording-logger.js';
import { MIGRATIONS, runMigrations } from '../../../../src/store/postgres/migrations.js';
import { openPgStores } from '../../../../src/store/postgres/pg-stores.js';
import { PgNonceLedger } from '../../../../src/store/postgres/pg-nonce-ledger.js';
import { StoreHealth } from '../../../../src/store/postgres/store-health.js';
import type { CoreStores as Stores } from '../../../../src/store/ports.js';
import { eventually } from '../../../helpers/eventually.js';
import { createTestDatabase, PG_PORT, type TestDatabase } from '../../../helpers/pg-test-database.js';
import { startTcpProxy } from '../../../helpers/tcp-proxy.js';

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (value: Uint8Array | undefined) => (value === undefined ? undefined : new TextDecoder().decode(value));

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

describe('PostgreSQL store', () => {
  let database: TestDatabase;
  const opened: Stores[] = [];

  beforeEach(async () => {
    database = await createTestDatabase();
  });

  afterEach(async () => {
    for (const stores of opened.splice(0)) await stores.close();
    await database.drop();
  });

  async function open(options: { url?: string; log?: Logger; cacheMaxAgeMs?: number } = {}): Promise<Stores> {
    const stores = await openPgStores({
      url: options.url ?? database.url(),
      log: options.log ?? recordingLogger(),
      cacheMaxAgeMs: options.cacheMaxAgeMs ?? 60_000,
    });
    opened.push(stores);
    return stores;
  }

  describe('migrations', () => {
    it('numbers the steps strictly upwards', () => {
      const ids = MIGRATIONS.map((migration) => migration.id);
      expect(ids).to.deep.equal([...ids].sort((a, b) => a - b));
      expect(new Set(ids).size).to.equal(ids.length);
    });

    it('applies every step exactly once when several replicas start together', async () => {
      const pools = Array.from({ length: 4 }, () => new pg.Pool({ connectionString: database.url(), max: 1 }));
      try {
        const applied = await Promise.all(pools.map((pool) => runMigrations(pool)));
        expect(applied.flat().sort((a, b) => a - b)).to.deep.equal(MIGRATIONS.map((migration) => migration.id));
        const { rows } = await pools[0]!.query<{ id: number }>('SELECT id FROM keybroker_schema_migrations ORDER BY id');
        expect(rows.map((row) => row.id)).to.deep.equal(MIGRATIONS.map((migration) => migration.id));
        expect(await runMigrations(pools[0]!)).to.deep.equal([]);
      } finally {
        await Promise.all(pools.map((pool) => pool.end()));
      }
    });

    it('rolls a failing step back entirely and records nothing for it', async () => {
      const pool = new pg.Pool({ connectionString: database.url(), max: 1 });
      try {
        const broken = [{ id: 1, name: 'half a step', sql: 'CREATE TABLE kb_half (id int); SELECT no_such_function()' }];
        const error = await rejection(runMigrations(pool, broken));
        expect(String(error)).to.include('migration 1 (half a step) failed');
        const { rows } = await pool.query("SELECT to_regclass('kb_half') AS half, (SELECT count(*) FROM keybroker_schema_migrations)::int AS steps");
        expect(rows[0]).to.deep.equal({ half: null, steps: 0 });
      } finally {
        await pool.end();
      }
    });
  });

  it('fails to open with one line naming host, port and database but not the password', async () => {
    const proxy = await startTcpProxy(PG_PORT);
    proxy.cut();
    try {
      const error = await rejection(open({ url: database.url({ port: proxy.port, password: 'hunter2-secret' }) }));
      expect(String(error)).to.include(`store: PostgreSQL at 127.0.0.1:${proxy.port}/${database.name}`);
      expect(String(error)).not.to.include('hunter2-secret');
      expect(String(error)).not.to.include('\n');
    } finally {
      await proxy.close();
    }
  });

  describe('resource cache across replicas', () => {
    /** Connections to the test database whose last statement was LISTEN: one per open change feed. */
    async function listeners(): Promise<number> {
      const client = new pg.Client({ connectionString: database.url() });
      await client.connect();
      try {
        const { rows } = await client.query<{ count: number }>(
          "SELECT count(*)::int AS count FROM pg_stat_activity WHERE datname = $1 AND query LIKE 'LISTEN %'", [database.name]);
        return rows[0]!.count;
      } finally {
        await client.end();
      }
    }

    it('drops a cached value on every replica when another replica changes or deletes it', async () => {
      const [writer, reader] = [await open(), await open()];
      await writer.resources.put('repo/key/cached', bytes('one'));
      expect(text(await reader.resources.get('repo/key/cached'))).to.equal('one');
      await writer.resources.put('repo/key/cached', bytes('two'));
      // The cache age here is a minute: only the notification can make the reader see the new value.
      await eventually(async () => text(await reader.resources.get('repo/key/cached')) === 'two');
      await writer.resources.delete('repo/key/cached');
      await eventually(async () => (await reader.resources.get('repo/key/cached')) === undefined);
    });

    it('serves a cached value without the database, and re-reads after the maximum age when notifications are lost', async () => {
      const proxy = await startTcpProxy(PG_PORT);
      try {
        const log = recordingLogger();
        const direct = await open();
        // Written before the replica listens, so no notification of it can drop the entry cached below.
        await direct.resources.put('repo/key/outage', bytes('cached'));
        const replica = await open({ url: database.url({ port: proxy.port }), log, cacheMaxAgeMs: 1000 });
        expect(text(await replica.resources.get('repo/key/outage'))).to.equal('cached');

        proxy.cut();
        expect(text(await replica.resources.get('repo/key/outage'))).to.equal('cached');
        const error = await rejection(replica.resources.get('repo/key/never-read'));
        expect(error).to.be.instanceOf(KbsError);
        expect((error as KbsError).code).to.equal('unavailable');
        expect(await replica.ready()).to.equal(false);
        expect(log.lines.filter((line) => line.includes('store unavailable'))).to.have.length(1);

        // Written while the replica cannot hear the notification; the bounded age makes it re-read after recovery.
        await direct.resources.put('repo/key/outage', bytes('changed'));
        proxy.restore();
        await eventually(() => replica.ready());
        await eventually(async () => text(await replica.resources.get('repo/key/outage')) === 'changed');
        expect(log.lines.some((line) => line.includes('store available again'))).to.equal(true);
      } finally {
        await proxy.close();
      }
    });

    it('hears notifications again after the database connection came back', async () => {
      const proxy = await startTcpProxy(PG_PORT);
      try {
        const replica = await open({ url: database.url({ port: proxy.port }), cacheMaxAgeMs: 60_000 });
        const direct = await open();
        await direct.resources.put('repo/key/listen', bytes('one'));
        proxy.cut();
        // The replica's LISTEN connection is gone; only the direct one is left.
        await eventually(async () => (await listeners()) === 1);
        proxy.restore();
        await eventually(async () => (await listeners()) === 2);
        expect(text(await replica.resources.get('repo/key/listen'))).to.equal('one');
        await direct.resources.put('repo/key/listen', bytes('two'));
        await eventually(async () => text(await replica.resources.get('repo/key/listen')) === 'two');
      } finally {
        await proxy.close();
      }
    });
  });

  describe('nonce ledger', () => {
    it('deletes expired entries when pruned, keeping live ones', async () => {
      await open();
      const pool = new pg.Pool({ connectionString: database.url(), max: 1 });
      let clock = Date.now();
      const ledger = new PgNonceLedger(pool, new StoreHealth(recordingLogger(), 'test', undefined), { now: () => clock });
      try {
        expect(await ledger.consume('short', new Date(clock + 1_000))).to.equal(true);
        expect(await ledger.consume('long', new Date(clock + 60_000))).to.equal(true);
        clock += 1_000;
        expect(await ledger.consume('short', new Date(clock + 1_000)), 'an expired entry still refuses its id').to.equal(false);
        expect(await ledger.prune()).to.equal(1);
        const { rows } = await pool.query<{ id: string }>('SELECT id FROM keybroker_nonces ORDER BY id');
        expect(rows.map((row) => row.id)).to.deep.equal(['long']);
      } finally {
        ledger.close();
        await pool.end();
      }
    });

    it('answers 503 unavailable, not "already used", while the database is away, and nothing is half-written', async () => {
      const proxy = await startTcpProxy(PG_PORT);
      try {
        const replica = await open({ url: database.url({ port: proxy.port }) });
        proxy.cut();
        const error = await rejection(replica.nonces.consume('n-outage', new Date(Date.now() + 60_000)));
        expect((error as KbsError).code).to.equal('unavailable');
        proxy.restore();
        await eventually(() => replica.ready());
        expect(await replica.nonces.isUsed('n-outage')).to.equal(false);
        expect(await replica.nonces.consume('n-outage', new Date(Date.now() + 60_000))).to.equal(true);
      } finally {
        await proxy.close();
      }
    });
  });
});
