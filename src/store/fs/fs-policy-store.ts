import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { PolicyStore, PolicyVersion } from '../ports.js';
import { writeFileAtomic } from './atomic-write.js';
import { SerialQueue } from './serial-queue.js';

const KIND = /^[a-z][a-z0-9-]{0,31}$/;
const VERSION_FILE = /^(\d{8})\.json$/;

/**
 * Policy versions as files: `<data>/policies/<kind>/<version, 8 digits>.json`, each holding one PolicyVersion,
 * written atomically and never rewritten. One process owns the data directory, so a queue per kind keeps
 * version numbers distinct.
 */
export class FsPolicyStore implements PolicyStore {
  private readonly queue = new SerialQueue();
  private readonly latestNumber = new Map<string, number>();

  constructor(private readonly dataDir: string) {}

  private dir(kind: string): string {
    if (!KIND.test(kind)) throw new Error(`invalid policy kind "${kind}"`);
    return join(this.dataDir, 'policies', kind);
  }

  private async newestNumber(kind: string): Promise<number> {
    const known = this.latestNumber.get(kind);
    if (known !== undefined) return known;
    let names: string[] = [];
    try {
      names = await readdir(this.dir(kind));
    } catch (error) {
      if (!(error instanceof Error && 'code' in error && error.code === 'ENOENT')) throw error;
    }
    const newest = Math.max(0, ...names.map((name) => VERSION_FILE.exec(name)).filter((match) => match !== null).map((match) => Number(match[1])));
    this.latestNumber.set(kind, newest);
    return newest;
  }

  async latest(kind: string): Promise<PolicyVersion | undefined> {
    const newest = await this.newestNumber(kind);
    return newest === 0 ? undefined : this.get(kind, newest);
  }

  async get(kind: string, version: number): Promise<PolicyVersion | undefined> {
    if (!Number.isSafeInteger(version) || version < 1 || version > 99_999_999) return undefined;
    try {
      return JSON.parse(await readFile(join(this.dir(kind), `${String(version).padStart(8, '0')}.json`), 'utf8')) as PolicyVersion;
    } catch (error) {
      if (error instanceof Error && 'code' in error && error.code === 'ENOENT') return undefined;
      throw error;
    }
  }

  append(kind: string, text: string, author: string, at: Date): Promise<PolicyVersion> {
    return this.queue.run(kind, async () => {
      const dir = this.dir(kind);
      const version = (await this.newestNumber(kind)) + 1;
      const stored: PolicyVersion = { version, text, author, created_at: at.toISOString() };
      await mkdir(dir, { recursive: true, mode: 0o700 });
      await writeFileAtomic(join(dir, `${String(version).padStart(8, '0')}.json`), `${JSON.stringify(stored)}\n`, 0o600);
      this.latestNumber.set(kind, version);
      return stored;
    });
  }
}
