import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: this file runs from dist/test/helpers/. */
const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** `../shared/vectors` beside the checkout: real TEE evidence, read in place and never copied into the project. */
export const SHARED_VECTORS_DIR = join(REPO_ROOT, '..', 'shared', 'vectors');

/**
 * Call inside a `describe` callback: skips the enclosing suite with a clear message when the shared vectors are
 * absent, and answers a reader of one vector file (path relative to the vectors folder).
 */
export function useSharedVectors(suite: Mocha.Suite): (path: string) => Buffer {
  if (!existsSync(SHARED_VECTORS_DIR)) {
    suite.beforeAll(function skipWithoutVectors() {
      console.log(`      (skipped: shared TEE vectors not found at ${SHARED_VECTORS_DIR})`);
      this.skip();
    });
  }
  return (path) => readFileSync(join(SHARED_VECTORS_DIR, path));
}
