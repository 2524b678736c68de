/** The admin API of PROTOCOL.md 1.8 for resources, over the wire and through the CLI. */
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import type { BrokerProcess } from './helpers/broker-process.js';
import { expectProblem, send, type Credential } from './helpers/https-client.js';
import { describeResult, runCli } from './helpers/run-command.js';
import { sharedAdmin, sharedBroker, type AdminCredential } from './helpers/shared-broker.js';
import { attestNew } from './helpers/v1-protocol.js';

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/;

interface ResourceMeta {
  path: string;
  size: number;
  version: number;
  updated_at: string;
}

function expectMeta(value: unknown, path: string, size: number): ResourceMeta {
  expect(value).to.have.all.keys('path', 'size', 'version', 'updated_at');
  const meta = value as ResourceMeta;
  expect(meta.path).to.equal(path);
  expect(meta.size).to.equal(size);
  expect(Number.isInteger(meta.version) && meta.version >= 1, `version ${meta.version}`).to.equal(true);
  expect(meta.updated_at).to.match(RFC3339);
  return meta;
}

describe('e2e: admin API (PROTOCOL.md 1.8)', function () {
  let broker: BrokerProcess;
  let admin: AdminCredential;
  let tee: Credential;
  const repository = `adm-${randomBytes(5).toString('hex')}`;

  before(async function () {
    broker = await sharedBroker();
    admin = await sharedAdmin();
    tee = (await attestNew(broker)).credential;
  });

  const put = (path: string, body: Buffer | string) => send(broker, { method: 'PUT', path: `/kbs/v1/admin/resource/${path}`, body, credential: admin, headers: { 'content-type': 'application/octet-stream' } });
  const list = (prefix?: string) => send(broker, { path: `/kbs/v1/admin/resources${prefix === undefined ? '' : `?prefix=${encodeURIComponent(prefix)}`}`, credential: admin });

  it('PUT creates (201) then replaces (200) with {path,size,version,updated_at}; the version increments', async function () {
    const path = `${repository}/key/rotating`;
    const first = randomBytes(40);
    const created = await put(path, first);
    expect(created.status, created.text()).to.equal(201);
    expect(String(created.headers['content-type'])).to.match(/^application\/json/);
    const v1 = expectMeta(created.json(), path, first.length);

    const second = randomBytes(17);
    const replaced = await put(path, second);
    expect(replaced.status, replaced.text()).to.equal(200);
    const v2 = expectMeta(replaced.json(), path, second.length);
    expect(v2.version).to.equal(v1.version + 1);
    expect(Date.parse(v2.updated_at)).to.be.at.least(Date.parse(v1.updated_at));

    const third = await put(path, Buffer.from('3'));
    expect(third.status).to.equal(200);
    expect(expectMeta(third.json(), path, 1).version).to.equal(v1.version + 2);

    const got = await send(broker, { path: `/kbs/v1/resource/${path}`, credential: tee });
    expect(got.status).to.equal(200);
    expect(got.body.toString()).to.equal('3');
  });

  it('GET /kbs/v1/admin/resources?prefix=... lists metadata only, never values', async function () {
    const values: Record<string, Buffer> = {
      [`${repository}/list/alpha`]: Buffer.from('VALUE-ALPHA-7f3c1e'),
      [`${repository}/list/beta`]: Buffer.from('VALUE-BETA-2b9d44'),
      [`${repository}/other/gamma`]: Buffer.from('VALUE-GAMMA-c0ffee'),
    };
    for (const [path, value] of Object.entries(values)) expect((await put(path, value)).status).to.equal(201);

    const all = await list(`${repository}/list/`);
    expect(all.status, all.text()).to.equal(200);
    const body = all.json<{ resources: unknown[] }>();
    expect(body).to.have.all.keys('resources');
    expect(body.resources).to.have.lengthOf(2);
    const listed = body.resources.map((entry) => {
      const path = (entry as ResourceMeta).path;
      return expectMeta(entry, path, values[path]!.length).path;
    });
    expect(listed.sort()).to.deep.equal([`${repository}/list/alpha`, `${repository}/list/beta`]);

    const wide = await list(repository);
    expect(wide.json<{ resources: ResourceMeta[] }>().resources.map((entry) => entry.path)).to.include.members(Object.keys(values));
    const text = wide.text();
    for (const value of Object.values(values)) {
      expect(text).not.to.include(value.toString());
      expect(text).not.to.include(value.toString('base64'));
      expect(text).not.to.include(value.toString('hex'));
    }

    const none = await list(`nothing-${randomBytes(4).toString('hex')}`);
    expect(none.status).to.equal(200);
    expect(none.json()).to.deep.equal({ resources: [] });

    const unfiltered = await list();
    expect(unfiltered.json<{ resources: ResourceMeta[] }>().resources.map((entry) => entry.path)).to.include.members(Object.keys(values));
  });

  it('DELETE answers 204, then 404 on a second delete; the TEE then gets 404', async function () {
    const path = `${repository}/key/doomed`;
    expect((await put(path, 'doomed value')).status).to.equal(201);
    expect((await send(broker, { path: `/kbs/v1/resource/${path}`, credential: tee })).status).to.equal(200);

    const deleted = await send(broker, { method: 'DELETE', path: `/kbs/v1/admin/resource/${path}`, credential: admin });
    expect(deleted.status, deleted.text()).to.equal(204);
    expect(deleted.body.length).to.equal(0);
    expectProblem(await send(broker, { method: 'DELETE', path: `/kbs/v1/admin/resource/${path}`, credential: admin }), 404, 'resource-not-found', broker.home);
    expectProblem(await send(broker, { path: `/kbs/v1/resource/${path}`, credential: tee }), 404, 'resource-not-found', broker.home);
    expect((await list(path)).json()).to.deep.equal({ resources: [] });

    const again = await put(path, 'reborn');
    expect(again.status, 'a PUT after a delete creates again').to.equal(201);
  });

  it('admin PUT and DELETE with a bad resource path: 400 bad-request', async function () {
    for (const path of [`${repository}/../x`, `${repository}/key`, `${repository}/a/b/c`, `${repository}/key/.env`, `${repository}/%2e%2e/x`]) {
      expectProblem(await put(path, 'x'), 400, 'bad-request', broker.home);
      expectProblem(await send(broker, { method: 'DELETE', path: `/kbs/v1/admin/resource/${path}`, credential: admin }), 400, 'bad-request', broker.home);
    }
  });

  it('the CLI lists (--prefix) and deletes; deleting again exits non-zero with one line on stderr', async function () {
    const path = `${repository}/cli/item`;
    const common = ['--url', broker.url, '--admin', admin.dir, '--cacert', broker.bundlePath];
    const set = await runCli(broker.home, ['admin', 'set-resource', ...common, path], { input: 'cli value' });
    expect(set.code, describeResult(set)).to.equal(0);

    const listed = await runCli(broker.home, ['admin', 'list-resources', ...common, '--prefix', `${repository}/cli/`, '--json']);
    expect(listed.code, describeResult(listed)).to.equal(0);
    const parsed = JSON.parse(listed.stdout.toString()) as { resources: ResourceMeta[] };
    expect(parsed.resources).to.have.lengthOf(1);
    expectMeta(parsed.resources[0], path, 'cli value'.length);
    expect(listed.stdout.toString()).not.to.include('cli value');

    const deleted = await runCli(broker.home, ['admin', 'delete-resource', ...common, path]);
    expect(deleted.code, describeResult(deleted)).to.equal(0);
    const again = await runCli(broker.home, ['admin', 'delete-resource', ...common, path]);
    expect(again.code).to.not.equal(0);
    expect(again.stderr.trim().split('\n')).to.have.lengthOf(1);
    expect(again.stderr).to.include('404');
  });
});
