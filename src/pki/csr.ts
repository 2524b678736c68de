import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { KbsError } from '../domain/errors.js';
import { objectIdentifier, readChildren, readElement, type DerElement } from './der.js';
import { pemToDer } from './pem.js';

export interface VerifiedCsr {
  publicKey: KeyObject;
  /** DER SubjectPublicKeyInfo, as it goes into the certificate and the binding. */
  spki: Buffer;
  keyType: 'ec-p256' | 'ec-p384' | 'ed25519' | 'rsa';
}

interface CsrSignatureAlgorithm {
  /** node:crypto digest; null for Ed25519 */
  digest: string | null;
  /** The key type the algorithm belongs to: a signature labelled for another key type is refused. */
  keyType: 'ec' | 'rsa' | 'ed25519';
}

/** Signature algorithms accepted on a CSR, keyed by the DER of their OID. */
const CSR_SIGNATURE_ALGORITHMS = new Map<string, CsrSignatureAlgorithm>(([
  ['1.2.840.10045.4.3.2', { digest: 'sha256', keyType: 'ec' }],
  ['1.2.840.10045.4.3.3', { digest: 'sha384', keyType: 'ec' }],
  ['1.2.840.10045.4.3.4', { digest: 'sha512', keyType: 'ec' }],
  ['1.2.840.113549.1.1.11', { digest: 'sha256', keyType: 'rsa' }],
  ['1.2.840.113549.1.1.12', { digest: 'sha384', keyType: 'rsa' }],
  ['1.2.840.113549.1.1.13', { digest: 'sha512', keyType: 'rsa' }],
  ['1.3.101.112', { digest: null, keyType: 'ed25519' }],
] as const).map(([oid, algorithm]) => [objectIdentifier(oid).toString('hex'), algorithm]));

const MIN_RSA_BITS = 3072;
const TAG = { sequence: 0x30, bitString: 0x03, integer: 0x02, oid: 0x06, attributes: 0xa0 } as const;

function keyTypeOf(key: KeyObject): VerifiedCsr['keyType'] {
  const type = key.asymmetricKeyType;
  if (type === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (curve === 'prime256v1') return 'ec-p256';
    if (curve === 'secp384r1') return 'ec-p384';
    throw new KbsError('bad-csr', `EC curve ${curve ?? 'unknown'} is not accepted; use P-256 or P-384`);
  }
  if (type === 'ed25519') return 'ed25519';
  if (type === 'rsa') {
    const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
    if (bits < MIN_RSA_BITS) throw new KbsError('bad-csr', `RSA key of ${bits} bits is too small; at least ${MIN_RSA_BITS} bits are required`);
    return 'rsa';
  }
  throw new KbsError('bad-csr', `key type ${type ?? 'unknown'} is not accepted; use ECDSA P-256/P-384, Ed25519 or RSA 3072+`);
}

/** DER SubjectPublicKeyInfo up to the uncompressed point, for the two curves TEEs use most. */
const EC_SPKI_PREFIXES = [
  { curve: 'P-256', prefix: Buffer.from('3059301306072a8648ce3d020106082a8648ce3d030107034200', 'hex'), coordinate: 32 },
  { curve: 'P-384', prefix: Buffer.from('3076301006072a8648ce3d020106052b81040022036200', 'hex'), coordinate: 48 },
] as const;

/**
 * The CSR's key as a KeyObject. OpenSSL 3 decodes a DER SPKI in about twice the time it takes to import the same
 * EC point as a JWK, and that import is the largest single cost of issuance after the signatures; the JWK path
 * still checks that the point is on the curve. Anything else goes through the DER decoder.
 */
function importPublicKey(spki: Buffer): KeyObject {
  for (const { curve, prefix, coordinate } of EC_SPKI_PREFIXES) {
    if (spki.length === prefix.length + 1 + 2 * coordinate && spki[prefix.length] === 0x04 && spki.subarray(0, prefix.length).equals(prefix)) {
      const x = spki.subarray(prefix.length + 1, prefix.length + 1 + coordinate).toString('base64url');
      const y = spki.subarray(prefix.length + 1 + coordinate).toString('base64url');
      return createPublicKey({ key: { kty: 'EC', crv: curve, x, y }, format: 'jwk' });
    }
  }
  return createPublicKey({ key: spki, format: 'der', type: 'spki' });
}

interface CsrParts {
  info: Buffer;
  spki: Buffer;
  algorithmOid: string;
  signature: Buffer;
}

function expectTag(element: DerElement | undefined, tag: number): DerElement {
  if (!element || element.tag !== tag) throw new Error('unexpected structure');
  return element;
}

/**
 * Splits a PKCS#10 CertificationRequest (RFC 2986) into the signed bytes, the key and the signature. A generic
 * ASN.1 parser costs more than the signature check here, and only four fields are needed.
 */
function splitCsr(der: Buffer): CsrParts {
  try {
    const outer = expectTag(readElement(der, 0), TAG.sequence);
    if (outer.end !== der.length) throw new Error('trailing bytes');
    const [info, algorithm, signature, ...rest] = readChildren(der, outer);
    if (rest.length > 0) throw new Error('extra fields');
    const infoFields = readChildren(der, expectTag(info, TAG.sequence));
    expectTag(infoFields[0], TAG.integer);
    expectTag(infoFields[1], TAG.sequence);
    const spki = expectTag(infoFields[2], TAG.sequence);
    expectTag(infoFields[3], TAG.attributes);
    const algorithmOid = expectTag(readChildren(der, expectTag(algorithm, TAG.sequence))[0], TAG.oid);
    const bits = expectTag(signature, TAG.bitString);
    if (der[bits.contentStart] !== 0) throw new Error('signature has unused bits');
    return {
      info: der.subarray(info!.start, info!.end),
      spki: Buffer.from(der.subarray(spki.start, spki.end)),
      algorithmOid: der.subarray(algorithmOid.start, algorithmOid.end).toString('hex'),
      signature: der.subarray(bits.contentStart + 1, bits.end),
    };
  } catch {
    throw new KbsError('bad-csr', 'CSR is not a DER PKCS#10 certification request');
  }
}

/** Parses a PEM PKCS#10 CSR and checks its proof of possession and key type. */
export function verifyCsr(pem: string): VerifiedCsr {
  const der = pemToDer(pem, 'CERTIFICATE REQUEST');
  if (!der) throw new KbsError('bad-csr', 'csr must be a PEM "CERTIFICATE REQUEST"');
  const parts = splitCsr(der);
  let publicKey: KeyObject;
  try {
    publicKey = importPublicKey(parts.spki);
  } catch {
    throw new KbsError('bad-csr', 'CSR public key cannot be read');
  }
  const keyType = keyTypeOf(publicKey);
  const algorithm = CSR_SIGNATURE_ALGORITHMS.get(parts.algorithmOid);
  if (!algorithm) throw new KbsError('bad-csr', 'CSR signature algorithm is not accepted; use ECDSA with SHA-2, RSA PKCS#1 v1.5 with SHA-2 or Ed25519');
  if (algorithm.keyType !== publicKey.asymmetricKeyType) throw new KbsError('bad-csr', 'CSR signature algorithm does not match its key type');
  let valid = false;
  try {
    valid = verify(algorithm.digest, parts.info, { key: publicKey, dsaEncoding: 'der' }, parts.signature);
  } catch {
    valid = false;
  }
  if (!valid) throw new KbsError('bad-csr', 'CSR signature does not verify with its own key (no proof of possession)');
  return { publicKey, spki: parts.spki, keyType };
}
