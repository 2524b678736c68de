import { generateKeyPairSync } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'chai';
import { SignJWT } from 'jose';
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

  it('reads only the Bearer scheme', () => {
    expect(bearerToken('Bearer abc.def.ghi')).to.equal('abc.def.ghi');
    expect(bearerToken('bearer abc.def.ghi')).to.equal('abc.def.ghi');
    expect(bearerToken('Basic dXNlcjpwYXNz')).to.equal(undefined);
    expect(bearerToken(undefined)).to.equal(undefined);
    expect(bearerToken('Bearer a b')).to.equal(undefined);
  });
});
