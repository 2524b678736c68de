import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import { attestV1 } from '../client/attest.js';
import { chooseAttester, type AttesterName } from '../client/attesters.js';
import { getResource } from '../client/resources.js';
import type { ClientKeyType } from '../pki/create-csr.js';
import { parseCommandArgs, requireOption } from './args.js';
import { usageError } from './cli-error.js';
import { writeCredentialDirectory } from './ca-commands.js';
import { attestV0Command, getV0Resource } from './client-v0-commands.js';
import { tlsFromFiles } from './credential-files.js';

const KEY_TYPES: ClientKeyType[] = ['ec-p256', 'ec-p384', 'ed25519', 'rsa-3072'];
const ATTESTERS: AttesterName[] = ['sample', 'tsm', 'auto'];

/** `--protocol v1` (certificate, the default) or `v0` (trustee protocol 0.4.0, token). */
function protocolOf(value: string | undefined): 'v0' | 'v1' {
  if (value === undefined || value === 'v1') return 'v1';
  if (value === 'v0') return 'v0';
  throw usageError('--protocol must be v1 or v0');
}

async function attestCommand(args: string[]): Promise<number> {
  const { values } = parseCommandArgs(args, {
    url: { type: 'string' }, tee: { type: 'string' }, out: { type: 'string' }, cacert: { type: 'string' },
    'key-type': { type: 'string' }, measurement: { type: 'string' }, verifier: { type: 'string' }, json: { type: 'boolean' },
    attester: { type: 'string' }, 'tsm-root': { type: 'string' }, protocol: { type: 'string' },
  });
  const url = requireOption(values.url, '--url');
  const tee = requireOption(values.tee, '--tee');
  const out = requireOption(values.out, '--out');
  const protocol = protocolOf(values.protocol);
  if (protocol === 'v0') {
    if (tee !== 'sample') throw usageError(`this CLI attests with the sample TEE only; "${tee}" needs the attester of its hardware`);
    return attestV0Command({ url, tee, out, cacert: values.cacert, keyType: values['key-type'], measurement: values.measurement, json: values.json === true });
  }
  const keyType = (values['key-type'] ?? 'ec-p256') as ClientKeyType;
  if (!KEY_TYPES.includes(keyType)) throw usageError(`--key-type must be one of ${KEY_TYPES.join(', ')}`);
  const attesterName = values.attester as AttesterName | undefined;
  if (attesterName !== undefined && !ATTESTERS.includes(attesterName)) throw usageError(`--attester must be one of ${ATTESTERS.join(', ')}`);
  const tls = await tlsFromFiles({ cacert: values.cacert });
  const attester = await chooseAttester({ tee, attester: attesterName, tsmRoot: values['tsm-root'], sampleMeasurement: values.measurement });
  const credential = await attestV1({ url, tee, keyType, ca: tls.ca, verifier: values.verifier, attester });
  await writeCredentialDirectory(out, { keyPem: credential.keyPem, certificatePem: credential.certificatePem, chainPem: credential.chainPem });
  const summary = { spiffe_id: credential.spiffeId, serial: credential.serial, expires_at: credential.expiresAt.toISOString(), dir: out };
  process.stdout.write(values.json ? `${JSON.stringify({ ...summary, claims: credential.claims }, null, 2)}\n`
    : `wrote ${join(out, 'cert.pem')}, key.pem and chain.pem for ${credential.spiffeId} (expires ${summary.expires_at})\n`);
  return 0;
}

async function getCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {
    url: { type: 'string' }, 'cert-dir': { type: 'string' }, cacert: { type: 'string' }, json: { type: 'boolean' }, protocol: { type: 'string' },
  }, true);
  const url = requireOption(values.url, '--url');
  const certDir = requireOption(values['cert-dir'], '--cert-dir');
  if (positionals.length !== 1) throw usageError('give exactly one resource path: repository/type/tag');
  const path = positionals[0]!;
  const value = protocolOf(values.protocol) === 'v0'
    ? await getV0Resource({ url, certDir, cacert: values.cacert, path })
    : await getResource(url, path, await tlsFromFiles({ cacert: values.cacert, credentialDir: certDir }));
  // --json: base64 of the value, as kbs-client's get-resource prints it, with the path and size.
  process.stdout.write(values.json ? `${JSON.stringify({ path, size: value.length, value: value.toString('base64') })}\n` : value);
  return 0;
}

export async function clientCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  switch (sub) {
    case 'attest': return attestCommand(rest);
    case 'get': return getCommand(rest);
    default: throw usageError(`unknown command "client ${sub ?? ''}": use attest or get`);
  }
}

/** Reads all of standard input, or a file when given. */
export async function readInput(file: string | undefined): Promise<Buffer> {
  if (file) return readFile(file);
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
