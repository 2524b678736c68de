import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { IDENTITY_SEGMENT } from '../domain/identity.js';
import { caExists, initCertificateAuthority, loadCertificateAuthority, type CertificateAuthority } from '../pki/ca-home.js';
import { issueAdminCertificate, issueServerCertificate } from '../pki/certificate-profiles.js';
import { generateEcKeyPair } from '../pki/key-pair.js';
import { signerFromPem } from '../pki/signer.js';
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../store/fs/atomic-write.js';
import { caParameters } from '../server/compose.js';
import { parseCommandArgs, requireOption } from './args.js';
import { CliError, usageError } from './cli-error.js';
import { cliConfig } from './home.js';
import type { Config } from '../config/config.js';

function issuerSummary(ca: CertificateAuthority) {
  return {
    issuers: ca.issuers.map((issuer) => ({
      id: issuer.id,
      state: issuer.state,
      not_before: issuer.certificate.notBefore.toISOString(),
      not_after: issuer.certificate.notAfter.toISOString(),
    })),
  };
}

function print(json: boolean, value: unknown, text: string): void {
  process.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : `${text}\n`);
}

async function loadCa(config: Config): Promise<CertificateAuthority> {
  if (!(await caExists(config.ca.dir))) throw new CliError(`no CA in ${config.ca.dir}: run "keybroker ca init" first`);
  return loadCertificateAuthority(config.ca.dir, caParameters(config));
}

/** Writes key.pem (0600), cert.pem and chain.pem into `dir`, the layout `--admin DIR` and `--cert-dir DIR` read. */
export async function writeCredentialDirectory(dir: string, files: { keyPem: string; certificatePem: string; chainPem: string }): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFileAtomic(join(dir, 'key.pem'), files.keyPem, 0o600);
  await writeFileAtomic(join(dir, 'cert.pem'), files.certificatePem, 0o644);
  await writeFileAtomic(join(dir, 'chain.pem'), files.chainPem, 0o644);
}

async function init(args: string[]): Promise<number> {
  const { values } = parseCommandArgs(args, { json: { type: 'boolean' }, config: { type: 'string' } });
  const config = cliConfig({ configFile: values.config });
  if (await caExists(config.ca.dir)) throw new CliError(`a CA already exists in ${config.ca.dir}`);
  const ca = await initCertificateAuthority(config.ca.dir, caParameters(config));
  print(values.json === true, { dir: ca.dir, root_serial: ca.root.serial, ...issuerSummary(ca) }, `created a CA in ${ca.dir} (active issuer ${ca.active.id}); trust bundle: ${join(ca.dir, 'bundle.pem')}`);
  return 0;
}

async function status(args: string[]): Promise<number> {
  const { values } = parseCommandArgs(args, { json: { type: 'boolean' }, config: { type: 'string' } });
  const ca = await loadCa(cliConfig({ configFile: values.config }));
  const summary = issuerSummary(ca);
  print(values.json === true, summary, summary.issuers.map((issuer) => `${issuer.id}\t${issuer.state}\t${issuer.not_before}\t${issuer.not_after}`).join('\n'));
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
  const { values } = parseCommandArgs(args, { dns: { type: 'string', multiple: true }, ip: { type: 'string', multiple: true }, out: { type: 'string' }, json: { type: 'boolean' }, config: { type: 'string' } });
  const out = requireOption(values.out, '--out');
  const dnsNames = asList(values.dns);
  const ipAddresses = asList(values.ip);
  if (dnsNames.length + ipAddresses.length === 0) throw usageError('give at least one --dns or --ip');
  const config = cliConfig({ configFile: values.config });
  const ca = await loadCa(config);
  const rootKey = await readFile(join(ca.dir, 'root', 'key.pem'), 'utf8').catch(() => {
    throw new CliError('the root key is not in this CA home (offline root): sign the server certificate where the root key is');
  });
  const key = generateEcKeyPair('P-256');
  const issued = issueServerCertificate({ certificate: ca.root, signer: signerFromPem(rootKey) }, { spki: key.spki, trustDomain: config.ca.trustDomain, dnsNames, ipAddresses, ttlSeconds: config.ca.serverTtlSeconds, now: new Date() });
  await writeCredentialDirectory(out, { keyPem: key.keyPem, certificatePem: issued.pem, chainPem: ca.root.pem });
  print(values.json === true, { serial: issued.serial, expires_at: issued.notAfter.toISOString(), dir: out }, `wrote ${join(out, 'cert.pem')} for ${[...dnsNames, ...ipAddresses].join(', ')}`);
  return 0;
}

export async function caCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  switch (sub) {
    case 'init': return init(rest);
    case 'status': return status(rest);
    case 'issue-admin': return issueAdmin(rest);
    case 'issue-server': return issueServer(rest);
    default: throw usageError(`unknown command "ca ${sub ?? ''}": use init, status, issue-admin or issue-server`);
  }
}
