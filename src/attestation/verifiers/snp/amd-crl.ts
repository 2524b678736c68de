import { createHash } from 'node:crypto';
import { checkVendorCrl, crlIssuerName, type CheckedCrl } from '../../collateral/vendor-crl.js';
import { amdSignatureVerifies, type AmdCertificate } from './amd-certificate.js';

/** Whether `der` is a CRL that names `ark` as its issuer (AMD publishes one per product, signed by its ARK). */
export function isCrlOf(der: Buffer, ark: AmdCertificate): boolean {
  return crlIssuerName(der)?.equals(ark.subjectDer) === true;
}

// A CRL is checked on every attestation: one that verified is not parsed and RSA-verified again (its window is
// checked by the caller each time).
const CHECKED_LIMIT = 64;
const checked = new Map<string, CheckedCrl>();

/** An AMD CRL checked against the ARK it names: RSASSA-PSS SHA-384, as AMD signs everything in the chain. */
export function checkAmdCrl(der: Buffer, ark: AmdCertificate, what: string): CheckedCrl {
  const key = `${createHash('sha256').update(der).digest('hex')}:${ark.sha256}`;
  const known = checked.get(key);
  if (known) return known;
  const crl = checkVendorCrl(der, ({ tbs, algorithm, signature }) => (amdSignatureVerifies({ tbs, signatureAlgorithm: algorithm, signature }, ark.publicKey)
    ? undefined
    : 'signature does not verify with the ARK (RSASSA-PSS SHA-384)'), what);
  if (checked.size >= CHECKED_LIMIT) checked.clear();
  checked.set(key, crl);
  return crl;
}
