import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { claimsOfCertificate } from '../pki/claims-extension.js';
import { pemBlocks } from '../pki/pem.js';
import { normalizeSerial } from '../domain/serial.js';
import { parseCommandArgs } from './args.js';
import { CliError, usageError } from './cli-error.js';

/** `keybroker cert show FILE`: the certificate's identity and validity, with the attestation claims decoded. */
export async function certCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== 'show') throw usageError(`unknown command "cert ${sub ?? ''}": use show`);
  const { positionals } = parseCommandArgs(rest, { json: { type: 'boolean' } }, true);
  if (positionals.length !== 1) throw usageError('give one certificate file (PEM or DER)');
  const bytes = await readFile(positionals[0]!).catch(() => { throw new CliError(`cannot read ${positionals[0]}`); });
  const der = pemBlocks(bytes.toString('latin1')).find((block) => block.label === 'CERTIFICATE')?.der ?? bytes;
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(der);
  } catch {
    throw new CliError(`${positionals[0]} is not an X.509 certificate`);
  }
  const claims = claimsOfCertificate(der);
  const summary = {
    subject: certificate.subject.split('\n').join(', '),
    issuer: certificate.issuer.split('\n').join(', '),
    serial: normalizeSerial(certificate.serialNumber),
    not_before: new Date(certificate.validFrom).toISOString(),
    not_after: new Date(certificate.validTo).toISOString(),
    subject_alt_name: certificate.subjectAltName ?? null,
    fingerprint_sha256: certificate.fingerprint256.replace(/:/g, '').toLowerCase(),
    claims: claims ?? null,
  };
  process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  return 0;
}
