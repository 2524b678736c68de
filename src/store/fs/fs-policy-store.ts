import { randomBytes } from 'node:crypto';
import { link, mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { PolicyStore, PolicyVersion } from '../ports.js';
import { syncDirectory, writeFileAtomic } from './atomic-write.js';
import { SerialQueue } from './serial-queue.js';

const KIND = /^[a-z][a-z0-9-]{0,31}$/;
const VERSION_FILE = /^(\d{8})\.json$/;

/**
 * Policy versions as files: `<data>/policies/<kind>/<version, 8 digits>.json`, each holding one PolicyVersion,
 * written completely to a temp file and then linked to its name, which fails when the name exists: a version
 * is never overwritten, also when several processes share the directory (the loser takes the next number).
 * Within a process a queue per kind keeps appends in order.
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
    // Read the directory again: another process sharing it may have stored newer versions.
    this.latestNumber.delete(kind);
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
      await mkdir(dir, { recursive: true, mode: 0o700 });
      for (;;) {
        const version = (await this.newestNumber(kind)) + 1;
        const stored: PolicyVersion = { version, text, author, created_at: at.toISOString() };
        const temp = join(dir, `.${version}.${randomBytes(6).toString('hex')}.tmp`);
        await writeFileAtomic(temp, `${JSON.stringify(stored)}\n`, 0o600);
        try {
          await link(temp, join(dir, `${String(version).padStart(8, '0')}.json`));
        } catch (error) {
          if (!(error instanceof Error && 'code' in error && error.code === 'EEXIST')) throw error;
          // Another process stored this number first: read the directory again.
          this.latestNumber.delete(kind);
          continue;
        } finally {
          await rm(temp, { force: true });
        }
        await syncDirectory(dir);
        this.latestNumber.set(kind, version);
        return stored;
      }
    });
  }
}
