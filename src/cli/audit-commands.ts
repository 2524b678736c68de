import { createReadStream } from 'node:fs';
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { verifyChain } from '../domain/audit-chain.js';
import { AUDIT_FILE } from '../store/fs/fs-audit-log.js';
import { parseCommandArgs } from './args.js';
import { CliError, usageError } from './cli-error.js';
import { cliConfig } from './home.js';

/**
 * `keybroker audit verify [--from N] [--file F] [--config FILE] [--json]`: checks the hash chain of the audit log
 * (default `<data>/audit.jsonl`); exit 0 when intact, 1 at the first broken record, naming it.
 */
export async function auditCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== 'verify') throw usageError(`unknown command "audit ${sub ?? ''}": use verify`);
  const { values } = parseCommandArgs(rest, { from: { type: 'string' }, file: { type: 'string' }, config: { type: 'string' }, json: { type: 'boolean' } });
  if (values.from !== undefined && !/^[1-9]\d{0,11}$/.test(values.from)) throw usageError('--from must be a record number (1 or more)');
  const file = values.file ?? join(cliConfig({ configFile: values.config }).store.dataDir, AUDIT_FILE);
  try {
    await access(file);
  } catch {
    throw new CliError(`no audit log at ${file}`);
  }
  const lines = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
  const verdict = await verifyChain(lines, values.from === undefined ? 1 : Number(values.from));
  lines.close();
  if (values.json) process.stdout.write(`${JSON.stringify(verdict.ok ? { ok: true, checked: verdict.checked, last_seq: verdict.last?.seq ?? null, last_hash: verdict.last?.hash ?? null } : verdict)}\n`);
  if (!verdict.ok) {
    process.stderr.write(`keybroker: audit log broken at record ${verdict.seq} (line ${verdict.line}): ${verdict.reason}\n`);
    return 1;
  }
  if (!values.json) process.stdout.write(`audit log intact: ${verdict.checked} records checked${verdict.last ? `, last seq ${verdict.last.seq}, hash ${verdict.last.hash}` : ''}\n`);
  return 0;
}
