import 'reflect-metadata';
import { expect } from 'chai';
import * as x509 from '@peculiar/x509';
import { createHash, generateKeyPairSync, X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import { VerifierRegistry } from '../../../src/attestation/registry.js';
import type { Verifier } from '../../../src/attestation/verifier.js';
import { sampleVerifier } from '../../../src/attestation/verifiers/sample.js';
import { KbsError } from '../../../src/domain/errors.js';
import { claimsOfCertificate } from '../../../src/pki/claims-extension.js';
import { createCsr } from '../../../src/pki/create-csr.js';
import { pemToDer } from '../../../src/pki/pem.js';
import { compileAttestationPolicy } from '../../../src/policy/attestation-policy.js';
import { loadDefaultPolicies } from '../../../src/policy/default-policies.js';
import { NonceSealer } from '../../../src/protocol/sealed-nonce.js';
import { attest } from '../../../src/protocol/v1/attest.js';
import { createChallenge } from '../../../src/protocol/v1/challenge.js';
import { ecKey, errorCodeOf, openssl, spkiOf, TRUST_DOMAIN, writeTemp } from '../pki/helpers.js';
import { bindingOf, makeBroker, prepareAttest, type Broker } from './broker-fixture.js';

/** The shipped default attestation policy, compiled for a broker where the sample TEE is disabled. */
async function sampleDisabledPolicy() {
  return compileAttestationPolicy((await loadDefaultPolicies()).attestation, { devMode: true, sampleEnabled: false }).policy;
}

const idOf = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex').slice(0, 16);
const rfc3339 = (date: Date): string => date.toISOString().replace(/\.\d{3}Z$/, 'Z');

/** A verifier for `sample` evidence that answers with another status, or fails verification. */
function scriptedVerifier(name: string, behaviour: 'warning' | 'fail'): Verifier {
  const inner = sampleVerifier(name);
  return {
    name,
    tees: ['sample'],
    async verify(tee, evidence) {
      if (behaviour === 'fail') throw new KbsError('attestation-failed', 'evidence does not verify');
      const verified = await inner.verify(tee, evidence);
      return { ...verified, claims: { ...verified.claims, status: 'warning' } };
    },
  };
}

describe('protocol/v1 challenge and attest', function () {
  this.timeout(20_000);
  let broker: Broker;

  beforeEach(async () => {
    const registry = new VerifierRegistry()
      .register(sampleVerifier())
      .register(scriptedVerifier('warns', 'warning'), { defaultFor: [] })
      .register(scriptedVerifier('fails', 'fail'), { defaultFor: [] });
    broker = await makeBroker({ registry });
  });

  afterEach(async () => {
    await broker.close();
  });

  describe('createChallenge (PROTOCOL.md 1.1)', () => {
    it('answers a sealed nonce of 43..512 [A-Za-z0-9_-] and expires_at = now + 300 s, RFC 3339 in whole seconds', () => {
      const now = broker.context.clock();
      const response = createChallenge(broker.context, { tee: 'sample' });
      expect(Object.keys(response).sort()).to.deep.equal(['expires_at', 'nonce']);
      expect(response.nonce).to.match(/^[A-Za-z0-9_-]{43,512}$/);
      expect(response.expires_at).to.equal(rfc3339(new Date(now.getTime() + 300_000)));
      expect(response.expires_at).to.match(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
      const opened = broker.context.nonces.open(response.nonce, now);
      expect(opened.tee).to.equal('sample');
      expect(opened.verifier).to.equal('builtin');
      expect(opened.expiresAt.getTime()).to.equal(now.getTime() + 300_000);
    });

    it('rounds a clock with milliseconds down to the second', () => {
      broker.setClock(new Date('2030-01-01T00:00:00.750Z'));
      expect(createChallenge(broker.context, { tee: 'sample' }).expires_at).to.equal('2030-01-01T00:05:00Z');
    });

    it('seals the named verifier', () => {
      const response = createChallenge(broker.context, { tee: 'sample', verifier: 'warns' });
      expect(broker.context.nonces.open(response.nonce, broker.context.clock()).verifier).to.equal('warns');
    });

    it('ignores unknown fields', () => {
      expect(createChallenge(broker.context, { tee: 'sample', extra: 1 }).nonce).to.be.a('string');
    });

    const refusals: [string, unknown, string][] = [
      ['an unknown TEE', { tee: 'quantum' }, 'unsupported-tee'],
      ['a known TEE that is not enabled', { tee: 'snp' }, 'unsupported-tee'],
      ['an unknown verifier', { tee: 'sample', verifier: 'nope' }, 'bad-request'],
      ['a missing tee', {}, 'bad-request'],
      ['an empty tee', { tee: '' }, 'bad-request'],
      ['a numeric tee', { tee: 1 }, 'bad-request'],
      ['a numeric verifier', { tee: 'sample', verifier: 2 }, 'bad-request'],
      ['a body that is an array', [{ tee: 'sample' }], 'bad-request'],
      ['a body that is null', null, 'bad-request'],
      ['a body that is a string', 'sample', 'bad-request'],
    ];
    for (const [label, body, code] of refusals) {
      it(`refuses ${label} with ${code}`, async () => {
        expect(await errorCodeOf(() => createChallenge(broker.context, body))).to.equal(code);
      });
    }
  });

  describe('attest (PROTOCOL.md 1.3)', () => {
    it('issues a client certificate for good sample evidence', async () => {
      const now = broker.context.clock();
      const input = prepareAttest(broker.context);
      const response = await attest(broker.context, input.body);

      expect(Object.keys(response).sort()).to.deep.equal(['certificate', 'chain', 'claims', 'expires_at', 'serial', 'spiffe_id']);
      const id = idOf(input.spki);
      expect(response.spiffe_id).to.equal(`spiffe://${TRUST_DOMAIN}/tee/sample/${id}`);
      expect(response.chain).to.equal(broker.ca.active.certificate.pem);
      expect(response.expires_at).to.equal(rfc3339(new Date(now.getTime() + 600_000)));
      expect(response.serial).to.match(/^[0-9a-f]{32}$/);
      expect(response.claims).to.deep.equal({
        v: 1, tee: 'sample', verifier: 'builtin', status: 'affirming', tcb_status: 'unknown',
        trust_vector: { hardware: 0, executables: 0, configuration: 0 },
        tee_claims: { svn: '1', report_data: bindingOf(input.nonce, input.spki).toString('hex') },
        iat: Math.floor(now.getTime() / 1000),
      });

      const der = pemToDer(response.certificate, 'CERTIFICATE')!;
      const certificate = new x509.X509Certificate(der);
      expect(certificate.serialNumber.toLowerCase().replace(/^0+/, '')).to.equal(response.serial.replace(/^0+/, ''));
      expect(certificate.getExtension(x509.SubjectAlternativeNameExtension)!.names.toJSON()).to.deep.equal([{ type: 'url', value: response.spiffe_id }]);
      expect(certificate.subject).to.equal(`O=${TRUST_DOMAIN}, CN=sample/${id}`);
      expect(claimsOfCertificate(der)).to.deep.equal(response.claims);
      expect(new X509Certificate(der).publicKey.export({ type: 'spki', format: 'der' }).equals(input.spki)).to.equal(true);
      expect(certificate.notAfter.getTime()).to.equal(now.getTime() + 600_000);
      expect(certificate.notBefore.getTime()).to.equal(now.getTime() - 60_000);
      expect(new X509Certificate(der).checkIssued(broker.ca.active.certificate.x509)).to.equal(true);
    });

    it('issues a certificate that openssl verifies against the CA bundle', async () => {
      const response = await attest(broker.context, prepareAttest(broker.context).body);
      const leaf = await writeTemp(broker.dir, 'leaf.pem', response.certificate);
      const result = await openssl(['verify', '-x509_strict', '-purpose', 'sslclient', '-CAfile', join(broker.dir, 'ca', 'bundle.pem'), leaf]);
      expect(result.code, result.stdout + result.stderr).to.equal(0);
    });

    it('derives the id from the measurement bytes when the sample evidence carries one', async () => {
      const measurement = 'DEADBEEF'.repeat(12);
      const input = prepareAttest(broker.context, { measurement });
      const response = await attest(broker.context, input.body);
      const id = idOf(Buffer.from(measurement, 'hex'));
      expect(id).to.not.equal(idOf(input.spki));
      expect(response.spiffe_id).to.equal(`spiffe://${TRUST_DOMAIN}/tee/sample/${id}`);
      expect(response.claims.measurement).to.equal(measurement.toLowerCase());
    });

    it('gives two keys of one measurement the same id, and two keys without one different ids', async () => {
      const measurement = 'ab'.repeat(32);
      const first = await attest(broker.context, prepareAttest(broker.context, { measurement }).body);
      const second = await attest(broker.context, prepareAttest(broker.context, { measurement }).body);
      expect(first.spiffe_id).to.equal(second.spiffe_id);
      expect(first.serial).to.not.equal(second.serial);
      const third = await attest(broker.context, prepareAttest(broker.context).body);
      const fourth = await attest(broker.context, prepareAttest(broker.context).body);
      expect(third.spiffe_id).to.not.equal(fourth.spiffe_id);
    });

    it('accepts the first 32 bytes of the binding as report data', async () => {
      const input = prepareAttest(broker.context);
      const evidence = { svn: '1', report_data: bindingOf(input.nonce, input.spki).subarray(0, 32).toString('base64') };
      const response = await attest(broker.context, { ...input.body, evidence });
      expect(response.spiffe_id).to.equal(`spiffe://${TRUST_DOMAIN}/tee/sample/${idOf(input.spki)}`);
    });

    it('accepts Ed25519 and P-384 CSR keys', async () => {
      for (const key of [generateKeyPairSync('ed25519').privateKey, ecKey('P-384')]) {
        const input = prepareAttest(broker.context, { key });
        const response = await attest(broker.context, input.body);
        expect(new X509Certificate(response.certificate).publicKey.export({ type: 'spki', format: 'der' }).equals(spkiOf(key))).to.equal(true);
      }
    });

    it('records the init_data digest in the claims', async () => {
      const input = prepareAttest(broker.context);
      const body = 'algorithm = "sha384"\nversion = "0.1.0"\n';
      const response = await attest(broker.context, { ...input.body, init_data: { format: 'toml', body } });
      expect(response.claims.init_data).to.match(/^[0-9a-f]+$/);
      expect(response.claims.init_data).to.equal(createHash('sha384').update(body, 'utf8').digest('hex'));
      expect(claimsOfCertificate(pemToDer(response.certificate, 'CERTIFICATE')!)!.init_data).to.equal(response.claims.init_data);
      const without = await attest(broker.context, prepareAttest(broker.context).body);
      expect(without.claims).to.not.have.property('init_data');
    });

    it('uses the id the attestation policy sets, and refuses an id outside the identity alphabet', async () => {
      broker.context.attestationPolicy = { evaluate: () => ({ allow: true, id: 'workload-7' }) };
      const response = await attest(broker.context, prepareAttest(broker.context).body);
      expect(response.spiffe_id).to.equal(`spiffe://${TRUST_DOMAIN}/tee/sample/workload-7`);
      broker.context.attestationPolicy = { evaluate: () => ({ allow: true, id: '../evil' }) };
      expect(await errorCodeOf(() => attest(broker.context, prepareAttest(broker.context).body))).to.equal('policy-denied');
    });

    describe('body shape (400 bad-request)', () => {
      const cases: [string, (body: Record<string, unknown>) => unknown][] = [
        ['a body that is not an object', () => ['x']],
        ['a missing nonce', ({ nonce: _nonce, ...rest }) => rest],
        ['a numeric nonce', (body) => ({ ...body, nonce: 5 })],
        ['a missing csr', ({ csr: _csr, ...rest }) => rest],
        ['neither evidence nor token', ({ evidence: _evidence, ...rest }) => rest],
        ['both evidence and token', (body) => ({ ...body, token: 'eyJ.eyJ.sig' })],
        ['init_data that is not an object', (body) => ({ ...body, init_data: 'toml' })],
        ['init_data of an unknown format', (body) => ({ ...body, init_data: { format: 'yaml', body: 'a: 1' } })],
        ['init_data without a body', (body) => ({ ...body, init_data: { format: 'toml' } })],
      ];
      for (const [label, mutate] of cases) {
        it(`refuses ${label}, before looking at the nonce`, async () => {
          const input = prepareAttest(broker.context);
          const body = { ...input.body, nonce: 'not-a-nonce' } as Record<string, unknown>;
          expect(await errorCodeOf(() => attest(broker.context, mutate(body)))).to.equal('bad-request');
        });
      }
    });

    describe('order of checks', () => {
      it('a nonce over 512 characters is well-formed JSON but no nonce of ours: nonce-invalid, like one under 43', async () => {
        const input = prepareAttest(broker.context);
        expect(await errorCodeOf(() => attest(broker.context, { ...input.body, nonce: 'A'.repeat(513) }))).to.equal('nonce-invalid');
      });

      it('bad nonce and bad CSR: nonce-invalid (nonce before CSR)', async () => {
        const input = prepareAttest(broker.context);
        expect(await errorCodeOf(() => attest(broker.context, { ...input.body, nonce: 'A'.repeat(60), csr: 'garbage' }))).to.equal('nonce-invalid');
      });

      it('good nonce, bad CSR and bad evidence: bad-csr (CSR before evidence)', async () => {
        const input = prepareAttest(broker.context);
        expect(await errorCodeOf(() => attest(broker.context, { ...input.body, csr: 'garbage', evidence: { svn: 1 } }))).to.equal('bad-csr');
      });

      it('good nonce, RSA-2048 CSR: bad-csr', async () => {
        const input = prepareAttest(broker.context, { key: generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey });
        expect(await errorCodeOf(() => attest(broker.context, input.body))).to.equal('bad-csr');
      });

      it('malformed evidence with a bad binding: bad-evidence-format', async () => {
        const input = prepareAttest(broker.context);
        expect(await errorCodeOf(() => attest(broker.context, { ...input.body, evidence: { svn: '1', report_data: 'nope' } }))).to.equal('bad-evidence-format');
      });

      it('evidence that does not verify, with a bad binding: attestation-failed (verification before binding)', async () => {
        const input = prepareAttest(broker.context, { verifier: 'fails' });
        expect(await errorCodeOf(() => attest(broker.context, { ...input.body, evidence: { svn: '1', report_data: Buffer.alloc(64).toString('base64') } }))).to.equal('attestation-failed');
      });

      it('report data binding another key: binding-mismatch', async () => {
        const input = prepareAttest(broker.context);
        const other = spkiOf(ecKey());
        const evidence = { svn: '1', report_data: bindingOf(input.nonce, other).toString('base64') };
        expect(await errorCodeOf(() => attest(broker.context, { ...input.body, evidence }))).to.equal('binding-mismatch');
      });

      it('report data binding another nonce: binding-mismatch', async () => {
        const input = prepareAttest(broker.context);
        const otherNonce = createChallenge(broker.context, { tee: 'sample' }).nonce;
        const evidence = { svn: '1', report_data: bindingOf(otherNonce, input.spki).toString('base64') };
        expect(await errorCodeOf(() => attest(broker.context, { ...input.body, evidence }))).to.equal('binding-mismatch');
      });

      it('48-byte report data cannot match the v1 binding: binding-mismatch', async () => {
        const input = prepareAttest(broker.context);
        const evidence = { svn: '1', report_data: bindingOf(input.nonce, input.spki).subarray(0, 48).toString('base64') };
        expect(await errorCodeOf(() => attest(broker.context, { ...input.body, evidence }))).to.equal('binding-mismatch');
      });

      it('sample disabled in the attestation policy: policy-denied; with a bad binding as well: binding-mismatch', async () => {
        broker.context.attestationPolicy = await sampleDisabledPolicy();
        const input = prepareAttest(broker.context);
        expect(await errorCodeOf(() => attest(broker.context, input.body))).to.equal('policy-denied');
        const evidence = { svn: '1', report_data: bindingOf(input.nonce, spkiOf(ecKey())).toString('base64') };
        expect(await errorCodeOf(() => attest(broker.context, { ...input.body, evidence }))).to.equal('binding-mismatch');
      });

      it('non-affirming claims under the default policy: policy-denied', async () => {
        const input = prepareAttest(broker.context, { verifier: 'warns' });
        expect(await errorCodeOf(() => attest(broker.context, input.body))).to.equal('policy-denied');
      });

      it('a token for a verifier that takes evidence: bad-request, after the nonce check', async () => {
        const input = prepareAttest(broker.context);
        const { evidence: _evidence, ...rest } = input.body;
        expect(await errorCodeOf(() => attest(broker.context, { ...rest, token: 'eyJ.eyJ.sig' }))).to.equal('bad-request');
        expect(await errorCodeOf(() => attest(broker.context, { ...rest, nonce: 'A'.repeat(60), token: 'eyJ.eyJ.sig' }))).to.equal('nonce-invalid');
      });
    });

    describe('nonce', () => {
      it('is single use: a replay is nonce-invalid', async () => {
        const input = prepareAttest(broker.context);
        await attest(broker.context, input.body);
        expect(await errorCodeOf(() => attest(broker.context, input.body))).to.equal('nonce-invalid');
        // also with a new key and matching evidence
        const { pem, spki } = createCsr(ecKey());
        const evidence = { svn: '1', report_data: bindingOf(input.nonce, spki).toString('base64') };
        expect(await errorCodeOf(() => attest(broker.context, { nonce: input.nonce, csr: pem, evidence }))).to.equal('nonce-invalid');
      });

      it('is single use under concurrency: one of three simultaneous attests wins', async () => {
        const input = prepareAttest(broker.context);
        const outcomes = await Promise.allSettled([attest(broker.context, input.body), attest(broker.context, input.body), attest(broker.context, input.body)]);
        expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).to.have.length(1);
        for (const outcome of outcomes.filter((candidate) => candidate.status === 'rejected')) {
          expect(((outcome as PromiseRejectedResult).reason as KbsError).code).to.equal('nonce-invalid');
        }
      });

      it('is nonce-invalid once expired on the injected clock', async () => {
        const start = broker.context.clock();
        const input = prepareAttest(broker.context);
        broker.setClock(new Date(start.getTime() + 300_000));
        expect(await errorCodeOf(() => attest(broker.context, input.body))).to.equal('nonce-invalid');
        broker.setClock(new Date(start.getTime() + 299_000));
        expect((await attest(broker.context, input.body)).serial).to.match(/^[0-9a-f]{32}$/);
      });

      it('is not consumed when a later check fails: the same nonce then works with a correct body', async () => {
        const input = prepareAttest(broker.context);
        expect(await errorCodeOf(() => attest(broker.context, { ...input.body, csr: 'garbage' }))).to.equal('bad-csr');
        expect(await errorCodeOf(() => attest(broker.context, { ...input.body, evidence: { svn: 'x' } }))).to.equal('bad-evidence-format');
        expect(await errorCodeOf(() => attest(broker.context, { ...input.body, evidence: { svn: '1', report_data: Buffer.alloc(64, 1).toString('base64') } }))).to.equal('binding-mismatch');
        const policy = broker.context.attestationPolicy;
        broker.context.attestationPolicy = await sampleDisabledPolicy();
        expect(await errorCodeOf(() => attest(broker.context, input.body))).to.equal('policy-denied');
        broker.context.attestationPolicy = policy;
        expect(await broker.context.stores.nonces.isUsed(broker.context.nonces.open(input.nonce, broker.context.clock()).id)).to.equal(false);
        const response = await attest(broker.context, input.body);
        expect(response.spiffe_id).to.equal(`spiffe://${TRUST_DOMAIN}/tee/sample/${idOf(input.spki)}`);
        expect(await broker.context.stores.nonces.isUsed(broker.context.nonces.open(input.nonce, broker.context.clock()).id)).to.equal(true);
      });

      it('is nonce-invalid when sealed under another broker key', async () => {
        const foreign = new NonceSealer(Buffer.alloc(32, 7)).seal({ tee: 'sample', verifier: 'builtin', expiresAt: new Date(broker.context.clock().getTime() + 300_000) }).nonce;
        const { pem, spki } = createCsr(ecKey());
        const evidence = { svn: '1', report_data: bindingOf(foreign, spki).toString('base64') };
        expect(await errorCodeOf(() => attest(broker.context, { nonce: foreign, csr: pem, evidence }))).to.equal('nonce-invalid');
      });

      it('is nonce-invalid when its verifier is no longer configured', async () => {
        const orphan = broker.context.nonces.seal({ tee: 'sample', verifier: 'gone', expiresAt: new Date(broker.context.clock().getTime() + 300_000) }).nonce;
        const { pem, spki } = createCsr(ecKey());
        const evidence = { svn: '1', report_data: bindingOf(orphan, spki).toString('base64') };
        expect(await errorCodeOf(() => attest(broker.context, { nonce: orphan, csr: pem, evidence }))).to.equal('nonce-invalid');
      });

      it('is nonce-invalid when tampered', async () => {
        const input = prepareAttest(broker.context);
        const replacement = input.nonce[10] === 'A' ? 'B' : 'A';
        const body = { ...input.body, nonce: input.nonce.slice(0, 10) + replacement + input.nonce.slice(11) };
        expect(await errorCodeOf(() => attest(broker.context, body))).to.equal('nonce-invalid');
      });
    });
  });
});
