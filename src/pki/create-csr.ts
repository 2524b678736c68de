import { createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { distinguishedName } from './certificate-builder.js';
import { bitString, explicit, objectIdentifier, sequence, smallInteger, tlv } from './der.js';
import { derToPem } from './pem.js';
import type { CertificateSigner } from './signer.js';

export type ClientKeyType = 'ec-p256' | 'ec-p384' | 'ed25519' | 'rsa-3072';

export function generateClientKey(type: ClientKeyType = 'ec-p256'): KeyObject {
  switch (type) {
    case 'ec-p256': return generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    case 'ec-p384': return generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey;
    case 'ed25519': return generateKeyPairSync('ed25519').privateKey;
    case 'rsa-3072': return generateKeyPairSync('rsa', { modulusLength: 3072 }).privateKey;
  }
}

function csrSignatureScheme(key: KeyObject): { oid: string; digest: string | null; nullParams: boolean } {
  if (key.asymmetricKeyType === 'ed25519') return { oid: '1.3.101.112', digest: null, nullParams: false };
  if (key.asymmetricKeyType === 'rsa') return { oid: '1.2.840.113549.1.1.11', digest: 'sha256', nullParams: true };
  return key.asymmetricKeyDetails?.namedCurve === 'secp384r1'
    ? { oid: '1.2.840.10045.4.3.3', digest: 'sha384', nullParams: false }
    : { oid: '1.2.840.10045.4.3.2', digest: 'sha256', nullParams: false };
}

/** PKCS#10: CertificationRequestInfo for `spki`, then the signature of whoever holds the key. */
function certificationRequest(spki: Buffer, commonName: string, algorithm: Buffer, signInfo: (info: Buffer) => Buffer): { pem: string; spki: Buffer } {
  const info = sequence(smallInteger(0), distinguishedName([['CN', commonName]]), spki, explicit(0));
  return { pem: derToPem(sequence(info, algorithm, bitString(signInfo(info))), 'CERTIFICATE REQUEST'), spki };
}

/**
 * A PKCS#10 CSR signed by `privateKey` (its proof of possession); the broker ignores the subject. Any key type
 * node:crypto signs with, so tests can also make CSRs the broker must refuse.
 */
export function createCsr(privateKey: KeyObject, commonName = 'keybroker client'): { pem: string; spki: Buffer } {
  const scheme = csrSignatureScheme(privateKey);
  const algorithm = scheme.nullParams ? sequence(objectIdentifier(scheme.oid), tlv(0x05)) : sequence(objectIdentifier(scheme.oid));
  const spki = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
  return certificationRequest(spki, commonName, algorithm, (info) => sign(scheme.digest, info, { key: privateKey, dsaEncoding: 'der' }));
}

/** A CSR signed through a CertificateSigner, so a CA key that stays in an HSM can request its certificate. */
export function createCsrWithSigner(signer: CertificateSigner, commonName: string): { pem: string; spki: Buffer } {
  return certificationRequest(signer.publicKeySpki, commonName, signer.algorithmIdentifier, (info) => signer.sign(info));
}
