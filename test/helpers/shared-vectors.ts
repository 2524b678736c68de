import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { VECTORS_DIR } from './vectors.js';

export { VECTORS_DIR as SHARED_VECTORS_DIR };

/**
 * The suite-level form of `readVector`: call inside a `describe` callback. Skips the whole suite with a clear
 * message when `../shared/vectors` is absent, and answers a reader of one vector file (path relative to that folder).
 */
export function useSharedVectors(suite: Mocha.Suite): (path: string) => Buffer {
  if (!existsSync(VECTORS_DIR)) {
    suite.beforeAll(function skipWithoutVectors() {
      console.log(`      (skipped: shared TEE vectors not found at ${VECTORS_DIR})`);
      this.skip();
    });
  }
  return (path) => readFileSync(join(VECTORS_DIR, path));
}
