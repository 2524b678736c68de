/**
 * A small v1 client written from PROTOCOL.md sections 1.1 to 1.3, independent of src/client: key pairs and
 * CSRs through WebCrypto and @peculiar/x509, the key binding computed here, sample evidence built here.
 */
import 'reflect-metadata';
import { createHash, randomBytes, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { postJson, type Credential, type Reply, type Target } from './https-client.js';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

export type KeyType = 'ec-p256' | 'ec-p384' | 'ed25519' | 'rsa-3072' | 'rsa-2048';

interface KeyPair {
  publicKey: webcrypto.CryptoKey;
  privateKey: webcrypto.CryptoKey;
}

/** A key pair "inside the TEE" with what the protocol needs of it. */
export interface TeeKey {
  type: KeyType;
  keys: KeyPair;
  /** DER SubjectPublicKeyInfo. */
  spki: Buffer;
  /** PKCS#8 PEM of the private key, for TLS. */
  privateKeyPem: string;
  signingAlgorithm: Record<string, unknown>;
}

function algorithmsOf(type: KeyType): { generate: Record<string, unknown>; sign: Record<string, unknown> } {
  switch (type) {
    case 'ec-p256': return { generate: { name: 'ECDSA', namedCurve: 'P-256' }, sign: { name: 'ECDSA', hash: 'SHA-256' } };
    case 'ec-p384': return { generate: { name: 'ECDSA', namedCurve: 'P-384' }, sign: { name: 'ECDSA', hash: 'SHA-384' } };
    case 'ed25519': return { generate: { name: 'Ed25519' }, sign: { name: 'Ed25519' } };
    case 'rsa-3072':
    case 'rsa-2048': {
      const rsa = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', publicExponent: new Uint8Array([1, 0, 1]), modulusLength: type === 'rsa-3072' ? 3072 : 2048 };
      return { generate: rsa, sign: rsa };
    }
  }
}

export function toPem(der: Uint8Array | ArrayBuffer, label: string): string {
  const base64 = Buffer.from(der instanceof ArrayBuffer ? new Uint8Array(der) : der).toString('base64');
  return `-----BEGIN ${label}-----\n${base64.replace(/.{1,64}/g, '$&\n')}-----END ${label}-----\n`;
}

export function fromPem(pem: string, label: string): Buffer {
  const match = new RegExp(`-----BEGIN ${label}-----([\\s\\S]*?)-----END ${label}-----`).exec(pem);
  if (!match) throw new Error(`no PEM ${label}`);
  return Buffer.from(match[1]!.replace(/\s+/g, ''), 'base64');
}

/** All PEM blocks with this label, as DER, in order. */
export function pemBlocks(pem: string, label = 'CERTIFICATE'): Buffer[] {
  const pattern = new RegExp(`-----BEGIN ${label}-----([\\s\\S]*?)-----END ${label}-----`, 'g');
  return [...pem.matchAll(pattern)].map((match) => Buffer.from(match[1]!.replace(/\s+/g, ''), 'base64'));
}

export async function generateTeeKey(type: KeyType = 'ec-p256'): Promise<TeeKey> {
  const { generate, sign } = algorithmsOf(type);
  const keys = (await webcrypto.subtle.generateKey(generate as unknown as webcrypto.EcKeyGenParams, true, ['sign', 'verify'])) as KeyPair;
  const spki = Buffer.from(await webcrypto.subtle.exportKey('spki', keys.publicKey));
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  return { type, keys, spki, privateKeyPem: toPem(pkcs8, 'PRIVATE KEY'), signingAlgorithm: sign };
}

/** A PKCS#10 CSR signed by the key (proof of possession), PEM. */
export async function createCsr(key: TeeKey, subject = 'CN=tee'): Promise<string> {
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: subject,
    keys: key.keys as never,
    signingAlgorithm: key.signingAlgorithm as never,
  });
  return csr.toString('pem');
}

/** PROTOCOL.md 1.2: SHA-512("keybroker-v1-bind" || 0x00 || nonce || 0x00 || SPKI). */
export function reportData(nonce: string, spki: Uint8Array): Buffer {
  return createHash('sha512')
    .update(Buffer.concat([Buffer.from('keybroker-v1-bind', 'ascii'), Buffer.from([0]), Buffer.from(nonce, 'ascii'), Buffer.from([0]), Buffer.from(spki)]))
    .digest();
}

/** Evidence of the `sample` TEE: report_data in standard, padded base64. */
export function sampleEvidence(data: Uint8Array, extra: Record<string, string> = {}): Record<string, string> {
  return { svn: '1', report_data: Buffer.from(data).toString('base64'), ...extra };
}

export interface ChallengeResponse {
  nonce: string;
  expires_at: string;
  [field: string]: unknown;
}

export interface AttestResponse {
  certificate: string;
  chain: string;
  spiffe_id: string;
  serial: string;
  expires_at: string;
  claims: Record<string, unknown>;
}

export async function challenge(target: Target, tee = 'sample', verifier?: string): Promise<ChallengeResponse> {
  const reply = await postJson(target, '/kbs/v1/challenge', { tee, ...(verifier !== undefined ? { verifier } : {}) });
  if (reply.status !== 200) throw new Error(`challenge: ${reply.status} ${reply.text()}`);
  return reply.json<ChallengeResponse>();
}

/** A well-formed attest body for `nonce` and `key`, binding them; pieces can be overridden. */
export async function attestBody(nonce: string, key: TeeKey, overrides: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
  return { nonce, csr: await createCsr(key), evidence: sampleEvidence(reportData(nonce, key.spki)), ...overrides };
}

export function postAttest(target: Target, body: unknown, headers: Record<string, string> = {}): Promise<Reply> {
  return postJson(target, '/kbs/v1/attest', body, { headers });
}

/** The whole flow: challenge, key, CSR, evidence, attest; throws unless 201. */
export async function attestNew(target: Target, type: KeyType = 'ec-p256'): Promise<{ key: TeeKey; nonce: string; response: AttestResponse; credential: Credential }> {
  const key = await generateTeeKey(type);
  const { nonce } = await challenge(target);
  const reply = await postAttest(target, await attestBody(nonce, key));
  if (reply.status !== 201) throw new Error(`attest: ${reply.status} ${reply.text()}`);
  const response = reply.json<AttestResponse>();
  return { key, nonce, response, credential: { cert: response.certificate, key: key.privateKeyPem } };
}

/** A random resource path `e2e-<hex>/<type>/<tag>`, unique per call. */
export function randomResourcePath(type = 'key', tag = 'one'): string {
  return `e2e-${randomBytes(6).toString('hex')}/${type}/${tag}`;
}
