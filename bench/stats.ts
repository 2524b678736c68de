/** Summaries of measured samples, shared by the benchmark groups and the load client. */

/** The q-quantile (0..1) of ascending-sorted samples, nearest-rank. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank]!;
}

export interface LatencySummary {
  p50_ms: number;
  p99_ms: number;
}

export function summarizeLatencies(samplesMs: number[]): LatencySummary {
  const sorted = [...samplesMs].sort((a, b) => a - b);
  return { p50_ms: round(quantile(sorted, 0.5), 3), p99_ms: round(quantile(sorted, 0.99), 3) };
}

export function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

/** Runs `operation` repeatedly for about `seconds`; returns operations per second and per-call latencies. */
export function measureSync(operation: () => void, seconds: number): { per_second: number; latencies_ms: number[] } {
  for (let warm = 0; warm < 200; warm++) operation();
  const latencies: number[] = [];
  const started = process.hrtime.bigint();
  const deadline = started + BigInt(Math.round(seconds * 1e9));
  let now = started;
  while (now < deadline) {
    const before = now;
    operation();
    now = process.hrtime.bigint();
    latencies.push(Number(now - before) / 1e6);
  }
  return { per_second: latencies.length / (Number(now - started) / 1e9), latencies_ms: latencies };
}

/** The async twin of measureSync, one operation at a time. */
export async function measureAsync(operation: () => Promise<unknown>, seconds: number, warmup = 50): Promise<{ per_second: number; latencies_ms: number[] }> {
  for (let warm = 0; warm < warmup; warm++) await operation();
  const latencies: number[] = [];
  const started = process.hrtime.bigint();
  const deadline = started + BigInt(Math.round(seconds * 1e9));
  let now = started;
  while (now < deadline) {
    const before = now;
    await operation();
    now = process.hrtime.bigint();
    latencies.push(Number(now - before) / 1e6);
  }
  return { per_second: latencies.length / (Number(now - started) / 1e9), latencies_ms: latencies };
}
