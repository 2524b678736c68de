import { mkdir, open, rmdir, writeFile } from 'node:fs/promises';

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

const CHUNK_SIZE = 64 * 1024;

/** Reads until end of file: configfs attributes do not report their real size to stat, which readFile trusts. */
async function readToEnd(path: string): Promise<Buffer | undefined> {
  const handle = await open(path, 'r').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  if (!handle) return undefined;
  try {
    const chunks: Buffer[] = [];
    for (;;) {
      const { bytesRead, buffer } = await handle.read(Buffer.alloc(CHUNK_SIZE), 0, CHUNK_SIZE, null);
      if (bytesRead === 0) return Buffer.concat(chunks);
      chunks.push(buffer.subarray(0, bytesRead));
    }
  } finally {
    await handle.close();
  }
}

export const configfsFiles: TsmFiles = {
  async mkdir(path) {
    await mkdir(path);
  },
  rmdir: (path) => rmdir(path),
  read: readToEnd,
  write: (path, data) => writeFile(path, data),
};
