import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from '../store/fs/atomic-write.js';
import {
  createRootCertificate, issueIssuerCertificate, issueServerCertificate, type SigningAuthority,
} from './certificate-profiles.js';
import { readCertificate, type CertificateInfo } from './certificate-info.js';
import { generateEcKeyPair } from './key-pair.js';
import { pemToDer } from './pem.js';
import { keyObjectSigner, signerFromPem, type CertificateSigner } from './signer.js';
import { rotateTokenSigningKey } from './token-signing-key.js';

/**
 * The CA home on the file system (layout in ca/README.md):
 *   root/cert.pem, root/key.pem          the root (key absent when kept offline)
 *   issuers/<id>/cert.pem, key.pem, state.json
 *   server/cert.pem, server/key.pem      the broker's TLS certificate, signed by the root
 *   bundle.pem                           what clients trust: root plus usable issuers
 */
export type IssuerState = 'prepared' | 'active' | 'retired' | 'tainted' | 'revoked';

export interface IssuerRecord {
  id: string;
  state: IssuerState;
  certificate: CertificateInfo;
  /** Absent when the key is not in this CA home. */
  signer?: CertificateSigner;
}

export type ActiveIssuer = SigningAuthority & { id: string };

export interface CertificateAuthority {
  dir: string;
  root: CertificateInfo;
  issuers: IssuerRecord[];
  active: ActiveIssuer;
  server: { certificatePem: string; keyPem: string };
  bundlePem: string;
}

export interface CaParameters {
  trustDomain: string;
  rootTtlSeconds: number;
  issuerTtlSeconds: number;
  serverTtlSeconds: number;
}

const KEY_MODE = 0o600;

async function exists(path: string): Promise<boolean> {
  return stat(path).then(() => true, () => false);
}

export async function caExists(dir: string): Promise<boolean> {
  return exists(join(dir, 'root', 'cert.pem'));
}

async function readCertificateFile(path: string): Promise<CertificateInfo> {
  const der = pemToDer(await readFile(path, 'utf8'), 'CERTIFICATE');
  if (!der) throw new Error(`${path} holds no PEM certificate`);
  return readCertificate(der);
}

function serverNames(): { dnsNames: string[]; ipAddresses: string[] } {
  const host = hostname();
  return { dnsNames: [...new Set(['localhost', host].filter(Boolean))], ipAddresses: ['127.0.0.1', '::1'] };
}

async function writeServerCertificate(dir: string, root: SigningAuthority, parameters: CaParameters, now: Date): Promise<void> {
  const key = generateEcKeyPair('P-256');
  const issued = issueServerCertificate(root, { spki: key.spki, trustDomain: parameters.trustDomain, ...serverNames(), ttlSeconds: parameters.serverTtlSeconds, now });
  await mkdir(join(dir, 'server'), { recursive: true, mode: 0o700 });
  await writeFileAtomic(join(dir, 'server', 'key.pem'), key.keyPem, KEY_MODE);
  await writeFileAtomic(join(dir, 'server', 'cert.pem'), issued.pem, 0o644);
}

/** A new issuing CA in state `prepared` (or `active` when `activate`), signed by the root. */
export async function createIssuer(dir: string, root: SigningAuthority, parameters: CaParameters, now: Date, state: IssuerState): Promise<string> {
  const id = `${now.toISOString().slice(0, 10).replace(/-/g, '')}-${randomBytes(4).toString('hex')}`;
  const key = generateEcKeyPair('P-256');
  const issued = issueIssuerCertificate(root, { spki: key.spki, trustDomain: parameters.trustDomain, issuerId: id, ttlSeconds: parameters.issuerTtlSeconds, now });
  const issuerDir = join(dir, 'issuers', id);
  await mkdir(issuerDir, { recursive: true, mode: 0o700 });
  await writeFileAtomic(join(issuerDir, 'key.pem'), key.keyPem, KEY_MODE);
  await writeFileAtomic(join(issuerDir, 'cert.pem'), issued.pem, 0o644);
  await writeFileAtomic(join(issuerDir, 'state.json'), `${JSON.stringify({ id, state, updated_at: now.toISOString() }, null, 2)}\n`, 0o644);
  return id;
}

/** Creates root, one active issuer and the server certificate. Refuses to overwrite an existing CA. */
export async function initCertificateAuthority(dir: string, parameters: CaParameters, now = new Date()): Promise<CertificateAuthority> {
  if (await caExists(dir)) throw new Error(`a CA already exists in ${dir}`);
  const rootKey = generateEcKeyPair('P-384');
  const rootSigner = keyObjectSigner(rootKey.privateKey);
  const rootIssued = createRootCertificate(rootSigner, { trustDomain: parameters.trustDomain, ttlSeconds: parameters.rootTtlSeconds, now });
  const root: SigningAuthority = { certificate: readCertificate(rootIssued.der), signer: rootSigner };
  await mkdir(join(dir, 'root'), { recursive: true, mode: 0o700 });
  await writeFileAtomic(join(dir, 'root', 'key.pem'), rootKey.keyPem, KEY_MODE);
  await createIssuer(dir, root, parameters, now, 'active');
  await writeServerCertificate(dir, root, parameters, now);
  await rotateTokenSigningKey(dir);
  // The root certificate is written last: its presence marks a complete CA home.
  await writeFileAtomic(join(dir, 'root', 'cert.pem'), rootIssued.pem, 0o644);
  return loadCertificateAuthority(dir, parameters, now);
}

async function loadIssuer(issuerDir: string): Promise<IssuerRecord | undefined> {
  const statePath = join(issuerDir, 'state.json');
  if (!(await exists(statePath))) return undefined;
  const record = JSON.parse(await readFile(statePath, 'utf8')) as { id: string; state: IssuerState };
  const certificate = await readCertificateFile(join(issuerDir, 'cert.pem'));
  const keyPath = join(issuerDir, 'key.pem');
  const signer = (await exists(keyPath)) ? signerFromPem(await readFile(keyPath, 'utf8')) : undefined;
  return { id: record.id, state: record.state, certificate, ...(signer ? { signer } : {}) };
}

/** What a client may need to trust: the root and every issuer that is prepared, active, or retired but unexpired. */
export function trustBundle(root: CertificateInfo, issuers: IssuerRecord[], now: Date): string {
  const usable = issuers.filter((issuer) => issuer.state === 'prepared' || issuer.state === 'active' || (issuer.state === 'retired' && issuer.certificate.notAfter > now));
  return [root.pem, ...usable.map((issuer) => issuer.certificate.pem)].join('');
}

/** Renew the server certificate once two thirds of its life are gone, when the root key is at hand. */
function serverNeedsRenewal(certificate: CertificateInfo, now: Date): boolean {
  const life = certificate.notAfter.getTime() - certificate.notBefore.getTime();
  return now.getTime() > certificate.notBefore.getTime() + (2 * life) / 3;
}

export async function loadCertificateAuthority(dir: string, parameters: CaParameters, now = new Date()): Promise<CertificateAuthority> {
  if (!(await caExists(dir))) throw new Error(`no CA in ${dir}: run "keybroker ca init" or start with --dev`);
  const root = await readCertificateFile(join(dir, 'root', 'cert.pem'));
  const issuerIds = (await readdir(join(dir, 'issuers')).catch(() => [] as string[])).sort();
  const issuers = (await Promise.all(issuerIds.map((id) => loadIssuer(join(dir, 'issuers', id))))).filter((issuer): issuer is IssuerRecord => issuer !== undefined);
  const active = issuers.filter((issuer) => issuer.state === 'active');
  if (active.length !== 1) throw new Error(`the CA in ${dir} must have exactly one active issuer, found ${active.length}`);
  const { id, certificate, signer } = active[0]!;
  if (!signer) throw new Error(`the active issuer ${id} has no key in ${dir}`);
  const rootKeyPath = join(dir, 'root', 'key.pem');
  let serverCertificate = await readCertificateFile(join(dir, 'server', 'cert.pem')).catch(() => undefined);
  if ((!serverCertificate || serverNeedsRenewal(serverCertificate, now)) && (await exists(rootKeyPath))) {
    await writeServerCertificate(dir, { certificate: root, signer: signerFromPem(await readFile(rootKeyPath, 'utf8')) }, parameters, now);
    serverCertificate = await readCertificateFile(join(dir, 'server', 'cert.pem'));
  }
  if (!serverCertificate) throw new Error(`no server certificate in ${dir}/server and no root key to issue one`);
  const bundlePem = trustBundle(root, issuers, now);
  await writeFileAtomic(join(dir, 'bundle.pem'), bundlePem, 0o644);
  return {
    dir,
    root,
    issuers,
    active: { id, certificate, signer },
    server: { certificatePem: serverCertificate.pem, keyPem: await readFile(join(dir, 'server', 'key.pem'), 'utf8') },
    bundlePem,
  };
}
