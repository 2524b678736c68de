import { expect } from 'chai';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FsResourceStore } from '../../../src/store/fs/fs-resource-store.js';
import { rejection } from '../../helpers/rejection.js';

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (value: Uint8Array | undefined) => (value === undefined ? undefined : new TextDecoder().decode(value));

/** Every file under `dir`, relative paths, sorted. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name).slice(dir.length + 1))
    .sort();
}

describe('FsResourceStore', () => {
  let dataDir: string;
  let store: FsResourceStore;

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'keybroker-resources-'));
    store = new FsResourceStore(dataDir);
  });

  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  describe('put and get', () => {
    it('creates a resource at version 1', async () => {
      const before = Date.now();
      const result = await store.put('repo/key/tag', bytes('secret'));
      expect(result.created).to.equal(true);
      expect(result.meta).to.include({ path: 'repo/key/tag', size: 6, version: 1 });
      expect(Date.parse(result.meta.updated_at)).to.be.within(before, Date.now());
      expect(text(await store.get('repo/key/tag'))).to.equal('secret');
    });

    it('replaces a resource, growing the version by one', async () => {
      await store.put('repo/key/tag', bytes('one'));
      const second = await store.put('repo/key/tag', bytes('second value'));
      const third = await store.put('repo/key/tag', bytes('3'));
      expect(second.created).to.equal(false);
      expect(second.meta).to.include({ version: 2, size: 12 });
      expect(third.meta).to.include({ version: 3, size: 1 });
      expect(text(await store.get('repo/key/tag'))).to.equal('3');
    });

    it('keeps binary values byte for byte, including empty ones', async () => {
      const value = new Uint8Array([0, 255, 10, 13, 0]);
      await store.put('r/t/bin', value);
      await store.put('r/t/empty', new Uint8Array());
      expect([...((await store.get('r/t/bin')) ?? [])]).to.deep.equal([...value]);
      expect((await store.get('r/t/empty'))?.byteLength).to.equal(0);
      expect((await store.list('r/t/empty'))[0]).to.include({ size: 0 });
    });

    it('answers undefined for a missing resource', async () => {
      expect(await store.get('repo/key/absent')).to.equal(undefined);
    });

    it('lays out values and metadata as documented, never putting the value in the metadata', async () => {
      await store.put('repo/key/tag', bytes('top-secret-value'));
      expect(await filesUnder(dataDir)).to.deep.equal(['resource-meta/repo/key/tag.json', 'resources/repo/key/tag']);
      const meta = await readFile(join(dataDir, 'resource-meta/repo/key/tag.json'), 'utf8');
      expect(meta).not.to.include('top-secret-value');
      expect(JSON.parse(meta)).to.have.all.keys('version', 'size', 'updated_at');
    });

    it('writes files with mode 0600 and directories with mode 0700', async () => {
      await store.put('repo/key/tag', bytes('v'));
      for (const file of ['resources/repo/key/tag', 'resource-meta/repo/key/tag.json']) {
        expect((await stat(join(dataDir, file))).mode & 0o777, file).to.equal(0o600);
      }
      for (const dir of ['resources', 'resources/repo', 'resources/repo/key', 'resource-meta/repo/key']) {
        expect((await stat(join(dataDir, dir))).mode & 0o777, dir).to.equal(0o700);
      }
    });

    it('leaves no temp files behind', async () => {
      await store.put('repo/key/tag', bytes('a'));
      await store.put('repo/key/tag', bytes('b'));
      await store.put('repo/other/tag', bytes('c'));
      const names = (await filesUnder(dataDir)).map((file) => file.split('/').at(-1) ?? '');
      expect(names.filter((name) => name.startsWith('.'))).to.deep.equal([]);
    });

    it('serializes concurrent puts to one path, so each gets its own version', async () => {
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => store.put('repo/key/tag', bytes(`v${i}`))));
      expect(results.map((result) => result.meta.version)).to.deep.equal(Array.from({ length: 20 }, (_, i) => i + 1));
      expect(results.filter((result) => result.created)).to.have.length(1);
      expect(text(await store.get('repo/key/tag'))).to.equal('v19');
      expect((await store.list())[0]).to.include({ version: 20 });
    });

    it('treats a value left without metadata (crash between the two writes) as new', async () => {
      await mkdir(join(dataDir, 'resources/repo/key'), { recursive: true });
      await writeFile(join(dataDir, 'resources/repo/key/tag'), 'orphan');
      const result = await store.put('repo/key/tag', bytes('fresh'));
      expect(result.created).to.equal(true);
      expect(result.meta.version).to.equal(1);
    });
  });

  describe('delete', () => {
    it('removes value and metadata and says so', async () => {
      await store.put('repo/key/tag', bytes('v'));
      expect(await store.delete('repo/key/tag')).to.equal(true);
      expect(await store.get('repo/key/tag')).to.equal(undefined);
      expect(await store.list()).to.deep.equal([]);
      expect(await filesUnder(dataDir)).to.deep.equal([]);
    });

    it('answers false for a missing resource', async () => {
      expect(await store.delete('repo/key/absent')).to.equal(false);
    });

    it('starts again at version 1 after a delete', async () => {
      await store.put('repo/key/tag', bytes('v'));
      await store.put('repo/key/tag', bytes('v'));
      await store.delete('repo/key/tag');
      const result = await store.put('repo/key/tag', bytes('v'));
      expect(result).to.deep.include({ created: true });
      expect(result.meta.version).to.equal(1);
    });
  });

  describe('list', () => {
    beforeEach(async () => {
      for (const path of ['prod/keys/b', 'prod/keys/a', 'dev/certs/x', 'prod/certs/z', 'production/keys/q']) {
        await store.put(path, bytes(`value of ${path}`));
      }
    });

    it('lists metadata of every resource, sorted by path', async () => {
      const listed = await store.list();
      expect(listed.map((meta) => meta.path)).to.deep.equal([
        'dev/certs/x',
        'prod/certs/z',
        'prod/keys/a',
        'prod/keys/b',
        'production/keys/q',
      ]);
      for (const meta of listed) {
        expect(meta).to.have.all.keys('path', 'size', 'version', 'updated_at');
        expect(meta.size).to.equal(`value of ${meta.path}`.length);
      }
    });

    it('filters by a prefix of the path, which need not end at a segment', async () => {
      expect((await store.list('prod/')).map((meta) => meta.path)).to.deep.equal([
        'prod/certs/z',
        'prod/keys/a',
        'prod/keys/b',
      ]);
      expect((await store.list('prod')).map((meta) => meta.path)).to.have.length(4);
      expect((await store.list('prod/keys/a')).map((meta) => meta.path)).to.deep.equal(['prod/keys/a']);
      expect(await store.list('nothing')).to.deep.equal([]);
    });

    it('ignores temp files in the metadata tree', async () => {
      await writeFile(join(dataDir, 'resource-meta/prod/keys/.a.json.123abc.tmp'), '{"partial":');
      expect((await store.list('prod/keys/')).map((meta) => meta.path)).to.deep.equal(['prod/keys/a', 'prod/keys/b']);
    });

    it('answers an empty list for an empty store', async () => {
      expect(await new FsResourceStore(join(dataDir, 'fresh')).list()).to.deep.equal([]);
    });
  });

  describe('paths', () => {
    const refused = ['../x/y', 'a/../b', 'a/b/..', 'a/b', 'a/b/c/d', '/a/b', 'a/b/.hidden', 'a/b/', 'a\\..\\b/c/d', 'a/b/c\0'];

    for (const path of refused) {
      it(`refuses ${JSON.stringify(path)} for every operation`, async () => {
        for (const operation of [store.get(path), store.put(path, bytes('x')), store.delete(path)]) {
          const error = await rejection(operation);
          expect(error.message).to.match(/^resource path refused by the store/);
        }
        expect(await filesUnder(dataDir)).to.deep.equal([]);
      });
    }
  });
});
