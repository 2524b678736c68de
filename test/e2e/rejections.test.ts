/**
 * Every refusal of PROTOCOL.md sections 0 and 1 that a client can provoke, each with its exact status and
 * problem type. Tests that need a special configuration start their own broker.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { startBroker, type BrokerProcess } from './helpers/broker-process.js';
import { foreignClientCertificate } from './helpers/foreign-ca.js';
import { expectProblem, postJson, send, sendOrError, type Credential } from './helpers/https-client.js';
import { describeResult, runCli, runCurl } from './helpers/run-command.js';
import { sharedAdmin, sharedBroker, type AdminCredential } from './helpers/shared-broker.js';
import {
  attestBody, attestNew, challenge, createCsr, fromPem, generateTeeKey, postAttest, randomResourcePath, reportData, sampleEvidence, toPem,
} from './helpers/v1-protocol.js';

/** Flips one bit in the last byte of the CSR, which is the last byte of its signature. */
function tamperCsrSignature(pem: string): string {
  const der = fromPem(pem, 'CERTIFICATE REQUEST');
  der[der.length - 1] = der[der.length - 1]! ^ 0x01;
  return toPem(der, 'CERTIFICATE REQUEST');
}

/** Changes one character in the middle of a base64url string to another character of the alphabet. */
function flipCharacter(text: string, index = Math.floor(text.length / 2)): string {
  const replacement = text[index] === 'A' ? 'B' : 'A';
  return text.slice(0, index) + replacement + text.slice(index + 1);
}

describe('e2e: rejections (default configuration)', function () {
  let broker: BrokerProcess;
  let admin: AdminCredential;
  let tee: Credential;
  const resource = randomResourcePath('key', 'guarded');
  const secret = randomBytes(32);

  before(async function () {
    broker = await sharedBroker();
    admin = await sharedAdmin();
    tee = (await attestNew(broker)).credential;
    const put = await send(broker, { method: 'PUT', path: `/kbs/v1/admin/resource/${resource}`, body: secret, credential: admin });
    expect(put.status, put.text()).to.equal(201);
  });

  describe('resource GET authentication', function () {
    it('the TEE certificate itself is accepted (control)', async function () {
      const reply = await send(broker, { path: `/kbs/v1/resource/${resource}`, credential: tee });
      expect(reply.status).to.equal(200);
      expect(reply.body.equals(secret)).to.equal(true);
    });

    it('no client certificate: 401 no-client-certificate', async function () {
      expectProblem(await send(broker, { path: `/kbs/v1/resource/${resource}` }), 401, 'no-client-certificate', broker.home);
    });

    it('no client certificate with curl: HTTP 401 and a problem body', async function () {
      const result = await runCurl(['-sS', '--cacert', broker.bundlePath, '-w', '\n%{http_code}', `${broker.url}/kbs/v1/resource/${resource}`]);
      expect(result.code, describeResult(result)).to.equal(0);
      const lines = result.stdout.toString().split('\n');
      expect(lines.pop()).to.equal('401');
      expect(JSON.parse(lines.join('\n')).type).to.equal('urn:keybroker:error:no-client-certificate');
    });

    it('a certificate from a foreign CA made at test time: TLS refusal or 401 certificate-invalid', async function () {
      const foreign = await foreignClientCertificate('spiffe://keybroker.local/tee/sample/0123456789abcdef');
      const { reply, error } = await sendOrError(broker, { path: `/kbs/v1/resource/${resource}`, credential: foreign });
      if (reply) {
        expectProblem(reply, 401, 'certificate-invalid', broker.home);
        expect(reply.body.includes(secret)).to.equal(false);
      } else {
        expect(error!.message).to.match(/alert|certificate|socket hang up|ECONNRESET/i);
      }
    });

    it('an admin certificate (no attestation claims) on a resource: 401 certificate-invalid', async function () {
      expectProblem(await send(broker, { path: `/kbs/v1/resource/${resource}`, credential: admin }), 401, 'certificate-invalid', broker.home);
    });

    it('a missing resource: 404 resource-not-found', async function () {
      expectProblem(await send(broker, { path: `/kbs/v1/resource/${randomResourcePath()}`, credential: tee }), 404, 'resource-not-found', broker.home);
    });
  });

  describe('resource paths (a valid TEE certificate is presented so the path check is reached)', function () {
    const bad: Array<[string, string]> = [
      ['dot-dot segment sent raw', '/kbs/v1/resource/a/../b'],
      ['percent-encoded dot-dot', '/kbs/v1/resource/a/%2e%2e/b'],
      ['percent-encoded dot-dot, upper case', '/kbs/v1/resource/a/%2E%2E/b'],
      ['traversal to the top', '/kbs/v1/resource/../../../etc/passwd'],
      ['two segments', '/kbs/v1/resource/a/b'],
      ['four segments', '/kbs/v1/resource/a/b/c/d'],
      ['a segment starting with "."', '/kbs/v1/resource/a/b/.hidden'],
      ['a segment containing ".."', '/kbs/v1/resource/a/b..c/d'],
      ['a 129-character segment', `/kbs/v1/resource/a/b/${'x'.repeat(129)}`],
      ['an encoded slash', '/kbs/v1/resource/a%2fb/c/d'],
      ['an encoded NUL', '/kbs/v1/resource/a/b/c%00'],
      ['an empty segment', '/kbs/v1/resource/a//c'],
      ['a trailing slash', '/kbs/v1/resource/a/b/c/'],
    ];
    for (const [what, path] of bad) {
      it(`${what} (${path.length > 60 ? `${path.slice(0, 60)}...` : path}): 400 bad-request`, async function () {
        expectProblem(await send(broker, { path, credential: tee }), 400, 'bad-request', broker.home);
      });
    }

    it('a 128-character segment is valid: 404 resource-not-found, not 400', async function () {
      expectProblem(await send(broker, { path: `/kbs/v1/resource/a/b/${'x'.repeat(128)}`, credential: tee }), 404, 'resource-not-found', broker.home);
    });
  });

  describe('challenge and attest bodies', function () {
    it('malformed JSON: 400 bad-request on challenge and attest', async function () {
      for (const path of ['/kbs/v1/challenge', '/kbs/v1/attest']) {
        const reply = await send(broker, { method: 'POST', path, body: '{"tee": "sample"', headers: { 'content-type': 'application/json' } });
        expectProblem(reply, 400, 'bad-request', broker.home);
      }
    });

    it('a JSON value that is not an object: 400 bad-request', async function () {
      expectProblem(await postJson(broker, '/kbs/v1/challenge', ['sample']), 400, 'bad-request', broker.home);
      expectProblem(await postJson(broker, '/kbs/v1/attest', 'nonce'), 400, 'bad-request', broker.home);
    });

    it('missing fields: 400 bad-request', async function () {
      expectProblem(await postJson(broker, '/kbs/v1/challenge', {}), 400, 'bad-request', broker.home);
      expectProblem(await postJson(broker, '/kbs/v1/challenge', { tee: 7 }), 400, 'bad-request', broker.home);
      const key = await generateTeeKey();
      const { nonce } = await challenge(broker);
      const full = await attestBody(nonce, key);
      for (const field of ['nonce', 'csr']) {
        const body = { ...full };
        delete body[field];
        expectProblem(await postAttest(broker, body), 400, 'bad-request', broker.home);
      }
    });

    it('wrong content-type: 415 unsupported-media-type', async function () {
      const reply = await send(broker, { method: 'POST', path: '/kbs/v1/challenge', body: '{"tee":"sample"}', headers: { 'content-type': 'text/plain' } });
      expectProblem(reply, 415, 'unsupported-media-type', broker.home);
      const form = await send(broker, { method: 'POST', path: '/kbs/v1/attest', body: 'nonce=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      expectProblem(form, 415, 'unsupported-media-type', broker.home);
    });

    it('unknown TEE on challenge: 400 unsupported-tee', async function () {
      expectProblem(await postJson(broker, '/kbs/v1/challenge', { tee: 'no-such-tee' }), 400, 'unsupported-tee', broker.home);
    });

    it('evidence and token both, or neither: 400 bad-request', async function () {
      const key = await generateTeeKey();
      const { nonce } = await challenge(broker);
      const body = await attestBody(nonce, key);
      expectProblem(await postAttest(broker, { ...body, token: 'eyJhbGciOiJFUzI1NiJ9.e30.c2ln' }), 400, 'bad-request', broker.home);
      const neither: Record<string, unknown> = { ...body };
      delete neither.evidence;
      expectProblem(await postAttest(broker, neither), 400, 'bad-request', broker.home);
      // Neither refusal consumed the nonce.
      expect((await postAttest(broker, body)).status).to.equal(201);
    });

    it('sample evidence of the wrong shape: 400 bad-evidence-format', async function () {
      const key = await generateTeeKey();
      const { nonce } = await challenge(broker);
      const reply = await postAttest(broker, await attestBody(nonce, key, { evidence: { svn: '1', report_data: 'not base64!' } }));
      expectProblem(reply, 400, 'bad-evidence-format', broker.home);
    });

    it('a CSR that is not PEM: 400 bad-csr', async function () {
      const key = await generateTeeKey();
      const { nonce } = await challenge(broker);
      expectProblem(await postAttest(broker, await attestBody(nonce, key, { csr: 'hello' })), 400, 'bad-csr', broker.home);
    });

    it('a CSR whose signature does not verify (one byte of the signature flipped): 400 bad-csr', async function () {
      const key = await generateTeeKey();
      const { nonce } = await challenge(broker);
      const csr = tamperCsrSignature(await createCsr(key));
      const reply = await postAttest(broker, { nonce, csr, evidence: sampleEvidence(reportData(nonce, key.spki)) });
      expectProblem(reply, 400, 'bad-csr', broker.home);
    });
  });

  describe('nonces and binding', function () {
    it('nonce replay: a second attest with the same nonce and a valid fresh body is 401 nonce-invalid', async function () {
      const { nonce } = await attestNew(broker);
      const other = await generateTeeKey();
      expectProblem(await postAttest(broker, await attestBody(nonce, other)), 401, 'nonce-invalid', broker.home);
    });

    it('concurrent attests with one nonce: exactly one 201, the others 401 nonce-invalid', async function () {
      const { nonce } = await challenge(broker);
      const bodies = await Promise.all(Array.from({ length: 6 }, async () => attestBody(nonce, await generateTeeKey())));
      const replies = await Promise.all(bodies.map((body) => postAttest(broker, body)));
      expect(replies.filter((reply) => reply.status === 201), replies.map((reply) => reply.status).join(',')).to.have.lengthOf(1);
      for (const reply of replies.filter((candidate) => candidate.status !== 201)) expectProblem(reply, 401, 'nonce-invalid', broker.home);
    });

    it('a forged nonce (64 random base64url characters): 401 nonce-invalid', async function () {
      const forged = randomBytes(48).toString('base64url');
      expect(forged).to.have.lengthOf(64);
      const key = await generateTeeKey();
      expectProblem(await postAttest(broker, await attestBody(forged, key)), 401, 'nonce-invalid', broker.home);
    });

    it('a tampered real nonce (one character changed): 401 nonce-invalid', async function () {
      const { nonce } = await challenge(broker);
      const tampered = flipCharacter(nonce);
      expect(tampered).not.to.equal(nonce);
      const key = await generateTeeKey();
      expectProblem(await postAttest(broker, await attestBody(tampered, key)), 401, 'nonce-invalid', broker.home);
    });

    it('a nonce outside the alphabet or too short: 401 nonce-invalid', async function () {
      const key = await generateTeeKey();
      expectProblem(await postAttest(broker, await attestBody('short', key)), 401, 'nonce-invalid', broker.home);
      expectProblem(await postAttest(broker, await attestBody(`${'a'.repeat(60)}+/=`, key)), 401, 'nonce-invalid', broker.home);
    });

    it('the nonce is checked before the CSR: forged nonce with a broken CSR is 401, a missing CSR is 400', async function () {
      const forged = randomBytes(48).toString('base64url');
      const key = await generateTeeKey();
      expectProblem(await postAttest(broker, await attestBody(forged, key, { csr: 'garbage' })), 401, 'nonce-invalid', broker.home);
      expectProblem(await postAttest(broker, { nonce: forged, evidence: sampleEvidence(randomBytes(64)) }), 400, 'bad-request', broker.home);
    });

    it('report_data computed for another key: 403 binding-mismatch, and the nonce stays usable', async function () {
      const key = await generateTeeKey();
      const another = await generateTeeKey();
      const { nonce } = await challenge(broker);
      const reply = await postAttest(broker, { nonce, csr: await createCsr(key), evidence: sampleEvidence(reportData(nonce, another.spki)) });
      expectProblem(reply, 403, 'binding-mismatch', broker.home);
      const otherNonce = (await challenge(broker)).nonce;
      const wrongNonce = await postAttest(broker, { nonce, csr: await createCsr(key), evidence: sampleEvidence(reportData(otherNonce, key.spki)) });
      expectProblem(wrongNonce, 403, 'binding-mismatch', broker.home);
      expect((await postAttest(broker, await attestBody(nonce, key))).status, 'a refused attest must not consume the nonce').to.equal(201);
    });
  });

  describe('admin routes', function () {
    it('a TEE certificate on admin routes: 403 admin-forbidden, and nothing changes', async function () {
      expectProblem(await send(broker, { method: 'PUT', path: `/kbs/v1/admin/resource/${resource}`, body: 'overwrite', credential: tee }), 403, 'admin-forbidden', broker.home);
      expectProblem(await send(broker, { method: 'DELETE', path: `/kbs/v1/admin/resource/${resource}`, credential: tee }), 403, 'admin-forbidden', broker.home);
      expectProblem(await send(broker, { path: '/kbs/v1/admin/resources', credential: tee }), 403, 'admin-forbidden', broker.home);
      const reply = await send(broker, { path: `/kbs/v1/resource/${resource}`, credential: tee });
      expect(reply.body.equals(secret), 'resource unchanged').to.equal(true);
    });

    it('no credential on admin routes: 401 admin-auth-required', async function () {
      expectProblem(await send(broker, { method: 'PUT', path: `/kbs/v1/admin/resource/${resource}`, body: 'overwrite' }), 401, 'admin-auth-required', broker.home);
      expectProblem(await send(broker, { method: 'DELETE', path: `/kbs/v1/admin/resource/${resource}` }), 401, 'admin-auth-required', broker.home);
      expectProblem(await send(broker, { path: '/kbs/v1/admin/resources' }), 401, 'admin-auth-required', broker.home);
    });

    it('a bearer token where no identity provider is configured: 401 admin-auth-required', async function () {
      const reply = await send(broker, { path: '/kbs/v1/admin/resources', headers: { authorization: 'Bearer eyJhbGciOiJub25lIn0.eyJyb2xlIjoiYWRtaW4ifQ.' } });
      expectProblem(reply, 401, 'admin-auth-required', broker.home);
    });

    it('a foreign certificate naming an admin SPIFFE ID gets no admin access (TLS refusal or 401)', async function () {
      const foreign = await foreignClientCertificate('spiffe://keybroker.local/admin/ops');
      const { reply, error } = await sendOrError(broker, { method: 'PUT', path: `/kbs/v1/admin/resource/${resource}`, body: 'overwrite', credential: foreign });
      if (reply) {
        expect(reply.status, reply.text()).to.equal(401);
        expect(String(reply.headers['content-type'])).to.match(/^application\/problem\+json/);
        expect(reply.json<{ type: string }>().type).to.be.oneOf(['urn:keybroker:error:certificate-invalid', 'urn:keybroker:error:admin-auth-required']);
      } else {
        expect(error).to.be.instanceOf(Error);
      }
      const after = await send(broker, { path: `/kbs/v1/resource/${resource}`, credential: tee });
      expect(after.body.equals(secret), 'resource unchanged').to.equal(true);
    });
  });

  describe('routing', function () {
    it('an unknown path: 404 not-found', async function () {
      expectProblem(await send(broker, { path: '/kbs/v1/nothing-here' }), 404, 'not-found', broker.home);
      expectProblem(await send(broker, { path: '/' }), 404, 'not-found', broker.home);
      expectProblem(await postJson(broker, '/kbs/v2/challenge', { tee: 'sample' }), 404, 'not-found', broker.home);
    });

    it('a wrong method: 405 method-not-allowed with an Allow header', async function () {
      const get = await send(broker, { path: '/kbs/v1/challenge' });
      expectProblem(get, 405, 'method-not-allowed', broker.home);
      expect(String(get.headers.allow)).to.include('POST');
      expectProblem(await send(broker, { method: 'DELETE', path: '/kbs/v1/attest' }), 405, 'method-not-allowed', broker.home);
      expectProblem(await send(broker, { method: 'POST', path: `/kbs/v1/resource/${resource}`, credential: tee, body: '{}', headers: { 'content-type': 'application/json' } }), 405, 'method-not-allowed', broker.home);
    });
  });
});

describe('e2e: short-lived certificates and nonces ([ca] leaf_ttl_seconds = 2, [attestation] nonce_ttl_seconds = 10)', function () {
  let broker: BrokerProcess;
  let earlyNonce: { nonce: string; expires_at: string };

  before(async function () {
    broker = await startBroker({ toml: '[ca]\nleaf_ttl_seconds = 2\n\n[attestation]\nnonce_ttl_seconds = 10\n' });
    earlyNonce = await challenge(broker);
  });

  after(async function () {
    await broker?.stop();
  });

  it('an expired client certificate: 401 certificate-invalid (it worked while valid)', async function () {
    const work = join(broker.home, 'work');
    mkdirSync(work);
    const adminDir = join(work, 'ops');
    expect((await runCli(broker.home, ['ca', 'issue-admin', '--name', 'ops', '--out', adminDir], { cwd: work })).code).to.equal(0);
    const admin = { cert: readFileSync(join(adminDir, 'cert.pem'), 'utf8'), key: readFileSync(join(adminDir, 'key.pem'), 'utf8') };
    const path = randomResourcePath();
    expect((await send(broker, { method: 'PUT', path: `/kbs/v1/admin/resource/${path}`, body: 'short-lived', credential: admin })).status).to.equal(201);

    const { response, credential } = await attestNew(broker);
    const expiresAt = Date.parse(response.expires_at);
    expect(expiresAt - Date.now()).to.be.at.most(2000);
    const fresh = await send(broker, { path: `/kbs/v1/resource/${path}`, credential });
    if (Date.now() < expiresAt - 200) expect(fresh.status, fresh.text()).to.equal(200);

    await new Promise((resolve) => setTimeout(resolve, Math.max(0, expiresAt - Date.now()) + 1100));
    expectProblem(await send(broker, { path: `/kbs/v1/resource/${path}`, credential }), 401, 'certificate-invalid', broker.home);
  });

  it('an expired nonce: 401 nonce-invalid', async function () {
    const wait = Date.parse(earlyNonce.expires_at) - Date.now() + 1100;
    expect(wait, 'nonce lifetime follows nonce_ttl_seconds').to.be.below(11_500);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, wait)));
    const key = await generateTeeKey();
    expectProblem(await postAttest(broker, await attestBody(earlyNonce.nonce, key)), 401, 'nonce-invalid', broker.home);
  });
});

describe('e2e: request body limit ([server] max_body_bytes = 4096)', function () {
  let broker: BrokerProcess;
  let admin: Credential;
  let tee: Credential;
  const path = randomResourcePath();
  const original = Buffer.from('the original value');
  const oversized = `{"tee":"sample","padding":"${'x'.repeat(8 * 1024)}"}`;

  before(async function () {
    broker = await startBroker({ toml: '[server]\nmax_body_bytes = 4096\n' });
    const work = join(broker.home, 'work');
    mkdirSync(work);
    const adminDir = join(work, 'ops');
    const issued = await runCli(broker.home, ['ca', 'issue-admin', '--name', 'ops', '--out', adminDir], { cwd: work });
    expect(issued.code, describeResult(issued)).to.equal(0);
    admin = { cert: readFileSync(join(adminDir, 'cert.pem'), 'utf8'), key: readFileSync(join(adminDir, 'key.pem'), 'utf8') };
    tee = (await attestNew(broker)).credential;
    expect((await send(broker, { method: 'PUT', path: `/kbs/v1/admin/resource/${path}`, body: original, credential: admin })).status).to.equal(201);
  });

  after(async function () {
    await broker?.stop();
  });

  it('8 KiB of JSON to /kbs/v1/challenge: 413 payload-too-large', async function () {
    const reply = await send(broker, { method: 'POST', path: '/kbs/v1/challenge', body: oversized, headers: { 'content-type': 'application/json' } });
    expectProblem(reply, 413, 'payload-too-large', broker.home);
  });

  it('8 KiB of JSON sent chunked, without a content-length: 413 payload-too-large', async function () {
    const reply = await send(broker, { method: 'POST', path: '/kbs/v1/challenge', body: oversized, chunked: true, headers: { 'content-type': 'application/json' } });
    expectProblem(reply, 413, 'payload-too-large', broker.home);
  });

  it('a body under the limit still works', async function () {
    const reply = await postJson(broker, '/kbs/v1/challenge', { tee: 'sample', padding: 'x'.repeat(3000) });
    expect(reply.status, reply.text()).to.equal(200);
  });

  it('an admin PUT over the limit: 413, and the resource is unchanged afterwards', async function () {
    const reply = await send(broker, { method: 'PUT', path: `/kbs/v1/admin/resource/${path}`, body: randomBytes(8 * 1024), credential: admin });
    expectProblem(reply, 413, 'payload-too-large', broker.home);
    const got = await send(broker, { path: `/kbs/v1/resource/${path}`, credential: tee });
    expect(got.status).to.equal(200);
    expect(got.body.equals(original), 'value unchanged').to.equal(true);
    const listed = await send(broker, { path: `/kbs/v1/admin/resources?prefix=${encodeURIComponent(path)}`, credential: admin });
    const resources = listed.json<{ resources: Array<{ path: string; version: number; size: number }> }>().resources;
    expect(resources).to.have.lengthOf(1);
    expect(resources[0]).to.include({ path, version: 1, size: original.length });
  });
});
