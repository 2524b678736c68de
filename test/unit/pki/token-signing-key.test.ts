import { stat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'chai';
import { createLocalJWKSet, jwtVerify, SignJWT } from 'jose';
import { initCertificateAuthority } from '../../../src/pki/ca-home.js';
import { loadTokenSigningKeys, openTokenSigningKeys, rotateTokenSigningKey, tokenSigningKeyExists } from '../../../src/pki/token-signing-key.js';
import { useTempDir } from '../../helpers/temp-dir.js';

describe('token signing key', () => {
  const dir = useTempDir('token-key');

  it('is created only when asked (development mode), mode 0600, kid = thumbprint', async () => {
    let failure: unknown;
    await openTokenSigningKeys(dir(), false).catch((error: unknown) => { failure = error; });
    expect(String(failure)).to.include('no token signing key');
    const keys = await openTokenSigningKeys(dir(), true);
    expect(keys.current.kid).to.match(/^[A-Za-z0-9_-]{43}$/);
    expect((await stat(join(dir(), 'token', `${keys.current.kid}.key.pem`))).mode & 0o777).to.equal(0o600);
    expect(keys.jwks.keys).to.have.length(1);
    expect(keys.jwks.keys[0]).to.include({ kid: keys.current.kid, alg: 'ES256', kty: 'EC', crv: 'P-256' });
    expect(keys.jwks.keys[0]).not.to.have.property('d');
    expect((await openTokenSigningKeys(dir(), true)).current.kid).to.equal(keys.current.kid);
  });

  it('is made by `ca init` together with the CA', async () => {
    const caDir = join(dir(), 'ca');
    await initCertificateAuthority(caDir, { trustDomain: 'keybroker.test', rootTtlSeconds: 86400 * 10, issuerTtlSeconds: 86400 * 5, serverTtlSeconds: 86400 });
    expect(await tokenSigningKeyExists(caDir)).to.equal(true);
    expect((await openTokenSigningKeys(caDir, false)).jwks.keys).to.have.length(1);
  });

  it('rotation keeps exactly one previous key, whose tokens still verify against the published set', async () => {
    const first = await rotateTokenSigningKey(dir());
    const firstKeys = await loadTokenSigningKeys(dir());
    const token = await new SignJWT({}).setProtectedHeader({ alg: 'ES256', kid: first }).sign(firstKeys.current.privateKey);
    const second = await rotateTokenSigningKey(dir());
    const afterOne = await loadTokenSigningKeys(dir());
    expect(afterOne.current.kid).to.equal(second);
    expect(afterOne.jwks.keys.map((key) => key.kid)).to.deep.equal([second, first]);
    await jwtVerify(token, createLocalJWKSet(afterOne.jwks));
    const third = await rotateTokenSigningKey(dir());
    const afterTwo = await loadTokenSigningKeys(dir());
    expect(afterTwo.jwks.keys.map((key) => key.kid)).to.deep.equal([third, second]);
    expect((await readdir(join(dir(), 'token'))).filter((name) => name.endsWith('.pem'))).to.have.length(2);
    let failure: unknown;
    await jwtVerify(token, createLocalJWKSet(afterTwo.jwks)).catch((error: unknown) => { failure = error; });
    expect(failure).to.be.instanceOf(Error);
  });
});
