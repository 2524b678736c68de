import { AsyncLocalStorage } from 'node:async_hooks';
import { open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** Another process holds the CA home's lock for longer than the caller would wait. */
export class CaBusy extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CaBusy';
  }
}

const RETRY_MS = 25;

/** The lock files the current chain of calls holds. */
const heldLocks = new AsyncLocalStorage<ReadonlySet<string>>();

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes the lock file when the process that wrote it is gone (it crashed while holding it). */
async function removeIfStale(path: string): Promise<void> {
  const pid = Number((await readFile(path, 'utf8').catch(() => '')).trim());
  if (Number.isInteger(pid) && pid > 0 && !processAlive(pid)) await rm(path, { force: true });
}

/**
 * Runs `action` holding `<ca>/.lock`, so that a CLI command, a script and the server's rotation never change
 * the CA home at the same time and a reload never reads half a transition (activation writes two state files).
 * The lock is a file created exclusively and holding the owner's pid; a dead owner's lock is taken over.
 */
export async function withCaLock<T>(dir: string, action: () => Promise<T>, waitMs = 10_000): Promise<T> {
  const path = join(dir, '.lock');
  // Re-entrant within one chain of calls: a step holding the lock may call another that takes it (the file registry).
  const held = heldLocks.getStore();
  if (held?.has(path)) return action();
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      const handle = await open(path, 'wx', 0o600);
      try {
        await handle.writeFile(`${process.pid}\n`);
      } finally {
        await handle.close();
      }
      break;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // A read-only CA home (shared by replicas) cannot change under the reader: read it without a lock.
      if (code === 'EROFS' || code === 'EACCES') return action();
      if (code !== 'EEXIST') throw error;
      await removeIfStale(path);
      if (Date.now() >= deadline) throw new CaBusy(`the CA home ${dir} is locked by another keybroker process (${path}); try again`);
      await sleep(RETRY_MS);
    }
  }
  try {
    return await heldLocks.run(new Set([...(held ?? []), path]), action);
  } finally {
    await rm(path, { force: true });
  }
}
