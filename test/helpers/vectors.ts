import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

/** `../shared/vectors` beside the checkout (this file runs from dist/test/helpers/). */
export const VECTORS_DIR = fileURLToPath(new URL('../../../../shared/vectors/', import.meta.url));

/** Reads a vector file, or skips the calling test (or hook) with a clear message when the folder is absent. */
export function readVector(context: Mocha.Context, relativePath: string): Buffer {
  const path = join(VECTORS_DIR, relativePath);
  if (!existsSync(path)) {
    console.warn(`      skipped: TEE vector ${relativePath} not found under ${VECTORS_DIR}`);
    context.skip();
  }
  return readFileSync(path);
}
