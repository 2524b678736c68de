import { RESOURCE_TOPIC, type ChangeFeed } from './change-feed.js';
import type { PutResult, ResourceMeta, ResourceStore } from './ports.js';

export interface ResourceCacheOptions {
  /** A cached read is served without asking the store for this long (the bound on staleness when a notification is lost). */
  maxAgeMs: number;
  /** Oldest entries leave first beyond this many. */
  maxEntries?: number;
  /** Clock in milliseconds; tests move it. */
  now?: () => number;
}

interface Entry {
  /** undefined caches "no such resource". */
  value: Uint8Array | undefined;
  fetchedAt: number;
}

/**
 * A per-replica read cache in front of a shared resource store. Entries are dropped when the change feed says their
 * path changed, all of them when the feed resyncs, and in any case they are re-read after `maxAgeMs`, so a lost
 * notification cannot keep a stale value longer than that. Writes through this replica drop their entry at once.
 * A cached value is handed to every reader as the same array: callers copy, never modify it.
 */
export class CachedResourceStore implements ResourceStore {
  private readonly entries = new Map<string, Entry>();
  /** Grows on every invalidation; a read that started before one does not fill the cache with what it fetched. */
  private invalidations = 0;
  private readonly now: () => number;
  private readonly maxEntries: number;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly inner: ResourceStore,
    feed: ChangeFeed,
    private readonly options: ResourceCacheOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.maxEntries = options.maxEntries ?? 10_000;
    this.unsubscribe = feed.subscribe(RESOURCE_TOPIC, {
      changed: (path) => this.invalidate(path),
      resync: () => this.invalidate(),
    });
  }

  async get(path: string): Promise<Uint8Array | undefined> {
    const cached = this.entries.get(path);
    if (cached !== undefined && this.now() - cached.fetchedAt < this.options.maxAgeMs) return cached.value;
    const invalidationsBefore = this.invalidations;
    const value = await this.inner.get(path);
    if (this.invalidations === invalidationsBefore && this.options.maxAgeMs > 0) this.remember(path, value);
    return value;
  }

  async put(path: string, value: Uint8Array): Promise<PutResult> {
    try {
      return await this.inner.put(path, value);
    } finally {
      this.invalidate(path);
    }
  }

  async delete(path: string): Promise<boolean> {
    try {
      return await this.inner.delete(path);
    } finally {
      this.invalidate(path);
    }
  }

  list(prefix?: string): Promise<ResourceMeta[]> {
    return this.inner.list(prefix);
  }

  /** Entries held now. */
  get size(): number {
    return this.entries.size;
  }

  close(): void {
    this.unsubscribe();
    this.entries.clear();
  }

  /** Drops one path, or everything when no path is given. */
  private invalidate(path?: string): void {
    this.invalidations += 1;
    if (path === undefined) this.entries.clear();
    else this.entries.delete(path);
  }

  private remember(path: string, value: Uint8Array | undefined): void {
    this.entries.delete(path);
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(path, { value, fetchedAt: this.now() });
  }
}
