/**
 * Conformance of statements that depend on configuration or on development mode: `[ca] trust_domain`, the
 * leaf TTL and its 24 h ceiling, notAfter capped by the issuing CA, TLS 1.2 by explicit configuration, a
 * disabled TEE, and the default resource policy outside development mode.
 */
import { randomBytes, X509Certificate } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { makeTempDir, removeTempDir, startBroker, type BrokerProcess } from '../helpers/broker-process.js';
import { describeResult, runCli, runOpenssl } from '../helpers/run-command.js';
import { issueAdmin, type AdminCredential } from '../helpers/shared-broker.js';
import { assertProblem, attestSample, call, callJson, certificatesIn, describe1, Scratch, type Attested } from './wire.js';

const TRUST_DOMAIN = 'conformance.example';

describe('conformance: configured brokers', function () {
  this.timeout(30_000);
  const scratch = new Scratch();
  let configured: BrokerProcess;
  let production: BrokerProcess;
  let sampleOff: BrokerProcess;

  before(async function () {
    const productionHome = makeTempDir();
    const init = await runCli(productionHome, ['ca', 'init']);
    expect(init.code, describeResult(init)).to.equal(0);
    [configured, production, sampleOff] = await Promise.all([
      startBroker({
        toml: `[server]\ntls_min_version = "1.2"\n\n[ca]\ntrust_domain = "${TRUST_DOMAIN}"\nleaf_ttl_seconds = 86400\nissuer_ttl_seconds = 3600\n`,
      }),
      startBroker({ home: productionHome, removeHome: true, dev: false, toml: '[attestation]\nenable_sample = true\n' }),
      startBroker({ toml: '[attestation]\nenable_sample = false\n' }),
    ]);
  });

  after(async function () {
    await Promise.all([configured?.stop(), production?.stop(), sampleOff?.stop()]);
    scratch.release();
  });

  describe(`[ca] trust_domain = "${TRUST_DOMAIN}", leaf_ttl_seconds = 86400, issuer_ttl_seconds = 3600, tls_min_version = "1.2"`, function () {
    let attested: Attested;
    let leaf: X509Certificate;

    before(async function () {
      attested = await attestSample(configured, scratch);
      leaf = new X509Certificate(attested.body.certificate);
    });

    it('the trust domain names the SPIFFE ID, the SAN URI and the subject O', function () {
      expect(attested.body.spiffe_id).to.match(new RegExp(`^spiffe://${TRUST_DOMAIN.replace('.', '\\.')}/tee/sample/[0-9a-f]{16}$`));
      expect(leaf.subjectAltName).to.equal(`URI:${attested.body.spiffe_id}`);
      expect(leaf.subject.split('\n')).to.deep.equal([`O=${TRUST_DOMAIN}`, `CN=sample/${attested.body.spiffe_id.split('/').pop()}`]);
    });

    it('notAfter = min(now + TTL, issuing CA notAfter): a 24 h TTL stops at the 1 h issuer', function () {
      const issuer = new X509Certificate(certificatesIn(attested.body.chain)[0]!);
      expect(Date.parse(leaf.validTo)).to.equal(Date.parse(issuer.validTo));
      expect(Date.parse(attested.body.expires_at)).to.equal(Date.parse(issuer.validTo));
    });

    it('`ca issue-admin` names spiffe://<trust-domain>/admin/<name>, and that certificate administers this broker', async function () {
      const admin: AdminCredential = await issueAdmin(configured.home, 'conformance');
      expect(new X509Certificate(admin.cert).subjectAltName).to.equal(`URI:spiffe://${TRUST_DOMAIN}/admin/conformance`);
      const put = await call(configured, { method: 'PUT', path: '/kbs/v1/admin/resource/conf/key/one', body: 'v', identity: admin });
      expect(put.status, describe1(put)).to.equal(201);
      const read = await call(configured, { path: '/kbs/v1/resource/conf/key/one', identity: attested.identity });
      expect(read.status, describe1(read)).to.equal(200);
    });

    it('TLS 1.2 is accepted when configured, still with X25519 or P-256 only', async function () {
      const handshake = (extra: string[]) => runOpenssl(['s_client', '-connect', `127.0.0.1:${configured.port}`, '-CAfile', configured.bundlePath,
        '-verify_return_error', '-brief', '-tls1_2', ...extra], { input: '', timeoutMs: 10_000 });
      const ok = await handshake(['-groups', 'P-256']);
      expect(ok.code, describeResult(ok)).to.equal(0);
      expect(ok.stderr).to.match(/Protocol version: TLSv1\.2/);
      const p384 = await handshake(['-groups', 'P-384']);
      expect(p384.code, 'P-384 alone is no group of the listener').to.not.equal(0);
    });
  });

  it('leaf_ttl_seconds over 24 h stops the start with the key name on stderr', async function () {
    const home = makeTempDir();
    try {
      const configFile = join(home, 'too-long.toml');
      writeFileSync(configFile, '[ca]\nleaf_ttl_seconds = 86401\n');
      const result = await runCli(home, ['serve', '--dev', '--config', configFile]);
      expect(result.code, describeResult(result)).to.not.equal(0);
      expect(result.signal, 'the start stopped by itself').to.equal(null);
      expect(result.stderr).to.include('leaf_ttl_seconds');
    } finally {
      removeTempDir(home);
    }
  });

  it('a known TEE that is disabled ([attestation] enable_sample = false) is 400 unsupported-tee', async function () {
    assertProblem(await callJson(sampleOff, '/kbs/v1/challenge', { tee: 'sample' }), 400, 'unsupported-tee');
  });

  it('/readyz is 503 unavailable (problem+json) while the store is gone, /healthz stays 200; ready again once it is back', async function () {
    const data = join(sampleOff.home, 'data');
    renameSync(data, `${data}.moved`);
    try {
      assertProblem(await call(sampleOff, { path: '/readyz' }), 503, 'unavailable');
      expect((await call(sampleOff, { path: '/healthz' })).status).to.equal(200);
    } finally {
      renameSync(`${data}.moved`, data);
    }
    expect((await call(sampleOff, { path: '/readyz' })).status).to.equal(200);
  });

  describe('outside development mode with [attestation] enable_sample = true: the default resource policy denies sample certificates', function () {
    let attested: Attested;
    const path = `conf-${randomBytes(4).toString('hex')}/key/one`;

    before(async function () {
      attested = await attestSample(production, scratch);
      const admin = await issueAdmin(production.home, 'ops');
      const put = await call(production, { method: 'PUT', path: `/kbs/v1/admin/resource/${path}`, body: 'secret', identity: admin });
      expect(put.status, describe1(put)).to.equal(201);
      expect(readFileSync(production.bundlePath, 'utf8')).to.equal(production.bundlePem);
    });

    it('an existing resource: 403 policy-denied', async function () {
      assertProblem(await call(production, { path: `/kbs/v1/resource/${path}`, identity: attested.identity }), 403, 'policy-denied');
    });

    it('a missing resource: 403, not 404 (404 comes only after the policy allowed)', async function () {
      assertProblem(await call(production, { path: `/kbs/v1/resource/${path}-missing`, identity: attested.identity }), 403, 'policy-denied');
    });

    it('a bad path: 400 before the policy runs', async function () {
      assertProblem(await call(production, { path: '/kbs/v1/resource/a/../b', identity: attested.identity }), 400, 'bad-request');
    });
  });
});
