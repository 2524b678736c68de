import type pg from 'pg';
import { messageOf } from '../../domain/errors.js';

/** One schema step. Steps are never edited once released: a change is a new step with the next id. */
export interface Migration {
  id: number;
  name: string;
  sql: string;
}

/** The channel every change notification travels on; the payload is `{"topic": ..., "key": ...}`. */
export const CHANGE_CHANNEL = 'keybroker_changes';

/**
 * The schema, in order. A new port appends its step here (tables, plus a trigger with
 * `keybroker_notify_change('<topic>', '<key column>')` when replicas cache it).
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    id: 1,
    name: 'change notifications',
    sql: `
      CREATE FUNCTION keybroker_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        changed jsonb;
      BEGIN
        IF TG_OP = 'DELETE' THEN changed := to_jsonb(OLD); ELSE changed := to_jsonb(NEW); END IF;
        PERFORM pg_notify('${CHANGE_CHANNEL}', json_build_object('topic', TG_ARGV[0], 'key', changed ->> TG_ARGV[1])::text);
        RETURN NULL;
      END $$;`,
  },
  {
    id: 2,
    name: 'resources',
    sql: `
      CREATE TABLE keybroker_resources (
        path text PRIMARY KEY,
        value bytea NOT NULL,
        version integer NOT NULL CHECK (version > 0),
        updated_at timestamptz NOT NULL
      );
      CREATE TRIGGER keybroker_resources_changed AFTER INSERT OR UPDATE OR DELETE ON keybroker_resources
        FOR EACH ROW EXECUTE FUNCTION keybroker_notify_change('resource', 'path');`,
  },
  {
    id: 3,
    name: 'nonce ledger',
    sql: `
      CREATE TABLE keybroker_nonces (
        id text PRIMARY KEY,
        expires_at timestamptz NOT NULL
      );
      CREATE INDEX keybroker_nonces_expires_at ON keybroker_nonces (expires_at);`,
  },
  {
    id: 4,
    name: 'v0 sessions',
    sql: `
      CREATE TABLE keybroker_v0_sessions (
        id text PRIMARY KEY,
        token text NOT NULL,
        expires_at timestamptz NOT NULL
      );
      CREATE INDEX keybroker_v0_sessions_expires_at ON keybroker_v0_sessions (expires_at);`,
  },
  {
    id: 5,
    name: 'policies',
    sql: `
      CREATE TABLE keybroker_policies (
        kind text NOT NULL,
        version integer NOT NULL CHECK (version > 0),
        text text NOT NULL,
        author text NOT NULL,
        created_at timestamptz NOT NULL,
        PRIMARY KEY (kind, version)
      );
      CREATE TRIGGER keybroker_policies_changed AFTER INSERT ON keybroker_policies
        FOR EACH ROW EXECUTE FUNCTION keybroker_notify_change('policy', 'kind');`,
  },
  {
    id: 6,
    name: 'audit log',
    sql: `
      CREATE TABLE keybroker_audit_log (
        seq bigint PRIMARY KEY CHECK (seq > 0),
        hash text NOT NULL,
        line text NOT NULL
      );`,
  },
  {
    id: 7,
    name: 'revocations and certificate log',
    sql: `
      CREATE TABLE keybroker_revocations (
        id bigint GENERATED ALWAYS AS IDENTITY,
        serial text PRIMARY KEY,
        issuer_id text NOT NULL,
        revoked_at text NOT NULL,
        reason text NOT NULL,
        revoked_by text NOT NULL,
        not_after text NOT NULL
      );
      CREATE INDEX keybroker_revocations_issuer ON keybroker_revocations (issuer_id, id);
      CREATE TRIGGER keybroker_revocations_changed AFTER INSERT ON keybroker_revocations
        FOR EACH ROW EXECUTE FUNCTION keybroker_notify_change('revocation', 'serial');
      CREATE TABLE keybroker_certificates (
        id bigint GENERATED ALWAYS AS IDENTITY,
        serial text PRIMARY KEY,
        spiffe_id text NOT NULL,
        issuer_id text NOT NULL,
        not_before text NOT NULL,
        not_after text NOT NULL,
        tee text NOT NULL,
        verifier text NOT NULL
      );
      CREATE INDEX keybroker_certificates_issuer ON keybroker_certificates (issuer_id, id);`,
  },
  {
    id: 8,
    name: 'issuing CA states',
    sql: `
      CREATE TABLE keybroker_ca_issuers (
        id text PRIMARY KEY,
        state text NOT NULL CHECK (state IN ('prepared', 'active', 'retired', 'tainted', 'revoked')),
        certificate text NOT NULL,
        updated_at timestamptz NOT NULL
      );
      CREATE TRIGGER keybroker_ca_issuers_changed AFTER INSERT OR UPDATE ON keybroker_ca_issuers
        FOR EACH ROW EXECUTE FUNCTION keybroker_notify_change('ca', 'id');`,
  },
  {
    id: 9,
    name: 'published keys',
    sql: `
      CREATE TABLE keybroker_published_keys (
        purpose text NOT NULL,
        kid text NOT NULL,
        public_jwk text NOT NULL,
        published_at timestamptz NOT NULL,
        PRIMARY KEY (purpose, kid)
      );
      CREATE INDEX keybroker_published_keys_recent ON keybroker_published_keys (purpose, published_at DESC);
      CREATE TRIGGER keybroker_published_keys_changed AFTER INSERT ON keybroker_published_keys
        FOR EACH ROW EXECUTE FUNCTION keybroker_notify_change('published-key', 'purpose');`,
  },
];

/** Any fixed number; every keybroker replica takes the same one, so only one migrates at a time. */
const MIGRATION_LOCK = 0x6b627273;

/**
 * Applies the steps the database does not have yet, each in its own transaction, under a session advisory lock:
 * replicas starting together wait for each other and find the work done. Returns the ids applied by this call.
 */
export async function runMigrations(pool: pg.Pool, migrations: readonly Migration[] = MIGRATIONS): Promise<number[]> {
  const client = await pool.connect();
  let broken = false;
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    try {
      await client.query(`CREATE TABLE IF NOT EXISTS keybroker_schema_migrations (
        id integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
      const applied = new Set((await client.query<{ id: number }>('SELECT id FROM keybroker_schema_migrations')).rows.map((row) => row.id));
      const done: number[] = [];
      for (const migration of migrations) {
        if (applied.has(migration.id)) continue;
        await client.query('BEGIN');
        try {
          await client.query(migration.sql);
          await client.query('INSERT INTO keybroker_schema_migrations (id, name) VALUES ($1, $2)', [migration.id, migration.name]);
          await client.query('COMMIT');
        } catch (error) {
          await client.query('ROLLBACK').catch(() => undefined);
          throw new Error(`migration ${migration.id} (${migration.name}) failed: ${messageOf(error)}`, { cause: error });
        }
        done.push(migration.id);
      }
      return done;
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => { broken = true; });
    }
  } catch (error) {
    broken = true;
    throw error;
  } finally {
    // A connection in an unknown state (lock possibly held) is closed rather than returned to the pool.
    client.release(broken);
  }
}
