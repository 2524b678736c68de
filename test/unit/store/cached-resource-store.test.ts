import { expect } from 'chai';
import { KbsError } from '../../../src/domain/errors.js';
import { CachedResourceStore } from '../../../src/store/cached-resource-store.js';
import { ChangeSubscribers, RESOURCE_TOPIC } from '../../../src/store/change-feed.js';
import type { PutResult, ResourceMeta, ResourceStore } from '../../../src/store/ports.js';

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (value: Uint8Array | undefined) => (value === undefined ? undefined : new TextDecoder().decode(value));

/** A resource store in memory that counts reads and can be switched to answer 503 `unavailable`. */
class CountingStore implements ResourceStore {
  readonly values = new Map<string, Uint8Array>();
  reads = 0;
  down = false;
  /** When set, a read waits for it before answering (to interleave a notification). */
  gate: Promise<void> | undefined;

  async get(path: string): Promise<Uint8Array | undefined> {
    this.reads += 1;
    const value = this.values.get(path);
    await this.gate;
    if (this.down) throw new KbsError('unavailable', 'the store is unavailable; retry shortly');
    return value;
  }

  async put(path: string, value: Uint8Array): Promise<PutResult> {
    this.values.set(path, value);
    return { created: true, meta: { path, size: value.byteLength, version: 1, updated_at: new Date().toISOString() } };
  }

  async delete(path: string): Promise<boolean> {
    return this.values.delete(path);
  }

  async list(): Promise<ResourceMeta[]> {
    return [];
  }
}

describe('CachedResourceStore', () => {
  let clock: number;
  let inner: CountingStore;
  let feed: ChangeSubscribers;
  let cache: CachedResourceStore;

  beforeEach(() => {
    clock = 1_000_000;
    inner = new CountingStore();
    feed = new ChangeSubscribers();
    cache = new CachedResourceStore(inner, feed, { maxAgeMs: 1000, maxEntries: 3, now: () => clock });
  });

  it('answers repeated reads from the cache until the maximum age, then asks the store again', async () => {
    inner.values.set('r/t/a', bytes('one'));
    expect(text(await cache.get('r/t/a'))).to.equal('one');
    inner.values.set('r/t/a', bytes('two'));
    clock += 999;
    expect(text(await cache.get('r/t/a'))).to.equal('one');
    expect(inner.reads).to.equal(1);
    clock += 1;
    expect(text(await cache.get('r/t/a'))).to.equal('two');
    expect(inner.reads).to.equal(2);
  });

  it('caches "not found" too, and drops it on a notification', async () => {
    expect(await cache.get('r/t/missing')).to.equal(undefined);
    inner.values.set('r/t/missing', bytes('now here'));
    expect(await cache.get('r/t/missing')).to.equal(undefined);
    feed.changed(RESOURCE_TOPIC, 'r/t/missing');
    expect(text(await cache.get('r/t/missing'))).to.equal('now here');
  });

  it('drops only the path named by a notification of its topic, and everything on a resync', async () => {
    inner.values.set('r/t/a', bytes('a1'));
    inner.values.set('r/t/b', bytes('b1'));
    await cache.get('r/t/a');
    await cache.get('r/t/b');
    inner.values.set('r/t/a', bytes('a2'));
    inner.values.set('r/t/b', bytes('b2'));
    feed.changed('policy', 'r/t/a');
    feed.changed(RESOURCE_TOPIC, 'r/t/a');
    expect([text(await cache.get('r/t/a')), text(await cache.get('r/t/b'))]).to.deep.equal(['a2', 'b1']);
    feed.resyncAll();
    expect(text(await cache.get('r/t/b'))).to.equal('b2');
  });

  it('does not cache what a read fetched when a notification arrived while it was under way', async () => {
    inner.values.set('r/t/a', bytes('old'));
    let open!: () => void;
    inner.gate = new Promise((resolve) => { open = resolve; });
    const reading = cache.get('r/t/a');
    inner.values.set('r/t/a', bytes('new'));
    feed.changed(RESOURCE_TOPIC, 'r/t/a');
    open();
    expect(text(await reading)).to.equal('old');
    inner.gate = undefined;
    expect(text(await cache.get('r/t/a'))).to.equal('new');
  });

  it('shows its own writes and deletes at once', async () => {
    await cache.put('r/t/a', bytes('one'));
    expect(text(await cache.get('r/t/a'))).to.equal('one');
    await cache.put('r/t/a', bytes('two'));
    expect(text(await cache.get('r/t/a'))).to.equal('two');
    await cache.delete('r/t/a');
    expect(await cache.get('r/t/a')).to.equal(undefined);
  });

  it('passes a store failure through once an entry is past its age, and for a path never read', async () => {
    inner.values.set('r/t/a', bytes('kept'));
    await cache.get('r/t/a');
    inner.down = true;
    expect(text(await cache.get('r/t/a'))).to.equal('kept');
    clock += 1000;
    const late = await cache.get('r/t/a').catch((error: unknown) => error);
    expect((late as KbsError).code).to.equal('unavailable');
    const unread = await cache.get('r/t/other').catch((error: unknown) => error);
    expect((unread as KbsError).code).to.equal('unavailable');
  });

  it('holds at most maxEntries, dropping the oldest first', async () => {
    for (const path of ['r/t/1', 'r/t/2', 'r/t/3', 'r/t/4']) {
      inner.values.set(path, bytes(path));
      await cache.get(path);
    }
    expect(cache.size).to.equal(3);
    const readsBefore = inner.reads;
    await cache.get('r/t/4');
    await cache.get('r/t/1');
    expect(inner.reads).to.equal(readsBefore + 1);
  });

  it('caches nothing with a maximum age of 0', async () => {
    const uncached = new CachedResourceStore(inner, feed, { maxAgeMs: 0, now: () => clock });
    inner.values.set('r/t/a', bytes('v'));
    await uncached.get('r/t/a');
    await uncached.get('r/t/a');
    expect(inner.reads).to.equal(2);
    expect(uncached.size).to.equal(0);
  });

  it('stops listening when closed', async () => {
    cache.close();
    inner.values.set('r/t/a', bytes('v'));
    await cache.get('r/t/a');
    feed.changed(RESOURCE_TOPIC, 'r/t/a');
    expect(cache.size).to.equal(1);
  });
});
