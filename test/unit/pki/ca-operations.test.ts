import { expect } from 'chai';
import { createPublicKey, X509Certificate } from 'node:crypto';
import { chmod, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  initCertificateAuthority, loadCertificateAuthority, pendingIssuerRequests, rootAuthorityIn, signIssuerRequest, type CaParameters,
} from '../../../src/pki/ca-home.js';
import { withCaLock, CaBusy } from '../../../src/pki/ca-lock.js';
import { fileIssuerRegistry } from '../../../src/pki/file-issuer-registry.js';
import {
  activateIssuer, importIssuer, markIssuer, prepareIssuer, requestIssuerCertificate, retireIssuer, runDueRotationStep,
} from '../../../src/pki/ca-operations.js';
import { issueClientCertificate } from '../../../src/pki/certificate-profiles.js';
import { TransitionRefused, UnknownIssuer } from '../../../src/pki/issuer-states.js';
import { pemBlocks } from '../../../src/pki/pem.js';
import { ecKey, makeRoot, makeTempDir, openssl, removeDir, spkiOf, thrownBy, TRUST_DOMAIN, writeTemp } from './helpers.js';

const HOUR = 3600;
/** Issuers live 60 hours: a successor is due at +30 h, its activation at +50 h. */
const parameters: CaParameters = { trustDomain: TRUST_DOMAIN, rootTtlSeconds: 3650 * 86400, issuerTtlSeconds: 60 * HOUR, serverTtlSeconds: 30 * 86400 };
const T0 = new Date('2026-03-01T00:00:00Z');
const at = (hours: number): Date => new Date(T0.getTime() + hours * HOUR * 1000);

const CLAIMS = { v: 1, tee: 'sample', verifier: 'builtin', status: 'affirming', tcb_status: 'unknown', trust_vector: { hardware: 0, executables: 0, configuration: 0 }, tee_claims: {}, iat: 0 } as const;

describe('pki/ca-operations', function () {
  this.timeout(20_000);
  let dir: string;
  let firstId: string;

  beforeEach(async () => {
    dir = await makeTempDir('ca-ops');
    firstId = (await initCertificateAuthority(dir, parameters, T0)).active.id;
  });
  afterEach(() => removeDir(dir));

  /** Subjects (CN) of the bundle the CA home holds at `now`, after a load. */
  async function bundleAt(now: Date): Promise<string[]> {
    const ca = await loadCertificateAuthority(dir, parameters, now);
    expect(await readFile(join(dir, 'bundle.pem'), 'utf8')).to.equal(ca.bundlePem);
    return pemBlocks(ca.bundlePem).map((block) => new X509Certificate(block.der).subject.split('\n').find((line) => line.startsWith('CN='))!.slice(3));
  }
  const issuerCn = (id: string): string => `keybroker issuing CA ${id}`;

  async function refusal(step: () => Promise<unknown>): Promise<string> {
    const error = await thrownBy(step);
    expect(error).to.be.instanceOf(TransitionRefused);
    return (error as Error).message;
  }

  it('runs the whole cycle; the bundle holds the right issuers at each state', async () => {
    expect(await bundleAt(at(1))).to.deep.equal(['keybroker root CA', issuerCn(firstId)]);

    const { id: second } = await prepareIssuer(dir, parameters, at(30));
    expect((await loadCertificateAuthority(dir, parameters, at(30))).active.id).to.equal(firstId);
    expect(await bundleAt(at(30))).to.have.members(['keybroker root CA', issuerCn(firstId), issuerCn(second)]);

    const activated = await activateIssuer(dir, undefined, at(50));
    expect(activated).to.deep.equal({ id: second, from: 'prepared', to: 'active', changed: true, retired: firstId });
    const afterActivation = await loadCertificateAuthority(dir, parameters, at(50));
    expect(afterActivation.active.id).to.equal(second);
    expect(afterActivation.issuers.find((issuer) => issuer.id === firstId)!.state).to.equal('retired');
    expect(await bundleAt(at(50))).to.have.members(['keybroker root CA', issuerCn(firstId), issuerCn(second)]);

    // The retired issuer leaves the bundle when it expires (60 h after T0).
    expect(await bundleAt(at(60))).to.deep.equal(['keybroker root CA', issuerCn(second)]);

    const { id: third } = await prepareIssuer(dir, parameters, at(80));
    await markIssuer(dir, firstId, 'taint', at(80));
    expect(await bundleAt(at(55))).to.have.members(['keybroker root CA', issuerCn(second), issuerCn(third)]);
    await markIssuer(dir, firstId, 'revoke', at(81));
    const states = Object.fromEntries((await loadCertificateAuthority(dir, parameters, at(81))).issuers.map((issuer) => [issuer.id, issuer.state]));
    expect(states).to.deep.equal({ [firstId]: 'revoked', [second]: 'active', [third]: 'prepared' });
  });

  it('drops a tainted retired issuer from the bundle before it expires', async () => {
    const { id: second } = await prepareIssuer(dir, parameters, at(30));
    await activateIssuer(dir, second, at(50));
    expect(await bundleAt(at(51))).to.include(issuerCn(firstId));
    expect((await markIssuer(dir, firstId, 'taint', at(51))).to).to.equal('tainted');
    expect(await bundleAt(at(51))).to.deep.equal(['keybroker root CA', issuerCn(second)]);
  });

  it('refuses bad transitions with a clear message and changes nothing', async () => {
    expect(await refusal(() => markIssuer(dir, firstId, 'revoke', at(1)))).to.match(/^cannot revoke issuer \S+ \(active\): it is the active issuer/);
    expect(await refusal(() => activateIssuer(dir, undefined, at(1)))).to.equal('no prepared issuer to activate; run "keybroker ca prepare" first');
    expect(await refusal(() => retireIssuer(dir, undefined, at(1)))).to.match(/exactly one issuer must stay active and none is prepared/);
    const { id: second } = await prepareIssuer(dir, parameters, at(2));
    expect(await refusal(() => prepareIssuer(dir, parameters, at(2)))).to.equal(`issuer ${second} is already prepared; activate it first`);
    await activateIssuer(dir, undefined, at(3));
    expect(await refusal(() => activateIssuer(dir, firstId, at(4)))).to.match(/^cannot activate issuer \S+ \(retired\): a retired issuer never becomes active again/);
    expect(await thrownBy(() => markIssuer(dir, 'no-such-issuer', 'taint', at(4)))).to.be.instanceOf(UnknownIssuer);
    const states = (await loadCertificateAuthority(dir, parameters, at(4))).issuers.map((issuer) => `${issuer.id}:${issuer.state}`);
    expect(states).to.have.members([`${firstId}:retired`, `${second}:active`]);
  });

  it('retire activates the prepared successor; repeating a step is a no-op', async () => {
    const { id: second } = await prepareIssuer(dir, parameters, at(1));
    expect(await retireIssuer(dir, undefined, at(2))).to.deep.equal({ id: firstId, from: 'active', to: 'retired', changed: true });
    expect((await loadCertificateAuthority(dir, parameters, at(2))).active.id).to.equal(second);
    expect((await retireIssuer(dir, firstId, at(3))).changed).to.equal(false);
    expect((await activateIssuer(dir, second, at(3))).changed).to.equal(false);
  });

  it('follows the schedule with an injected clock: prepare at 1/2, activate at 5/6 of the active issuer\'s life', async () => {
    expect(await runDueRotationStep(dir, parameters, at(29.9))).to.deep.equal({});
    const prepared = await runDueRotationStep(dir, parameters, at(30));
    expect(prepared.step).to.equal('prepare');
    expect(await runDueRotationStep(dir, parameters, at(49.9))).to.deep.equal({});
    expect(await runDueRotationStep(dir, parameters, at(50))).to.deep.equal({ step: 'activate', id: prepared.id });
    expect((await loadCertificateAuthority(dir, parameters, at(50))).active.id).to.equal(prepared.id);
    // The successor was made at +30 h: its own half-life is at +60 h.
    expect(await runDueRotationStep(dir, parameters, at(59.9))).to.deep.equal({});
    expect((await runDueRotationStep(dir, parameters, at(60))).step).to.equal('prepare');
  });

  it('shrinks leaf lifetimes as the active issuer nears its end, and refuses to issue once it is over', async () => {
    const ca = await loadCertificateAuthority(dir, parameters, at(1));
    const issueAt = (now: Date) => issueClientCertificate(ca.active, { spki: spkiOf(ecKey()), trustDomain: TRUST_DOMAIN, tee: 'sample', id: 'abc', claims: CLAIMS, ttlSeconds: 600, now });
    expect(issueAt(at(1)).notAfter.getTime()).to.equal(at(1).getTime() + 600_000);
    const late = issueAt(new Date(at(60).getTime() - 120_000));
    expect(late.notAfter.toISOString()).to.equal(ca.active.certificate.notAfter.toISOString());
    expect(new Date(new X509Certificate(late.der).validTo).getTime()).to.equal(at(60).getTime());
    expect(String((await thrownBy(() => issueAt(at(60)))) as Error)).to.match(/unavailable|expired/);
  });

  it('blocks the scheduled prepare when the root key is offline, and says what to run', async () => {
    await rm(join(dir, 'root', 'key.pem'));
    expect(await runDueRotationStep(dir, parameters, at(31))).to.deep.equal({ blocked: 'a successor issuer is due but the root key is offline: run scripts/ca-rotate.sh' });
    expect(await refusal(() => prepareIssuer(dir, parameters, at(31)))).to.match(/root key is offline/);
  });

  describe('offline root', () => {
    let rootDir: string;
    beforeEach(async () => {
      rootDir = join(dir, 'offline-root');
      await mkdir(rootDir);
      await writeFile(join(rootDir, 'key.pem'), await readFile(join(dir, 'root', 'key.pem')));
      await writeFile(join(rootDir, 'cert.pem'), await readFile(join(dir, 'root', 'cert.pem')));
      await rm(join(dir, 'root', 'key.pem'));
    });
    const offlineRoot = () => rootAuthorityIn(rootDir);

    it('requests, signs elsewhere and imports an issuer; each step can be repeated', async () => {
      const request = await requestIssuerCertificate(dir, at(30));
      expect(request.created).to.equal(true);
      expect((await stat(join(dir, 'issuers', request.id, 'key.pem'))).mode & 0o777).to.equal(0o600);
      expect(await requestIssuerCertificate(dir, at(31))).to.deep.equal({ ...request, created: false });
      expect((await pendingIssuerRequests(dir, fileIssuerRegistry(dir))).map((pending) => pending.id)).to.deep.equal([request.id]);

      const certificatePem = signIssuerRequest(await offlineRoot(), request.csrPem, parameters, at(30));
      expect(await importIssuer(dir, certificatePem, at(30))).to.deep.equal({ id: request.id, imported: true });
      expect(await importIssuer(dir, certificatePem, at(30))).to.deep.equal({ id: request.id, imported: false });
      expect(await pendingIssuerRequests(dir, fileIssuerRegistry(dir))).to.deep.equal([]);
      await activateIssuer(dir, undefined, at(50));
      const ca = await loadCertificateAuthority(dir, parameters, at(50));
      expect(ca.active.id).to.equal(request.id);
      const leaf = issueClientCertificate(ca.active, { spki: spkiOf(ecKey()), trustDomain: TRUST_DOMAIN, tee: 'sample', id: 'abc', claims: CLAIMS, ttlSeconds: 600, now: at(50) });
      expect(new X509Certificate(leaf.der).verify(createPublicKey({ key: ca.active.certificate.spki, format: 'der', type: 'spki' }))).to.equal(true);
    });

    it('imports a certificate signed by plain openssl x509 -req', async () => {
      const request = await requestIssuerCertificate(dir, new Date());
      const csr = await writeTemp(dir, 'issuer.csr', request.csrPem);
      const extensions = await writeTemp(dir, 'ext.cnf', '[v3]\nbasicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign,digitalSignature\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid:always\n');
      const out = join(dir, 'issuer.pem');
      const signed = await openssl(['x509', '-req', '-in', csr, '-CA', join(rootDir, 'cert.pem'), '-CAkey', join(rootDir, 'key.pem'), '-set_serial', '0x5eed', '-days', '2', '-extfile', extensions, '-extensions', 'v3', '-out', out]);
      expect(signed.code, signed.stderr).to.equal(0);
      expect(await importIssuer(dir, await readFile(out, 'utf8'), new Date())).to.deep.equal({ id: request.id, imported: true });
    });

    it('refuses a certificate from another root, and a second prepared issuer', async () => {
      const request = await requestIssuerCertificate(dir, at(30));
      const foreign = signIssuerRequest(makeRoot({ now: at(0) }), request.csrPem, parameters, at(30));
      expect(String(await thrownBy(() => importIssuer(dir, foreign, at(30))))).to.match(/not signed by this CA's root/);
      const signed = signIssuerRequest(await offlineRoot(), request.csrPem, parameters, at(30));
      await importIssuer(dir, signed, at(30));
      const again = await requestIssuerCertificate(dir, at(31)).catch((error: Error) => error);
      expect(again).to.be.instanceOf(TransitionRefused);
    });
  });

  it('serializes changes with a lock file and reports a busy CA home', async () => {
    const order: string[] = [];
    let release!: () => void;
    let started!: () => void;
    const firstStarted = new Promise<void>((resolve) => { started = resolve; });
    const first = withCaLock(dir, () => new Promise<void>((resolve) => {
      order.push('first');
      release = () => { order.push('first released'); resolve(); };
      started();
    }));
    await firstStarted;
    expect(await thrownBy(() => withCaLock(dir, async () => undefined, 50))).to.be.instanceOf(CaBusy);
    const second = withCaLock(dir, async () => { order.push('second'); }, 5_000);
    release();
    await Promise.all([first, second]);
    expect(order).to.deep.equal(['first', 'first released', 'second']);
  });

  it('lets a step that holds the lock take it again (the file registry inside a transition); others still wait', async () => {
    let release!: () => void;
    let entered!: () => void;
    const inside = new Promise<void>((resolve) => { entered = resolve; });
    const holder = withCaLock(dir, async () => {
      const inner = await withCaLock(dir, async () => 'inner', 50);
      entered();
      await new Promise<void>((resolve) => { release = resolve; });
      return inner;
    });
    await inside;
    expect(await thrownBy(() => withCaLock(dir, async () => undefined, 50))).to.be.instanceOf(CaBusy);
    release();
    expect(await holder).to.equal('inner');
  });

  it('reads a read-only CA home without a lock', async function () {
    if (process.getuid?.() === 0) this.skip(); // root writes through directory permissions
    await chmod(dir, 0o555);
    try {
      expect(await withCaLock(dir, async () => 'read', 100)).to.equal('read');
    } finally {
      await chmod(dir, 0o700);
    }
  });

  it('takes over the lock of a process that died holding it', async () => {
    await writeFile(join(dir, '.lock'), '999999999\n');
    expect(await withCaLock(dir, async () => 'ran', 1_000)).to.equal('ran');
  });
});
