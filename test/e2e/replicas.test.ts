/**
 * Three broker processes on their own loopback ports sharing one PostgreSQL database (through a TCP proxy this test
 * owns, to cut it for an outage) and one home: the CA and the nonce sealing key, as a shared volume would provide.
 */
import { expect } from 'chai';
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { eventually } from '../helpers/eventually.js';
import { createTestDatabase, PG_PORT, type TestDatabase } from '../helpers/pg-test-database.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import { startBroker, type BrokerProcess } from './helpers/broker-process.js';
import { expectProblem, send, sendOrError, type Credential, type Reply } from './helpers/https-client.js';
import { describeResult, runCli } from './helpers/run-command.js';
import { v0AttestBody, v0Auth, v0Digest, v0GetResource, v0Key, v0Open, v0PostAttest, v0SampleEvidence } from './helpers/v0-protocol.js';
import { attestBody, attestNew, challenge, generateTeeKey, postAttest, randomResourcePath } from './helpers/v1-protocol.js';

const DB_PASSWORD = 'e2e-db-password-7f3a';

describe('several replicas on one PostgreSQL', function () {
  this.timeout(60_000);
  let database: TestDatabase;
  let proxy: TcpProxy;
  let replicas: BrokerProcess[] = [];
  let admin: Credential;

  before(async function () {
    database = await createTestDatabase();
    proxy = await startTcpProxy(PG_PORT);
    const toml = `[store]\nbackend = "postgres"\nurl = "${database.url({ port: proxy.port, password: DB_PASSWORD })}"\n`;
    const first = await startBroker({ toml });
    replicas = [first];
    // The others share the first one's home: its CA (made there in development mode) and data/keys/nonce-seal.key.
    for (let index = 1; index < 3; index += 1) replicas.push(await startBroker({ home: first.home, removeHome: false }));
    const work = join(first.home, 'work');
    mkdirSync(work, { recursive: true });
    const result = await runCli(first.home, ['ca', 'issue-admin', '--name', 'ops', '--out', join(work, 'ops')], { cwd: work });
    if (result.code !== 0) throw new Error(`ca issue-admin failed: ${describeResult(result)}`);
    admin = { cert: readFileSync(join(work, 'ops', 'cert.pem'), 'utf8'), key: readFileSync(join(work, 'ops', 'key.pem'), 'utf8') };
  });

  after(async function () {
    // The first replica owns the home, so it stops last.
    for (const replica of [...replicas].reverse()) await replica.stop();
    await proxy?.close();
    await database?.drop();
  });

  const putResource = (replica: BrokerProcess, path: string, value: string) =>
    send(replica, { method: 'PUT', path: `/kbs/v1/admin/resource/${path}`, body: value, credential: admin, headers: { 'content-type': 'application/octet-stream' } });
  const getResource = (replica: BrokerProcess, path: string, credential: Credential) =>
    send(replica, { path: `/kbs/v1/resource/${path}`, credential });
  const two = () => replicas[1]!;
  async function queryDatabase<Row extends pg.QueryResultRow>(sql: string): Promise<Row[]> {
    const client = new pg.Client({ connectionString: database.url() });
    await client.connect();
    try {
      return (await client.query<Row>(sql)).rows;
    } finally {
      await client.end();
    }
  }

  it('challenge on replica 1, attest on replica 2, fetch on replica 3; a change on replica 1 reaches replica 3', async () => {
    const [one, two, three] = replicas as [BrokerProcess, BrokerProcess, BrokerProcess];
    const path = randomResourcePath();
    expect((await putResource(one, path, 'first value')).status).to.equal(201);

    const key = await generateTeeKey();
    const { nonce } = await challenge(one);
    const attested = await postAttest(two, await attestBody(nonce, key));
    expect(attested.status, attested.text()).to.equal(201);
    const credential = { cert: attested.json<{ certificate: string }>().certificate, key: key.privateKeyPem };

    const fetched = await getResource(three, path, credential);
    expect(fetched.status).to.equal(200);
    expect(fetched.text()).to.equal('first value');
    expectProblem(await postAttest(three, await attestBody(nonce, key)), 401, 'nonce-invalid');

    expect((await putResource(one, path, 'second value')).status).to.equal(200);
    // The documented bound is 1 s (notification, or the cache's maximum age); the poll only keeps a failure from hanging.
    await eventually(async () => (await getResource(three, path, credential)).text() === 'second value');
  });

  it('issues one certificate when two replicas get the same nonce at once', async () => {
    const [one, two] = replicas as [BrokerProcess, BrokerProcess];
    for (let round = 0; round < 5; round += 1) {
      const key = await generateTeeKey();
      const { nonce } = await challenge(one);
      const body = await attestBody(nonce, key);
      const replies = await Promise.all([postAttest(one, body), postAttest(two, body)]);
      expect(replies.map((reply) => reply.status).sort()).to.deep.equal([201, 401]);
      expectProblem(replies.find((reply) => reply.status === 401)!, 401, 'nonce-invalid');
    }
  });

  it('v0: auth on replica 1, attest on replica 2, the token and the session cookie fetch on replica 3', async () => {
    const [one, two, three] = replicas as [BrokerProcess, BrokerProcess, BrokerProcess];
    const path = randomResourcePath();
    expect((await putResource(one, path, 'v0 value')).status).to.equal(201);
    const { cookie, nonce } = await v0Auth(one);
    const key = await v0Key();
    const attested = await v0PostAttest(two, cookie, v0AttestBody(nonce, key.jwk, v0SampleEvidence(v0Digest(key.jwk, nonce))));
    expect(attested.status, attested.text()).to.equal(200);
    const { token } = attested.json<{ token: string }>();
    expect((await v0Open(await v0GetResource(three, path, { token }), key)).toString()).to.equal('v0 value');
    expect((await v0Open(await v0GetResource(three, path, { cookie }), key)).toString()).to.equal('v0 value');
  });

  it('a policy set on replica 1 is in force on replica 3, and so is the next one', async () => {
    const [one, , three] = replicas as [BrokerProcess, BrokerProcess, BrokerProcess];
    const path = randomResourcePath();
    expect((await putResource(one, path, 'guarded')).status).to.equal(201);
    const { credential } = await attestNew(two());
    expect((await getResource(three, path, credential)).status).to.equal(200);

    const inForce = (await send(one, { path: '/kbs/v1/admin/policy/resource', credential: admin })).json<{ rules: unknown[]; version: number }>();
    const setRules = async (rules: unknown[]) => {
      const reply = await send(one, { method: 'PUT', path: '/kbs/v1/admin/policy/resource', body: JSON.stringify({ rules }), credential: admin, headers: { 'content-type': 'application/json' } });
      expect(reply.status, reply.text()).to.equal(200);
      return reply;
    };
    const repository = path.split('/')[0]!;
    await setRules([{ match: `${repository}/*/*`, allow: 'false' }, ...inForce.rules]);
    // The documented bound is 1 s (a notification on the change feed); the poll only keeps a failure from hanging.
    await eventually(async () => (await getResource(three, path, credential)).status === 403);
    expectProblem(await getResource(three, path, credential), 403, 'policy-denied');
    const seen = (await send(three, { path: '/kbs/v1/admin/policy/resource', credential: admin })).json<{ version: number; updated_by: string }>();
    expect(seen).to.deep.include({ version: inForce.version + 1, updated_by: 'ops' });

    await setRules(inForce.rules);
    await eventually(async () => (await getResource(three, path, credential)).status === 200);
  });

  it('a certificate issued on replica 2 and revoked on replica 1 is refused on replica 3; others go on', async () => {
    const [one, , three] = replicas as [BrokerProcess, BrokerProcess, BrokerProcess];
    const path = randomResourcePath();
    expect((await putResource(one, path, 'revocable')).status).to.equal(201);
    const [revoked, kept] = [await attestNew(two()), await attestNew(two())];
    expect((await getResource(three, path, revoked.credential)).status).to.equal(200);

    const reply = await send(one, {
      method: 'POST', path: `/kbs/v1/admin/certificates/${revoked.response.serial}/revoke`, credential: admin,
      body: JSON.stringify({ reason: 'keyCompromise' }), headers: { 'content-type': 'application/json' },
    });
    expect(reply.status, reply.text()).to.equal(200);
    expect(reply.json()).to.deep.include({ serial: revoked.response.serial, newly_revoked: true });
    // The documented bound is 1 s (a notification on the change feed); the poll only keeps a failure from hanging.
    await eventually(async () => (await getResource(three, path, revoked.credential)).status === 401);
    expectProblem(await getResource(three, path, revoked.credential), 401, 'certificate-revoked');
    expect((await getResource(three, path, kept.credential)).status).to.equal(200);
  });

  it('answers 503 unavailable while the database is away, releases nothing it cannot audit (cached or not), and recovers by itself', async () => {
    const [one, , three] = replicas as [BrokerProcess, BrokerProcess, BrokerProcess];
    const path = randomResourcePath();
    expect((await putResource(one, path, 'cached value')).status).to.equal(201);
    const { credential } = await attestNew(one);
    expect((await getResource(three, path, credential)).text()).to.equal('cached value');

    proxy.cut();
    try {
      const key = await generateTeeKey();
      const { nonce } = await challenge(one);
      expectProblem(await postAttest(one, await attestBody(nonce, key)), 503, 'unavailable', one.home);
      expectProblem(await send(one, { path: '/kbs/v1/admin/resources', credential: admin }), 503, 'unavailable', one.home);
      expect((await send(one, { path: '/readyz' })).status).to.equal(503);
      // The value is in replica 3's cache, but a release is recorded in the shared audit chain before it is answered.
      expectProblem(await getResource(three, path, credential), 503, 'unavailable', three.home);
    } finally {
      proxy.restore();
    }

    await eventually(async () => (await send(one, { path: '/readyz' })).status === 200);
    await attestNew(one);
    expect((await putResource(one, path, 'after the outage')).status).to.equal(200);
    await eventually(async () => (await getResource(three, path, credential)).text() === 'after the outage');

    expect(one.stderr()).to.include('store unavailable');
    expect(one.stdout()).to.include('store available again');
    for (const replica of replicas) {
      expect(replica.stdout() + replica.stderr()).not.to.include(DB_PASSWORD);
      expect(replica.stderr()).not.to.match(/\n\s+at /);
    }
  });

  it('keeps serving when one replica is killed mid-load: clients retry on the others', async () => {
    const path = randomResourcePath();
    expect((await putResource(replicas[0]!, path, 'under load')).status).to.equal(201);
    const victim = replicas[1]!;
    let completed = 0;
    let failovers = 0;

    /** Challenge, attest and fetch on one replica; a dead replica gives a network error and the next one is tried. */
    async function oneClient(first: number): Promise<void> {
      for (let attempt = 0; attempt < replicas.length; attempt += 1) {
        const replica = replicas[(first + attempt) % replicas.length]!;
        try {
          const { credential } = await attestNew(replica);
          const reply: Reply = await getResource(replica, path, credential);
          expect(reply.text()).to.equal('under load');
          completed += 1;
          if (completed === 6) process.kill(victim.pid, 'SIGKILL');
          return;
        } catch (error) {
          if (replica !== victim) throw error;
          failovers += 1;
        }
      }
      throw new Error('no replica answered');
    }

    const workers = Array.from({ length: 3 }, async (_, worker) => {
      for (let round = 0; round < 8; round += 1) await oneClient(worker + round);
    });
    await Promise.all(workers);
    expect(completed).to.equal(24);
    expect(victim.running()).to.equal(false);
    expect(failovers).to.be.greaterThan(0);
    const survivors = replicas.filter((replica) => replica !== victim);
    for (const replica of survivors) expect((await sendOrError(replica, { path: '/readyz' })).reply?.status).to.equal(200);
  });

  it('all replicas wrote one audit chain, through an outage and a replica killed mid-load, which `keybroker audit verify` checks in the database', async () => {
    await Promise.all(replicas.filter((replica) => replica.running()).map(async (replica) => {
      for (let round = 0; round < 3; round += 1) await attestNew(replica);
    }));
    const verified = await runCli(replicas[0]!.home, ['audit', 'verify', '--json']);
    expect(verified.code, describeResult(verified)).to.equal(0);
    const verdict = JSON.parse(verified.stdout.toString()) as { ok: boolean; checked: number; last_seq: number };
    const rows = await queryDatabase<{ count: string }>('SELECT count(*) AS count FROM keybroker_audit_log');
    expect(verdict).to.deep.include({ ok: true, checked: Number(rows[0]!.count), last_seq: Number(rows[0]!.count) });
    // The tests above issued certificates on every replica, dozens of records, all in that one chain.
    expect(verdict.checked).to.be.greaterThan(50);
  });

  // Last: tainting the first issuer also ends the admin certificate the tests above use.
  it('an issuer rotated and tainted with `keybroker ca` is in force on every replica without a signal: the states live in PostgreSQL', async () => {
    const [one, three] = replicas.filter((replica) => replica.running()) as [BrokerProcess, BrokerProcess];
    const path = randomResourcePath();
    expect((await putResource(one, path, 'across a rotation')).status).to.equal(201);
    const before = await attestNew(three);
    const ca = async (args: string[]) => {
      const result = await runCli(one.home, ['ca', ...args, '--json']);
      expect(result.code, describeResult(result)).to.equal(0);
      return JSON.parse(result.stdout.toString()) as { id: string; retired?: string };
    };
    await ca(['prepare']);
    const activated = await ca(['activate']);
    const rows = await queryDatabase<{ id: string; state: string; certificate: string }>('SELECT id, state, certificate FROM keybroker_ca_issuers ORDER BY id');
    expect(rows.map((row) => row.state).sort()).to.deep.equal(['active', 'retired']);
    const successor = new X509Certificate(rows.find((row) => row.id === activated.id)!.certificate);
    // The CA home holds keys and certificates; the states are in the database only.
    for (const row of rows) expect(existsSync(join(one.home, 'ca', 'issuers', row.id, 'state.json'))).to.equal(false);

    // The bound is the change feed's (1 s); the poll only keeps a failure from hanging.
    let after = await attestNew(three);
    await eventually(async () => new X509Certificate((after = await attestNew(three)).response.certificate).checkIssued(successor));
    expect((await getResource(three, path, before.credential)).status, 'a retired issuer\'s leaf stays valid').to.equal(200);

    await ca(['taint', activated.retired!]);
    expect((await queryDatabase<{ state: string }>(`SELECT state FROM keybroker_ca_issuers WHERE id = '${activated.retired!}'`))[0]!.state).to.equal('tainted');
    for (const replica of [three, one]) {
      await eventually(async () => (await getResource(replica, path, before.credential)).status === 401);
      expectProblem(await getResource(replica, path, before.credential), 401, 'certificate-invalid');
    }
    expect((await getResource(three, path, after.credential)).text()).to.equal('across a rotation');

    // Each transition is in the one audit chain once, recorded by the process that made it (replica 1 creating the
    // development CA, then the commands), not once per replica.
    const lines = await queryDatabase<{ line: string }>('SELECT line FROM keybroker_audit_log ORDER BY seq');
    const caEvents = lines.map((row) => (JSON.parse(row.line) as { event: { type: string; action: string; issuer: string } }).event)
      .filter((event) => event.type === 'ca' && (event.issuer === activated.id || event.issuer === activated.retired))
      .map((event) => `${event.action} ${event.issuer === activated.id ? 'successor' : 'predecessor'}`);
    expect(caEvents).to.deep.equal(['issuer.active predecessor', 'issuer.prepared successor', 'issuer.active successor', 'issuer.retired predecessor', 'issuer.tainted predecessor']);
  });
});
