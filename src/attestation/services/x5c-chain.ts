import { X509Certificate, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { KbsError } from '../../domain/errors.js';

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;
const MAX_CHAIN = 8;

/** Every certificate of the PEM files (bundles allowed). */
export async function readTrustedCertificates(paths: readonly string[]): Promise<X509Certificate[]> {
  const certificates: X509Certificate[] = [];
  for (const path of paths) {
    const blocks = (await readFile(path, 'utf8')).match(PEM_CERTIFICATE) ?? [];
    if (blocks.length === 0) throw new Error(`${path} holds no PEM certificate`);
    certificates.push(...blocks.map((block) => new X509Certificate(block)));
  }
  return certificates;
}

function within(certificate: X509Certificate, now: Date): boolean {
  return new Date(certificate.validFrom) <= now && now <= new Date(certificate.validTo);
}

function failed(detail: string): KbsError {
  return new KbsError('attestation-failed', `token x5c: ${detail}`);
}

/**
 * The signing key of a token whose header carries an `x5c` chain (RFC 7515 4.1.6): each certificate must be
 * signed by the next and valid now, and the last must be, or be signed by, a trusted certificate. A key the
 * token merely embeds (header `jwk`) is never trusted by itself.
 */
export function keyFromX5c(x5c: unknown, trusted: readonly X509Certificate[], now: Date): KeyObject {
  if (!Array.isArray(x5c) || x5c.length === 0 || x5c.length > MAX_CHAIN || !x5c.every((item) => typeof item === 'string')) {
    throw failed(`must be 1 to ${MAX_CHAIN} base64 certificates`);
  }
  let chain: X509Certificate[];
  try {
    chain = (x5c as string[]).map((item) => new X509Certificate(Buffer.from(item, 'base64')));
  } catch {
    throw failed('holds a certificate that does not parse');
  }
  for (const [index, certificate] of chain.entries()) {
    if (!within(certificate, now)) throw failed(`certificate ${index} is not valid now`);
    const issuer = chain[index + 1];
    if (issuer && !(certificate.checkIssued(issuer) && certificate.verify(issuer.publicKey))) throw failed(`certificate ${index} is not signed by certificate ${index + 1}`);
  }
  const last = chain[chain.length - 1]!;
  const anchored = trusted.some((anchor) => within(anchor, now) && (last.raw.equals(anchor.raw) || (last.checkIssued(anchor) && last.verify(anchor.publicKey))));
  if (!anchored) throw failed('the chain does not lead to a trusted certificate');
  return chain[0]!.publicKey;
}
