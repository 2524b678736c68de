import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { IDENTITY_SEGMENT } from '../domain/identity.js';
import {
  caExists, initCertificateAuthority, issuerRegistry, issuerStatus, loadCertificateAuthority, readIssuers, rootAuthority, rootAuthorityIn,
  signIssuerRequest, type CaParameters, type CertificateAuthority,
} from '../pki/ca-home.js';
import { CaBusy } from '../pki/ca-lock.js';
import { activateIssuer, importIssuer, markIssuer, prepareIssuer, requestIssuerCertificate, retireIssuer } from '../pki/ca-operations.js';
import { issueAdminCertificate, issueServerCertificate } from '../pki/certificate-profiles.js';
import { dueRotationStep, statusDocument, TransitionRefused, type RotationStep } from '../pki/issuer-states.js';
import { generateEcKeyPair } from '../pki/key-pair.js';
import { writeFileAtomic } from '../store/fs/atomic-write.js';
import { withCaParameters } from '../server/compose.js';
import { jsonLogger } from '../server/logger.js';
import { parseCommandArgs, requireOption } from './args.js';
import { CliError, usageError } from './cli-error.js';
import { cliConfig } from './home.js';
import type { Config } from '../config/config.js';

/** Exit codes of the lifecycle commands (README, "CA lifecycle"): the state machine refused, or another process holds the CA lock. */
export const EXIT_REFUSED = 3;
export const EXIT_BUSY = 4;

function issuerSummary(ca: CertificateAuthority) {
  return statusDocument(ca.issuers.map(issuerStatus));
}

function print(json: boolean, value: unknown, text: string): void {
  process.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : `${text}\n`);
}

/** Diagnostics go to stderr: stdout carries the commands' answers (--json). */
const log = jsonLogger({ out: process.stderr, err: process.stderr });

/** The CA parameters of `config`; with a PostgreSQL `[store]` its issuer registry is open while `action` runs. */
function withParameters<T>(config: Config, action: (parameters: CaParameters) => Promise<T>): Promise<T> {
  return withCaParameters(config, log, action);
}

async function loadCa(config: Config): Promise<CertificateAuthority> {
  if (!(await caExists(config.ca.dir))) throw new CliError(`no CA in ${config.ca.dir}: run "keybroker ca init" first`);
  return withParameters(config, (parameters) => loadCertificateAuthority(config.ca.dir, parameters));
}

/** Writes key.pem (0600), cert.pem and chain.pem into `dir`, the layout `--admin DIR` and `--cert-dir DIR` read. */
export async function writeCredentialDirectory(dir: string, files: { keyPem: string; certificatePem: string; chainPem: string }): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFileAtomic(join(dir, 'key.pem'), files.keyPem, 0o600);
  await writeFileAtomic(join(dir, 'cert.pem'), files.certificatePem, 0o644);
  await writeFileAtomic(join(dir, 'chain.pem'), files.chainPem, 0o644);
}

async function init(args: string[]): Promise<number> {
  const { values } = parseCommandArgs(args, { json: { type: 'boolean' }, config: { type: 'string' }, 'root-offline': { type: 'boolean' }, 'root-out': { type: 'string' } });
  const rootOffline = values['root-offline'] === true;
  if (rootOffline !== (values['root-out'] !== undefined)) throw usageError('--root-offline and --root-out DIR go together: the root key is written to DIR, not to the CA home');
  const config = cliConfig({ configFile: values.config });
  if (await caExists(config.ca.dir)) throw new CliError(`a CA already exists in ${config.ca.dir}`);
  const rootOfflineDir = rootOffline ? requireOption(values['root-out'], '--root-out') : undefined;
  const ca = await withParameters(config, (parameters) => initCertificateAuthority(config.ca.dir, parameters, new Date(), rootOfflineDir ? { rootOfflineDir } : {}));
  const where = rootOfflineDir ? `; root key written to ${join(rootOfflineDir, 'key.pem')}: move it offline` : '';
  print(values.json === true, { dir: ca.dir, root_serial: ca.root.serial, root_offline: rootOffline, ...issuerSummary(ca) },
    `created a CA in ${ca.dir} (active issuer ${ca.active.id}); trust bundle: ${join(ca.dir, 'bundle.pem')}${where}`);
  return 0;
}

async function status(args: string[]): Promise<number> {
  const { values } = parseCommandArgs(args, { json: { type: 'boolean' }, config: { type: 'string' } });
  const ca = await loadCa(cliConfig({ configFile: values.config }));
  const summary = issuerSummary(ca);
  print(values.json === true, summary, summary.issuers.map((issuer) => `${issuer.id}\t${issuer.state}\t${issuer.not_before}\t${issuer.not_after}`).join('\n'));
  return 0;
}

/** Runs a lifecycle step: the state machine's refusal exits 3, a CA locked by another process exits 4. */
async function lifecycleStep<T>(step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (error) {
    if (error instanceof TransitionRefused) throw new CliError(error.message, EXIT_REFUSED);
    if (error instanceof CaBusy) throw new CliError(error.message, EXIT_BUSY);
    throw error;
  }
}

const LIFECYCLE_OPTIONS = { json: { type: 'boolean' }, config: { type: 'string' }, 'if-due': { type: 'boolean' } } as const;

/** With --if-due, whether the rotation schedule calls for `step` now; prints why not otherwise. */
async function dueOrSkip(config: Config, parameters: CaParameters, ifDue: boolean, step: RotationStep, json: boolean): Promise<boolean> {
  if (!ifDue) return true;
  const due = dueRotationStep((await readIssuers(config.ca.dir, { withSigners: false, issuers: issuerRegistry(config.ca.dir, parameters) })).map(issuerStatus), new Date());
  if (due === step) return true;
  print(json, { changed: false, due: due ?? null }, `nothing to do: ${step} is not due${due ? ` (${due} is)` : ''}`);
  return false;
}

async function lifecycleConfig(values: { config?: string | boolean | undefined }): Promise<Config> {
  const config = cliConfig({ configFile: typeof values.config === 'string' ? values.config : undefined });
  if (!(await caExists(config.ca.dir))) throw new CliError(`no CA in ${config.ca.dir}: run "keybroker ca init" first`);
  return config;
}

async function prepare(args: string[]): Promise<number> {
  const { values } = parseCommandArgs(args, LIFECYCLE_OPTIONS);
  const config = await lifecycleConfig(values);
  const json = values.json === true;
  return withParameters(config, async (parameters) => {
    if (!(await dueOrSkip(config, parameters, values['if-due'] === true, 'prepare', json))) return 0;
    const { id } = await lifecycleStep(() => prepareIssuer(config.ca.dir, parameters, new Date()));
    print(json, { id, state: 'prepared', changed: true }, `prepared issuer ${id}; it is in the trust bundle and becomes active with "keybroker ca activate"`);
    return 0;
  });
}

function describeTransition(result: { id: string; from: string; to: string; changed: boolean; retired?: string }): string {
  if (!result.changed) return `issuer ${result.id} is already ${result.to}`;
  return `issuer ${result.id}: ${result.from} -> ${result.to}${result.retired ? `; issuer ${result.retired} retired` : ''}`;
}

async function activate(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, LIFECYCLE_OPTIONS, true);
  if (positionals.length > 1) throw usageError('usage: keybroker ca activate [<id>] [--if-due] [--json]');
  const config = await lifecycleConfig(values);
  const json = values.json === true;
  return withParameters(config, async (parameters) => {
    if (!(await dueOrSkip(config, parameters, values['if-due'] === true, 'activate', json))) return 0;
    const result = await lifecycleStep(() => activateIssuer(config.ca.dir, positionals[0], new Date(), issuerRegistry(config.ca.dir, parameters)));
    print(json, result, describeTransition(result));
    return 0;
  });
}

async function retire(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, { json: { type: 'boolean' }, config: { type: 'string' } }, true);
  if (positionals.length > 1) throw usageError('usage: keybroker ca retire [<id>] [--json]');
  const config = await lifecycleConfig(values);
  const result = await withParameters(config, (parameters) =>
    lifecycleStep(() => retireIssuer(config.ca.dir, positionals[0], new Date(), issuerRegistry(config.ca.dir, parameters))));
  print(values.json === true, result, describeTransition(result));
  return 0;
}

async function mark(action: 'taint' | 'revoke', args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, { json: { type: 'boolean' }, config: { type: 'string' } }, true);
  if (positionals.length !== 1) throw usageError(`usage: keybroker ca ${action} <id> [--json]`);
  const config = await lifecycleConfig(values);
  const result = await withParameters(config, (parameters) =>
    lifecycleStep(() => markIssuer(config.ca.dir, positionals[0]!, action, new Date(), issuerRegistry(config.ca.dir, parameters))));
  print(values.json === true, result, describeTransition(result));
  return 0;
}

/** Offline root, step 1: an issuer key in the CA home and its CSR, written to --out (and kept as issuers/<id>/request.csr). */
async function requestIssuer(args: string[]): Promise<number> {
  const { values } = parseCommandArgs(args, { ...LIFECYCLE_OPTIONS, out: { type: 'string' } });
  const config = await lifecycleConfig(values);
  const json = values.json === true;
  const request = await withParameters(config, async (parameters) => {
    if (!(await dueOrSkip(config, parameters, values['if-due'] === true, 'prepare', json))) return undefined;
    return lifecycleStep(() => requestIssuerCertificate(config.ca.dir, new Date(), parameters.keys, issuerRegistry(config.ca.dir, parameters)));
  });
  if (!request) return 0;
  const out = typeof values.out === 'string' ? values.out : join(config.ca.dir, 'issuers', request.id, 'request.csr');
  if (typeof values.out === 'string') await writeFileAtomic(out, request.csrPem, 0o644);
  print(json, { id: request.id, csr: out, created: request.created, changed: request.created },
    `${request.created ? 'new' : 'pending'} issuer request ${request.id}: have the root sign ${out}, then "keybroker ca import-issuer --cert FILE"`);
  return 0;
}

/** Offline root, step 2, run where the root key is: signs an issuer CSR. Needs no CA home. */
async function signIssuer(args: string[]): Promise<number> {
  const { values } = parseCommandArgs(args, { root: { type: 'string' }, csr: { type: 'string' }, out: { type: 'string' }, 'ttl-seconds': { type: 'string' }, json: { type: 'boolean' }, config: { type: 'string' } });
  const rootDir = requireOption(values.root, '--root');
  const csrPem = await readFile(requireOption(values.csr, '--csr'), 'utf8');
  const out = requireOption(values.out, '--out');
  const config = cliConfig({ configFile: values.config });
  const ttlText = values['ttl-seconds'];
  const ttlSeconds = ttlText === undefined ? config.ca.issuerTtlSeconds : Number(ttlText);
  if (!Number.isSafeInteger(ttlSeconds) || ttlSeconds < 1) throw usageError('--ttl-seconds must be a positive integer');
  const root = await rootAuthorityIn(rootDir);
  const pem = signIssuerRequest(root, csrPem, { trustDomain: config.ca.trustDomain, issuerTtlSeconds: ttlSeconds }, new Date());
  await writeFileAtomic(out, pem, 0o644);
  print(values.json === true, { certificate: out }, `wrote the issuer certificate ${out}; import it with "keybroker ca import-issuer --cert ${out}"`);
  return 0;
}

/** Offline root, step 3: the signed issuer certificate becomes the prepared issuer. */
async function importIssuerCommand(args: string[]): Promise<number> {
  const { values } = parseCommandArgs(args, { cert: { type: 'string' }, json: { type: 'boolean' }, config: { type: 'string' } });
  const certificatePem = await readFile(requireOption(values.cert, '--cert'), 'utf8');
  const config = await lifecycleConfig(values);
  const result = await withParameters(config, (parameters) =>
    lifecycleStep(() => importIssuer(config.ca.dir, certificatePem, new Date(), issuerRegistry(config.ca.dir, parameters))));
  print(values.json === true, { ...result, state: 'prepared', changed: result.imported },
    result.imported ? `imported issuer ${result.id} as prepared; "keybroker ca activate" makes it active` : `issuer ${result.id} was already imported`);
  return 0;
}

async function issueAdmin(args: string[]): Promise<number> {
  const { values } = parseCommandArgs(args, { name: { type: 'string' }, out: { type: 'string' }, json: { type: 'boolean' }, config: { type: 'string' } });
  const name = requireOption(values.name, '--name');
  const out = requireOption(values.out, '--out');
  if (!IDENTITY_SEGMENT.test(name)) throw usageError('--name must be 1 to 64 characters of [A-Za-z0-9_.-]');
  const config = cliConfig({ configFile: values.config });
  const ca = await loadCa(config);
  const key = generateEcKeyPair('P-256');
  const issued = issueAdminCertificate(ca.active, { spki: key.spki, trustDomain: config.ca.trustDomain, name, ttlSeconds: config.ca.adminTtlSeconds, now: new Date() });
  await writeCredentialDirectory(out, { keyPem: key.keyPem, certificatePem: issued.pem, chainPem: ca.active.certificate.pem });
  print(values.json === true, { spiffe_id: issued.spiffeId, serial: issued.serial, expires_at: issued.notAfter.toISOString(), dir: out },
    `wrote ${join(out, 'cert.pem')}, key.pem and chain.pem for ${issued.spiffeId} (expires ${issued.notAfter.toISOString()})`);
  return 0;
}

function asList(value: string | boolean | (string | boolean)[] | undefined): string[] {
  return (Array.isArray(value) ? value : value === undefined ? [] : [value]).filter((item): item is string => typeof item === 'string');
}

async function issueServer(args: string[]): Promise<number> {
  const { values } = parseCommandArgs(args, { dns: { type: 'string', multiple: true }, ip: { type: 'string', multiple: true }, out: { type: 'string' }, root: { type: 'string' }, json: { type: 'boolean' }, config: { type: 'string' } });
  const out = requireOption(values.out, '--out');
  const dnsNames = asList(values.dns);
  const ipAddresses = asList(values.ip);
  if (dnsNames.length + ipAddresses.length === 0) throw usageError('give at least one --dns or --ip');
  const config = cliConfig({ configFile: values.config });
  const ca = await loadCa(config);
  // An offline root signs from its own directory (--root DIR with cert.pem and key.pem), e.g. mounted media.
  const root = typeof values.root === 'string' ? await rootAuthorityIn(values.root) : await rootAuthority(ca.dir);
  if (!root) throw new CliError('the root key is not in this CA home (offline root): give --root DIR where the root key is');
  if (!root.certificate.der.equals(ca.root.der)) throw new CliError('--root holds another root than this CA home');
  const key = generateEcKeyPair('P-256');
  const issued = issueServerCertificate(root, { spki: key.spki, trustDomain: config.ca.trustDomain, dnsNames, ipAddresses, ttlSeconds: config.ca.serverTtlSeconds, now: new Date() });
  await writeCredentialDirectory(out, { keyPem: key.keyPem, certificatePem: issued.pem, chainPem: ca.root.pem });
  print(values.json === true, { serial: issued.serial, expires_at: issued.notAfter.toISOString(), dir: out }, `wrote ${join(out, 'cert.pem')} for ${[...dnsNames, ...ipAddresses].join(', ')}`);
  return 0;
}

export async function caCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  switch (sub) {
    case 'init': return init(rest);
    case 'status': return status(rest);
    case 'prepare': return prepare(rest);
    case 'activate': return activate(rest);
    case 'retire': return retire(rest);
    case 'taint': return mark('taint', rest);
    case 'revoke': return mark('revoke', rest);
    case 'request-issuer': return requestIssuer(rest);
    case 'sign-issuer': return signIssuer(rest);
    case 'import-issuer': return importIssuerCommand(rest);
    case 'issue-admin': return issueAdmin(rest);
    case 'issue-server': return issueServer(rest);
    default: throw usageError(`unknown command "ca ${sub ?? ''}": use init, status, prepare, activate, retire, taint, revoke, request-issuer, sign-issuer, import-issuer, issue-admin or issue-server`);
  }
}
