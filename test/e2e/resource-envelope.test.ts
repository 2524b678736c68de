/** PROTOCOL.md 1.5: `Accept: application/jose+json` answers a flattened JWE to the client certificate's EC key. */
import { createPrivateKey, randomBytes } from 'node:crypto';
import { flattenedDecrypt } from 'jose';
import { expect } from 'chai';
import type { BrokerProcess } from './helpers/broker-process.js';
import { send } from './helpers/https-client.js';
import { sharedAdmin, sharedBroker } from './helpers/shared-broker.js';
import { attestNew, randomResourcePath } from './helpers/v1-protocol.js';

describe('e2e: resource envelope (Accept: application/jose+json)', function () {
  let broker: BrokerProcess;
  const path = randomResourcePath('key', 'enveloped');
  const secret = randomBytes(57);

  before(async function () {
    broker = await sharedBroker();
    const admin = await sharedAdmin();
    const put = await send(broker, { method: 'PUT', path: `/kbs/v1/admin/resource/${path}`, body: secret, credential: admin });
    expect(put.status, put.text()).to.equal(201);
  });

  for (const keyType of ['ec-p256', 'ec-p384'] as const) {
    it(`a ${keyType} client gets a flattened ECDH-ES+A256KW / A256GCM JWE that its own key decrypts to the secret`, async function () {
      const { key, credential } = await attestNew(broker, keyType);
      const reply = await send(broker, { path: `/kbs/v1/resource/${path}`, credential, headers: { accept: 'application/jose+json' } });
      expect(reply.status, reply.text()).to.equal(200);
      expect(String(reply.headers['content-type'])).to.match(/^application\/jose\+json/);
      expect(reply.headers['cache-control']).to.equal('no-store');
      const jwe = reply.json<{ protected: string; encrypted_key: string; iv: string; ciphertext: string; tag: string }>();
      for (const field of ['protected', 'encrypted_key', 'iv', 'ciphertext', 'tag'] as const) {
        expect(jwe[field], field).to.be.a('string').and.match(/^[A-Za-z0-9_-]+$/);
      }
      expect(reply.body.includes(secret), 'the secret travels encrypted').to.equal(false);
      const header = JSON.parse(Buffer.from(jwe.protected, 'base64url').toString('utf8')) as Record<string, unknown>;
      expect(header).to.include({ alg: 'ECDH-ES+A256KW', enc: 'A256GCM' });
      const { plaintext } = await flattenedDecrypt(jwe, createPrivateKey(key.privateKeyPem));
      expect(Buffer.from(plaintext).equals(secret), 'decrypted envelope equals the secret').to.equal(true);
    });
  }

  it('without that Accept header the same client still gets the raw bytes', async function () {
    const { credential } = await attestNew(broker, 'ec-p256');
    const reply = await send(broker, { path: `/kbs/v1/resource/${path}`, credential });
    expect(reply.status).to.equal(200);
    expect(String(reply.headers['content-type'])).to.match(/^application\/octet-stream/);
    expect(reply.body.equals(secret)).to.equal(true);
  });
});
