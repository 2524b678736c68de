import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import * as pkijs from 'pkijs';
import { KbsError } from '../domain/errors.js';
import { pemToDer } from './pem.js';

export interface VerifiedCsr {
  publicKey: KeyObject;
  /** DER SubjectPublicKeyInfo, as it goes into the certificate and the binding. */
  spki: Buffer;
  keyType: 'ec-p256' | 'ec-p384' | 'ed25519' | 'rsa';
}

/** Signature algorithms accepted on a CSR: OID → node:crypto digest (null for Ed25519). */
const CSR_SIGNATURE_ALGORITHMS: Record<string, string | null> = {
  '1.2.840.10045.4.3.2': 'sha256',
  '1.2.840.10045.4.3.3': 'sha384',
  '1.2.840.10045.4.3.4': 'sha512',
  '1.2.840.113549.1.1.11': 'sha256',
  '1.2.840.113549.1.1.12': 'sha384',
  '1.2.840.113549.1.1.13': 'sha512',
  '1.3.101.112': null,
};

const MIN_RSA_BITS = 3072;

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

function parse(der: Buffer): pkijs.CertificationRequest {
  try {
    return pkijs.CertificationRequest.fromBER(der);
  } catch {
    throw new KbsError('bad-csr', 'CSR is not a DER PKCS#10 certification request');
  }
}

/** Parses a PEM PKCS#10 CSR and checks its proof of possession and key type. */
export function verifyCsr(pem: string): VerifiedCsr {
  const der = pemToDer(pem, 'CERTIFICATE REQUEST');
  if (!der) throw new KbsError('bad-csr', 'csr must be a PEM "CERTIFICATE REQUEST"');
  const request = parse(der);
  const spki = Buffer.from(request.subjectPublicKeyInfo.toSchema().toBER());
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey({ key: spki, format: 'der', type: 'spki' });
  } catch {
    throw new KbsError('bad-csr', 'CSR public key cannot be read');
  }
  const keyType = keyTypeOf(publicKey);
  const algorithm = request.signatureAlgorithm.algorithmId;
  if (!(algorithm in CSR_SIGNATURE_ALGORITHMS)) throw new KbsError('bad-csr', `CSR signature algorithm ${algorithm} is not accepted`);
  const digest = CSR_SIGNATURE_ALGORITHMS[algorithm]!;
  const signature = Buffer.from(request.signatureValue.valueBlock.valueHexView);
  let valid = false;
  try {
    valid = verify(digest, Buffer.from(request.tbsView), { key: publicKey, dsaEncoding: 'der' }, signature);
  } catch {
    valid = false;
  }
  if (!valid) throw new KbsError('bad-csr', 'CSR signature does not verify with its own key (no proof of possession)');
  return { publicKey, spki, keyType };
}
