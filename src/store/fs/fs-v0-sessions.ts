import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { V0SessionStore } from '../ports.js';
import { writeFileAtomic } from './atomic-write.js';
import { SerialQueue } from './serial-queue.js';

const SESSIONS_DIR = 'v0-sessions';
const SESSION_ID = /^[0-9a-f]{32}$/;
/** Expired session files are swept at most this often, on a write. */
const SWEEP_INTERVAL_MS = 60_000;

/** `exp` in milliseconds since the epoch. */
interface SessionFile {
  token: string;
  exp: number;
}

/** One JSON file per attested session under `<data>/v0-sessions/`, written atomically, mode 0600 (it holds a token). */
export class FsV0SessionStore implements V0SessionStore {
  private readonly queue = new SerialQueue();
  private lastSweep = 0;

  private constructor(private readonly dir: string, private readonly now: () => number) {}

  static async open(dataDir: string, now: () => number = Date.now): Promise<FsV0SessionStore> {
    const store = new FsV0SessionStore(join(dataDir, SESSIONS_DIR), now);
    await mkdir(store.dir, { recursive: true, mode: 0o700 });
    await store.sweep();
    return store;
  }

  private path(sessionId: string): string {
    if (!SESSION_ID.test(sessionId)) throw new Error('session ids are 32 hex digits');
    return join(this.dir, `${sessionId}.json`);
  }

  private async read(sessionId: string): Promise<SessionFile | undefined> {
    try {
      return JSON.parse(await readFile(this.path(sessionId), 'utf8')) as SessionFile;
    } catch (error) {
      if (error instanceof Error && 'code' in error && error.code === 'ENOENT') return undefined;
      throw error;
    }
  }

  attest(sessionId: string, token: string, expiresAt: Date): Promise<string> {
    return this.queue.run(sessionId, async () => {
      if (this.now() - this.lastSweep > SWEEP_INTERVAL_MS) await this.sweep();
      const existing = await this.read(sessionId);
      if (existing && existing.exp > this.now()) return existing.token;
      await writeFileAtomic(this.path(sessionId), JSON.stringify({ token, exp: expiresAt.getTime() } satisfies SessionFile), 0o600);
      return token;
    });
  }

  async token(sessionId: string, now: Date): Promise<string | undefined> {
    const file = await this.read(sessionId);
    return file && file.exp > now.getTime() ? file.token : undefined;
  }

  /** Removes the files of expired sessions. */
  private async sweep(): Promise<void> {
    this.lastSweep = this.now();
    for (const name of await readdir(this.dir)) {
      const sessionId = name.slice(0, -'.json'.length);
      if (!name.endsWith('.json') || !SESSION_ID.test(sessionId)) continue;
      const file = await this.read(sessionId).catch(() => undefined);
      if (!file || file.exp <= this.lastSweep) await rm(join(this.dir, name), { force: true });
    }
  }
}
