/**
 * Group 5: resource read latency as the store grows, and verification throughput per verifier against raw
 * node:crypto signature verification.
 */
import { createSign, generateKeyPairSync, randomBytes, verify } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { prepareSnpBenchmark } from '../../src/attestation/verifiers/snp/snp-benchmark.js';
import { prepareTdxBenchmark } from '../../src/attestation/verifiers/tdx/tdx-benchmark.js';
import { sampleVerifier } from '../../src/attestation/verifiers/sample.js';
import pg from 'pg';
import { silentLogger } from '../../src/domain/logger.js';
import { FsResourceStore } from '../../src/store/fs/fs-resource-store.js';
import type { ResourceStore } from '../../src/store/ports.js';
import { runMigrations } from '../../src/store/postgres/migrations.js';
import { PgResourceStore } from '../../src/store/postgres/pg-resource-store.js';
import { describeDatabase } from '../../src/store/postgres/pg-stores.js';
import { StoreHealth } from '../../src/store/postgres/store-health.js';
import type { BenchRow } from '../report.js';
import { measureAsync, measureSync, summarizeLatencies } from '../stats.js';

const GROUP = '5. scaling';
/** The real evidence samples beside the checkout (see ../shared/vectors/MANIFEST.md); absent on other machines. */
const VECTORS_DIR = fileURLToPath(new URL('../../../../shared/vectors', import.meta.url));
const PER_DIRECTORY = 10_000;

function pathOf(index: number): string {
  return `repo-${Math.floor(index / PER_DIRECTORY)}/key/tag-${index}`;
}

/**
 * Bulk-loads the value files of `from..to` in the store's documented layout (`resources/<repository>/<type>/<tag>`)
 * without the per-put fsync, which would make a million entries take hours. Reads touch only value files.
 */
function bulkLoad(dataDir: string, from: number, to: number, value: Buffer): void {
  for (let index = from; index < to; index++) {
    if (index % PER_DIRECTORY === 0 || index === from) mkdirSync(join(dataDir, 'resources', `repo-${Math.floor(index / PER_DIRECTORY)}`, 'key'), { recursive: true });
    writeFileSync(join(dataDir, 'resources', pathOf(index)), value);
  }
}

async function readLatency(store: ResourceStore, population: number, seconds: number): Promise<{ per_second: number; p50_ms: number; p99_ms: number }> {
  let seed = 12345;
  const nextIndex = (): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % population;
  };
  const result = await measureAsync(async () => {
    if ((await store.get(pathOf(nextIndex()))) === undefined) throw new Error('bulk-loaded resource missing');
  }, seconds);
  return { per_second: result.per_second, ...summarizeLatencies(result.latencies_ms) };
}

/** A store grown step by step to each size, read at random after each step; the first size is the baseline. */
async function scalingRows(
  label: string, store: ResourceStore, seconds: number, sizes: readonly number[], load: (from: number, to: number) => Promise<void>,
): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  let loaded = 0;
  let smallest: { per_second: number; population: number } | undefined;
  for (const size of sizes) {
    const loadStarted = Date.now();
    await load(loaded, size);
    const loadSeconds = (Date.now() - loadStarted) / 1000;
    loaded = size;
    const measured = await readLatency(store, size, seconds);
    smallest ??= { per_second: measured.per_second, population: size };
    rows.push({
      group: GROUP, name: `${label} get, ${size.toLocaleString('en')} resources`, ...measured,
      baseline: { name: `${label} get, ${smallest.population.toLocaleString('en')} resources`, per_second: smallest.per_second },
      ratio: measured.per_second / smallest.per_second,
      note: `bulk load ${loadSeconds.toFixed(1)} s`,
    });
  }
  return rows;
}

const VALUE = Buffer.alloc(256, 's');

export async function benchStoreScaling(workDir: string, seconds: number, sizes: readonly number[]): Promise<BenchRow[]> {
  const dataDir = join(workDir, 'scaling-data');
  return scalingRows('file store', new FsResourceStore(dataDir), seconds, sizes, async (from, to) => bulkLoad(dataDir, from, to, VALUE));
}

/**
 * The same reads from PostgreSQL (uncached: each get is a query) in a database made for the run and dropped after
 * it; skipped with a note when no server answers at BENCH_DATABASE_URL (default the local one, user postgres).
 */
export async function benchPgStoreScaling(seconds: number, sizes: readonly number[]): Promise<BenchRow[]> {
  const server = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const admin = new pg.Client({ connectionString: server, connectionTimeoutMillis: 3_000 });
  try {
    await admin.connect();
  } catch (error) {
    process.stderr.write(`PostgreSQL store scaling skipped: no server at ${describeDatabase(server)} (${(error as Error).message})\n`);
    return [];
  }
  const name = `keybroker_bench_${randomBytes(6).toString('hex')}`;
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(server);
  url.pathname = `/${name}`;
  const pool = new pg.Pool({ connectionString: url.toString(), max: 4 });
  try {
    await runMigrations(pool);
    const store = new PgResourceStore(pool, new StoreHealth(silentLogger, name, undefined));
    return await scalingRows('PostgreSQL store', store, seconds, sizes, async (from, to) => {
      // One statement per 100,000 rows, in the table's own layout, as the file store's bulk load skips its fsyncs.
      for (let start = from; start < to; start += 100_000) {
        await pool.query(
          `INSERT INTO keybroker_resources (path, value, version, updated_at)
           SELECT 'repo-' || (i / ${PER_DIRECTORY}) || '/key/tag-' || i, $1, 1, now() FROM generate_series($2::int, $3::int) AS i`,
          [VALUE, start, Math.min(start + 100_000, to) - 1]);
      }
      await pool.query('ANALYZE keybroker_resources');
    });
  } finally {
    await pool.end();
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }
}

/** Verifier throughput, each next to the raw node:crypto verification of its own signature, measured now. */
export async function benchVerification(seconds: number): Promise<BenchRow[]> {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const message = Buffer.alloc(600, 1);
  const signature = createSign('sha256').update(message).sign(privateKey);
  const raw = measureSync(() => { verify('sha256', message, publicKey, signature); }, seconds);
  const rows: BenchRow[] = [];
  const add = (name: string, measured: { per_second: number; latencies_ms: number[] }, baseline: { name: string; per_second: number }): void => {
    rows.push({ group: GROUP, name, per_second: measured.per_second, ...summarizeLatencies(measured.latencies_ms), baseline, ratio: measured.per_second / baseline.per_second });
  };
  const sample = sampleVerifier();
  const evidence = { svn: '1', report_data: Buffer.alloc(64, 3).toString('base64') };
  add('sample verifier (parsing only, no signature)', await measureAsync(() => sample.verify('sample', evidence), seconds), { name: 'raw ECDSA P-256 verify', per_second: raw.per_second });
  if (!existsSync(VECTORS_DIR)) {
    rows.push({ group: GROUP, name: 'snp and tdx verifiers', note: `skipped: ${VECTORS_DIR} is absent` });
    return rows;
  }
  for (const [name, curve, prepare] of [
    ['snp verifier, real Milan report, certificates cached', 'P-384', prepareSnpBenchmark],
    ['tdx verifier, real quote, collateral cached', 'P-256', prepareTdxBenchmark],
  ] as const) {
    const bench = await prepare(VECTORS_DIR);
    const rawRate = measureSync(() => bench.rawVerifyOnce(), seconds).per_second;
    add(name, await measureAsync(async () => { await bench.verifyOnce(); }, seconds), { name: `raw ECDSA ${curve} verify of the same signature`, per_second: rawRate });
  }
  return rows;
}
