/** One line of the benchmark table: a measured figure next to the baseline it is compared with. */
export interface BenchRow {
  group: string;
  name: string;
  /** Rate of the measured path. */
  per_second?: number;
  p50_ms?: number;
  p99_ms?: number;
  /** What the ratio divides by, and its rate. */
  baseline?: { name: string; per_second: number };
  ratio?: number;
  /** The issue's goal for the ratio, when it sets one. */
  target?: number;
  note?: string;
}

function cell(value: number | undefined, digits: number, width: number): string {
  return (value === undefined || Number.isNaN(value) ? '-' : value.toFixed(digits)).padStart(width);
}

export function formatTable(rows: readonly BenchRow[]): string {
  const lines = [`${'measurement'.padEnd(58)} ${'rate/s'.padStart(10)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'ratio'.padStart(7)} ${'target'.padStart(7)}  baseline`];
  let group = '';
  for (const row of rows) {
    if (row.group !== group) {
      group = row.group;
      lines.push(`-- ${group}`);
    }
    const met = row.ratio !== undefined && row.target !== undefined ? (row.ratio >= row.target ? ' met' : ' NOT met') : '';
    const baseline = row.baseline ? `${row.baseline.name} (${row.baseline.per_second.toFixed(0)}/s)` : '';
    lines.push(`${row.name.padEnd(58)} ${cell(row.per_second, 0, 10)} ${cell(row.p50_ms, 3, 8)} ${cell(row.p99_ms, 3, 8)} ${cell(row.ratio, 3, 7)} ${cell(row.target, 2, 7)}${met.padEnd(8)} ${baseline}${row.note ? `  [${row.note}]` : ''}`);
  }
  return `${lines.join('\n')}\n`;
}
