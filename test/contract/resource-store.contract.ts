import { expect } from 'chai';
import type { Stores } from '../../src/store/ports.js';
import type { OpenReplicas, OpenStores } from './store-contract.js';

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (value: Uint8Array | undefined) => (value === undefined ? undefined : new TextDecoder().decode(value));

/** ResourceStore: values with a version per path, metadata listings, atomic replacement. */
export function resourceStoreContract(open: OpenStores, replicas: OpenReplicas): void {
  describe('ResourceStore', () => {
    it('creates a resource at version 1 with its size and time', async () => {
      const { resources } = await open();
      const before = Date.now();
      const result = await resources.put('repo/key/tag', bytes('secret'));
      expect(result.created).to.equal(true);
      expect(result.meta).to.include({ path: 'repo/key/tag', size: 6, version: 1 });
      expect(Date.parse(result.meta.updated_at)).to.be.within(before, Date.now());
      expect(result.meta.updated_at).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
      expect(text(await resources.get('repo/key/tag'))).to.equal('secret');
    });

    it('replaces a value, growing the version by one each time', async () => {
      const { resources } = await open();
      await resources.put('repo/key/tag', bytes('one'));
      const second = await resources.put('repo/key/tag', bytes('second value'));
      const third = await resources.put('repo/key/tag', bytes('3'));
      expect(second.created).to.equal(false);
      expect(second.meta).to.include({ version: 2, size: 12 });
      expect(third.meta).to.include({ version: 3, size: 1 });
      expect(text(await resources.get('repo/key/tag'))).to.equal('3');
    });

    it('keeps binary values byte for byte, including empty ones', async () => {
      const { resources } = await open();
      const value = new Uint8Array([0, 255, 10, 13, 0, 92, 39]);
      await resources.put('r/t/bin', value);
      await resources.put('r/t/empty', new Uint8Array());
      expect([...((await resources.get('r/t/bin')) ?? [])]).to.deep.equal([...value]);
      expect((await resources.get('r/t/empty'))?.byteLength).to.equal(0);
      expect((await resources.list('r/t/empty'))[0]).to.include({ size: 0, version: 1 });
    });

    it('answers undefined for a missing resource', async () => {
      const { resources } = await open();
      expect(await resources.get('repo/key/absent')).to.equal(undefined);
    });

    it('deletes once; a later write of the path starts over at version 1', async () => {
      const { resources } = await open();
      await resources.put('repo/key/tag', bytes('one'));
      await resources.put('repo/key/tag', bytes('two'));
      expect(await resources.delete('repo/key/tag')).to.equal(true);
      expect(await resources.delete('repo/key/tag')).to.equal(false);
      expect(await resources.get('repo/key/tag')).to.equal(undefined);
      expect(await resources.list()).to.deep.equal([]);
      const again = await resources.put('repo/key/tag', bytes('three'));
      expect(again.created).to.equal(true);
      expect(again.meta.version).to.equal(1);
    });

    it('lists metadata only, sorted by path, filtered by a prefix of the path', async () => {
      const { resources } = await open();
      for (const path of ['b/key/1', 'a/key/2', 'a/cert/1', 'ab/key/1', 'a/key/10']) await resources.put(path, bytes(`value of ${path}`));
      await resources.put('a/key/2', bytes('replaced'));
      const all = await resources.list();
      expect(all.map((meta) => meta.path)).to.deep.equal(['a/cert/1', 'a/key/10', 'a/key/2', 'ab/key/1', 'b/key/1']);
      for (const meta of all) expect(meta).to.have.all.keys('path', 'size', 'version', 'updated_at');
      expect(all.find((meta) => meta.path === 'a/key/2')).to.include({ version: 2, size: 8 });
      expect((await resources.list('a/')).map((meta) => meta.path)).to.deep.equal(['a/cert/1', 'a/key/10', 'a/key/2']);
      expect((await resources.list('a/key/1')).map((meta) => meta.path)).to.deep.equal(['a/key/10']);
      expect(await resources.list('zzz')).to.deep.equal([]);
    });

    it('gives concurrent writers of one path distinct consecutive versions; the highest version holds the value', async () => {
      const [first, second] = await replicas(2) as [Stores, Stores];
      const writes = Array.from({ length: 12 }, (_, index) => (index % 2 === 0 ? first : second).resources.put('repo/key/race', bytes(`writer ${index}`)));
      const results = await Promise.all(writes);
      const versions = results.map((result) => result.meta.version).sort((a, b) => a - b);
      expect(versions).to.deep.equal(Array.from({ length: 12 }, (_, index) => index + 1));
      expect(results.filter((result) => result.created)).to.have.length(1);
      const last = results.find((result) => result.meta.version === 12)!;
      const lastWriter = results.indexOf(last);
      expect(text(await (await open()).resources.get('repo/key/race'))).to.equal(`writer ${lastWriter}`);
    });

    it('shows what one handle wrote to another handle over the same store, also after both are reopened', async () => {
      const writer = await open();
      await writer.resources.put('repo/key/shared', bytes('from the writer'));
      const reader = await open();
      expect(text(await reader.resources.get('repo/key/shared'))).to.equal('from the writer');
      expect((await reader.resources.list()).map((meta) => meta.version)).to.deep.equal([1]);
      await writer.close();
      await reader.close();
      expect(text(await (await open()).resources.get('repo/key/shared'))).to.equal('from the writer');
    });
  });
}
