import { createPrivateKey, createPublicKey, sign, type KeyObject } from 'node:crypto';
import { objectIdentifier, sequence, tlv } from './der.js';

/**
 * A CA key able to sign certificates. The file adapter holds a node:crypto KeyObject; an HSM adapter
 * implements the same shape without the key ever leaving the token.
 */
export interface CertificateSigner {
  /** DER AlgorithmIdentifier placed in the certificate's `signature` and `signatureAlgorithm` fields. */
  readonly algorithmIdentifier: Buffer;
  /** DER SubjectPublicKeyInfo of the signing key. */
  readonly publicKeySpki: Buffer;
  sign(toBeSigned: Uint8Array): Buffer;
}

interface SignatureScheme {
  oid: string;
  hash: string | null;
  withNullParams: boolean;
}

function schemeFor(key: KeyObject): SignatureScheme {
  const type = key.asymmetricKeyType;
  if (type === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (curve === 'prime256v1') return { oid: '1.2.840.10045.4.3.2', hash: 'sha256', withNullParams: false };
    if (curve === 'secp384r1') return { oid: '1.2.840.10045.4.3.3', hash: 'sha384', withNullParams: false };
    throw new Error(`unsupported CA curve ${curve}`);
  }
  if (type === 'ed25519') return { oid: '1.3.101.112', hash: null, withNullParams: false };
  if (type === 'rsa') return { oid: '1.2.840.113549.1.1.11', hash: 'sha256', withNullParams: true };
  throw new Error(`unsupported CA key type ${type}`);
}

export function keyObjectSigner(privateKey: KeyObject): CertificateSigner {
  const scheme = schemeFor(privateKey);
  const algorithmIdentifier = scheme.withNullParams
    ? sequence(objectIdentifier(scheme.oid), tlv(0x05))
    : sequence(objectIdentifier(scheme.oid));
  const publicKeySpki = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
  return {
    algorithmIdentifier,
    publicKeySpki,
    sign: (toBeSigned) => sign(scheme.hash, toBeSigned, { key: privateKey, dsaEncoding: 'der' }),
  };
}

export function signerFromPem(pem: string): CertificateSigner {
  return keyObjectSigner(createPrivateKey(pem));
}
