import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { MAX_CLAIMS_BYTES, type Claims } from '../domain/claims.js';
import { extension, OID, type CertificateExtension } from './certificate-builder.js';

/** The media type of the claims carried in the CMW extension (PROTOCOL.md 1.4). */
export const CLAIMS_MEDIA_TYPE = 'application/eat-ucs+json';

export function claimsExtension(claims: Claims): CertificateExtension {
  const json = Buffer.from(JSON.stringify(claims), 'utf8');
  if (json.length > MAX_CLAIMS_BYTES) throw new Error(`claims JSON is ${json.length} bytes, over the ${MAX_CLAIMS_BYTES}-byte limit`);
  return extension.conceptualMessageWrapper(CLAIMS_MEDIA_TYPE, json);
}

/** Reads the claims from a CMW extension value (DER UTF8String); undefined when it is not ours. */
export function decodeClaimsExtensionValue(value: Uint8Array): Claims | undefined {
  const parsed = asn1js.fromBER(value);
  if (parsed.offset === -1 || !(parsed.result instanceof asn1js.Utf8String)) return undefined;
  try {
    const record: unknown = JSON.parse(parsed.result.valueBlock.value);
    if (!Array.isArray(record) || record.length !== 2 || record[0] !== CLAIMS_MEDIA_TYPE || typeof record[1] !== 'string') return undefined;
    const claims: unknown = JSON.parse(Buffer.from(record[1], 'base64url').toString('utf8'));
    if (typeof claims !== 'object' || claims === null || (claims as { v?: unknown }).v !== 1) return undefined;
    return claims as Claims;
  } catch {
    return undefined;
  }
}

/** The claims carried by a DER certificate, or undefined when it has no readable claims extension. */
export function claimsOfCertificate(der: Uint8Array): Claims | undefined {
  const certificate = pkijs.Certificate.fromBER(der);
  const found = certificate.extensions?.find((candidate) => candidate.extnID === OID.cmw);
  return found ? decodeClaimsExtensionValue(found.extnValue.valueBlock.valueHexView) : undefined;
}
