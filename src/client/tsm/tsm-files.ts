import { mkdir, readFile, rmdir, writeFile } from 'node:fs/promises';

/**
 * The file operations the configfs-tsm attester needs. On Linux they go straight to configfs, where the kernel
 * fills a new entry with its attributes and removes them with the directory; a test tree implements the same
 * contract over ordinary files.
 */
export interface TsmFiles {
  /** Creates an entry directory; fails when it exists. */
  mkdir(path: string): Promise<void>;
  /** Removes an entry directory and its attributes. */
  rmdir(path: string): Promise<void>;
  /** An attribute's bytes, or undefined when the attribute does not exist. */
  read(path: string): Promise<Buffer | undefined>;
  /** Writes an attribute in one write. */
  write(path: string, data: Uint8Array): Promise<void>;
}

export const configfsFiles: TsmFiles = {
  async mkdir(path) {
    await mkdir(path);
  },
  rmdir: (path) => rmdir(path),
  read: (path) => readFile(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  }),
  write: (path, data) => writeFile(path, data),
};
