import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { calculateJwkThumbprint, exportJWK, type JWK } from 'jose';
import { writeFileAtomic } from '../store/fs/atomic-write.js';
import { generateEcKeyPair } from './key-pair.js';

/**
 * The ES256 key that signs the tokens of the trustee protocol (PROTOCOL.md 2), under the CA home:
 *   token/<kid>.key.pem   one file per key (mode 0600), kid = RFC 7638 thumbprint of the public key
 *   token/current         the kid that signs new tokens
 * A rotation keeps exactly one previous key, so tokens signed just before it still verify until they expire.
 */
export interface TokenSigningKeys {
  current: { kid: string; privateKey: KeyObject };
  /** Public keys of the current and the previous key, as published at /kbs/v0/.well-known/jwks.json. */
  jwks: { keys: JWK[] };
}

const TOKEN_DIR = 'token';
const CURRENT_FILE = 'current';
const KEY_SUFFIX = '.key.pem';
const KID = /^[A-Za-z0-9_-]{43}$/;

async function publicJwk(privateKey: KeyObject, kid: string): Promise<JWK> {
  return { ...(await exportJWK(createPublicKey(privateKey))), kid, alg: 'ES256', use: 'sig' };
}

async function writeNewKey(dir: string): Promise<string> {
  const key = generateEcKeyPair('P-256');
  const kid = await calculateJwkThumbprint(await exportJWK(createPublicKey(key.privateKey)));
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFileAtomic(join(dir, `${kid}${KEY_SUFFIX}`), key.keyPem, 0o600);
  return kid;
}

export async function tokenSigningKeyExists(caDir: string): Promise<boolean> {
  return stat(join(caDir, TOKEN_DIR, CURRENT_FILE)).then(() => true, () => false);
}

/**
 * Makes a new signing key current and keeps the one it replaces (if any) as the previous key; older keys are
 * removed. Used by `ca init` (first key) and by a CA rotation.
 */
export async function rotateTokenSigningKey(caDir: string): Promise<string> {
  const dir = join(caDir, TOKEN_DIR);
  const previous = (await tokenSigningKeyExists(caDir)) ? (await readFile(join(dir, CURRENT_FILE), 'utf8')).trim() : undefined;
  const kid = await writeNewKey(dir);
  await writeFileAtomic(join(dir, CURRENT_FILE), `${kid}\n`, 0o644);
  const keep = new Set([kid, previous].filter((value): value is string => value !== undefined));
  for (const name of await readdir(dir)) {
    if (name.endsWith(KEY_SUFFIX) && !keep.has(name.slice(0, -KEY_SUFFIX.length))) await rm(join(dir, name), { force: true });
  }
  return kid;
}

/** Loads the current and previous signing keys; the CA home must have one (see rotateTokenSigningKey). */
export async function loadTokenSigningKeys(caDir: string): Promise<TokenSigningKeys> {
  const dir = join(caDir, TOKEN_DIR);
  if (!(await tokenSigningKeyExists(caDir))) throw new Error(`no token signing key in ${dir}: run "keybroker ca init", or start with --dev`);
  const currentKid = (await readFile(join(dir, CURRENT_FILE), 'utf8')).trim();
  if (!KID.test(currentKid)) throw new Error(`${join(dir, CURRENT_FILE)} does not name a key`);
  const kids = (await readdir(dir)).filter((name) => name.endsWith(KEY_SUFFIX)).map((name) => name.slice(0, -KEY_SUFFIX.length)).filter((kid) => KID.test(kid));
  if (!kids.includes(currentKid)) throw new Error(`the current token signing key ${currentKid} is missing from ${dir}`);
  const keys = new Map<string, KeyObject>();
  for (const kid of kids) keys.set(kid, createPrivateKey(await readFile(join(dir, `${kid}${KEY_SUFFIX}`), 'utf8')));
  const ordered = [currentKid, ...kids.filter((kid) => kid !== currentKid)];
  return {
    current: { kid: currentKid, privateKey: keys.get(currentKid)! },
    jwks: { keys: await Promise.all(ordered.map((kid) => publicJwk(keys.get(kid)!, kid))) },
  };
}

/** Only what a token signing key of keybroker can be: an EC P-256 public key with a kid. */
function isTokenVerificationKey(key: JWK): boolean {
  return key.kty === 'EC' && key.crv === 'P-256' && typeof key.kid === 'string' && KID.test(key.kid) && key.d === undefined;
}

/**
 * The local keys plus the public keys other replicas published, for verification and the JWKS: a token signed by
 * a replica whose CA home has another key verifies here too. Signing stays with the local current key.
 */
export function withPublishedKeys(local: TokenSigningKeys, published: readonly JWK[]): TokenSigningKeys {
  const kids = new Set(local.jwks.keys.map((key) => key.kid));
  const others = published.filter((key) => isTokenVerificationKey(key) && !kids.has(key.kid));
  return others.length === 0 ? local : { current: local.current, jwks: { keys: [...local.jwks.keys, ...others] } };
}

/** At start: loads the keys, creating the first one when `create` (development mode) and none exists. */
export async function openTokenSigningKeys(caDir: string, create: boolean): Promise<TokenSigningKeys> {
  if (create && !(await tokenSigningKeyExists(caDir))) await rotateTokenSigningKey(caDir);
  return loadTokenSigningKeys(caDir);
}
