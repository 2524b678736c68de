/**
 * The issue's "done when", end to end against a real broker process: an operator restricts `prod/*\/*` to one
 * TEE type with one measurement in one rule, sees it take effect without a restart, reads who changed it, and
 * proves from the audit log which certificate received `prod/key/db`. The sample TEE stands in for SNP (this
 * machine has no SNP hardware): the rule names `claims.tee`, so the negative case is "not snp" and the
 * positive case names "sample".
 */
import { expect } from 'chai';
import { createHash, randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import canonicalizeModule from 'canonicalize';
import { startBroker, type BrokerProcess } from './helpers/broker-process.js';
import { expectProblem, send, type Credential } from './helpers/https-client.js';
import { describeResult, runCli } from './helpers/run-command.js';
import { attestBody, challenge, generateTeeKey, postAttest, reportData, sampleEvidence, type AttestResponse } from './helpers/v1-protocol.js';

const canonicalize = canonicalizeModule as unknown as (value: unknown) => string;
const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

interface AuditLine {
  seq: number;
  event: Record<string, unknown>;
}

describe('e2e: policies, audit log and "who received prod/key/db"', function () {
  this.timeout(60_000);
  let broker: BrokerProcess;
  let admin: Credential & { dir: string };
  const GOOD = randomBytes(32).toString('hex');
  const OTHER = randomBytes(32).toString('hex');
  let good: { credential: Credential; response: AttestResponse };
  let other: { credential: Credential; response: AttestResponse };

  const cli = (args: string[], input?: string) => runCli(broker.home, args, { cwd: join(broker.home, 'work'), ...(input === undefined ? {} : { input }) });
  const adminFlags = () => ['--url', broker.url, '--admin', admin.dir, '--cacert', broker.bundlePath];
  const fetch = (credential: Credential, path: string) => send(broker, { path: `/kbs/v1/resource/${path}`, credential });
  const auditLines = (): AuditLine[] => readFileSync(join(broker.home, 'data', 'audit.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line) as AuditLine);

  async function attestSample(measurement: string): Promise<{ credential: Credential; response: AttestResponse }> {
    const key = await generateTeeKey();
    const { nonce } = await challenge(broker);
    const reply = await postAttest(broker, await attestBody(nonce, key, { evidence: sampleEvidence(reportData(nonce, key.spki), { measurement }) }));
    expect(reply.status, reply.text()).to.equal(201);
    const response = reply.json<AttestResponse>();
    return { response, credential: { cert: response.certificate, key: key.privateKeyPem } };
  }

  before(async function () {
    broker = await startBroker();
    mkdirSync(join(broker.home, 'work'));
    const dir = join(broker.home, 'work', 'ops');
    const issued = await cli(['ca', 'issue-admin', '--name', 'ops', '--out', dir]);
    expect(issued.code, describeResult(issued)).to.equal(0);
    admin = { dir, cert: readFileSync(join(dir, 'cert.pem'), 'utf8'), key: readFileSync(join(dir, 'key.pem'), 'utf8') };
    for (const path of ['prod/key/db', 'dev/key/db']) {
      const put = await send(broker, { method: 'PUT', path: `/kbs/v1/admin/resource/${path}`, body: `secret of ${path}`, credential: admin });
      expect(put.status, put.text()).to.equal(201);
    }
    good = await attestSample(GOOD);
    other = await attestSample(OTHER);
  });

  after(async function () {
    await broker?.stop();
  });

  async function setResourcePolicy(tee: string): Promise<void> {
    const file = join(broker.home, 'work', `rules-${tee}.json`);
    writeFileSync(file, JSON.stringify({
      rules: [
        { match: 'prod/*/*', allow: `claims.tee == "${tee}" && claims.measurement == "${GOOD}"` },
        { match: '*/*/*', allow: 'claims.status == "affirming"' },
      ],
    }));
    const result = await cli(['admin', 'set-policy', ...adminFlags(), '--file', file, 'resource']);
    expect(result.code, describeResult(result)).to.equal(0);
    expect(result.stdout.toString()).to.match(/^set resource policy version \d+ \(by ops at /);
  }

  it('done when: one rule restricts prod/*/*, takes effect without a restart, names its author, and the audit log proves who got prod/key/db', async function () {
    // Default policy (development mode): both TEEs get it.
    expect((await fetch(good.credential, 'prod/key/db')).status).to.equal(200);
    expect((await fetch(other.credential, 'prod/key/db')).status).to.equal(200);

    // Only SNP TEEs with measurement GOOD: a sample TEE is refused even with that measurement; dev/ is untouched.
    await setResourcePolicy('snp');
    expectProblem(await fetch(good.credential, 'prod/key/db'), 403, 'policy-denied');
    expect((await fetch(good.credential, 'dev/key/db')).status).to.equal(200);

    // The same rule naming the TEE type this machine has: the right measurement gets it, another does not.
    await setResourcePolicy('sample');
    const released = await fetch(good.credential, 'prod/key/db');
    expect(released.status).to.equal(200);
    expect(released.text()).to.equal('secret of prod/key/db');
    expectProblem(await fetch(other.credential, 'prod/key/db'), 403, 'policy-denied');
    expect(broker.running(), 'the broker was not restarted').to.equal(true);

    // Who changed it, and when.
    const shown = await cli(['admin', 'get-policy', ...adminFlags(), 'resource']);
    expect(shown.code, describeResult(shown)).to.equal(0);
    const policy = JSON.parse(shown.stdout.toString()) as { version: number; updated_by: string; updated_at: string; rules: { match: string; allow: string }[] };
    expect(policy).to.deep.include({ version: 2, updated_by: 'ops' });
    expect(policy.rules[0]!.allow).to.contain('claims.tee == "sample"');
    const first = await cli(['admin', 'get-policy', ...adminFlags(), '--version', '1', 'resource']);
    expect(JSON.parse(first.stdout.toString()).rules[0].allow).to.contain('claims.tee == "snp"');

    // The audit log: the policy change with author and digests, then exactly one release of prod/key/db under it.
    const lines = auditLines();
    const change = lines.find((line) => line.event.type === 'admin' && line.event.action === 'policy.resource.set' && (line.event.after as { version: number }).version === 2);
    expect(change?.event).to.deep.include({ admin: 'ops', target: 'resource' });
    const { version: _v, updated_at: _a, updated_by: _b, ...document } = policy;
    expect((change!.event.after as { digest: string }).digest).to.equal(sha256(canonicalize(document)));
    expect((change!.event.before as { version: number }).version).to.equal(1);
    const releasesAfter = lines.filter((line) => line.seq > change!.seq && line.event.type === 'resource' && line.event.path === 'prod/key/db' && line.event.outcome === 'released');
    expect(releasesAfter.map((line) => line.event)).to.deep.equal([{
      type: 'resource', outcome: 'released', path: 'prod/key/db', serial: good.response.serial, spiffe_id: good.response.spiffe_id, rule: '#1 prod/*/*', policy_version: 2,
    }]);
    const denials = lines.filter((line) => line.seq > change!.seq && line.event.type === 'resource' && line.event.outcome === 'denied');
    expect(denials.map((line) => line.event.serial)).to.deep.equal([other.response.serial]);
    // That serial was issued to a TEE with these claims (digest over the claims the attest response returned).
    const issuance = lines.find((line) => line.event.type === 'issuance' && line.event.serial === good.response.serial);
    expect(issuance?.event).to.deep.include({ spiffe_id: good.response.spiffe_id, tee: 'sample', verifier: 'builtin', claims_digest: sha256(canonicalize(good.response.claims)) });
    expect(good.response.claims.measurement).to.equal(GOOD);

    const verified = await cli(['audit', 'verify']);
    expect(verified.code, describeResult(verified)).to.equal(0);
    expect(verified.stdout.toString()).to.match(new RegExp(`^audit log intact: ${lines.length} records checked`));
  });

  it('an invalid policy is 400 with the error position, and the policy in force does not change', async function () {
    const before = (await send(broker, { path: '/kbs/v1/admin/policy/resource', credential: admin })).json<{ version: number }>();
    const reply = await send(broker, {
      method: 'PUT', path: '/kbs/v1/admin/policy/resource', credential: admin, headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ rules: [{ match: 'prod/*/*', allow: 'claims.tee == "snp" &&' }] }),
    });
    expect(expectProblem(reply, 400, 'bad-request', broker.home).detail).to.match(/^"rules\[0\]\.allow": .* at line 1, column 2\d$/);
    const unknown = await send(broker, {
      method: 'PUT', path: '/kbs/v1/admin/policy/attestation', credential: admin, headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ allow: 'claim.status == "affirming"' }),
    });
    expect(expectProblem(unknown, 400, 'bad-request').detail).to.equal('"allow": Unknown variable: claim at line 1, column 1');
    expect((await send(broker, { path: '/kbs/v1/admin/policy/resource', credential: admin })).json()).to.deep.include({ version: before.version });
    expect((await fetch(good.credential, 'prod/key/db')).status, 'version 2 is still in force').to.equal(200);
  });

  it('the attestation policy: set through the CLI from a .cel file, applied to the next attestation, read back by version', async function () {
    const file = join(broker.home, 'work', 'only-other.cel');
    writeFileSync(file, `// only the measurement OTHER\nclaims.measurement == "${OTHER}"\n`);
    const set = await cli(['admin', 'set-policy', ...adminFlags(), '--file', file, 'attestation']);
    expect(set.code, describeResult(set)).to.equal(0);
    const key = await generateTeeKey();
    const { nonce } = await challenge(broker);
    const refused = await postAttest(broker, await attestBody(nonce, key, { evidence: sampleEvidence(reportData(nonce, key.spki), { measurement: GOOD }) }));
    expectProblem(refused, 403, 'policy-denied');
    await attestSample(OTHER);
    const old = await send(broker, { path: '/kbs/v1/admin/policy/attestation?version=0', credential: admin });
    expect(old.json()).to.deep.include({ version: 0, updated_by: 'default' });
    expect(old.json<{ allow: string }>().allow).to.contain('claims.status == "affirming"');
    const failure = auditLines().reverse().find((line) => line.event.type === 'attestation' && line.event.outcome === 'failure');
    expect(failure?.event).to.deep.equal({ type: 'attestation', outcome: 'failure', tee: 'sample', verifier: 'builtin', reason: 'policy-denied' });
  });

  it('policy admin routes need an admin: none is 401, a TEE certificate 403; unknown kinds and versions are 404, bad versions 400', async function () {
    expectProblem(await send(broker, { path: '/kbs/v1/admin/policy/resource' }), 401, 'admin-auth-required');
    expectProblem(await send(broker, { method: 'PUT', path: '/kbs/v1/admin/policy/resource', credential: good.credential, body: '{}', headers: { 'content-type': 'application/json' } }), 403, 'admin-forbidden');
    expectProblem(await send(broker, { path: '/kbs/v1/admin/policy/other', credential: admin }), 404, 'not-found');
    expectProblem(await send(broker, { path: '/kbs/v1/admin/policy/resource?version=999', credential: admin }), 404, 'not-found');
    expectProblem(await send(broker, { path: '/kbs/v1/admin/policy/resource?version=-1', credential: admin }), 400, 'bad-request');
  });

  it('every admin change is an audit record with who, what and before/after; no resource value ever enters the log', async function () {
    const value = `v-${randomBytes(16).toString('hex')}`;
    await send(broker, { method: 'PUT', path: '/kbs/v1/admin/resource/audit/key/one', body: value, credential: admin });
    await send(broker, { method: 'PUT', path: '/kbs/v1/admin/resource/audit/key/one', body: `${value}2`, credential: admin });
    await send(broker, { method: 'DELETE', path: '/kbs/v1/admin/resource/audit/key/one', credential: admin });
    const text = readFileSync(join(broker.home, 'data', 'audit.jsonl'), 'utf8');
    expect(text).not.to.contain(value);
    expect(text).not.to.contain('PRIVATE KEY');
    const events = auditLines().map((line) => line.event).filter((event) => event.target === 'audit/key/one');
    expect(events).to.deep.equal([
      { type: 'admin', admin: 'ops', action: 'resource.put', target: 'audit/key/one', before: null, after: { version: 1, size: value.length } },
      { type: 'admin', admin: 'ops', action: 'resource.put', target: 'audit/key/one', before: { version: 1 }, after: { version: 2, size: value.length + 1 } },
      { type: 'admin', admin: 'ops', action: 'resource.delete', target: 'audit/key/one', before: 'present', after: null },
    ]);
  });

  describe('keybroker audit verify (the real CLI) on copies of the log', function () {
    let intact: string[];
    let work: string;
    before(function () {
      work = join(broker.home, 'work');
      intact = readFileSync(join(broker.home, 'data', 'audit.jsonl'), 'utf8').trim().split('\n');
      expect(intact.length).to.be.greaterThan(6);
    });

    async function verify(lines: string[], name: string, extra: string[] = []) {
      const file = join(work, `${name}.jsonl`);
      writeFileSync(file, `${lines.join('\n')}\n`);
      return cli(['audit', 'verify', '--file', file, ...extra]);
    }

    it('intact: exit 0', async function () {
      const copy = join(work, 'copy.jsonl');
      copyFileSync(join(broker.home, 'data', 'audit.jsonl'), copy);
      const result = await cli(['audit', 'verify', '--file', copy, '--json']);
      expect(result.code, describeResult(result)).to.equal(0);
      expect(JSON.parse(result.stdout.toString())).to.deep.include({ ok: true });
    });

    it('an edited line: exit 1 naming it', async function () {
      const edited = [...intact];
      edited[3] = edited[3]!.replace(/"seq":4/, '"seq":4,"x":1').replace(/"time":"[^"]+"/, '"time":"2020-01-01T00:00:00.000Z"');
      const result = await verify(edited, 'edited');
      expect(result.code).to.equal(1);
      expect(result.stderr).to.match(/^keybroker: audit log broken at record 4 \(line 4\): .*edited/);
    });

    it('a deleted line: exit 1 naming the record that is missing', async function () {
      const result = await verify(intact.filter((_, index) => index !== 2), 'deleted');
      expect(result.code).to.equal(1);
      expect(result.stderr).to.match(/^keybroker: audit log broken at record 3 \(line 3\): holds seq 4 /);
    });

    it('two lines swapped: exit 1 at the first one out of place', async function () {
      const reordered = [...intact];
      [reordered[4], reordered[5]] = [reordered[5]!, reordered[4]!];
      const result = await verify(reordered, 'reordered');
      expect(result.code).to.equal(1);
      expect(result.stderr).to.match(/^keybroker: audit log broken at record 5 \(line 5\)/);
    });

    it('--from N skips an edit before N', async function () {
      const edited = [...intact];
      edited[0] = edited[0]!.replace(/"seq":1/, '"seq":1,"x":1');
      expect((await verify(edited, 'from', ['--from', '2'])).code).to.equal(0);
      expect((await verify(edited, 'from1', ['--from', '1'])).code).to.equal(1);
    });
  });
});
