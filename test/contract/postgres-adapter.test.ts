import pg from 'pg';
import { silentLogger } from '../../src/domain/logger.js';
import type { Stores } from '../../src/store/ports.js';
import { openPgStores } from '../../src/store/postgres/pg-stores.js';
import { useTestDatabase } from '../helpers/pg-test-database.js';
import { issuerRegistryContract } from './issuer-registry.contract.js';
import { keyDirectoryContract } from './key-directory.contract.js';
import { policyAuditContract } from './policy-audit.contract.js';
import { revocationsContract } from './revocations-certificates.contract.js';
import { storeContract } from './store-contract.js';

describe('PostgreSQL adapter', () => {
  const database = useTestDatabase();

  /** Empties every keybroker table but the migration record, so each test starts from a migrated, empty store. */
  async function emptyTables(): Promise<void> {
    const client = new pg.Client({ connectionString: database().url() });
    await client.connect();
    try {
      const { rows } = await client.query<{ tablename: string }>(
        `SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename LIKE 'keybroker\\_%' AND tablename <> 'keybroker_schema_migrations'`);
      if (rows.length > 0) await client.query(`TRUNCATE ${rows.map((row) => row.tablename).join(', ')}`);
    } finally {
      await client.end();
    }
  }

  const openStores = () => openPgStores({ url: database().url(), log: silentLogger, cacheMaxAgeMs: 1000 });

  /** Each test starts from migrated, empty tables; each `open()` is another replica, seeing the ports `pick` chooses. */
  const freshDatabase = <Ports extends object>(pick: (stores: Stores) => Ports) => async () => {
    await emptyTables();
    return {
      async open(): Promise<Ports & { close(): Promise<void> }> {
        const stores = await openStores();
        return { ...pick(stores), close: () => stores.close() };
      },
      sharedByProcesses: true,
      dispose: async () => undefined,
    };
  };

  storeContract('postgres', freshDatabase((stores) => stores));
  policyAuditContract('postgres', freshDatabase((stores) => ({ policies: stores.policies, audit: stores.audit })));
  issuerRegistryContract('postgres', freshDatabase((stores) => ({ issuers: stores.issuers! })));
  keyDirectoryContract('postgres', freshDatabase((stores) => ({ keys: stores.keyDirectory! })));
  revocationsContract('postgres', freshDatabase((stores) => ({ revocations: stores.revocations, certificates: stores.certificates })));
});
