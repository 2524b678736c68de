import { createReadStream } from 'node:fs';
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import pg from 'pg';
import { readDatabaseUrl } from '../config/store-settings.js';
import { verifyChain } from '../domain/audit-chain.js';
import { AUDIT_FILE } from '../store/fs/fs-audit-log.js';
import { readPgAuditLines } from '../store/postgres/pg-audit-log.js';
import { describeDatabase } from '../store/postgres/pg-stores.js';
import { parseCommandArgs } from './args.js';
import { CliError, usageError } from './cli-error.js';
import { cliConfig } from './home.js';

interface AuditSource {
  lines: AsyncIterable<string>;
  close(): Promise<void>;
}

async function fileSource(file: string): Promise<AuditSource> {
  try {
    await access(file);
  } catch {
    throw new CliError(`no audit log at ${file}`);
  }
  const lines = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
  return { lines, close: async () => lines.close() };
}

/** Errors name the database by host, port and name only: the URL may hold a password. */
async function databaseSource(url: string): Promise<AuditSource> {
  const database = describeDatabase(url);
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000, application_name: 'keybroker audit verify' });
  try {
    await client.connect();
    const { rows } = await client.query<{ present: boolean }>("SELECT to_regclass('keybroker_audit_log') IS NOT NULL AS present");
    if (!rows[0]!.present) throw new CliError(`no audit log in the database at ${database}`);
  } catch (error) {
    await client.end().catch(() => undefined);
    if (error instanceof CliError) throw error;
    throw new CliError(`cannot read the audit log from PostgreSQL at ${database}: ${(error as Error).message.split('\n')[0]}`);
  }
  return { lines: readPgAuditLines(client), close: () => client.end() };
}

/**
 * The log to check: `--file F`, else `--database URL`, else the configured store: the database of `[store] url`
 * (or KEYBROKER_DATABASE_URL) with `backend = "postgres"`, `<data>/audit.jsonl` with the file store.
 */
function auditSource(values: { file?: string; database?: string; config?: string }): Promise<AuditSource> {
  if (values.file !== undefined) return fileSource(values.file);
  if (values.database !== undefined) {
    try {
      return databaseSource(readDatabaseUrl(values.database, '--database'));
    } catch (error) {
      throw usageError((error as Error).message);
    }
  }
  const { store } = cliConfig({ configFile: values.config });
  return store.backend === 'postgres' ? databaseSource(store.url!) : fileSource(join(store.dataDir, AUDIT_FILE));
}

/**
 * `keybroker audit verify [--from N] [--file F | --database URL] [--config FILE] [--json]`: checks the hash chain of
 * the audit log (see auditSource); exit 0 when intact, 1 at the first broken record, naming it.
 */
export async function auditCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== 'verify') throw usageError(`unknown command "audit ${sub ?? ''}": use verify`);
  const { values } = parseCommandArgs(rest, {
    from: { type: 'string' }, file: { type: 'string' }, database: { type: 'string' }, config: { type: 'string' }, json: { type: 'boolean' },
  });
  if (values.from !== undefined && !/^[1-9]\d{0,11}$/.test(values.from)) throw usageError('--from must be a record number (1 or more)');
  if (values.file !== undefined && values.database !== undefined) throw usageError('give --file or --database, not both');
  const source = await auditSource(values);
  let verdict;
  try {
    verdict = await verifyChain(source.lines, values.from === undefined ? 1 : Number(values.from));
  } finally {
    await source.close();
  }
  if (values.json) process.stdout.write(`${JSON.stringify(verdict.ok ? { ok: true, checked: verdict.checked, last_seq: verdict.last?.seq ?? null, last_hash: verdict.last?.hash ?? null } : verdict)}\n`);
  if (!verdict.ok) {
    process.stderr.write(`keybroker: audit log broken at record ${verdict.seq} (line ${verdict.line}): ${verdict.reason}\n`);
    return 1;
  }
  if (!values.json) process.stdout.write(`audit log intact: ${verdict.checked} records checked${verdict.last ? `, last seq ${verdict.last.seq}, hash ${verdict.last.hash}` : ''}\n`);
  return 0;
}
