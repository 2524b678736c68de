import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { isValidSegment } from '../../domain/resource-path.js';
import type { PutResult, ResourceMeta, ResourceStore } from '../ports.js';
import { syncDirectory, writeFileAtomic } from './atomic-write.js';
import { SerialQueue } from './serial-queue.js';

const VALUES_DIR = 'resources';
const META_DIR = 'resource-meta';
const META_SUFFIX = '.json';

/** What a metadata file holds; the path is where the file lives, and the value is never stored here. */
interface StoredMeta {
  version: number;
  size: number;
  updated_at: string;
}

function isNotFound(error: unknown): boolean {
  return error instanceof Error && 'code' in error && error.code === 'ENOENT';
}

async function readIfExists<T>(read: () => Promise<T>): Promise<T | undefined> {
  try {
    return await read();
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/** Names of the entries of `dir` that may belong to a resource: temp files (".…") are skipped. */
async function entryNames(dir: string, kind: 'dir' | 'file'): Promise<string[]> {
  const entries = (await readIfExists(() => readdir(dir, { withFileTypes: true }))) ?? [];
  return entries
    .filter((entry) => !entry.name.startsWith('.') && (kind === 'dir' ? entry.isDirectory() : entry.isFile()))
    .map((entry) => entry.name);
}

/**
 * Resources as files under a data directory: values at `resources/<repository>/<type>/<tag>`, metadata at
 * `resource-meta/<repository>/<type>/<tag>.json`. Values are written before metadata, so a crash in between
 * leaves at most a value without metadata, which the next put of that path treats as new.
 */
export class FsResourceStore implements ResourceStore {
  private readonly valuesRoot: string;
  private readonly metaRoot: string;
  private readonly queue = new SerialQueue();

  constructor(dataDir: string) {
    this.valuesRoot = join(dataDir, VALUES_DIR);
    this.metaRoot = join(dataDir, META_DIR);
  }

  async get(path: string): Promise<Uint8Array | undefined> {
    const { valueFile } = this.locate(path);
    return readIfExists(() => readFile(valueFile));
  }

  async put(path: string, value: Uint8Array): Promise<PutResult> {
    const { valueFile, metaFile } = this.locate(path);
    return this.queue.run(path, async () => {
      const previous = await this.readMeta(metaFile);
      const stored: StoredMeta = {
        version: (previous?.version ?? 0) + 1,
        size: value.byteLength,
        updated_at: new Date().toISOString(),
      };
      await mkdir(dirname(valueFile), { recursive: true, mode: 0o700 });
      await mkdir(dirname(metaFile), { recursive: true, mode: 0o700 });
      await writeFileAtomic(valueFile, value);
      await writeFileAtomic(metaFile, JSON.stringify(stored));
      return { created: previous === undefined, meta: { path, ...stored } };
    });
  }

  async delete(path: string): Promise<boolean> {
    const { valueFile, metaFile } = this.locate(path);
    return this.queue.run(path, async () => {
      // The value goes first: an interrupted delete must not leave a secret that listings no longer show.
      const hadValue = await this.removeFile(valueFile);
      const hadMeta = await this.removeFile(metaFile);
      return hadValue || hadMeta;
    });
  }

  async list(prefix = ''): Promise<ResourceMeta[]> {
    const found: ResourceMeta[] = [];
    for (const repository of await entryNames(this.metaRoot, 'dir')) {
      for (const type of await entryNames(join(this.metaRoot, repository), 'dir')) {
        for (const file of await entryNames(join(this.metaRoot, repository, type), 'file')) {
          if (!file.endsWith(META_SUFFIX)) continue;
          const path = `${repository}/${type}/${file.slice(0, -META_SUFFIX.length)}`;
          if (!path.startsWith(prefix)) continue;
          // A concurrent delete may remove the file between the listing and the read.
          const stored = await this.readMeta(join(this.metaRoot, repository, type, file));
          if (stored !== undefined) found.push({ path, ...stored });
        }
      }
    }
    return found.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  /**
   * File names of a resource. Callers validate paths first; this check repeats it so that no path can ever
   * name a file outside the store: a valid segment has no "/", no "\" and no "..", and never starts with ".".
   */
  private locate(path: string): { valueFile: string; metaFile: string } {
    const segments = path.split('/');
    if (segments.length !== 3 || !segments.every(isValidSegment)) {
      throw new Error(`resource path refused by the store: ${JSON.stringify(path)}`);
    }
    return {
      valueFile: join(this.valuesRoot, ...segments),
      metaFile: join(this.metaRoot, ...segments) + META_SUFFIX,
    };
  }

  private async readMeta(metaFile: string): Promise<StoredMeta | undefined> {
    const text = await readIfExists(() => readFile(metaFile, 'utf8'));
    if (text === undefined) return undefined;
    const { version, size, updated_at } = JSON.parse(text) as StoredMeta;
    return { version, size, updated_at };
  }

  /** True when the file existed. */
  private async removeFile(file: string): Promise<boolean> {
    const removed = await readIfExists(() => rm(file).then(() => true));
    if (removed) await syncDirectory(dirname(file));
    return removed ?? false;
  }
}
