import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The machine's PostgreSQL (CI starts it): trust authentication for `postgres` on loopback. */
export const PG_HOST = '127.0.0.1';
export const PG_PORT = 5432;
const MAINTENANCE_URL = `postgres://postgres@${PG_HOST}:${PG_PORT}/postgres`;

export interface TestDatabase {
  name: string;
  /** URL of the new database, optionally through another port (a proxy in front of PG_PORT). */
  url(options?: { port?: number; password?: string }): string;
  drop(): Promise<void>;
}

async function maintenance<T>(run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: MAINTENANCE_URL, connectionTimeoutMillis: 5_000 });
  try {
    await client.connect();
  } catch (error) {
    throw new Error(`these tests need PostgreSQL on ${PG_HOST}:${PG_PORT} (user postgres, trust): ${(error as Error).message}`);
  }
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

/** A fresh, empty database `keybroker_test_<random>`; drop() removes it, closing any connection left to it. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `keybroker_test_${randomBytes(6).toString('hex')}`;
  await maintenance((client) => client.query(`CREATE DATABASE ${name}`));
  return {
    name,
    url: ({ port = PG_PORT, password } = {}) => `postgres://postgres${password ? `:${password}` : ''}@${PG_HOST}:${port}/${name}`,
    drop: () => maintenance(async (client) => {
      // Connections the test already closed may still be on their way out; terminating one of those makes its
      // client emit an error nobody listens to any more. Give them a moment, then force whatever is left.
      for (let attempt = 0; attempt < 40; attempt++) {
        const { rows } = await client.query<{ open: number }>('SELECT count(*)::int AS open FROM pg_stat_activity WHERE datname = $1', [name]);
        if (rows[0]!.open === 0) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    }),
  };
}

/** A test database for the enclosing `describe`: created before its tests, dropped after them. */
export function useTestDatabase(): () => TestDatabase {
  let database: TestDatabase | undefined;
  before(async () => {
    database = await createTestDatabase();
  });
  after(async () => {
    await database?.drop();
    database = undefined;
  });
  return () => {
    if (!database) throw new Error('useTestDatabase: no database outside a test');
    return database;
  };
}
