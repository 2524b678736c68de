import type { KeyObject } from 'node:crypto';
import { v1ReportData } from '../attestation/binding.js';
import { createCsr, generateClientKey, type ClientKeyType } from '../pki/create-csr.js';
import type { Attester } from './attesters.js';
import { brokerUrl, postJson } from './https-request.js';

export interface AttestV1Options {
  /** Base URL of the broker, e.g. https://127.0.0.1:8080 */
  url: string;
  tee: string;
  /** PEM trust bundle of the broker; the system store when absent. */
  ca?: string | undefined;
  attester: Attester;
  keyType?: ClientKeyType | undefined;
  verifier?: string | undefined;
}

export interface AttestedCredential {
  key: KeyObject;
  keyPem: string;
  certificatePem: string;
  chainPem: string;
  spiffeId: string;
  serial: string;
  expiresAt: Date;
  claims: Record<string, unknown>;
}

/** The v1 flow: key in the TEE, challenge, report data bound to nonce and key, attest, certificate. */
export async function attestV1(options: AttestV1Options): Promise<AttestedCredential> {
  const tls = options.ca ? { ca: options.ca } : {};
  const challenge = await postJson<{ nonce: string }>(brokerUrl(options.url, '/kbs/v1/challenge'), { tee: options.tee, ...(options.verifier ? { verifier: options.verifier } : {}) }, tls);
  const key = generateClientKey(options.keyType);
  const csr = createCsr(key);
  const evidence = await options.attester(v1ReportData(challenge.nonce, csr.spki));
  const issued = await postJson<{ certificate: string; chain: string; spiffe_id: string; serial: string; expires_at: string; claims: Record<string, unknown> }>(
    brokerUrl(options.url, '/kbs/v1/attest'), { nonce: challenge.nonce, csr: csr.pem, evidence }, tls);
  return {
    key,
    keyPem: key.export({ type: 'pkcs8', format: 'pem' }).toString(),
    certificatePem: issued.certificate,
    chainPem: issued.chain,
    spiffeId: issued.spiffe_id,
    serial: issued.serial,
    expiresAt: new Date(issued.expires_at),
    claims: issued.claims,
  };
}
