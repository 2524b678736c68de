import { generateKeyPairSync, type KeyObject } from 'node:crypto';

export interface GeneratedKeyPair {
  privateKey: KeyObject;
  /** PKCS#8 PEM, for a key file written with mode 0600. */
  keyPem: string;
  /** DER SubjectPublicKeyInfo, for the certificate. */
  spki: Buffer;
}

/** A fresh EC key pair for a CA, server or admin certificate. */
export function generateEcKeyPair(curve: 'P-256' | 'P-384'): GeneratedKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: curve });
  return {
    privateKey,
    keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    spki: publicKey.export({ type: 'spki', format: 'der' }),
  };
}
