import { stat } from 'node:fs/promises';
import { DEFAULT_TSM_ROOT, tsmAttester } from './tsm/tsm-attester.js';

/** An attester turns the 64 bytes of report data into TEE evidence in the verifier's shape. */
export type Attester = (reportData: Uint8Array) => Promise<unknown>;

/** Attesters by name: `sample` (development), `tsm` (Linux configfs-tsm), `auto` (tsm when present). */
export type AttesterName = 'sample' | 'tsm' | 'auto';

export interface AttesterChoice {
  /** The TEE named in the challenge. */
  tee: string;
  attester?: Attester | AttesterName | undefined;
  /** Root of configfs-tsm reports for `tsm` and `auto` (default /sys/kernel/config/tsm/report). */
  tsmRoot?: string | undefined;
  /** The measurement the `sample` attester claims (hex). */
  sampleMeasurement?: string | undefined;
}

/**
 * The development `sample` attester: no hardware, just the report data (and an optional measurement), in the
 * shape trustee's sample attester uses.
 */
export function sampleAttester(options: { measurement?: string } = {}): Attester {
  return async (reportData) => ({
    svn: '1',
    report_data: Buffer.from(reportData).toString('base64'),
    ...(options.measurement ? { measurement: options.measurement } : {}),
  });
}

/** `tsm` when its report directory exists; otherwise a clear error, never the sample attester. */
async function autoAttester(tee: string, root: string): Promise<Attester> {
  const found = await stat(root).then((info) => info.isDirectory(), () => false);
  if (!found) {
    throw new Error(`no TEE attestation interface: ${root} (Linux configfs-tsm) is missing; `
      + 'run inside an SEV-SNP or TDX guest with configfs mounted, or choose the sample attester for development');
  }
  return tsmAttester({ root, tee });
}

/** The attester to use: the one given, or by name; without one, `sample` for the sample TEE and `auto` otherwise. */
export async function chooseAttester(choice: AttesterChoice): Promise<Attester> {
  const { tee, attester } = choice;
  if (typeof attester === 'function') return attester;
  const root = choice.tsmRoot ?? DEFAULT_TSM_ROOT;
  switch (attester ?? (tee === 'sample' ? 'sample' : 'auto')) {
    case 'sample': return sampleAttester(choice.sampleMeasurement ? { measurement: choice.sampleMeasurement } : {});
    case 'tsm': return tsmAttester({ root, tee });
    case 'auto': return autoAttester(tee, root);
    default: throw new Error(`unknown attester "${String(attester)}" (sample, tsm, auto)`);
  }
}
