import { generateKeyPairSync } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { expect } from 'chai';
import { exportJWK, SignJWT } from 'jose';
import { initCertificateAuthority } from '../../../src/pki/ca-home.js';
import { AdminTokenVerifier, bearerToken } from '../../../src/protocol/admin-bearer.js';
import type { KbsError } from '../../../src/domain/errors.js';
import { loadIdentityProviders } from '../../../src/server/identity-providers.js';
import { useTempDir } from '../../helpers/temp-dir.js';

describe('admin identity providers', () => {
  const dir = useTempDir('idp');

  it('a provider whose key file is missing or not a key stops the start, naming the provider', async () => {
    await writeFile(join(dir(), 'bad.pem'), 'not a key');
    for (const file of ['absent.pem', 'bad.pem']) {
      let failure: unknown;
      await loadIdentityProviders([{ name: 'corp', source: { publicKeyFile: join(dir(), file) }, algorithms: ['ES256'] }]).catch((error: unknown) => { failure = error; });
      expect(String(failure)).to.include('identity provider "corp"');
    }
  });

  it('a token of one provider is not accepted with an algorithm the provider does not allow', async () => {
    const key = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    await writeFile(join(dir(), 'es.pem'), key.publicKey.export({ type: 'spki', format: 'pem' }));
    const verifier = new AdminTokenVerifier(await loadIdentityProviders([{ name: 'only-ed', source: { publicKeyFile: join(dir(), 'es.pem') }, algorithms: ['EdDSA'] }]), 'admin');
    const token = await new SignJWT({ role: 'admin' }).setProtectedHeader({ alg: 'ES256' }).setExpirationTime('5m').sign(key.privateKey);
    let failure: unknown;
    await verifier.authenticate(token, new Date()).catch((error: unknown) => { failure = error; });
    expect((failure as KbsError).code).to.equal('admin-auth-required');
    const withoutExp = await new SignJWT({ role: 'admin' }).setProtectedHeader({ alg: 'ES256' }).sign(key.privateKey);
    const esVerifier = new AdminTokenVerifier(await loadIdentityProviders([{ name: 'es', source: { publicKeyFile: join(dir(), 'es.pem') }, algorithms: ['ES256'] }]), 'admin');
    expect(await esVerifier.authenticate(token, new Date())).to.equal('es/unknown');
    failure = undefined;
    await esVerifier.authenticate(withoutExp, new Date()).catch((error: unknown) => { failure = error; });
    expect((failure as KbsError).code).to.equal('admin-auth-required');
  });

  async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
    try {
      await promise;
      return undefined;
    } catch (error) {
      return (error as KbsError).code;
    }
  }

  it('a JWKS URL behind a private CA (jwks_ca_file): keys fetched over HTTPS; unreachable or untrusted is 503', async () => {
    const ca = await initCertificateAuthority(join(dir(), 'ca'), { trustDomain: 'idp.test', rootTtlSeconds: 864000, issuerTtlSeconds: 432000, serverTtlSeconds: 86400 });
    await writeFile(join(dir(), 'idp-ca.pem'), ca.bundlePem);
    const signing = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwks = JSON.stringify({ keys: [{ ...(await exportJWK(signing.publicKey)), kid: 'k1', alg: 'ES256' }] });
    const server = createServer({ key: ca.server.keyPem, cert: ca.server.certificatePem }, (request, response) => {
      response.writeHead(request.url === '/jwks.json' ? 200 : 404, { 'content-type': 'application/json' }).end(jwks);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const jwksUrl = `https://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
    const token = await new SignJWT({ role: 'admin', sub: 'bob' }).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setExpirationTime('5m').sign(signing.privateKey);
    const trusting = () => loadIdentityProviders([{ name: 'sso', source: { jwksUrl, caFile: join(dir(), 'idp-ca.pem') }, algorithms: ['ES256'] }]);
    try {
      expect(await new AdminTokenVerifier(await trusting(), 'admin').authenticate(token, new Date())).to.equal('sso/bob');
      const untrusting = await loadIdentityProviders([{ name: 'sso', source: { jwksUrl }, algorithms: ['ES256'] }]);
      expect(await codeOf(new AdminTokenVerifier(untrusting, 'admin').authenticate(token, new Date()))).to.equal('unavailable');
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    expect(await codeOf(new AdminTokenVerifier(await trusting(), 'admin').authenticate(token, new Date()))).to.equal('unavailable');
  });

  it('reads only the Bearer scheme', () => {
    expect(bearerToken('Bearer abc.def.ghi')).to.equal('abc.def.ghi');
    expect(bearerToken('bearer abc.def.ghi')).to.equal('abc.def.ghi');
    expect(bearerToken('Basic dXNlcjpwYXNz')).to.equal(undefined);
    expect(bearerToken(undefined)).to.equal(undefined);
    expect(bearerToken('Bearer a b')).to.equal(undefined);
  });
});
