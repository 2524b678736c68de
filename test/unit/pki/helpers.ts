/** Shared helpers for the unit tests of pki, attestation, protocol and server: a test CA, openssl, temp dirs. */
import { execFile } from 'node:child_process';
import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readCertificate } from '../../../src/pki/certificate-info.js';
import {
  createRootCertificate, issueIssuerCertificate, type IssuedCertificate, type SigningAuthority,
} from '../../../src/pki/certificate-profiles.js';
import { keyObjectSigner } from '../../../src/pki/signer.js';
import type { KbsError } from '../../../src/domain/errors.js';

export const TRUST_DOMAIN = 'keybroker.test';

/** A fixed, whole-second instant so that DER times (whole seconds) compare exactly. */
export const NOW = new Date('2026-03-01T12:00:00Z');

export interface TestAuthority extends SigningAuthority {
  issued: IssuedCertificate;
  privateKey: KeyObject;
}

export function ecKey(curve: 'P-256' | 'P-384' = 'P-256'): KeyObject {
  return generateKeyPairSync('ec', { namedCurve: curve }).privateKey;
}

export function spkiOf(key: KeyObject): Buffer {
  return (key.type === 'private' ? createPublicKey(key) : key).export({ type: 'spki', format: 'der' });
}

export function makeRoot(options: { trustDomain?: string; ttlSeconds?: number; now?: Date; key?: KeyObject } = {}): TestAuthority {
  const privateKey = options.key ?? ecKey('P-384');
  const signer = keyObjectSigner(privateKey);
  const issued = createRootCertificate(signer, {
    trustDomain: options.trustDomain ?? TRUST_DOMAIN, ttlSeconds: options.ttlSeconds ?? 10 * 365 * 86400, now: options.now ?? NOW,
  });
  return { issued, privateKey, signer, certificate: readCertificate(issued.der) };
}

export function makeIssuer(root: SigningAuthority, options: { trustDomain?: string; ttlSeconds?: number; now?: Date; id?: string; key?: KeyObject } = {}): TestAuthority {
  const privateKey = options.key ?? ecKey('P-256');
  const signer = keyObjectSigner(privateKey);
  const issued = issueIssuerCertificate(root, {
    spki: signer.publicKeySpki, trustDomain: options.trustDomain ?? TRUST_DOMAIN, issuerId: options.id ?? 'test-issuer',
    ttlSeconds: options.ttlSeconds ?? 90 * 86400, now: options.now ?? NOW,
  });
  return { issued, privateKey, signer, certificate: readCertificate(issued.der) };
}

export interface ProcessResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the real openssl binary; never rejects, the exit code is in the result. */
export function openssl(args: string[]): Promise<ProcessResult> {
  return new Promise((resolve) => {
    execFile('openssl', args, { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof (error as { code?: unknown }).code === 'number' ? (error as { code: number }).code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

export async function makeTempDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `keybroker-${prefix}-`));
}

export async function removeDir(dir: string | undefined): Promise<void> {
  if (dir) await rm(dir, { recursive: true, force: true });
}

export async function writeTemp(dir: string, name: string, content: string | Buffer): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, content);
  return path;
}

/**
 * Awaits `action` and returns the KbsError code it threw, or "(nothing thrown)" so that the caller's assertion
 * names the case; fails when it threw something other than a KbsError.
 */
export async function errorCodeOf(action: () => unknown): Promise<string> {
  try {
    await action();
  } catch (error) {
    const code = (error as Partial<KbsError>).code;
    if ((error as Error).name !== 'KbsError' || typeof code !== 'string') throw new Error(`expected a KbsError, got ${String(error)}`);
    return code;
  }
  return '(nothing thrown)';
}

/** The thrown error itself (any type); fails when nothing was thrown. */
export async function thrownBy(action: () => unknown): Promise<unknown> {
  try {
    await action();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error, but nothing was thrown');
}

let rsa3072Cache: KeyObject | undefined;
/** One RSA-3072 key per test process: its generation takes a second or more. */
export function rsa3072Key(): KeyObject {
  rsa3072Cache ??= generateKeyPairSync('rsa', { modulusLength: 3072 }).privateKey;
  return rsa3072Cache;
}

/** Seconds since the epoch, for openssl -attime. */
export const epochSeconds = (date: Date): string => String(Math.floor(date.getTime() / 1000));
