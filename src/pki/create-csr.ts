import { createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { distinguishedName } from './certificate-builder.js';
import { bitString, explicit, objectIdentifier, sequence, smallInteger, tlv } from './der.js';
import { derToPem } from './pem.js';

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

/** A PKCS#10 CSR signed by `privateKey` (its proof of possession); the broker ignores the subject. */
export function createCsr(privateKey: KeyObject, commonName = 'keybroker client'): { pem: string; spki: Buffer } {
  const spki = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
  const info = sequence(smallInteger(0), distinguishedName([['CN', commonName]]), spki, explicit(0));
  const scheme = csrSignatureScheme(privateKey);
  const algorithm = scheme.nullParams ? sequence(objectIdentifier(scheme.oid), tlv(0x05)) : sequence(objectIdentifier(scheme.oid));
  const signature = sign(scheme.digest, info, { key: privateKey, dsaEncoding: 'der' });
  return { pem: derToPem(sequence(info, algorithm, bitString(signature)), 'CERTIFICATE REQUEST'), spki };
}
