import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { V0Session, V0SessionStore } from '../ports.js';
import { writeFileAtomic } from './atomic-write.js';
import { SerialQueue } from './serial-queue.js';

const SESSIONS_DIR = 'v0-sessions';
const KEY = /^[0-9a-f]{64}$/;
/** Expired session files are swept at most this often, on a create. */
const SWEEP_INTERVAL_MS = 60_000;

interface SessionFile {
  tee: string;
  nonce: string;
  hash: V0Session['hashAlgorithm'];
  exp: number;
  token?: string;
}

function toFile(session: V0Session): SessionFile {
  return { tee: session.tee, nonce: session.nonce, hash: session.hashAlgorithm, exp: session.expiresAt.getTime(), ...(session.token ? { token: session.token } : {}) };
}

function fromFile(file: SessionFile): V0Session {
  return { tee: file.tee, nonce: file.nonce, hashAlgorithm: file.hash, expiresAt: new Date(file.exp), ...(file.token ? { token: file.token } : {}) };
}

/** One JSON file per session under `<data>/v0-sessions/`, written atomically (mode 0600: it may hold a token). */
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

  private path(key: string): string {
    if (!KEY.test(key)) throw new Error('session keys are SHA-256 digests in hex');
    return join(this.dir, `${key}.json`);
  }

  private async read(key: string): Promise<SessionFile | undefined> {
    try {
      return JSON.parse(await readFile(this.path(key), 'utf8')) as SessionFile;
    } catch (error) {
      if (error instanceof Error && 'code' in error && error.code === 'ENOENT') return undefined;
      throw error;
    }
  }

  async create(key: string, session: V0Session): Promise<void> {
    if (this.now() - this.lastSweep > SWEEP_INTERVAL_MS) await this.sweep();
    await this.queue.run(key, () => writeFileAtomic(this.path(key), JSON.stringify(toFile(session)), 0o600));
  }

  async get(key: string, now: Date): Promise<V0Session | undefined> {
    const file = await this.read(key);
    return file && file.exp > now.getTime() ? fromFile(file) : undefined;
  }

  attest(key: string, token: string): Promise<string | undefined> {
    return this.queue.run(key, async () => {
      const file = await this.read(key);
      if (!file || file.exp <= this.now()) return undefined;
      if (file.token) return file.token;
      await writeFileAtomic(this.path(key), JSON.stringify({ ...file, token }), 0o600);
      return token;
    });
  }

  /** Removes expired session files. */
  private async sweep(): Promise<void> {
    this.lastSweep = this.now();
    for (const name of await readdir(this.dir)) {
      if (!name.endsWith('.json')) continue;
      const key = name.slice(0, -'.json'.length);
      if (!KEY.test(key)) continue;
      const file = await this.read(key).catch(() => undefined);
      if (!file || file.exp <= this.lastSweep) await rm(join(this.dir, name), { force: true });
    }
  }
}
