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

export interface Measurement {
  per_second: number;
  latencies_ms: number[];
}

/** Times a loop: each call of `next()` closes the previous iteration; false once `seconds` have passed. */
class LoopTimer {
  private readonly latencies: number[] = [];
  private readonly started = process.hrtime.bigint();
  private readonly deadline: bigint;
  private last: bigint | undefined;

  constructor(seconds: number) {
    this.deadline = this.started + BigInt(Math.round(seconds * 1e9));
  }

  next(): boolean {
    const now = process.hrtime.bigint();
    if (this.last !== undefined) this.latencies.push(Number(now - this.last) / 1e6);
    this.last = now;
    return now < this.deadline;
  }

  result(): Measurement {
    return { per_second: this.latencies.length / (Number((this.last ?? this.started) - this.started) / 1e9), latencies_ms: this.latencies };
  }
}

/** Runs `operation` repeatedly for about `seconds`; returns operations per second and per-call latencies. */
export function measureSync(operation: () => void, seconds: number): Measurement {
  for (let warm = 0; warm < 200; warm++) operation();
  const timer = new LoopTimer(seconds);
  while (timer.next()) operation();
  return timer.result();
}

/** The async twin of measureSync, one operation at a time. */
export async function measureAsync(operation: () => Promise<unknown>, seconds: number, warmup = 50): Promise<Measurement> {
  for (let warm = 0; warm < warmup; warm++) await operation();
  const timer = new LoopTimer(seconds);
  while (timer.next()) await operation();
  return timer.result();
}
