import { expect } from 'chai';
import pg from 'pg';
import { KbsError } from '../../../../src/domain/errors.js';
import { silentLogger } from '../../../../src/domain/logger.js';
import { ChangeSubscribers } from '../../../../src/store/change-feed.js';
import { runMigrations } from '../../../../src/store/postgres/migrations.js';
import { PgRevocationList } from '../../../../src/store/postgres/pg-revocation-list.js';
import { StoreHealth } from '../../../../src/store/postgres/store-health.js';
import { revocation } from '../../../contract/revocations-certificates.contract.js';
import { eventually } from '../../../helpers/eventually.js';
import { useTestDatabase } from '../../../helpers/pg-test-database.js';

/** A change feed the test drives by hand, with a switch for whether notifications are arriving. */
class HandFeed extends ChangeSubscribers {
  listening = true;
}

describe('store/postgres PgRevocationList: revoked serials in memory, kept current by the change feed', () => {
  const database = useTestDatabase();
  let pool: pg.Pool;
  let health: StoreHealth;
  const lists: PgRevocationList[] = [];

  beforeEach(async () => {
    pool = new pg.Pool({ connectionString: database().url(), max: 2 });
    health = new StoreHealth(silentLogger, 'test', undefined);
    await runMigrations(pool);
    await pool.query('TRUNCATE keybroker_revocations');
  });

  afterEach(async () => {
    for (const list of lists.splice(0)) list.close();
    await pool.end();
  });

  async function open(feed: HandFeed): Promise<PgRevocationList> {
    const list = await PgRevocationList.open(pool, health, feed);
    lists.push(list);
    return list;
  }

  it('loads the revocations at start and answers from memory while notifications arrive', async () => {
    await (await open(new HandFeed())).revoke(revocation('01'));
    const feed = new HandFeed();
    const other = await open(feed);
    expect(await other.isRevoked('01')).to.equal(true);
    // Revoked through another handle, not announced: this replica does not know it yet (no query per request) ...
    await (await open(new HandFeed())).revoke(revocation('02'));
    expect(await other.isRevoked('02')).to.equal(false);
    // ... until the notification arrives.
    feed.changed('revocation', '02');
    expect(await other.isRevoked('02')).to.equal(true);
  });

  it('reads everything again when the feed resyncs', async () => {
    const feed = new HandFeed();
    const list = await open(feed);
    await (await open(new HandFeed())).revoke(revocation('03'));
    expect(await list.isRevoked('03')).to.equal(false);
    feed.resyncAll();
    await eventually(() => list.isRevoked('03'), { intervalMs: 10 });
  });

  it('asks the database while notifications may be missed, and fails with 503 rather than trust when it cannot', async () => {
    const feed = new HandFeed();
    const list = await open(feed);
    feed.listening = false;
    await (await open(new HandFeed())).revoke(revocation('04'));
    expect(await list.isRevoked('04')).to.equal(true);
    expect(await list.isRevoked('05')).to.equal(false);

    const unreachable = new pg.Pool({ connectionString: `postgres://postgres@127.0.0.1:1/${database().name}`, connectionTimeoutMillis: 1_000 });
    try {
      const cutOff = await PgRevocationList.open(unreachable, health, Object.assign(new HandFeed(), { listening: false }));
      lists.push(cutOff);
      const error = await cutOff.isRevoked('06').then(() => undefined, (caught: unknown) => caught);
      expect(error).to.be.instanceOf(KbsError);
      expect((error as KbsError).code).to.equal('unavailable');
    } finally {
      await unreachable.end();
    }
  });
});
