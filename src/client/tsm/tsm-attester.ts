import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Attester } from '../attesters.js';
import { parseSnpCertTable } from './snp-cert-table.js';
import { snpReportToJson } from './snp-report-json.js';
import { configfsFiles, type TsmFiles } from './tsm-files.js';

export const DEFAULT_TSM_ROOT = '/sys/kernel/config/tsm/report';

export interface TsmAttesterOptions {
  /** The configfs-tsm report directory (default /sys/kernel/config/tsm/report). */
  root?: string;
  /** When given (`snp` or `tdx`), a provider of another TEE is an error rather than evidence the broker refuses. */
  tee?: string;
  /** How often to start over when another writer changed the entry meanwhile (default 5). */
  maxAttempts?: number;
  files?: TsmFiles;
}

const PROVIDER_TEE: Record<string, string> = { sev_guest: 'snp', tdx_guest: 'tdx' };

/** Thrown when another writer kept changing the entry between our write of `inblob` and our reads. */
export class TsmGenerationRaceError extends Error {
  constructor(attempts: number) {
    super(`configfs-tsm: another writer changed the report entry during each of ${attempts} attempts`);
    this.name = 'TsmGenerationRaceError';
  }
}

interface TsmReport {
  provider: string;
  outblob: Buffer;
  auxblob: Buffer | undefined;
}

function evidenceOf(report: TsmReport): unknown {
  switch (report.provider) {
    case 'sev_guest':
      // trustee's SnpEvidence: cert_chain is null when the host supplied no certificate table.
      return {
        attestation_report: snpReportToJson(report.outblob),
        cert_chain: report.auxblob && report.auxblob.length > 0 ? parseSnpCertTable(report.auxblob) : null,
      };
    case 'tdx_guest':
      return { quote: report.outblob.toString('base64') };
    default:
      throw new Error(`configfs-tsm provider "${report.provider}" is not supported (sev_guest, tdx_guest)`);
  }
}

async function readRequired(files: TsmFiles, entry: string, name: string): Promise<Buffer> {
  const value = await files.read(join(entry, name));
  if (value === undefined) throw new Error(`configfs-tsm entry has no ${name} attribute`);
  return value;
}

async function readGeneration(files: TsmFiles, entry: string): Promise<number> {
  const text = (await readRequired(files, entry, 'generation')).toString('utf8').trim();
  if (!/^\d+$/.test(text)) throw new Error(`configfs-tsm generation "${text.slice(0, 20)}" is not a number`);
  return Number(text);
}

/**
 * One report from an entry: our write of `inblob` must be the only change between the two reads of
 * `generation`, otherwise the blobs may answer another writer's report data.
 */
async function reportOnce(files: TsmFiles, entry: string, reportData: Uint8Array): Promise<TsmReport | undefined> {
  const before = await readGeneration(files, entry);
  await files.write(join(entry, 'inblob'), reportData);
  const outblob = await readRequired(files, entry, 'outblob');
  const provider = (await readRequired(files, entry, 'provider')).toString('utf8').trim();
  const auxblob = await files.read(join(entry, 'auxblob'));
  if (await readGeneration(files, entry) !== before + 1) return undefined;
  return { provider, outblob, auxblob };
}

/** Evidence from Linux configfs-tsm (SEV-SNP `sev_guest`, TDX `tdx_guest`), in trustee's `snp` or `tdx` shape. */
export function tsmAttester(options: TsmAttesterOptions = {}): Attester {
  const files = options.files ?? configfsFiles;
  const root = options.root ?? DEFAULT_TSM_ROOT;
  const maxAttempts = options.maxAttempts ?? 5;
  return async (reportData) => {
    if (reportData.length !== 64) throw new Error(`configfs-tsm takes 64 bytes of report data, got ${reportData.length}`);
    const entry = join(root, `keybroker-${process.pid}-${randomBytes(6).toString('hex')}`);
    await files.mkdir(entry);
    try {
      for (let attempt = 1; attempt <= maxAttempts; attempt++) {
        const report = await reportOnce(files, entry, reportData);
        if (!report) continue;
        const tee = PROVIDER_TEE[report.provider];
        if (options.tee && tee && tee !== options.tee) {
          throw new Error(`configfs-tsm provider ${report.provider} produces ${tee} evidence, not ${options.tee}`);
        }
        return evidenceOf(report);
      }
      throw new TsmGenerationRaceError(maxAttempts);
    } finally {
      // A leftover entry holds no secret; failing to remove it must not hide the report or the first error.
      await files.rmdir(entry).catch(() => undefined);
    }
  };
}
