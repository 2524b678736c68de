/** A certificate authority made at test time that the broker has never seen. */
import 'reflect-metadata';
import { randomBytes, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import type { Credential } from './https-client.js';
import { generateTeeKey, toPem } from './v1-protocol.js';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const ALGORITHM = { name: 'ECDSA', hash: 'SHA-256', namedCurve: 'P-256' };

function serial(): string {
  const bytes = randomBytes(16);
  bytes[0] = bytes[0]! & 0x7f;
  return bytes.toString('hex');
}

/**
 * A foreign root CA (same subject names as the broker's, to make it look alike) and a client certificate it
 * signed with the given SPIFFE URI: clientAuth, valid now.
 */
export async function foreignClientCertificate(spiffeUri: string): Promise<Credential & { caPem: string }> {
  const caKeys = await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
  const now = Date.now();
  const caCert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: 'O=keybroker.local, CN=keybroker root CA',
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + 3600_000),
    keys: caKeys as never,
    signingAlgorithm: ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(true, 1, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
    ],
  });
  const leafKey = await generateTeeKey('ec-p256');
  const leaf = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: 'O=keybroker.local, CN=intruder',
    issuer: caCert.subject,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + 3600_000),
    publicKey: leafKey.keys.publicKey as never,
    signingKey: caKeys.privateKey as never,
    signingAlgorithm: ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
      new x509.SubjectAlternativeNameExtension([{ type: 'url', value: spiffeUri }]),
    ],
  });
  return { cert: toPem(leaf.rawData, 'CERTIFICATE'), key: leafKey.privateKeyPem, caPem: toPem(caCert.rawData, 'CERTIFICATE') };
}
