import { randomBytes, X509Certificate } from 'node:crypto';
import { mkdir, readdir, readFile, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from '../store/fs/atomic-write.js';
import {
  createRootCertificate, issueIssuerCertificate, issueServerCertificate, type SigningAuthority,
} from './certificate-profiles.js';
import { readCertificate, type CertificateInfo } from './certificate-info.js';
import { createCsrWithSigner } from './create-csr.js';
import { verifyCsr } from './csr.js';
import type { IssuerEntry, IssuerRegistry } from '../domain/issuer-registry.js';
import { fileIssuerRegistry, issuerDir, issuerId, ISSUER_ID } from './file-issuer-registry.js';
import { activeIssuer, isInTrustBundle, type IssuerState, type IssuerStatus } from './issuer-states.js';
import { fileKeyStorage } from './key-storage/file-key-storage.js';
import type { IssuerKeyStorage } from './key-storage/issuer-key-storage.js';
import { generateEcKeyPair } from './key-pair.js';
import { pemToDer } from './pem.js';
import { keyObjectSigner, signerFromPem, type CertificateSigner } from './signer.js';
import { rotateTokenSigningKey } from './token-signing-key.js';

export type { IssuerState } from './issuer-states.js';
export { issuerDir, ISSUER_ID } from './file-issuer-registry.js';

/**
 * The CA home on the file system (layout in ca/README.md):
 *   root/cert.pem, root/key.pem          the root (key absent when kept offline)
 *   issuers/<id>/cert.pem, key.pem, state.json  (state.json only with the file registry; PostgreSQL holds states otherwise)
 *   issuers/<id>/request.csr             an issuer waiting for the offline root's signature (no state.json yet)
 *   server/cert.pem, server/key.pem      the broker's TLS certificate, signed by the root
 *   bundle.pem                           what clients trust: root plus usable issuers
 */
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
  /** Where issuer keys are made and found; key files in the CA home when absent. */
  keys?: IssuerKeyStorage;
  /** Where issuer states are recorded; state.json files in the CA home when absent. */
  issuers?: IssuerRegistry;
}

/** The registry of `parameters`, or the CA home's state.json files. */
export function issuerRegistry(dir: string, parameters?: Pick<CaParameters, 'issuers'>): IssuerRegistry {
  return parameters?.issuers ?? fileIssuerRegistry(dir);
}

const KEY_MODE = 0o600;
const PUBLIC_MODE = 0o644;

async function exists(path: string): Promise<boolean> {
  return stat(path).then(() => true, () => false);
}

export async function caExists(dir: string): Promise<boolean> {
  return exists(join(dir, 'root', 'cert.pem'));
}

function certificateFromPem(pem: string, what: string): CertificateInfo {
  const der = pemToDer(pem, 'CERTIFICATE');
  if (!der) throw new Error(`${what} holds no PEM certificate`);
  return readCertificate(der);
}

async function readCertificateFile(path: string): Promise<CertificateInfo> {
  return certificateFromPem(await readFile(path, 'utf8'), path);
}

/** The one place an issuer's signing key is read from; a key storage port plugs in here. */
export async function loadIssuerSigner(dir: string, id: string, keys: IssuerKeyStorage = fileKeyStorage(dir)): Promise<CertificateSigner | undefined> {
  return keys.load(issuerId(id));
}

/** The one place a new issuer key is made, in the configured key storage. */
async function createIssuerKey(dir: string, id: string, keys: IssuerKeyStorage = fileKeyStorage(dir)): Promise<CertificateSigner> {
  await mkdir(issuerDir(dir, id), { recursive: true, mode: 0o700 });
  return keys.generate(id);
}

/** A root from a directory holding its cert.pem and key.pem: root/ of a CA home, or the offline root's media. */
export async function rootAuthorityIn(rootDir: string): Promise<SigningAuthority> {
  return { certificate: await readCertificateFile(join(rootDir, 'cert.pem')), signer: signerFromPem(await readFile(join(rootDir, 'key.pem'), 'utf8')) };
}

/** The root's certificate and key, when the key is in this CA home (not kept offline). */
export async function rootAuthority(dir: string): Promise<SigningAuthority | undefined> {
  return (await exists(join(dir, 'root', 'key.pem'))) ? rootAuthorityIn(join(dir, 'root')) : undefined;
}

export async function readRootCertificate(dir: string): Promise<CertificateInfo> {
  return readCertificateFile(join(dir, 'root', 'cert.pem'));
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
  await writeFileAtomic(join(dir, 'server', 'cert.pem'), issued.pem, PUBLIC_MODE);
}

export function newIssuerId(now: Date): string {
  return `${now.toISOString().slice(0, 10).replace(/-/g, '')}-${randomBytes(4).toString('hex')}`;
}

/** A new issuing CA in state `prepared` (or `active` for a new CA home), signed by the root. */
export async function createIssuer(dir: string, root: SigningAuthority, parameters: CaParameters, now: Date, state: IssuerState): Promise<string> {
  const id = newIssuerId(now);
  const { publicKeySpki: spki } = await createIssuerKey(dir, id, parameters.keys);
  const issued = issueIssuerCertificate(root, { spki, trustDomain: parameters.trustDomain, issuerId: id, ttlSeconds: parameters.issuerTtlSeconds, now });
  await writeFileAtomic(join(issuerDir(dir, id), 'cert.pem'), issued.pem, PUBLIC_MODE);
  // Recorded last: a recorded issuer is a complete one.
  await issuerRegistry(dir, parameters).record([{ id, state, certificatePem: issued.pem }], now);
  return id;
}

export interface InitOptions {
  /** Keep the root offline: its key and certificate go to this directory instead of the CA home. */
  rootOfflineDir?: string;
}

/** Creates root, one active issuer and the server certificate. Refuses to overwrite an existing CA. */
export async function initCertificateAuthority(dir: string, parameters: CaParameters, now = new Date(), options: InitOptions = {}): Promise<CertificateAuthority> {
  if (await caExists(dir)) throw new Error(`a CA already exists in ${dir}`);
  if ((await issuerRegistry(dir, parameters).list()).length > 0) throw new Error('the issuer registry already holds the issuers of a CA; initialise a new CA with an empty one');
  const rootKey = generateEcKeyPair('P-384');
  const rootSigner = keyObjectSigner(rootKey.privateKey);
  const rootIssued = createRootCertificate(rootSigner, { trustDomain: parameters.trustDomain, ttlSeconds: parameters.rootTtlSeconds, now });
  const root: SigningAuthority = { certificate: readCertificate(rootIssued.der), signer: rootSigner };
  const rootKeyDir = options.rootOfflineDir ?? join(dir, 'root');
  if (options.rootOfflineDir && (await exists(join(rootKeyDir, 'key.pem')))) throw new Error(`${rootKeyDir} already holds a root key`);
  await mkdir(rootKeyDir, { recursive: true, mode: 0o700 });
  await mkdir(join(dir, 'root'), { recursive: true, mode: 0o700 });
  await writeFileAtomic(join(rootKeyDir, 'key.pem'), rootKey.keyPem, KEY_MODE);
  if (options.rootOfflineDir) await writeFileAtomic(join(rootKeyDir, 'cert.pem'), rootIssued.pem, PUBLIC_MODE);
  await createIssuer(dir, root, parameters, now, 'active');
  await writeServerCertificate(dir, root, parameters, now);
  await rotateTokenSigningKey(dir);
  // The root certificate is written last: its presence marks a complete CA home.
  await writeFileAtomic(join(dir, 'root', 'cert.pem'), rootIssued.pem, PUBLIC_MODE);
  return loadCertificateAuthority(dir, parameters, now);
}

async function issuerRecord(dir: string, entry: IssuerEntry, withSigner: boolean, keys: IssuerKeyStorage | undefined): Promise<IssuerRecord> {
  const certificate = certificateFromPem(entry.certificatePem, `the certificate of issuer ${entry.id}`);
  const signer = withSigner ? await loadIssuerSigner(dir, entry.id, keys) : undefined;
  if (signer && !signer.publicKeySpki.equals(certificate.spki)) throw new Error(`the key found for issuer ${entry.id} does not match its certificate`);
  return { id: entry.id, state: entry.state, certificate, ...(signer ? { signer } : {}) };
}

/**
 * A shared registry starts from the CA home it serves: while it records no issuer, the home's state.json files are
 * copied into it (once, under its exclusive section). Afterwards the registry alone decides. Answers the ids copied.
 */
export async function seedIssuerRegistry(dir: string, registry: IssuerRegistry, now: Date): Promise<string[]> {
  return registry.exclusive(async () => {
    if ((await registry.list()).length > 0) return [];
    const entries = await fileIssuerRegistry(dir).list();
    await registry.record(entries, now);
    return entries.map((entry) => entry.id);
  });
}

/** Every recorded issuer, sorted by id; keys are loaded only when asked. */
export async function readIssuers(dir: string, options: { withSigners: boolean; keys?: IssuerKeyStorage; issuers?: IssuerRegistry }): Promise<IssuerRecord[]> {
  const entries = await issuerRegistry(dir, options).list();
  return Promise.all(entries.map((entry) => issuerRecord(dir, entry, options.withSigners, options.keys)));
}

export function issuerStatus(issuer: IssuerRecord): IssuerStatus {
  return { id: issuer.id, state: issuer.state, notBefore: issuer.certificate.notBefore, notAfter: issuer.certificate.notAfter };
}

/** Issuers and their states as loaded: for CRLs, for rejecting leaves of tainted or revoked issuers, for status output. */
export function issuerStatuses(ca: Pick<CertificateAuthority, 'issuers'>): IssuerStatus[] {
  return ca.issuers.map(issuerStatus);
}

/** What a client may need to trust: the root and every issuer that is prepared, active, or retired but unexpired. */
export function trustBundle(root: CertificateInfo, issuers: IssuerRecord[], now: Date): string {
  return [root.pem, ...issuers.filter((issuer) => isInTrustBundle(issuerStatus(issuer), now)).map((issuer) => issuer.certificate.pem)].join('');
}

/** Renew the server certificate once two thirds of its life are gone, when the root key is at hand. */
export function serverNeedsRenewal(certificate: { notBefore: Date; notAfter: Date }, now: Date): boolean {
  const life = certificate.notAfter.getTime() - certificate.notBefore.getTime();
  return now.getTime() > certificate.notBefore.getTime() + (2 * life) / 3;
}

async function writeIfChanged(path: string, text: string): Promise<void> {
  if ((await readFile(path, 'utf8').catch(() => undefined)) !== text) await writeFileAtomic(path, text, PUBLIC_MODE);
}

/** Rewrites bundle.pem from the issuers' states at `now` (after a transition made outside the server). */
export async function refreshTrustBundle(dir: string, now: Date, issuers: IssuerRegistry): Promise<void> {
  await writeIfChanged(join(dir, 'bundle.pem'), trustBundle(await readRootCertificate(dir), await readIssuers(dir, { withSigners: false, issuers }), now));
}

export async function loadCertificateAuthority(dir: string, parameters: CaParameters, now = new Date()): Promise<CertificateAuthority> {
  if (!(await caExists(dir))) throw new Error(`no CA in ${dir}: run "keybroker ca init" or start with --dev`);
  const root = await readRootCertificate(dir);
  const issuers = await readIssuers(dir, { withSigners: true, ...(parameters.keys ? { keys: parameters.keys } : {}), issuers: issuerRegistry(dir, parameters) });
  const active = activeIssuer(issuers);
  if (!active) throw new Error(`the CA in ${dir} must have exactly one active issuer, found ${issuers.filter((issuer) => issuer.state === 'active').length}`);
  const { id, certificate, signer } = active;
  if (!signer) throw new Error(`the active issuer ${id} has no key in ${dir}`);
  let serverCertificate = await readCertificateFile(join(dir, 'server', 'cert.pem')).catch(() => undefined);
  if (!serverCertificate || serverNeedsRenewal(serverCertificate, now)) {
    const rootSigning = await rootAuthority(dir);
    if (rootSigning) {
      await writeServerCertificate(dir, rootSigning, parameters, now);
      serverCertificate = await readCertificateFile(join(dir, 'server', 'cert.pem'));
    }
  }
  if (!serverCertificate) throw new Error(`no server certificate in ${dir}/server and no root key to issue one`);
  const bundlePem = trustBundle(root, issuers, now);
  await writeIfChanged(join(dir, 'bundle.pem'), bundlePem);
  return {
    dir,
    root,
    issuers,
    active: { id, certificate, signer },
    server: { certificatePem: serverCertificate.pem, keyPem: await readFile(join(dir, 'server', 'key.pem'), 'utf8') },
    bundlePem,
  };
}

const ISSUER_CSR_PREFIX = 'keybroker issuing CA ';

/**
 * First half of an offline-root rotation: a new issuer key in the CA home and its CSR (request.csr), to be
 * signed where the root key is. The issuer has no state until its certificate is imported.
 */
export async function requestIssuer(dir: string, now: Date, keys?: IssuerKeyStorage): Promise<{ id: string; csrPem: string }> {
  const id = newIssuerId(now);
  const { pem } = createCsrWithSigner(await createIssuerKey(dir, id, keys), `${ISSUER_CSR_PREFIX}${id}`);
  await writeFileAtomic(join(issuerDir(dir, id), 'request.csr'), pem, PUBLIC_MODE);
  return { id, csrPem: pem };
}

/** Issuer requests still waiting for the root's signature: a request.csr whose issuer is not recorded yet. */
export async function pendingIssuerRequests(dir: string, issuers: IssuerRegistry): Promise<{ id: string; csrPem: string }[]> {
  const ids = (await readdir(join(dir, 'issuers')).catch(() => [] as string[])).filter((id) => ISSUER_ID.test(id)).sort();
  const recorded = new Set((await issuers.list()).map((entry) => entry.id));
  const pending: { id: string; csrPem: string }[] = [];
  for (const id of ids) {
    if (recorded.has(id)) continue;
    const csrPem = await readFile(join(issuerDir(dir, id), 'request.csr'), 'utf8').catch(() => undefined);
    if (csrPem) pending.push({ id, csrPem });
  }
  return pending;
}

/** The issuer id a keybroker issuer CSR names in its common name. */
export function issuerIdOfCsr(csrPem: string): string | undefined {
  const der = pemToDer(csrPem, 'CERTIFICATE REQUEST');
  const text = der ? der.toString('latin1') : '';
  const at = text.indexOf(ISSUER_CSR_PREFIX);
  if (at < 0) return undefined;
  const id = /^[A-Za-z0-9_-]+/.exec(text.slice(at + ISSUER_CSR_PREFIX.length))?.[0];
  return id && ISSUER_ID.test(id) ? id : undefined;
}

/** Signs an issuer CSR with a root (the offline root's side of a rotation, `keybroker ca sign-issuer`). */
export function signIssuerRequest(root: SigningAuthority, csrPem: string, parameters: Pick<CaParameters, 'trustDomain' | 'issuerTtlSeconds'>, now: Date): string {
  const csr = verifyCsr(csrPem);
  const id = issuerIdOfCsr(csrPem);
  if (!id) throw new Error('the CSR does not name a keybroker issuing CA (CN "keybroker issuing CA <id>")');
  return issueIssuerCertificate(root, { spki: csr.spki, trustDomain: parameters.trustDomain, issuerId: id, ttlSeconds: parameters.issuerTtlSeconds, now }).pem;
}

/**
 * Second half of an offline-root rotation: checks that the certificate was signed by this CA's root, is a CA
 * limited to path length 0, holds the key of a pending request and is within its validity; then stores it as
 * `prepared`. Importing the same certificate again changes nothing.
 */
export async function importIssuerCertificate(dir: string, certificatePem: string, now: Date, issuers: IssuerRegistry): Promise<{ id: string; imported: boolean }> {
  const certificate = certificateFromPem(certificatePem, 'the issuer certificate');
  const root = await readRootCertificate(dir);
  const x509 = new X509Certificate(certificate.der);
  if (!x509.checkIssued(root.x509) || !x509.verify(root.publicKey)) throw new Error('the issuer certificate was not signed by this CA\'s root');
  if (!x509.ca) throw new Error('the issuer certificate is not a CA certificate (basicConstraints CA:TRUE is required)');
  if (certificate.notAfter <= now || certificate.notBefore > now) throw new Error('the issuer certificate is not within its validity period');
  const existing = (await readIssuers(dir, { withSigners: false, issuers })).find((issuer) => issuer.certificate.der.equals(certificate.der));
  if (existing) return { id: existing.id, imported: false };
  for (const request of await pendingIssuerRequests(dir, issuers)) {
    if (!verifyCsr(request.csrPem).spki.equals(certificate.spki)) continue;
    await writeFileAtomic(join(issuerDir(dir, request.id), 'cert.pem'), certificate.pem, PUBLIC_MODE);
    await issuers.record([{ id: request.id, state: 'prepared', certificatePem: certificate.pem }], now);
    return { id: request.id, imported: true };
  }
  throw new Error('no pending issuer request in this CA home holds the key of that certificate ("keybroker ca request-issuer" makes one)');
}
