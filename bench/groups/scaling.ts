/**
 * Group 5: resource read latency as the store grows, and verification throughput per verifier against raw
 * node:crypto signature verification.
 */
import { createSign, generateKeyPairSync, verify } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sampleVerifier } from '../../src/attestation/verifiers/sample.js';
import { FsResourceStore } from '../../src/store/fs/fs-resource-store.js';
import type { BenchRow } from '../report.js';
import { measureAsync, measureSync, summarizeLatencies } from '../stats.js';

const GROUP = '5. scaling';
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

async function readLatency(store: FsResourceStore, population: number, seconds: number): Promise<{ per_second: number; p50_ms: number; p99_ms: number }> {
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

export async function benchStoreScaling(workDir: string, seconds: number, sizes: readonly number[]): Promise<BenchRow[]> {
  const dataDir = join(workDir, 'scaling-data');
  const store = new FsResourceStore(dataDir);
  const value = Buffer.alloc(256, 's');
  const rows: BenchRow[] = [];
  let loaded = 0;
  let smallest: { per_second: number; population: number } | undefined;
  for (const size of sizes) {
    const loadStarted = Date.now();
    bulkLoad(dataDir, loaded, size, value);
    const loadSeconds = (Date.now() - loadStarted) / 1000;
    loaded = size;
    const measured = await readLatency(store, size, seconds);
    smallest ??= { per_second: measured.per_second, population: size };
    rows.push({
      group: GROUP, name: `file store get, ${size.toLocaleString('en')} resources`, ...measured,
      baseline: { name: `file store get, ${smallest.population.toLocaleString('en')} resources`, per_second: smallest.per_second },
      ratio: measured.per_second / smallest.per_second,
      note: `bulk load ${loadSeconds.toFixed(1)} s`,
    });
  }
  return rows;
}

/** Registered verifiers' throughput, each next to raw ECDSA verification of the same curve measured now. */
export async function benchVerification(seconds: number): Promise<BenchRow[]> {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const message = Buffer.alloc(600, 1);
  const signature = createSign('sha256').update(message).sign(privateKey);
  const raw = measureSync(() => { verify('sha256', message, publicKey, signature); }, seconds);
  const baseline = { name: 'raw node:crypto ECDSA P-256 verify', per_second: raw.per_second };
  const rows: BenchRow[] = [{ group: GROUP, name: 'raw node:crypto ECDSA P-256 verify (baseline)', per_second: raw.per_second, ...summarizeLatencies(raw.latencies_ms) }];
  const sample = sampleVerifier();
  const evidence = { svn: '1', report_data: Buffer.alloc(64, 3).toString('base64') };
  const samples = await measureAsync(() => sample.verify('sample', evidence), seconds);
  rows.push({ group: GROUP, name: 'sample verifier (no signature: parsing only)', per_second: samples.per_second, ...summarizeLatencies(samples.latencies_ms), baseline, ratio: samples.per_second / raw.per_second });
  return rows;
}
