// Versions, rollback and "nothing changes on a bad policy", over the file store.
import { expect } from 'chai';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { silentLogger } from '../../../src/domain/logger.js';
import { noMetrics } from '../../../src/domain/metrics.js';
import { loadDefaultPolicies } from '../../../src/policy/default-policies.js';
import { PolicyService } from '../../../src/policy/policy-service.js';
import { ChangeSubscribers } from '../../../src/store/change-feed.js';
import { FsPolicyStore } from '../../../src/store/fs/fs-policy-store.js';
import { eventually } from '../../helpers/eventually.js';
import { useTempDir } from '../../helpers/temp-dir.js';
import { claimsFor, DEV, requestFor } from './policy-fixtures.js';

const T0 = new Date('2026-11-29T10:00:00Z');
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);
const PROD_ONLY_SNP = { rules: [{ match: 'prod/*/*', allow: 'claims.tee == "snp"' }] };
const PROD_NOBODY = { rules: [{ match: 'prod/*/*', allow: 'false' }] };

describe('policy/policy-service with the file policy store', () => {
  const dir = useTempDir('policies');
  const open = async () => PolicyService.open(new FsPolicyStore(dir()), await loadDefaultPolicies(), DEV, noMetrics, T0);

  it('starts with the defaults as version 0, by "default"', async () => {
    const service = await open();
    const view = await service.get('resource');
    expect(view).to.deep.include({ version: 0, updated_by: 'default', updated_at: T0.toISOString() });
    expect({ rules: view.rules }).to.deep.equal((await loadDefaultPolicies()).resource);
    expect(service.resource.evaluate(requestFor('prod/key/db', claimsFor('sample'))).allow).to.equal(true);
  });

  it('set stores version 1, 2, ... with author and time, and takes effect for the next evaluation', async () => {
    const service = await open();
    const first = await service.set('resource', PROD_ONLY_SNP, 'alice', at(1));
    expect(first.before.version).to.equal(0);
    expect(first.after).to.deep.equal({ ...PROD_ONLY_SNP, version: 1, updated_at: at(1).toISOString(), updated_by: 'alice' });
    const decision = service.resource.evaluate(requestFor('prod/key/db', claimsFor('sample')));
    expect(decision).to.deep.include({ allow: false, rule: '#1 prod/*/*', policyVersion: 1 });
    const second = await service.set('resource', PROD_NOBODY, 'bob', at(2));
    expect(second.after).to.deep.include({ version: 2, updated_by: 'bob' });
    expect(service.resource.evaluate(requestFor('prod/key/db', claimsFor('snp'))).allow).to.equal(false);
    expect(await service.get('resource')).to.deep.include({ version: 2 });
    expect(await service.get('resource', 1)).to.deep.equal(first.after);
    expect(await service.get('attestation')).to.deep.include({ version: 0 });
  });

  it('an invalid policy is refused and the one in force stays, unchanged and unversioned', async () => {
    const service = await open();
    await service.set('resource', PROD_ONLY_SNP, 'alice', at(1));
    expect(() => service.set('resource', { rules: [{ match: 'prod/*/*', allow: 'claims.tee ==' }] }, 'mallory', at(2))).to.throw(/Unexpected token/);
    expect(await service.get('resource')).to.deep.include({ version: 1, updated_by: 'alice' });
    expect(service.resource.evaluate(requestFor('prod/key/db', claimsFor('snp'))).allow).to.equal(true);
    expect(await readdir(join(dir(), 'policies', 'resource'))).to.deep.equal(['00000001.json']);
  });

  it('rollback: setting an old version\'s text again stores it as a new version', async () => {
    const service = await open();
    await service.set('resource', PROD_ONLY_SNP, 'alice', at(1));
    await service.set('resource', PROD_NOBODY, 'bob', at(2));
    const { version: _v, updated_at: _a, updated_by: _b, ...old } = await service.get('resource', 1);
    const rolledBack = await service.set('resource', old, 'carol', at(3));
    expect(rolledBack.after).to.deep.include({ version: 3, updated_by: 'carol', ...PROD_ONLY_SNP });
    expect(service.resource.evaluate(requestFor('prod/key/db', claimsFor('snp'))).allow).to.equal(true);
    // Rolling back to the default (version 0) works the same way.
    const { version: _v0, updated_at: _a0, updated_by: _b0, ...defaults } = await service.get('resource', 0);
    expect((await service.set('resource', defaults, 'carol', at(4))).after.version).to.equal(4);
  });

  it('a reopened service (a restart) has the newest stored versions in force', async () => {
    const service = await open();
    await service.set('attestation', { allow: 'tee == "snp"', id: '"db"' }, 'alice', at(1));
    const reopened = await open();
    expect(await reopened.get('attestation')).to.deep.include({ version: 1, allow: 'tee == "snp"', id: '"db"', updated_by: 'alice' });
    const { iat: _iat, ...claims } = claimsFor('snp');
    expect(reopened.attestation.evaluate({ claims, tee: 'snp' })).to.deep.equal({ allow: true, id: 'db', policyVersion: 1 });
  });

  it('an unknown version is 404 not-found', async () => {
    const service = await open();
    for (const version of [1, 99]) {
      const error = await service.get('resource', version).then(() => undefined, (failure: unknown) => failure as { code?: string });
      expect(error?.code).to.equal('not-found');
    }
  });

  it('concurrent sets get distinct versions, and the last one stored is in force', async () => {
    const service = await open();
    const results = await Promise.all([1, 2, 3, 4, 5].map((n) => service.set('resource', { rules: [{ match: `r${n}/*/*`, allow: 'true' }] }, `admin${n}`, at(n))));
    expect(results.map((result) => result.after.version).sort()).to.deep.equal([1, 2, 3, 4, 5]);
    const newest = results.find((result) => result.after.version === 5)!;
    expect(await service.get('resource')).to.deep.equal(newest.after);
  });

  it('two processes sharing the directory never overwrite a version, and refresh() puts the other\'s newest in force', async () => {
    const [one, two] = [await open(), await open()];
    await one.set('resource', PROD_ONLY_SNP, 'alice', at(1));
    const second = await two.set('resource', PROD_NOBODY, 'bob', at(2));
    expect(second.after.version).to.equal(2);
    expect(await one.get('resource', 1)).to.deep.include({ updated_by: 'alice' });
    expect(one.resource.evaluate(requestFor('prod/key/db', claimsFor('snp'))).allow).to.equal(true);
    await one.refresh('resource');
    expect(await one.get('resource')).to.deep.include({ version: 2, updated_by: 'bob' });
    expect(one.resource.evaluate(requestFor('prod/key/db', claimsFor('snp'))).allow).to.equal(false);
  });

  it('follow() refreshes a kind announced on the change feed, every kind on a resync, and nothing once stopped', async () => {
    const [one, two] = [await open(), await open()];
    const feed = new ChangeSubscribers();
    const stop = one.follow(feed, silentLogger);
    try {
      await two.set('attestation', { allow: 'tee == "snp"' }, 'bob', at(1));
      feed.changed('policy', 'no-such-kind');
      feed.changed('policy', 'attestation');
      await eventually(async () => (await one.get('attestation')).version === 1, { intervalMs: 20 });
      await two.set('resource', PROD_ONLY_SNP, 'bob', at(2));
      feed.resyncAll();
      await eventually(async () => (await one.get('resource')).version === 1, { intervalMs: 20 });
    } finally {
      stop();
    }
    await two.set('attestation', { allow: 'true' }, 'bob', at(3));
    feed.changed('policy', 'attestation');
    await one.refresh('resource');
    expect((await one.get('attestation')).version).to.equal(1);
  });

  it('stores each version as a 0600 file holding text, author and time', async () => {
    const service = await open();
    await service.set('resource', PROD_ONLY_SNP, 'alice', at(1));
    const file = join(dir(), 'policies', 'resource', '00000001.json');
    expect((await stat(file)).mode & 0o777).to.equal(0o600);
    expect(JSON.parse(await readFile(file, 'utf8'))).to.deep.equal({ version: 1, text: JSON.stringify(PROD_ONLY_SNP), author: 'alice', created_at: at(1).toISOString() });
  });
});
