import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { decodeJwt, exportJWK, flattenedDecrypt, type FlattenedJWE, type JWK } from 'jose';
import { v0BindingDigest, v0ReportData, type V0HashAlgorithm } from '../../attestation/binding.js';
import type { Attester } from '../attesters.js';
import { brokerUrl, httpsRequestBuffer, KbsClientError, type HttpsResponse, type TlsIdentity } from '../https-request.js';

/**
 * A client of the trustee protocol 0.4.0 (PROTOCOL.md 2), as confidential-containers guests speak it: /auth for a
 * session and nonce, a key pair "in the TEE", evidence bound to it, /attest for a token, then resources as JWE.
 */
export type V0KeyType = 'ec-p256' | 'ec-p384' | 'rsa-3072';

export interface V0AuthSession {
  base: string;
  tls: TlsIdentity;
  /** `kbs-session-id=<value>`, as sent back in the Cookie header. */
  cookie: string;
  nonce: string;
  hashAlgorithm: V0HashAlgorithm;
}

export interface V0Attestation {
  token: string;
  /** The TEE key the resources are encrypted to. */
  privateKey: KeyObject;
  cookie: string;
}

async function postV0(url: string, body: unknown, tls: TlsIdentity, cookie?: string): Promise<HttpsResponse> {
  const response = await httpsRequestBuffer(url, {
    ...tls, method: 'POST', body: JSON.stringify(body),
    headers: { 'content-type': 'application/json', ...(cookie ? { cookie } : {}) },
  });
  if (response.status !== 200) throw KbsClientError.fromResponse(response);
  return response;
}

export async function v0Auth(url: string, tee: string, tls: TlsIdentity = {}, extraParams: unknown = ''): Promise<V0AuthSession> {
  const base = brokerUrl(url, '');
  const response = await postV0(`${base}/kbs/v0/auth`, { version: '0.4.0', tee, 'extra-params': extraParams }, tls);
  const setCookie = ([] as string[]).concat(response.headers['set-cookie'] ?? []);
  const cookie = setCookie.map((line) => line.split(';')[0]!).find((pair) => pair.startsWith('kbs-session-id='));
  if (!cookie) throw new KbsClientError(response.status, undefined, 'the broker set no kbs-session-id cookie');
  const answer = JSON.parse(response.body.toString('utf8')) as { nonce: string; 'extra-params': unknown };
  const selected = typeof answer['extra-params'] === 'object' && answer['extra-params'] !== null
    ? (answer['extra-params'] as Record<string, unknown>)['selected-hash-algorithm'] : undefined;
  const hashAlgorithm = (typeof selected === 'string' ? selected : 'sha384') as V0HashAlgorithm;
  return { base, tls, cookie, nonce: answer.nonce, hashAlgorithm };
}

export function generateV0Key(type: V0KeyType = 'ec-p256'): KeyObject {
  if (type === 'rsa-3072') return generateKeyPairSync('rsa', { modulusLength: 3072 }).privateKey;
  return generateKeyPairSync('ec', { namedCurve: type === 'ec-p384' ? 'P-384' : 'P-256' }).privateKey;
}

export async function teePubkeyJwk(privateKey: KeyObject): Promise<JWK> {
  const jwk = await exportJWK(createPublicKey(privateKey));
  return { ...jwk, alg: jwk.kty === 'RSA' ? 'RSA-OAEP-256' : 'ECDH-ES+A256KW' };
}

/** The claims of keybroker's v0 token a client relies on; read without verification (the token came over TLS from the broker). */
export interface V0TokenSummary {
  /** The TEE's SPIFFE ID in keybroker's tokens; '' in tokens without a subject (trustee passes its attestation service's token through). */
  sub: string;
  jti: string;
  exp: number;
  /** What the broker's verifier and policies saw; absent in tokens of other brokers. */
  kbsClaims: Record<string, unknown>;
}

export function v0TokenSummary(token: string): V0TokenSummary {
  const claims = decodeJwt(token);
  if (typeof claims.exp !== 'number') throw new Error('the attestation token has no exp claim');
  const kbsClaims = claims['kbs-claims'];
  return {
    sub: typeof claims.sub === 'string' ? claims.sub : '', exp: claims.exp, jti: claims.jti ?? '',
    kbsClaims: typeof kbsClaims === 'object' && kbsClaims !== null ? (kbsClaims as Record<string, unknown>) : {},
  };
}

/** Binds the session nonce and the TEE key into the evidence and asks /attest for a token. */
export async function v0Attest(session: V0AuthSession, attester: Attester, privateKey: KeyObject = generateV0Key()): Promise<V0Attestation> {
  const teePubkey = await teePubkeyJwk(privateKey);
  const digest = v0BindingDigest({ teePubkey, nonce: session.nonce, additionalEvidence: '' }, session.hashAlgorithm);
  const evidence = await attester(v0ReportData(digest));
  const response = await postV0(`${session.base}/kbs/v0/attest`, {
    'runtime-data': { nonce: session.nonce, 'tee-pubkey': teePubkey },
    'tee-evidence': { primary_evidence: evidence, additional_evidence: '' },
  }, session.tls, session.cookie);
  const { token } = JSON.parse(response.body.toString('utf8')) as { token: string };
  return { token, privateKey, cookie: session.cookie };
}

/** GET /kbs/v0/resource/{path} with the token as bearer; the JWE is opened with the TEE key. */
export async function v0GetResource(url: string, path: string, attestation: { token: string; privateKey: KeyObject }, tls: TlsIdentity = {}): Promise<Buffer> {
  const response = await httpsRequestBuffer(brokerUrl(url, '/kbs/v0/resource/', path), {
    ...tls, method: 'GET', headers: { authorization: `Bearer ${attestation.token}` },
  });
  if (response.status !== 200) throw KbsClientError.fromResponse(response);
  const envelope = JSON.parse(response.body.toString('utf8')) as FlattenedJWE;
  const { plaintext } = await flattenedDecrypt(envelope, attestation.privateKey, { keyManagementAlgorithms: ['ECDH-ES+A256KW', 'RSA-OAEP-256'], contentEncryptionAlgorithms: ['A256GCM'] });
  return Buffer.from(plaintext);
}
