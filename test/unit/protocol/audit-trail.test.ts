// Audit records written by the protocol layer: CA events, fail-closed writes, and the v0 policy entry point.
import { expect } from 'chai';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { verifyChain } from '../../../src/domain/audit-chain.js';
import { recordCaEvent, recordRequired } from '../../../src/protocol/audit-trail.js';
import { setResourcePolicyText } from '../../../src/protocol/policy-admin.js';
import { errorCodeOf, thrownBy } from '../pki/helpers.js';
import { makeBroker, type Broker } from './broker-fixture.js';

describe('protocol/audit-trail and policy-admin', () => {
  let broker: Broker;
  beforeEach(async () => {
    broker = await makeBroker();
  });
  afterEach(async () => {
    await broker.close();
  });

  const auditText = () => readFile(join(broker.dir, 'data', 'audit.jsonl'), 'utf8');

  it('recordCaEvent writes a durable, chained `ca` record', async () => {
    const record = await recordCaEvent(broker.context, 'activate', '20261129-abcd', { previous: '20260101-0000' });
    expect(record.event).to.deep.equal({ type: 'ca', action: 'activate', issuer: '20261129-abcd', detail: { previous: '20260101-0000' } });
    const lines = (await auditText()).trim().split('\n');
    expect(JSON.parse(lines.at(-1)!)).to.deep.include({ seq: record.seq, hash: record.hash });
    expect(await verifyChain(lines)).to.deep.include({ ok: true });
  });

  it('a required record that cannot be written is 503 unavailable (nothing is released unrecorded)', async () => {
    const failing = { ...broker.context, stores: { ...broker.context.stores, audit: { append: async () => { throw new Error('disk full'); } } } };
    expect(await errorCodeOf(() => recordRequired(failing, { type: 'ca', action: 'x', issuer: 'y' }))).to.equal('unavailable');
  });

  it('setResourcePolicyText (for POST /kbs/v0/resource-policy): CEL rules are set and audited; Rego is refused and says so', async () => {
    const view = await setResourcePolicyText(broker.context, 'ops', JSON.stringify({ rules: [{ match: 'a/*/*', allow: 'true' }] }));
    expect(view).to.deep.include({ version: 1, updated_by: 'ops' });
    expect(await auditText()).to.contain('"action":"policy.resource.set"');
    const rego = 'package policy\n\ndefault allow = false\n\nallow { input["tee"] == "sample" }\n';
    const error = await thrownBy(() => setResourcePolicyText(broker.context, 'ops', rego)) as { code: string; detail: string };
    expect(error.code).to.equal('bad-request');
    expect(error.detail).to.match(/^Rego is not supported; use CEL rules/);
    expect(await errorCodeOf(() => setResourcePolicyText(broker.context, 'ops', 'not json'))).to.equal('bad-request');
    expect(await errorCodeOf(() => setResourcePolicyText(broker.context, 'ops', '{"rules":[{"match":"a/*/*","allow":"x =="}]}'))).to.equal('bad-request');
    expect((await broker.context.policies.get('resource')).version).to.equal(1);
  });
});
