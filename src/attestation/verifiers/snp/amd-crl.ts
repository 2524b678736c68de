import { checkVendorCrl, crlIssuerName, type CheckedCrl } from '../../collateral/vendor-crl.js';
import { amdSignatureVerifies, type AmdCertificate } from './amd-certificate.js';

/** Whether `der` is a CRL that names `ark` as its issuer (AMD publishes one per product, signed by its ARK). */
export function isCrlOf(der: Buffer, ark: AmdCertificate): boolean {
  return crlIssuerName(der)?.equals(ark.subjectDer) === true;
}

/** An AMD CRL checked against the ARK it names: RSASSA-PSS SHA-384, as AMD signs everything in the chain. */
export function checkAmdCrl(der: Buffer, ark: AmdCertificate, what: string): CheckedCrl {
  return checkVendorCrl(der, ({ tbs, algorithm, signature }) => (amdSignatureVerifies({ tbs, signatureAlgorithm: algorithm, signature }, ark.publicKey)
    ? undefined
    : 'signature does not verify with the ARK (RSASSA-PSS SHA-384)'), what);
}
