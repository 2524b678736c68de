import { readFile } from 'node:fs/promises';
import { reportDataMatches, v1ReportData } from '../attestation/binding.js';
import { createBuiltinVerifier } from '../attestation/verifiers/builtin-verifiers.js';
import type { VerifiedEvidence } from '../attestation/verifier.js';
import type { Config } from '../config/config.js';
import { isKbsError } from '../domain/errors.js';
import { pemToDer } from '../pki/pem.js';
import { parseCommandArgs, requireOption } from './args.js';
import { CliError, usageError } from './cli-error.js';
import { evidenceFromFile } from './evidence-input.js';
import { cliConfig } from './home.js';

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$/;
const HEX = /^(?:[0-9a-fA-F]{2}){1,64}$/;
const TEES = ['snp', 'tdx'];

async function readInput(path: string, flag: string): Promise<Buffer> {
  return readFile(path).catch(() => { throw new CliError(`${flag}: cannot read ${path}`); });
}

/** The requested TEE's settings switched on: asking for it on the command line is the operator's choice. */
function withTeeEnabled(attestation: Config['attestation'], tee: string): Config['attestation'] {
  const settings = (attestation as unknown as Record<string, unknown>)[tee];
  if (typeof settings !== 'object' || settings === null) return attestation;
  return { ...attestation, [tee]: { ...settings, enabled: true } };
}

/** `--report-data HEX` (the report's field, zero-padded) or `--nonce N --spki FILE` (PROTOCOL.md 1.2); undefined: no binding check. */
async function expectedBinding(values: { 'report-data'?: string; nonce?: string; spki?: string }): Promise<((reported: Uint8Array) => boolean) | undefined> {
  const hex = values['report-data'];
  if (hex !== undefined) {
    if (values.nonce !== undefined || values.spki !== undefined) throw usageError('give --report-data or --nonce with --spki, not both');
    if (!HEX.test(hex)) throw usageError('--report-data must be hex, at most 64 bytes');
    const expected = Buffer.from(hex, 'hex');
    return (reported) => {
      if (expected.length > reported.length) return false;
      const padded = Buffer.alloc(reported.length);
      expected.copy(padded);
      return padded.equals(Buffer.from(reported));
    };
  }
  if (values.nonce === undefined && values.spki === undefined) return undefined;
  if (values.nonce === undefined || values.spki === undefined) throw usageError('--nonce and --spki go together');
  const spkiFile = await readInput(values.spki, '--spki');
  const spki = pemToDer(spkiFile.toString('latin1'), 'PUBLIC KEY') ?? spkiFile;
  const expected = v1ReportData(values.nonce, spki);
  return (reported) => reportDataMatches(reported, expected);
}

/** Lifts the fields scripts look for (report_data, and mr_td for TDX) next to the normalized claims. */
function output(verified: VerifiedEvidence): Record<string, unknown> {
  const { claims } = verified;
  const lifted: Record<string, unknown> = { report_data: Buffer.from(verified.reportData).toString('hex') };
  if (typeof claims.tee_claims.mr_td === 'string') lifted.mr_td = claims.tee_claims.mr_td;
  return { ...claims, ...lifted };
}

/**
 * `keybroker evidence verify --tee snp|tdx --evidence FILE [--certs FILE ...] [--collateral DIR] [--at RFC3339]
 * [--report-data HEX | --nonce N --spki FILE] [--json] [--config FILE]`: verifies offline through the same built-in
 * verifiers as the server. Exit 0 with the claims as JSON; exit 1 with one line naming the failed check.
 */
export async function evidenceCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== 'verify') throw usageError(`unknown command "evidence ${sub ?? ''}": use verify`);
  const { values, positionals } = parseCommandArgs(rest, {
    tee: { type: 'string' },
    evidence: { type: 'string' },
    certs: { type: 'string', multiple: true },
    collateral: { type: 'string' },
    at: { type: 'string' },
    'report-data': { type: 'string' },
    nonce: { type: 'string' },
    spki: { type: 'string' },
    json: { type: 'boolean' },
    config: { type: 'string' },
  }, true);
  // `--certs a.pem b.der` as well as `--certs a.pem --certs b.der`: further file names follow the flag.
  if (positionals.length > 0 && values.certs === undefined) throw usageError(`unexpected argument "${positionals[0]}"`);
  const certificateFiles = [...(values.certs ?? []), ...positionals];
  const tee = requireOption(values.tee, '--tee');
  if (!TEES.includes(tee)) throw usageError(`--tee must be one of ${TEES.join(', ')}`);
  // A TDX quote carries its PCK chain; collateral comes from --collateral. Ignoring --certs would hide a mistake.
  if (tee === 'tdx' && certificateFiles.length > 0) throw usageError('--certs is for --tee snp (VCEK, VLEK, ASK, ARK); a TDX quote carries its PCK chain, give collateral with --collateral DIR');
  const evidencePath = requireOption(values.evidence, '--evidence');
  let at: Date | undefined;
  if (values.at !== undefined) {
    at = new Date(values.at);
    if (!RFC3339.test(values.at) || Number.isNaN(at.getTime())) throw usageError('--at must be an RFC 3339 time such as 2025-07-01T00:00:00Z');
  }
  const bindingMatches = await expectedBinding(values);
  const certificates = await Promise.all(certificateFiles.map((path) => readInput(path, '--certs')));
  const content = await readInput(evidencePath, '--evidence');
  const config = cliConfig({ configFile: values.config });

  try {
    const verifier = await createBuiltinVerifier(withTeeEnabled(config.attestation, tee), () => at ?? new Date(), {
      certificates, offline: true, ...(values.collateral !== undefined ? { collateralDir: values.collateral } : {}),
    });
    if (!verifier || !verifier.tees.includes(tee)) throw new CliError(`the built-in verifier does not handle TEE "${tee}"`);
    const verified = await verifier.verify(tee, evidenceFromFile(tee, content));
    if (bindingMatches && !bindingMatches(verified.reportData)) throw new CliError('binding: report_data does not match the expected value');
    const result = output(verified);
    process.stdout.write(`${values.json ? JSON.stringify(result) : JSON.stringify(result, null, 2)}\n`);
    return 0;
  } catch (error) {
    if (isKbsError(error)) throw new CliError(`${error.code}: ${error.detail}`);
    throw error;
  }
}
