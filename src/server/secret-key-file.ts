import { randomBytes } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { writeFileAtomic } from '../store/fs/atomic-write.js';

/** Reads a random symmetric key, creating it (mode 0600, atomically) on first use. */
export async function loadOrCreateSecretKey(path: string, bytes = 32): Promise<Buffer> {
  const existing = await readFile(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  if (existing) {
    if (existing.length !== bytes) throw new Error(`${path} must hold exactly ${bytes} bytes`);
    return existing;
  }
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const key = randomBytes(bytes);
  await writeFileAtomic(path, key, 0o600);
  return key;
}
