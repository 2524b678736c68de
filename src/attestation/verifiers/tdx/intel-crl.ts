import { verify, type X509Certificate } from 'node:crypto';
import { readChildren, readElement } from '../../../pki/der.js';
import { checkVendorCrl, listsSerial, type CheckedCrl } from '../../collateral/vendor-crl.js';

export type { CheckedCrl } from '../../collateral/vendor-crl.js';

const HASH_BY_SIGNATURE_OID: Record<string, string> = {
  '2a8648ce3d040302': 'sha256',
  '2a8648ce3d040303': 'sha384',
};

/** Parses an Intel DER CRL and checks its ECDSA signature with the issuer's key (see checkVendorCrl). */
export function checkCrl(der: Buffer, issuer: X509Certificate, what: string): CheckedCrl {
  return checkVendorCrl(der, ({ tbs, algorithm, signature }) => {
    const oid = readChildren(algorithm, readElement(algorithm, 0))[0];
    const hash = oid ? HASH_BY_SIGNATURE_OID[algorithm.subarray(oid.contentStart, oid.end).toString('hex')] : undefined;
    if (hash === undefined) return 'signature algorithm is not ECDSA with SHA-256 or SHA-384';
    return verify(hash, tbs, issuer.publicKey, signature) ? undefined : 'signature does not verify with its issuer';
  }, what);
}

export function isRevoked(crl: CheckedCrl, certificate: X509Certificate): boolean {
  return listsSerial(crl, certificate.serialNumber);
}
