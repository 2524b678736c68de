/** GET /metrics (PROTOCOL.md 1.6): Prometheus text with the keybroker_ metrics, counted over a known sequence of requests. */
import { expect } from 'chai';
import { X509Certificate } from 'node:crypto';
import { randomBytes } from 'node:crypto';
import type { BrokerProcess } from './helpers/broker-process.js';
import { send, type Credential } from './helpers/https-client.js';
import { sharedAdmin, sharedBroker } from './helpers/shared-broker.js';
import { attestBody, attestNew, challenge, generateTeeKey, postAttest, type AttestResponse } from './helpers/v1-protocol.js';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The samples of a Prometheus text exposition (comments skipped). */
function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) throw new Error(`not a sample line: ${line}`);
    const labels = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((pair) => [pair[1]!, pair[2]!]));
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

function valueOf(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  const found = samples.filter((sample) => sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value));
  return found.reduce((sum, sample) => sum + sample.value, 0);
}

describe('e2e: GET /metrics', function () {
  this.timeout(30_000);
  let broker: BrokerProcess;
  let tee: Credential;
  let issued: AttestResponse;

  const scrape = async (): Promise<{ samples: Sample[]; contentType: string }> => {
    const reply = await send(broker, { path: '/metrics' });
    expect(reply.status).to.equal(200);
    return { samples: parseExposition(reply.text()), contentType: String(reply.headers['content-type']) };
  };

  before(async function () {
    broker = await sharedBroker();
    ({ credential: tee, response: issued } = await attestNew(broker));
  });

  it('answers Prometheus text without a client certificate; every keybroker metric is named keybroker_*', async function () {
    const { samples, contentType } = await scrape();
    expect(contentType).to.match(/^text\/plain; version=0\.0\.4/);
    const names = new Set(samples.map((sample) => sample.name.replace(/_(bucket|sum|count)$/, '')));
    for (const name of [
      'keybroker_attestations_total', 'keybroker_certificates_issued_total', 'keybroker_issuance_duration_seconds',
      'keybroker_policy_evaluation_duration_seconds', 'keybroker_verifier_call_duration_seconds', 'keybroker_ca_issuer_expiry_timestamp_seconds',
    ]) expect(names.has(name), name).to.equal(true);
    expect([...names].filter((name) => !name.startsWith('keybroker_'))).to.deep.equal([]);
  });

  it('counts a known sequence of attestations and resource requests by their labels', async function () {
    const admin = await sharedAdmin();
    const path = `metrics-${randomBytes(4).toString('hex')}/key/one`;
    expect((await send(broker, { method: 'PUT', path: `/kbs/v1/admin/resource/${path}`, body: 'x', credential: admin })).status).to.equal(201);
    const before = (await scrape()).samples;

    await attestNew(broker);
    await attestNew(broker);
    const key = await generateTeeKey();
    const { nonce } = await challenge(broker);
    const otherKey = await generateTeeKey();
    expect((await postAttest(broker, await attestBody(nonce, key, { csr: (await attestBody(nonce, otherKey)).csr }))).status).to.equal(403);
    expect((await postAttest(broker, { csr: 'x' })).status).to.equal(400);

    expect((await send(broker, { path: `/kbs/v1/resource/${path}`, credential: tee })).status).to.equal(200);
    expect((await send(broker, { path: `/kbs/v1/resource/${path}x`, credential: tee })).status).to.equal(404);
    expect((await send(broker, { path: `/kbs/v1/resource/${path}` })).status).to.equal(401);
    expect((await send(broker, { path: '/kbs/v1/resource/a/b/..', credential: tee })).status).to.equal(400);

    const after = (await scrape()).samples;
    const delta = (name: string, labels: Record<string, string> = {}) => valueOf(after, name, labels) - valueOf(before, name, labels);
    expect(delta('keybroker_attestations_total', { tee: 'sample', verifier: 'builtin', outcome: 'issued' })).to.equal(2);
    expect(delta('keybroker_attestations_total', { tee: 'sample', verifier: 'builtin', outcome: 'binding-mismatch' })).to.equal(1);
    expect(delta('keybroker_attestations_total', { tee: 'unknown', verifier: 'unknown', outcome: 'bad-request' })).to.equal(1);
    expect(delta('keybroker_certificates_issued_total')).to.equal(2);
    expect(delta('keybroker_issuance_duration_seconds_count')).to.equal(2);
    expect(delta('keybroker_verifier_call_duration_seconds_count', { verifier: 'builtin', tee: 'sample' })).to.equal(3);
    expect(delta('keybroker_policy_evaluation_duration_seconds_count', { policy: 'attestation' })).to.equal(2);
    expect(delta('keybroker_policy_evaluation_duration_seconds_count', { policy: 'resource' })).to.equal(2);
    expect(delta('keybroker_resource_requests_total', { outcome: 'released' })).to.equal(1);
    expect(delta('keybroker_resource_requests_total', { outcome: 'resource-not-found' })).to.equal(1);
    expect(delta('keybroker_resource_requests_total', { outcome: 'no-client-certificate' })).to.equal(1);
    expect(delta('keybroker_resource_requests_total', { outcome: 'bad-request' })).to.equal(1);
  });

  it('exposes the active issuer\'s notAfter as seconds since the epoch', async function () {
    const issuer = new X509Certificate(issued.chain);
    const { samples } = await scrape();
    const expiry = samples.filter((sample) => sample.name === 'keybroker_ca_issuer_expiry_timestamp_seconds' && sample.labels.state === 'active');
    expect(expiry).to.have.length(1);
    expect(expiry[0]!.value).to.equal(Math.floor(Date.parse(issuer.validTo) / 1000));
  });
});
