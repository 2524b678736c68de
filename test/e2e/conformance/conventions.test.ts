/**
 * Conformance to PROTOCOL.md section 0 (conventions), 1.5 (order of checks), 1.6 and 1.8, statement by
 * statement, against the shared default broker. Complements test/e2e/rejections.test.ts and admin-api.test.ts.
 */
import { randomBytes, X509Certificate } from 'node:crypto';
import { expect } from 'chai';
import type { BrokerProcess } from '../helpers/broker-process.js';
import { sharedAdmin, sharedBroker, type AdminCredential } from '../helpers/shared-broker.js';
import { assertProblem, attestSample, call, callJson, certificatesIn, describe1, jsonOf, rawExchange, Scratch, type TlsIdentity } from './wire.js';

const MiB = 1024 * 1024;

describe('conformance: section 0 conventions, 1.5 order, 1.6, 1.8 (default configuration)', function () {
  let broker: BrokerProcess;
  let admin: AdminCredential;
  let tee: TlsIdentity;
  let teeLeaf: X509Certificate;
  const scratch = new Scratch();
  const repository = `conf-${randomBytes(4).toString('hex')}`;
  const adminPut = (path: string, body: string | Buffer, headers: Record<string, string> = {}) =>
    call(broker, { method: 'PUT', path: `/kbs/v1/admin/resource/${path}`, body, identity: admin, headers });

  before(async function () {
    broker = await sharedBroker();
    admin = await sharedAdmin();
    const attested = await attestSample(broker, scratch);
    tee = attested.identity;
    teeLeaf = new X509Certificate(attested.body.certificate);
  });

  after(function () {
    scratch.release();
  });

  describe('JSON bodies', function () {
    it('unknown fields of a challenge request are ignored: 200', async function () {
      const exchange = await callJson(broker, '/kbs/v1/challenge', { tee: 'sample', future_field: { nested: [1, 2] }, another: null });
      expect(exchange.status, describe1(exchange)).to.equal(200);
      expect(jsonOf(exchange)).to.have.all.keys('nonce', 'expires_at');
    });

    it('a body that is not UTF-8 is 400 bad-request', async function () {
      const body = Buffer.concat([Buffer.from('{"tee":"sam'), Buffer.of(0xff, 0xfe), Buffer.from('ple"}')]);
      assertProblem(await call(broker, { method: 'POST', path: '/kbs/v1/challenge', body, headers: { 'content-type': 'application/json' } }), 400, 'bad-request');
    });

    it('responses with a JSON body are application/json (challenge, admin PUT, admin list, healthz)', async function () {
      const exchanges = [
        await callJson(broker, '/kbs/v1/challenge', { tee: 'sample' }),
        await adminPut(`${repository}/json/one`, 'v'),
        await call(broker, { path: `/kbs/v1/admin/resources?prefix=${repository}/`, identity: admin }),
        await call(broker, { path: '/healthz' }),
      ];
      for (const exchange of exchanges) {
        expect(String(exchange.headers['content-type']), describe1(exchange)).to.match(/^application\/json\b/);
        expect(() => jsonOf(exchange)).not.to.throw();
      }
    });
  });

  describe('requests the HTTP parser refuses', function () {
    const malformed: Array<[string, string]> = [
      ['a request line that is not HTTP', 'GARBAGE\r\n\r\n'],
      ['a header line without a colon', 'GET /healthz HTTP/1.1\r\nhost: x\r\nno colon here\r\n\r\n'],
      ['a raw non-ASCII byte in the path', 'GET /kbs/v1/resource/a/b/\u00e9 HTTP/1.1\r\nhost: x\r\n\r\n'],
      ['headers over the parser limit', `GET /healthz HTTP/1.1\r\nhost: x\r\nx-padding: ${'a'.repeat(20_000)}\r\n\r\n`],
    ];
    for (const [what, text] of malformed) {
      it(`${what}: 400 with a bad-request problem body`, async function () {
        const raw = await rawExchange(broker, text);
        expect(raw).to.match(/^HTTP\/1\.1 400 /);
        expect(raw.toLowerCase()).to.include('content-type: application/problem+json');
        const problem = JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4)) as Record<string, unknown>;
        expect(problem).to.include({ type: 'urn:keybroker:error:bad-request', status: 400 });
      });
    }
  });

  describe('request body limit (default 2 MiB)', function () {
    it('a declared length over 2 MiB is 413 payload-too-large before the body is sent at all', async function () {
      const raw = await rawExchange(broker,
        `POST /kbs/v1/challenge HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: ${3 * MiB}\r\n\r\n{"tee":`);
      expect(raw).to.match(/^HTTP\/1\.1 413 /);
      expect(raw.toLowerCase()).to.include('content-type: application/problem+json');
      expect(raw).to.include('"type":"urn:keybroker:error:payload-too-large"');
    });

    it('an admin PUT of exactly 2 MiB is accepted; 2 MiB + 1 byte is 413 and changes nothing', async function () {
      const path = `${repository}/big/value`;
      const exact = randomBytes(2 * MiB);
      const created = await adminPut(path, exact, { 'content-type': 'application/octet-stream' });
      expect(created.status, describe1(created)).to.equal(201);
      expect(jsonOf(created).size).to.equal(2 * MiB);
      assertProblem(await adminPut(path, Buffer.alloc(2 * MiB + 1, 1), { 'content-type': 'application/octet-stream' }), 413, 'payload-too-large');
      const read = await call(broker, { path: `/kbs/v1/resource/${path}`, identity: tee });
      expect(read.status).to.equal(200);
      expect(read.body.equals(exact), 'value unchanged').to.equal(true);
    });
  });

  describe('resource paths', function () {
    it('segments at the edges of ^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}$ are valid: 404 resource-not-found, not 400', async function () {
      for (const path of ['-/_/a', 'a/b/c.d-e_f', `A9/${'z'.repeat(128)}/x.`, '_._/-.-/0']) {
        assertProblem(await call(broker, { path: `/kbs/v1/resource/${path}`, identity: tee }), 404, 'resource-not-found');
      }
    });

    const invalid: Array<[string, string]> = [
      ['a "." segment', 'a/./c'],
      ['a ".." segment', 'a/b/..'],
      ['a percent-encoded "." segment', 'a/%2e/c'],
      ['a half-encoded ".." segment', 'a/.%2E/c'],
      ['".." inside a segment', 'a/b/x..'],
      ['a percent-encoded backslash', 'a/b%5cc/d'],
      ['a percent-encoded space', 'a/b%20c/d'],
      ['a non-ASCII letter, percent-encoded', 'a/%C3%A9/d'],
      ['a query-looking semicolon', 'a/b;c/d'],
      ['an encoded character of the alphabet (%61 for "a")', 'a/b/%61'],
    ];
    for (const [what, path] of invalid) {
      it(`${what} (${path}): 400 bad-request on resource GET, admin PUT and admin DELETE`, async function () {
        assertProblem(await call(broker, { path: `/kbs/v1/resource/${path}`, identity: tee }), 400, 'bad-request');
        assertProblem(await adminPut(path, 'x'), 400, 'bad-request');
        assertProblem(await call(broker, { method: 'DELETE', path: `/kbs/v1/admin/resource/${path}`, identity: admin }), 400, 'bad-request');
      });
    }
  });

  describe('routing: 404 not-found for unknown paths, 405 method-not-allowed with Allow on known ones', function () {
    const wrongMethods: Array<[string, string, string]> = [
      ['POST', '/healthz', 'GET'],
      ['DELETE', '/readyz', 'GET'],
      ['GET', '/kbs/v1/attest', 'POST'],
      ['PUT', '/kbs/v1/ca/bundle', 'GET'],
      ['GET', '/kbs/v1/admin/resource/a/b/c', 'PUT'],
      ['POST', '/kbs/v1/admin/resources', 'GET'],
      ['DELETE', '/kbs/v1/resource/a/b/c', 'GET'],
    ];
    for (const [method, path, allowed] of wrongMethods) {
      it(`${method} ${path}: 405, Allow names ${allowed}`, async function () {
        const exchange = await call(broker, { method, path });
        assertProblem(exchange, 405, 'method-not-allowed');
        expect(String(exchange.headers.allow).split(/,\s*/)).to.include(allowed);
      });
    }

    it('paths that only resemble routes are 404 not-found', async function () {
      for (const path of ['/kbs/v1/challenge/', '/kbs/v1/resource', '/kbs/v1/admin/resource', '/KBS/v1/challenge', '/healthz/x']) {
        assertProblem(await call(broker, { path }), 404, 'not-found');
      }
    });
  });

  describe('1.5 resource GET: authentication, then path, then policy, then store', function () {
    it('without a certificate a bad path or a missing resource is 401 no-client-certificate, not 400 or 404', async function () {
      assertProblem(await call(broker, { path: '/kbs/v1/resource/a/../b' }), 401, 'no-client-certificate');
      assertProblem(await call(broker, { path: `/kbs/v1/resource/${repository}/missing/x` }), 401, 'no-client-certificate');
    });

    it('with an admin certificate (no claims extension) a bad path is 401 certificate-invalid, not 400', async function () {
      assertProblem(await call(broker, { path: '/kbs/v1/resource/a/b', identity: admin }), 401, 'certificate-invalid');
    });

    it('200 answers the raw bytes as application/octet-stream with cache-control: no-store', async function () {
      const path = `${repository}/raw/bytes`;
      const value = Buffer.from([0, 255, 10, 13, 0x80, 0x7f]);
      expect((await adminPut(path, value)).status).to.equal(201);
      const read = await call(broker, { path: `/kbs/v1/resource/${path}`, identity: tee, headers: { accept: '*/*' } });
      expect(read.status, describe1(read)).to.equal(200);
      expect(String(read.headers['content-type'])).to.match(/^application\/octet-stream\b/);
      expect(read.headers['cache-control']).to.equal('no-store');
      expect(read.body.equals(value)).to.equal(true);
    });

    it('Accept: application/jose+json answers exactly the flattened JWE members, alg ECDH-ES+A256KW, enc A256GCM', async function () {
      const path = `${repository}/jwe/one`;
      expect((await adminPut(path, 'enveloped')).status).to.equal(201);
      const read = await call(broker, { path: `/kbs/v1/resource/${path}`, identity: tee, headers: { accept: 'application/jose+json' } });
      expect(read.status, describe1(read)).to.equal(200);
      expect(read.headers['cache-control']).to.equal('no-store');
      const jwe = jsonOf<Record<string, string>>(read);
      expect(jwe).to.have.all.keys('protected', 'encrypted_key', 'iv', 'ciphertext', 'tag');
      for (const value of Object.values(jwe)) expect(value).to.match(/^[A-Za-z0-9_-]+$/);
      const header = JSON.parse(Buffer.from(jwe.protected!, 'base64url').toString('utf8')) as Record<string, unknown>;
      expect(header).to.include({ alg: 'ECDH-ES+A256KW', enc: 'A256GCM' });
      expect(teeLeaf.publicKey.asymmetricKeyType).to.equal('ec');
    });
  });

  describe('1.8 admin resources', function () {
    it('PUT stores the raw body whatever its content-type, and the listing is metadata only', async function () {
      const path = `${repository}/typed/json`;
      const text = '{"looks":"like json"}';
      const put = await adminPut(path, text, { 'content-type': 'application/json' });
      expect(put.status, describe1(put)).to.equal(201);
      expect(jsonOf(put)).to.deep.include({ path, size: Buffer.byteLength(text) });
      expect(jsonOf(put).version).to.be.a('number');
      const read = await call(broker, { path: `/kbs/v1/resource/${path}`, identity: tee });
      expect(read.body.toString('utf8')).to.equal(text);
      const listed = await call(broker, { path: `/kbs/v1/admin/resources?prefix=${repository}/typed/`, identity: admin });
      expect(listed.status).to.equal(200);
      const body = jsonOf<{ resources: Array<Record<string, unknown>> }>(listed);
      expect(body).to.have.all.keys('resources');
      expect(body.resources).to.have.lengthOf(1);
      expect(body.resources[0]).to.have.all.keys('path', 'size', 'version', 'updated_at');
      expect(listed.body.toString('utf8')).not.to.include('like json');
    });

    it('a prefix that matches nothing lists {"resources": []}', async function () {
      const listed = await call(broker, { path: `/kbs/v1/admin/resources?prefix=${repository}-none/`, identity: admin });
      expect(listed.status, describe1(listed)).to.equal(200);
      expect(jsonOf(listed)).to.deep.equal({ resources: [] });
    });

    it('DELETE of an absent resource is 404 resource-not-found; of a present one 204 with no body', async function () {
      const path = `${repository}/gone/soon`;
      assertProblem(await call(broker, { method: 'DELETE', path: `/kbs/v1/admin/resource/${path}`, identity: admin }), 404, 'resource-not-found');
      expect((await adminPut(path, 'x')).status).to.equal(201);
      const deleted = await call(broker, { method: 'DELETE', path: `/kbs/v1/admin/resource/${path}`, identity: admin });
      expect(deleted.status).to.equal(204);
      expect(deleted.body.length).to.equal(0);
    });
  });

  describe('1.6 public endpoints', function () {
    it('GET /kbs/v1/ca/bundle is PEM holding a self-signed root and the issuing CA of a fresh leaf, CA certificates only', async function () {
      const exchange = await call(broker, { path: '/kbs/v1/ca/bundle' });
      expect(exchange.status).to.equal(200);
      const pem = exchange.body.toString('utf8');
      expect(pem.replace(/-----BEGIN CERTIFICATE-----\n[A-Za-z0-9+/=\n]+-----END CERTIFICATE-----\n?/g, '').trim()).to.equal('');
      const certificates = certificatesIn(pem).map((text) => new X509Certificate(text));
      expect(certificates.every((certificate) => certificate.ca), 'every bundle certificate is a CA').to.equal(true);
      expect(certificates.some((certificate) => certificate.subject === certificate.issuer && certificate.verify(certificate.publicKey)), 'a root').to.equal(true);
      expect(certificates.some((certificate) => teeLeaf.checkIssued(certificate) && teeLeaf.verify(certificate.publicKey)), 'the leaf issuer').to.equal(true);
    });

    it('GET /healthz and /readyz answer 200 without a client certificate', async function () {
      for (const path of ['/healthz', '/readyz']) expect((await call(broker, { path })).status, path).to.equal(200);
    });
  });
});
