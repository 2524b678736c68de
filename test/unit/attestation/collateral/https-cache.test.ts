import { expect } from 'chai';
import { mkdir, readdir, stat, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { HttpsCollateralFetcher } from '../../../../src/attestation/collateral/https-cache.js';
import { readOfflineCollateral, readOfflineCollateralFiles } from '../../../../src/attestation/collateral/offline-directory.js';
import { useTempDir } from '../../../helpers/temp-dir.js';
import { errorCodeOf, writeTemp } from '../../pki/helpers.js';
import { startLoopbackHttps, type LoopbackHttps } from './loopback-https.js';

describe('attestation/collateral', () => {
  const dir = useTempDir('collateral');

  describe('HttpsCollateralFetcher', () => {
    let service: LoopbackHttps;
    before(async () => {
      service = await startLoopbackHttps((path) => {
        if (path === '/doc') return { body: 'collateral', headers: { 'TCB-Info-Issuer-Chain': 'chain%20pem', 'x-other': 'dropped' } };
        if (path === '/big') return { body: Buffer.alloc(4096) };
        if (path === '/broken') return { status: 500 };
        return { status: 404 };
      });
    });
    after(() => service.close());
    beforeEach(() => { service.requests.length = 0; });

    const fetcher = (options: Partial<ConstructorParameters<typeof HttpsCollateralFetcher>[0]> = {}) =>
      new HttpsCollateralFetcher({ cacheDir: join(dir(), 'cache'), tlsCa: service.certificatePem, ...options });

    it('fetches over HTTPS, keeps the asked-for headers, and serves the cached copy without asking again', async () => {
      const first = await fetcher().get(`${service.url}/doc`, ['TCB-Info-Issuer-Chain']);
      expect(first!.body.toString()).to.equal('collateral');
      expect(first!.headers).to.deep.equal({ 'tcb-info-issuer-chain': 'chain%20pem' });
      const second = await fetcher().get(`${service.url}/doc`, ['TCB-Info-Issuer-Chain']);
      expect(second!.body.toString()).to.equal('collateral');
      expect(second!.headers).to.deep.equal(first!.headers);
      expect(service.requests).to.deep.equal(['/doc']);
      const [file] = await readdir(join(dir(), 'cache'));
      expect((await stat(join(dir(), 'cache', file!))).mode & 0o777).to.equal(0o644);
    });

    it('asks again once the cached copy is older than maxAgeSeconds', async () => {
      let now = new Date('2026-01-01T00:00:00Z');
      const clock = () => now;
      await fetcher({ clock, maxAgeSeconds: 60 }).get(`${service.url}/doc`);
      now = new Date('2026-01-01T00:00:59Z');
      await fetcher({ clock, maxAgeSeconds: 60 }).get(`${service.url}/doc`);
      now = new Date('2026-01-01T00:01:01Z');
      await fetcher({ clock, maxAgeSeconds: 60 }).get(`${service.url}/doc`);
      expect(service.requests).to.deep.equal(['/doc', '/doc']);
    });

    it('answers undefined for 404 and caches nothing', async () => {
      expect(await fetcher().get(`${service.url}/missing`)).to.equal(undefined);
      expect(await fetcher().get(`${service.url}/missing`)).to.equal(undefined);
      expect(service.requests).to.have.length(2);
    });

    it('throws verifier-unavailable for a server error, an oversized answer, an untrusted or unreachable service', async () => {
      expect(await errorCodeOf(() => fetcher().get(`${service.url}/broken`))).to.equal('verifier-unavailable');
      expect(await errorCodeOf(() => fetcher({ maxBytes: 1024 }).get(`${service.url}/big`))).to.equal('verifier-unavailable');
      expect(await errorCodeOf(() => new HttpsCollateralFetcher({ cacheDir: join(dir(), 'other') }).get(`${service.url}/doc`))).to.equal('verifier-unavailable');
      expect(await errorCodeOf(() => fetcher().get('https://127.0.0.1:1/doc'))).to.equal('verifier-unavailable');
    });

    it('refuses a URL that is not https', async () => {
      const error = await fetcher().get('http://127.0.0.1/doc').catch((e: unknown) => e);
      expect(String(error)).to.match(/must be https/);
    });
  });

  describe('offline directory', () => {
    it('reads a named file, answers undefined when absent, refuses names that are paths', async () => {
      await writeTemp(dir(), 'tcbinfo-00a06d080000.json', '{}');
      expect((await readOfflineCollateral(dir(), 'tcbinfo-00a06d080000.json'))!.toString()).to.equal('{}');
      expect(await readOfflineCollateral(dir(), 'absent.json')).to.equal(undefined);
      for (const name of ['../etc/passwd', 'a/b', '.hidden', '', 'x..y']) {
        expect(await readOfflineCollateral(dir(), name).catch((e: unknown) => String(e))).to.match(/not a plain file name/);
      }
    });

    it('lists the regular files (and links to one) of a directory by name, hidden files skipped', async () => {
      await writeTemp(dir(), 'b.pem', 'B');
      await writeTemp(dir(), 'a.der', 'A');
      await writeTemp(dir(), '.tmp', 'T');
      await symlink(join(dir(), 'b.pem'), join(dir(), 'c.pem'));
      await symlink(join(dir(), 'missing'), join(dir(), 'd.pem'));
      await mkdir(join(dir(), 'sub'));
      const files = await readOfflineCollateralFiles(dir());
      expect([...files.keys()]).to.deep.equal(['a.der', 'b.pem', 'c.pem']);
      expect(files.get('b.pem')!.toString()).to.equal('B');
    });
  });
});
