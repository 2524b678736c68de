/**
 * The trustee protocol 0.4.0 over a real TLS listener on loopback, driven by the independent client of
 * test/e2e/helpers/v0-protocol.ts; the broker context is the unit fixture so the clock can move.
 */
import { createDecipheriv, createHash, createHmac, createPublicKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { createLocalJWKSet, exportJWK, jwtVerify, SignJWT, type FlattenedJWE, type JSONWebKeySet, type JWK } from 'jose';
import { AdminTokenVerifier } from '../../../src/protocol/admin-bearer.js';
import { SealedBox } from '../../../src/protocol/sealed-box.js';
import { loadTokenSigningKeys, rotateTokenSigningKey, type TokenSigningKeys } from '../../../src/pki/token-signing-key.js';
import { createApp } from '../../../src/server/app.js';
import { loadIdentityProviders } from '../../../src/server/identity-providers.js';
import { tlsOptions } from '../../../src/server/listen.js';
import { expectProblem, postJson, send, type Target } from '../../e2e/helpers/https-client.js';
import { runOpenssl } from '../../e2e/helpers/run-command.js';
import {
  decodeBase64urlJson, decodeJwtPart, expectTrusteeError, v0AttestBody, v0AttestNew, v0Auth, v0Digest, v0GetResource, v0Key, v0Open,
  v0PostAttest, v0SampleEvidence, type V0KeyKind,
} from '../../e2e/helpers/v0-protocol.js';
import { makeBroker, type Broker } from '../protocol/broker-fixture.js';

describe('v0: trustee protocol 0.4.0', function () {
  this.timeout(30_000);
  let broker: Broker;
  let server: Server;
  let target: Target;
  let keys: TokenSigningKeys;
  let idpDir: string;
  const v0 = { sessionTtlSeconds: 300, allowRsa1_5: false, sessionBox: new SealedBox(randomBytes(32), 'test-v0-session'), tokenKeys: () => keys };
  const secret = Buffer.from('the database password');

  before(async () => {
    broker = await makeBroker();
    keys = await loadTokenSigningKeys(join(broker.dir, 'ca'));
    broker.context.v0 = v0;
    server = createServer(tlsOptions(broker.ca, 'TLSv1.3'), createApp(broker.context, { maxBodyBytes: 1024 * 1024 }).callback());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    target = { port: (server.address() as AddressInfo).port, bundlePem: broker.ca.bundlePem };
    await broker.context.stores.resources.put('default/key/db', secret);
    idpDir = await mkdtemp(join(tmpdir(), 'keybroker-idp-'));
  });

  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await broker.close();
    await rm(idpDir, { recursive: true, force: true });
  });

  afterEach(() => {
    broker.setClock(new Date(Math.floor(Date.now() / 1000) * 1000));
    v0.allowRsa1_5 = false;
  });

  describe('auth', () => {
    it('answers a padded base64 nonce of 32 bytes, extra-params "" and the session cookie with its flags', async () => {
      const { reply, nonce } = await v0Auth(target);
      expect(reply.json()).to.deep.equal({ nonce, 'extra-params': '' });
      expect(nonce).to.match(/^[A-Za-z0-9+/]{43}=$/);
      expect(Buffer.from(nonce, 'base64')).to.have.length(32);
      const line = ([] as string[]).concat(reply.headers['set-cookie'] ?? [])[0]!;
      expect(line).to.match(/^kbs-session-id=[A-Za-z0-9_-]{40,400};/);
      for (const flag of ['HttpOnly', 'Secure', 'SameSite=Strict', 'Path=/kbs']) expect(line.split('; ')).to.include(flag);
    });

    it('refuses another protocol version with 401 AttestationError', async () => {
      const reply = await postJson(target, '/kbs/v0/auth', { version: '0.3.0', tee: 'sample', 'extra-params': '' });
      expectTrusteeError(reply, 401, 'AttestationError');
    });

    it('refuses an unknown TEE and a malformed body with 400 AttestationError', async () => {
      expectTrusteeError(await postJson(target, '/kbs/v0/auth', { version: '0.4.0', tee: 'quantum', 'extra-params': '' }), 400, 'AttestationError');
      expectTrusteeError(await postJson(target, '/kbs/v0/auth', { tee: 'sample' }), 400, 'AttestationError');
    });

    it('answers selected-hash-algorithm only when it is not SHA-384, and binds with it', async () => {
      const plain = await v0Auth(target, { version: '0.4.0', tee: 'sample', 'extra-params': { 'supported-hash-algorithms': ['sha384', 'sha512'] } });
      expect(plain.reply.json()['extra-params']).to.equal('');
      const { reply, cookie, nonce } = await v0Auth(target, { version: '0.4.0', tee: 'sample', 'extra-params': { 'supported-hash-algorithms': ['sha512'] } });
      expect(reply.json()['extra-params']).to.deep.equal({ 'selected-hash-algorithm': 'sha512' });
      const key = await v0Key();
      const attested = await v0PostAttest(target, cookie, v0AttestBody(nonce, key.jwk, v0SampleEvidence(v0Digest(key.jwk, nonce, '', 'sha512'))));
      expect(attested.status, attested.text()).to.equal(200);
    });
  });

  describe('attest and resource', () => {
    for (const kind of ['P-256', 'P-384', 'RSA'] as V0KeyKind[]) {
      it(`releases the resource as a JWE to a ${kind} tee-pubkey, with the bearer token and with the cookie`, async () => {
        const { key, token, cookie } = await v0AttestNew(target, kind);
        const byBearer = await v0GetResource(target, 'default/key/db', { token });
        expect(await v0Open(byBearer, key)).to.deep.equal(secret);
        expect(byBearer.headers['cache-control']).to.equal('no-store');
        const header = decodeBase64urlJson<{ alg: string; enc: string }>(byBearer.json<FlattenedJWE>().protected!);
        expect(header).to.include({ alg: kind === 'RSA' ? 'RSA-OAEP-256' : 'ECDH-ES+A256KW', enc: 'A256GCM' });
        expect(await v0Open(await v0GetResource(target, 'default/key/db', { cookie }), key)).to.deep.equal(secret);
      });
    }

    it('records the attestation, the token issuance and each release or denial in the audit log, naming the token by jti', async () => {
      const { key, token } = await v0AttestNew(target);
      const jti = decodeJwtPart<{ jti: string; sub: string }>(token, 1);
      await v0Open(await v0GetResource(target, 'default/key/db', { token }), key);
      const events = (await readFile(join(broker.dir, 'data', 'audit.jsonl'), 'utf8')).trim().split('\n')
        .map((line) => (JSON.parse(line) as { event: Record<string, unknown> }).event);
      expect(events).to.deep.include({ type: 'attestation', outcome: 'success', tee: 'sample', verifier: 'builtin', protocol: 'v0' });
      const issuance = events.find((event) => event.type === 'issuance' && event.serial === jti.jti);
      expect(issuance, 'issuance record of the token').to.include({ spiffe_id: jti.sub, tee: 'sample' });
      expect(issuance!.issuer).to.match(/^v0-token:/);
      expect(events.find((event) => event.type === 'resource' && event.serial === jti.jti)).to.include({ outcome: 'released', path: 'default/key/db', protocol: 'v0' });
    });

    it('issues its own ES256 token with the documented claims, verifiable with the published JWKS', async () => {
      const { key, token } = await v0AttestNew(target);
      const jwks = (await send(target, { path: '/kbs/v0/.well-known/jwks.json' })).json<JSONWebKeySet>();
      const { payload, protectedHeader } = await jwtVerify(token, createLocalJWKSet(jwks), { algorithms: ['ES256'] });
      expect(protectedHeader.alg).to.equal('ES256');
      expect(jwks.keys.map((jwk) => jwk.kid)).to.include(protectedHeader.kid);
      expect(payload.iss).to.equal('spiffe://keybroker.test');
      expect(payload.exp! - payload.iat!).to.be.within(1, 300);
      expect(payload.jti).to.be.a('string');
      expect(payload.tee).to.equal('sample');
      expect(payload['tee-pubkey']).to.deep.equal(key.jwk);
      expect(payload.cnf).to.deep.equal({ jwk: key.jwk });
      expect(payload['kbs-claims']).to.include({ tee: 'sample', status: 'affirming', verifier: 'builtin' });
    });

    it('accepts sample report data zero-padded to 64 bytes', async () => {
      const { cookie, nonce } = await v0Auth(target);
      const key = await v0Key();
      const reply = await v0PostAttest(target, cookie, v0AttestBody(nonce, key.jwk, v0SampleEvidence(v0Digest(key.jwk, nonce), true)));
      expect(reply.status, reply.text()).to.equal(200);
    });

    it('answers the same token when an attested session attests again', async () => {
      const { cookie, token, nonce, key } = await v0AttestNew(target);
      const again = await v0PostAttest(target, cookie, v0AttestBody(nonce, key.jwk, v0SampleEvidence(v0Digest(key.jwk, nonce))));
      expect(again.status).to.equal(200);
      expect(again.json().token).to.equal(token);
    });

    it('carries the SHA-384 of init-data in kbs-claims; malformed init-data is 400', async () => {
      const { cookie, nonce } = await v0Auth(target);
      const key = await v0Key();
      const body = { ...v0AttestBody(nonce, key.jwk, v0SampleEvidence(v0Digest(key.jwk, nonce))), 'init-data': { format: 'toml', body: 'version = "0.1.0"\nalgorithm = "sha384"\n' } };
      expectTrusteeError(await v0PostAttest(target, cookie, { ...body, 'init-data': { format: 'toml', body: '= broken' } }), 400, 'AttestationError');
      const reply = await v0PostAttest(target, cookie, body);
      expect(reply.status, reply.text()).to.equal(200);
      const claims = decodeJwtPart<{ 'kbs-claims': { init_data: string } }>(reply.json<{ token: string }>().token, 1)['kbs-claims'];
      expect(claims.init_data).to.equal(createHash('sha384').update('version = "0.1.0"\nalgorithm = "sha384"\n').digest('hex'));
    });

    it('binds the additional evidence too', async () => {
      const { cookie, nonce } = await v0Auth(target);
      const key = await v0Key();
      const body = v0AttestBody(nonce, key.jwk, v0SampleEvidence(v0Digest(key.jwk, nonce, '')), '{"gpu":"x"}');
      expectTrusteeError(await v0PostAttest(target, cookie, body), 403, 'AttestationError');
    });
  });

  describe('rejections', () => {
    it('attest without a cookie, or with one the broker never issued: 401', async () => {
      const key = await v0Key();
      const { nonce } = await v0Auth(target);
      const body = v0AttestBody(nonce, key.jwk, v0SampleEvidence(v0Digest(key.jwk, nonce)));
      expectTrusteeError(await v0PostAttest(target, undefined, body), 401, 'AttestationError');
      expectTrusteeError(await v0PostAttest(target, 'kbs-session-id=0123456789abcdef0123456789abcdef', body), 401, 'AttestationError');
      const sealedElsewhere = new SealedBox(randomBytes(32), 'test-v0-session').seal({ i: '0'.repeat(32), t: 'sample', n: nonce, h: 'sha384', e: 4102444800 });
      expectTrusteeError(await v0PostAttest(target, `kbs-session-id=${sealedElsewhere}`, body), 401, 'AttestationError');
      expectTrusteeError(await v0PostAttest(target, 'kbs-session-id=../../x', body), 401, 'AttestationError');
    });

    it('an expired session: 401', async () => {
      const { cookie, nonce } = await v0Auth(target);
      broker.setClock(new Date(Date.now() + 301_000));
      const key = await v0Key();
      expectTrusteeError(await v0PostAttest(target, cookie, v0AttestBody(nonce, key.jwk, v0SampleEvidence(v0Digest(key.jwk, nonce)))), 401, 'AttestationError');
    });

    it('a nonce that is not the session\'s: 401', async () => {
      const { cookie } = await v0Auth(target);
      const other = await v0Auth(target);
      const key = await v0Key();
      const body = v0AttestBody(other.nonce, key.jwk, v0SampleEvidence(v0Digest(key.jwk, other.nonce)));
      expectTrusteeError(await v0PostAttest(target, cookie, body), 401, 'AttestationError');
    });

    it('evidence that binds another key: 403', async () => {
      const { cookie, nonce } = await v0Auth(target);
      const key = await v0Key();
      const other = await v0Key();
      expectTrusteeError(await v0PostAttest(target, cookie, v0AttestBody(nonce, key.jwk, v0SampleEvidence(v0Digest(other.jwk, nonce)))), 403, 'AttestationError');
    });

    it('attestation policy deny: 403, and the session can attest once the policy allows', async () => {
      const { cookie, nonce } = await v0Auth(target);
      const key = await v0Key();
      const body = v0AttestBody(nonce, key.jwk, v0SampleEvidence(v0Digest(key.jwk, nonce)));
      const policy = broker.context.attestationPolicy;
      broker.context.attestationPolicy = { evaluate: () => ({ allow: false, reason: 'test says no' }) };
      try {
        expectTrusteeError(await v0PostAttest(target, cookie, body), 403, 'AttestationError');
      } finally {
        broker.context.attestationPolicy = policy;
      }
      expect((await v0PostAttest(target, cookie, body)).status).to.equal(200);
    });

    it('a malformed attest body or tee-pubkey: 400', async () => {
      const { cookie, nonce } = await v0Auth(target);
      expectTrusteeError(await v0PostAttest(target, cookie, { 'runtime-data': { nonce } }), 400, 'AttestationError');
      const body = v0AttestBody(nonce, { kty: 'oct', k: 'AAAA' }, { svn: '1', report_data: Buffer.alloc(48).toString('base64') });
      expectTrusteeError(await v0PostAttest(target, cookie, body), 400, 'AttestationError');
    });

    async function forged(sign: (claims: Record<string, unknown>) => Promise<string> | string): Promise<string> {
      const { token } = await v0AttestNew(target);
      return sign(decodeJwtPart(token, 1));
    }

    it('a token signed by anyone else, with alg none, with HMAC, or expired: 401 TokenVerifierError', async () => {
      const foreign = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
      const foreignToken = await forged((claims) => new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: keys.current.kid }).sign(foreign));
      const none = await forged((claims) => `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.`);
      const hmac = await forged((claims) => {
        const signingInput = `${Buffer.from(JSON.stringify({ alg: 'HS256', kid: keys.current.kid })).toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
        const jwk = keys.jwks.keys[0]!;
        return `${signingInput}.${createHmac('sha256', JSON.stringify(jwk)).update(signingInput).digest('base64url')}`;
      });
      for (const token of [foreignToken, none, hmac]) {
        expectTrusteeError(await v0GetResource(target, 'default/key/db', { token }), 401, 'TokenVerifierError');
      }
      const { token } = await v0AttestNew(target);
      broker.setClock(new Date(Date.now() + 400_000));
      expectTrusteeError(await v0GetResource(target, 'default/key/db', { token }), 401, 'TokenVerifierError');
    });

    it('no token and no cookie, or a session not attested yet: 401 TokenNotFound', async () => {
      expectTrusteeError(await v0GetResource(target, 'default/key/db', {}), 401, 'TokenNotFound');
      const { cookie } = await v0Auth(target);
      expectTrusteeError(await v0GetResource(target, 'default/key/db', { cookie }), 401, 'TokenNotFound');
    });

    it('resource policy deny: 403 PolicyDeny; missing resource: 404; bad path: 400', async () => {
      const { token } = await v0AttestNew(target);
      const policy = broker.context.resourcePolicy;
      broker.context.resourcePolicy = { evaluate: ({ resource }) => ({ allow: resource.repository !== 'denied', rule: 'test' }) };
      try {
        await broker.context.stores.resources.put('denied/key/db', secret);
        expectTrusteeError(await v0GetResource(target, 'denied/key/db', { token }), 403, 'PolicyDeny');
        expectTrusteeError(await v0GetResource(target, 'default/key/absent', { token }), 404, 'PluginInternalError');
        expectTrusteeError(await v0GetResource(target, 'default/key', { token }), 400, 'InvalidRequestPath');
      } finally {
        broker.context.resourcePolicy = policy;
      }
    });

    it('unknown v0 paths answer in trustee\'s shape, v1 errors stay problem+json', async () => {
      expectTrusteeError(await send(target, { path: '/kbs/v0/nothing' }), 404, 'InvalidRequestPath');
      expectProblem(await send(target, { path: '/kbs/v1/resource/a/b/c' }), 401, 'no-client-certificate');
    });
  });

  describe('RSA1_5', () => {
    it('is refused unless [v0] allow_rsa1_5 is set; then the JWE wraps the key with PKCS#1 v1.5', async () => {
      const { cookie, nonce } = await v0Auth(target);
      const key = await v0Key('RSA', 'RSA1_5');
      const body = v0AttestBody(nonce, key.jwk, v0SampleEvidence(v0Digest(key.jwk, nonce)));
      expectTrusteeError(await v0PostAttest(target, cookie, body), 400, 'JweError');

      v0.allowRsa1_5 = true;
      const reply = await v0PostAttest(target, cookie, body);
      expect(reply.status, reply.text()).to.equal(200);
      const jwe = (await v0GetResource(target, 'default/key/db', { token: reply.json<{ token: string }>().token })).json<FlattenedJWE>();
      expect(decodeBase64urlJson(jwe.protected!)).to.deep.equal({ alg: 'RSA1_5', enc: 'A256GCM' });
      // Node refuses PKCS#1 v1.5 decryption; the openssl binary unwraps the content key.
      const keyFile = join(idpDir, 'rsa1_5.pem');
      const wrapped = join(idpDir, 'wrapped.bin');
      await writeFile(keyFile, key.privateKey.export({ type: 'pkcs8', format: 'pem' }));
      await writeFile(wrapped, Buffer.from(jwe.encrypted_key!, 'base64url'));
      const unwrapped = await runOpenssl(['pkeyutl', '-decrypt', '-inkey', keyFile, '-in', wrapped, '-pkeyopt', 'rsa_padding_mode:pkcs1']);
      expect(unwrapped.code, unwrapped.stderr).to.equal(0);
      const decipher = createDecipheriv('aes-256-gcm', unwrapped.stdout, Buffer.from(jwe.iv!, 'base64url'))
        .setAAD(Buffer.from(jwe.protected!, 'ascii')).setAuthTag(Buffer.from(jwe.tag!, 'base64url'));
      expect(Buffer.concat([decipher.update(Buffer.from(jwe.ciphertext, 'base64url')), decipher.final()])).to.deep.equal(secret);
    });
  });

  describe('token key rotation', () => {
    it('keeps tokens of the previous key valid and publishes both keys', async () => {
      const before = await v0AttestNew(target);
      await rotateTokenSigningKey(join(broker.dir, 'ca'));
      keys = await loadTokenSigningKeys(join(broker.dir, 'ca'));
      const jwks = (await send(target, { path: '/kbs/v0/.well-known/jwks.json' })).json<JSONWebKeySet>();
      expect(jwks.keys).to.have.length(2);
      expect(await v0Open(await v0GetResource(target, 'default/key/db', { token: before.token }), before.key)).to.deep.equal(secret);
      const after = await v0AttestNew(target);
      expect(decodeJwtPart<{ kid: string }>(after.token, 0).kid).to.equal(keys.current.kid);
      expect(decodeJwtPart<{ kid: string }>(before.token, 0).kid).not.to.equal(keys.current.kid);
    });
  });

  describe('admin bearer tokens', () => {
    const ed = generateKeyPairSync('ed25519').privateKey;
    const es = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    const rs = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;

    before(async () => {
      await writeFile(join(idpDir, 'ed.pem'), createPublicKey(ed).export({ type: 'spki', format: 'pem' }));
      await writeFile(join(idpDir, 'rs.pem'), createPublicKey(rs).export({ type: 'spki', format: 'pem' }));
      const esJwk: JWK = { ...(await exportJWK(es)), kid: 'es-1' };
      delete esJwk.d;
      await writeFile(join(idpDir, 'es.jwks.json'), JSON.stringify({ keys: [esJwk] }));
      broker.context.adminTokens = new AdminTokenVerifier(await loadIdentityProviders([
        { name: 'ed', source: { publicKeyFile: join(idpDir, 'ed.pem') }, algorithms: ['EdDSA'] },
        { name: 'es', source: { jwksFile: join(idpDir, 'es.jwks.json') }, algorithms: ['ES256'], issuer: 'https://idp.test', audience: 'keybroker' },
        { name: 'rs', source: { publicKeyFile: join(idpDir, 'rs.pem') }, algorithms: ['RS256'] },
      ]), 'admin');
    });

    function adminToken(alg: 'EdDSA' | 'ES256' | 'RS256', claims: Record<string, unknown> = { role: 'admin' }): Promise<string> {
      const key = alg === 'EdDSA' ? ed : alg === 'ES256' ? es : rs;
      const jwt = new SignJWT({ sub: 'ops', ...claims }).setProtectedHeader({ alg, ...(alg === 'ES256' ? { kid: 'es-1' } : {}) }).setIssuedAt().setExpirationTime('5m');
      if (alg === 'ES256') jwt.setIssuer('https://idp.test').setAudience('keybroker');
      return jwt.sign(key);
    }

    for (const alg of ['EdDSA', 'ES256', 'RS256'] as const) {
      it(`v0 POST and DELETE /kbs/v0/resource with an ${alg} provider's token`, async () => {
        const authorization = `Bearer ${await adminToken(alg)}`;
        const path = `/kbs/v0/resource/admin-${alg}/key/one`;
        const posted = await send(target, { method: 'POST', path, body: 'posted value', headers: { authorization, 'content-type': 'application/octet-stream' } });
        expect(posted.status, posted.text()).to.equal(200);
        expect(await broker.context.stores.resources.get(`admin-${alg}/key/one`)).to.deep.equal(Buffer.from('posted value'));
        expect((await send(target, { method: 'DELETE', path, headers: { authorization } })).status).to.equal(204);
        expectTrusteeError(await send(target, { method: 'DELETE', path, headers: { authorization } }), 404, 'PluginInternalError');
      });
    }

    it('v1 admin routes take the same bearer tokens', async () => {
      const authorization = `Bearer ${await adminToken('RS256')}`;
      const put = await send(target, { method: 'PUT', path: '/kbs/v1/admin/resource/bearer/key/v1', body: 'x', headers: { authorization } });
      expect(put.status, put.text()).to.equal(201);
      expect((await send(target, { path: '/kbs/v1/admin/resources?prefix=bearer/', headers: { authorization } })).json()).to.have.nested.property('resources[0].path', 'bearer/key/v1');
    });

    it('without the admin role: 403; unknown signer, alg none, wrong audience or expired: 401', async () => {
      const noRole = `Bearer ${await adminToken('EdDSA', { role: 'reader' })}`;
      expectProblem(await send(target, { method: 'PUT', path: '/kbs/v1/admin/resource/x/y/z', body: 'x', headers: { authorization: noRole } }), 403, 'admin-forbidden');
      expectTrusteeError(await send(target, { method: 'POST', path: '/kbs/v0/resource/x/y/z', body: 'x', headers: { authorization: noRole } }), 403, 'AdminAuthAccess');
      const roles = `Bearer ${await adminToken('EdDSA', { role: ['reader', 'admin'] })}`;
      expect((await send(target, { method: 'POST', path: '/kbs/v0/resource/x/y/z', body: 'x', headers: { authorization: roles } })).status).to.equal(200);

      const stranger = await new SignJWT({ role: 'admin' }).setProtectedHeader({ alg: 'EdDSA' }).setExpirationTime('5m').sign(generateKeyPairSync('ed25519').privateKey);
      const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify({ role: 'admin', exp: Math.floor(Date.now() / 1000) + 300 })).toString('base64url')}.`;
      const wrongAudience = await new SignJWT({ role: 'admin' }).setProtectedHeader({ alg: 'ES256', kid: 'es-1' }).setIssuer('https://idp.test').setAudience('other').setExpirationTime('5m').sign(es);
      const expired = await new SignJWT({ role: 'admin' }).setProtectedHeader({ alg: 'EdDSA' }).setExpirationTime(Math.floor(Date.now() / 1000) - 60).sign(ed);
      for (const token of [stranger, none, wrongAudience, expired]) {
        expectProblem(await send(target, { method: 'PUT', path: '/kbs/v1/admin/resource/x/y/z', body: 'x', headers: { authorization: `Bearer ${token}` } }), 401, 'admin-auth-required');
        expectTrusteeError(await send(target, { method: 'POST', path: '/kbs/v0/resource/x/y/z', body: 'x', headers: { authorization: `Bearer ${token}` } }), 401, 'AdminAuthAccess');
      }
    });

    it('POST /kbs/v0/resource-policy and /kbs/v0/attestation-policy take trustee\'s base64url bodies with CEL; Rego is 400', async () => {
      const authorization = `Bearer ${await adminToken('EdDSA')}`;
      const encoded = (text: string): string => Buffer.from(text).toString('base64url');
      const post = (path: string, body: unknown, headers: Record<string, string> = { authorization }) =>
        send(target, { method: 'POST', path, body: JSON.stringify(body), headers: { ...headers, 'content-type': 'application/json' } });
      const before = await broker.context.policies.get('resource');

      const rules = { rules: [{ match: '*/*/*', allow: 'claims.tee == "sample"' }] };
      const set = await post('/kbs/v0/resource-policy', { policy: encoded(JSON.stringify(rules)) });
      expect(set.status, set.text()).to.equal(200);
      const resource = await broker.context.policies.get('resource');
      expect(resource).to.include({ version: before.version + 1, updated_by: 'ed/ops' });
      expect(resource).to.have.deep.property('rules', rules.rules);

      const rego = await post('/kbs/v0/resource-policy', { policy: encoded('package policy\ndefault allow = true\n') });
      expectTrusteeError(rego, 400, 'InvalidRequestPath');
      expect(rego.json()).to.have.property('detail').that.includes('Rego is not supported');
      expectTrusteeError(await post('/kbs/v0/resource-policy', { policy: encoded('{"rules": [{"match": "*/*/*", "allow": "claims.nope("}]}') }), 400, 'InvalidRequestPath');
      expectTrusteeError(await post('/kbs/v0/resource-policy', { rules: [] }), 400, 'InvalidRequestPath');
      expect(await broker.context.policies.get('resource')).to.include({ version: before.version + 1 });

      const attestation = await post('/kbs/v0/attestation-policy', { type: 'rego', policy_id: 'default_cpu', policy: encoded('claims.status == "affirming"') });
      expect(attestation.status, attestation.text()).to.equal(200);
      expect(await broker.context.policies.get('attestation')).to.include({ allow: 'claims.status == "affirming"', updated_by: 'ed/ops' });
      expectTrusteeError(await post('/kbs/v0/attestation-policy', { policy: encoded('package policy\nallow { true }') }), 400, 'InvalidRequestPath');
      expectTrusteeError(await post('/kbs/v0/resource-policy', { policy: encoded(JSON.stringify(rules)) }, {}), 401, 'AdminAuthAccess');
    });

    it('where no identity provider is configured, a bearer token is 401', async () => {
      const verifier = broker.context.adminTokens;
      broker.context.adminTokens = new AdminTokenVerifier([], 'admin');
      try {
        const authorization = `Bearer ${await adminToken('EdDSA')}`;
        expectProblem(await send(target, { method: 'PUT', path: '/kbs/v1/admin/resource/x/y/z', body: 'x', headers: { authorization } }), 401, 'admin-auth-required');
        expectTrusteeError(await send(target, { method: 'POST', path: '/kbs/v0/resource/x/y/z', body: 'x', headers: { authorization } }), 401, 'AdminAuthAccess');
      } finally {
        broker.context.adminTokens = verifier;
      }
    });
  });
});
