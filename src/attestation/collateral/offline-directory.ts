import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';

// One path segment of plain characters: collateral names come from evidence (chip ids, FMSPCs), never paths.
const SAFE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,254}$/;

/**
 * Collateral kept by the operator in a directory (no network): `name` is one file directly inside `dir`.
 * Answers undefined when the file is absent; throws for a name that is not a plain file name or an unreadable file.
 */
export async function readOfflineCollateral(dir: string, name: string): Promise<Buffer | undefined> {
  if (!SAFE_NAME.test(name) || name.includes('..')) throw new Error(`collateral name ${JSON.stringify(name)} is not a plain file name`);
  try {
    return await readFile(join(dir, name));
  } catch (error) {
    if (error instanceof Error && 'code' in error && (error.code === 'ENOENT' || error.code === 'ENOTDIR')) return undefined;
    throw error;
  }
}

/**
 * Every regular file (or link to one) directly inside `dir` (hidden files skipped), by name, for sources that index their collateral
 * by content rather than by file name (AMD certificate bundles). Throws when the directory cannot be read.
 */
export async function readOfflineCollateralFiles(dir: string, limits = { maxFiles: 1000, maxBytes: 1024 * 1024 }): Promise<Map<string, Buffer>> {
  const entries = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.name.startsWith('.')) continue;
    // Symbolic links count when they point at a regular file (operators link AMD's downloaded bundles in).
    if (entry.isFile() || (entry.isSymbolicLink() && (await stat(join(dir, entry.name)).catch(() => undefined))?.isFile())) entries.push(entry);
  }
  if (entries.length > limits.maxFiles) throw new Error(`collateral directory holds more than ${limits.maxFiles} files`);
  const files = new Map<string, Buffer>();
  for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    const data = await readFile(join(dir, entry.name));
    if (data.length > limits.maxBytes) throw new Error(`collateral file ${entry.name} is larger than ${limits.maxBytes} bytes`);
    files.set(entry.name, data);
  }
  return files;
}
