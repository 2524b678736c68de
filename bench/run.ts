/**
 * `npm run bench`: every figure next to a baseline measured in the same run, as a ratio, because absolute times
 * on a shared machine are noise. Prints a table and writes bench/results.json. BENCH_SECONDS sets the length of
 * each measurement (default 5); BENCH_MAX_RESOURCES caps the store-scaling sizes (default 1,000,000); BENCH_BROKER_TOML
 * is appended to the benchmarked broker's config (e.g. `[store]\ncache_max_age_ms = 0` to measure without the cache).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchIssuance } from './groups/issuance.js';
import { benchNetwork } from './groups/network.js';
import { benchPolicyEvaluation } from './groups/policy.js';
import { benchPgStoreScaling, benchStoreScaling, benchVerification } from './groups/scaling.js';
import { formatTable, type BenchRow } from './report.js';

const RESULTS = fileURLToPath(new URL('../../bench/results.json', import.meta.url));

function positiveNumber(name: string, fallback: number): number {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number, got "${text}"`);
  return value;
}

async function main(): Promise<void> {
  const seconds = positiveNumber('BENCH_SECONDS', 5);
  const maxResources = positiveNumber('BENCH_MAX_RESOURCES', 1_000_000);
  const sizes = [1_000, 100_000, 1_000_000].filter((size) => size <= maxResources);
  const machine = {
    cores: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', memory_gib: Math.round(totalmem() / 2 ** 30),
    node: process.version, openssl: process.versions.openssl,
  };
  process.stdout.write(`machine: ${machine.cores} cores, ${machine.cpu}, ${machine.memory_gib} GiB, node ${machine.node}, OpenSSL ${machine.openssl}\n`);
  const workDir = await mkdtemp(join(tmpdir(), 'keybroker-bench-'));
  const started = Date.now();
  try {
    const rows: BenchRow[] = [];
    const run = async (label: string, group: () => Promise<BenchRow[]>): Promise<void> => {
      process.stderr.write(`running ${label}...\n`);
      rows.push(...(await group()));
    };
    await run('issuance', () => benchIssuance(workDir, seconds));
    await run('network groups', () => benchNetwork(workDir, seconds, process.env.BENCH_BROKER_TOML ?? ''));
    await run('verification', () => benchVerification(seconds));
    await run('store scaling', () => benchStoreScaling(workDir, Math.min(seconds, 3), sizes));
    await run('PostgreSQL store scaling', () => benchPgStoreScaling(Math.min(seconds, 3), sizes));
    await run('policy evaluation', async () => benchPolicyEvaluation(seconds));
    process.stdout.write(formatTable(rows));
    const elapsed = Math.round((Date.now() - started) / 1000);
    process.stdout.write(`total ${elapsed} s\n`);
    await writeFile(RESULTS, `${JSON.stringify({ machine, seconds_per_measurement: seconds, elapsed_seconds: elapsed, rows }, null, 2)}\n`);
  } finally {
    removeInBackground(workDir);
  }
}

/**
 * The store-scaling data is up to a million files, and deleting them takes as long as writing them: a detached,
 * low-priority `rm -rf` does it after the run instead of keeping the user waiting.
 */
function removeInBackground(dir: string): void {
  const remover = spawn('nice', ['-n', '19', 'rm', '-rf', dir], { detached: true, stdio: 'ignore' });
  remover.on('error', () => void rm(dir, { recursive: true, force: true }));
  remover.unref();
  process.stderr.write(`removing the benchmark's temporary files in the background (${dir})\n`);
}

await main();
