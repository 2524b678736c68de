/**
 * A minimal client of the trustee protocol 0.4.0 written from PROTOCOL.md section 2, independent of src/: the
 * canonical JSON through the `canonicalize` package, hashes through node:crypto, JWE opened with jose.
 */
import { createHash, generateKeyPairSync, type KeyObject } from 'node:crypto';
import canonicalizeModule from 'canonicalize';
import { expect } from 'chai';
import { exportJWK, flattenedDecrypt, type FlattenedJWE, type JWK } from 'jose';
import { postJson, send, type Reply, type Target } from './https-client.js';

const canonicalize = canonicalizeModule as unknown as (input: unknown) => string;

export type V0KeyKind = 'P-256' | 'P-384' | 'RSA';

export interface V0Key {
  privateKey: KeyObject;
  jwk: JWK;
}

export async function v0Key(kind: V0KeyKind = 'P-256', alg?: string): Promise<V0Key> {
  const privateKey = kind === 'RSA'
    ? generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey
    : generateKeyPairSync('ec', { namedCurve: kind }).privateKey;
  const jwk = await exportJWK(privateKey);
  const publicJwk: JWK = kind === 'RSA' ? { kty: 'RSA', n: jwk.n!, e: jwk.e! } : { kty: 'EC', crv: jwk.crv!, x: jwk.x!, y: jwk.y! };
  return { privateKey, jwk: alg ? { ...publicJwk, alg } : publicJwk };
}

/** SHA-384 (or the negotiated hash) of JCS({"tee-pubkey", "nonce", "additional-evidence"}). */
export function v0Digest(jwk: JWK, nonce: string, additionalEvidence: unknown = '', hash = 'sha384'): Buffer {
  return createHash(hash).update(canonicalize({ 'tee-pubkey': jwk, nonce, 'additional-evidence': additionalEvidence }), 'utf8').digest();
}

/** Sample evidence: report_data the digest itself (as trustee's sample attester sends it) or zero-padded to 64 bytes. */
export function v0SampleEvidence(digest: Buffer, padded = false): { svn: string; report_data: string } {
  const data = padded ? Buffer.concat([digest, Buffer.alloc(64 - digest.length)]) : digest;
  return { svn: '1', report_data: data.toString('base64') };
}

export interface V0Auth {
  reply: Reply;
  /** `kbs-session-id=<value>` */
  cookie: string;
  nonce: string;
}

export function cookieOf(reply: Reply): string {
  const line = ([] as string[]).concat(reply.headers['set-cookie'] ?? []).find((value) => value.startsWith('kbs-session-id='));
  if (!line) throw new Error(`no kbs-session-id cookie: ${reply.status} ${reply.text()}`);
  return line.split(';')[0]!;
}

export async function v0Auth(target: Target, body: Record<string, unknown> = { version: '0.4.0', tee: 'sample', 'extra-params': '' }): Promise<V0Auth> {
  const reply = await postJson(target, '/kbs/v0/auth', body);
  if (reply.status !== 200) throw new Error(`auth: ${reply.status} ${reply.text()}`);
  return { reply, cookie: cookieOf(reply), nonce: reply.json<{ nonce: string }>().nonce };
}

export function v0AttestBody(nonce: string, jwk: JWK, evidence: unknown, additionalEvidence = ''): Record<string, unknown> {
  return { 'runtime-data': { nonce, 'tee-pubkey': jwk }, 'tee-evidence': { primary_evidence: evidence, additional_evidence: additionalEvidence } };
}

export function v0PostAttest(target: Target, cookie: string | undefined, body: unknown): Promise<Reply> {
  return postJson(target, '/kbs/v0/attest', body, { headers: cookie ? { cookie } : {} });
}

/** auth, key, evidence bound to both, attest; throws unless 200. */
export async function v0AttestNew(target: Target, kind: V0KeyKind = 'P-256'): Promise<{ key: V0Key; cookie: string; token: string; nonce: string }> {
  const { cookie, nonce } = await v0Auth(target);
  const key = await v0Key(kind);
  const reply = await v0PostAttest(target, cookie, v0AttestBody(nonce, key.jwk, v0SampleEvidence(v0Digest(key.jwk, nonce))));
  if (reply.status !== 200) throw new Error(`attest: ${reply.status} ${reply.text()}`);
  return { key, cookie, nonce, token: reply.json<{ token: string }>().token };
}

export function v0GetResource(target: Target, path: string, credential: { token?: string; cookie?: string }): Promise<Reply> {
  return send(target, {
    path: `/kbs/v0/resource/${path}`,
    headers: { ...(credential.token ? { authorization: `Bearer ${credential.token}` } : {}), ...(credential.cookie ? { cookie: credential.cookie } : {}) },
  });
}

/** Opens the flattened JWE of a resource answer with the TEE key. */
export async function v0Open(reply: Reply, key: V0Key): Promise<Buffer> {
  expect(reply.status, reply.text()).to.equal(200);
  const jwe = reply.json<FlattenedJWE>();
  expect(Object.keys(jwe).sort()).to.deep.equal(['ciphertext', 'encrypted_key', 'iv', 'protected', 'tag']);
  const { plaintext } = await flattenedDecrypt(jwe, key.privateKey);
  return Buffer.from(plaintext);
}

export function decodeBase64urlJson<T = Record<string, unknown>>(text: string): T {
  return JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as T;
}

/** The header (0) or the claims (1) of a JWT, unverified. */
export function decodeJwtPart<T = Record<string, unknown>>(token: string, index: 0 | 1): T {
  return decodeBase64urlJson<T>(token.split('.')[index]!);
}

/** Asserts a v0 error: the status, JSON (not problem+json), trustee's type URL with this variant, a detail. */
export function expectTrusteeError(reply: Reply, status: number, variant: string): void {
  const context = `${reply.status} ${reply.headers['content-type'] ?? ''} ${reply.text().slice(0, 300)}`;
  expect(reply.status, context).to.equal(status);
  expect(String(reply.headers['content-type']), context).to.match(/^application\/json/);
  const body = reply.json<{ type: string; detail: string }>();
  expect(body.type, context).to.equal(`https://github.com/confidential-containers/kbs/errors/${variant}`);
  expect(body.detail, context).to.be.a('string').and.not.equal('');
  expect(Object.keys(body).sort()).to.deep.equal(['detail', 'type']);
  expect(reply.text()).not.to.match(/\/(tmp|home|work)\//);
}
