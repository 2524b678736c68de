import { fileURLToPath } from 'node:url';
import { loadConfig } from '../config/load-config.js';
import type { Config } from '../config/config.js';

/** The checkout this CLI runs from (dist/src/cli → repository root): the default KEYBROKER_HOME. */
export const CHECKOUT_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export function cliConfig(options: { dev?: boolean; configFile?: string | undefined } = {}): Config {
  return loadConfig({
    home: process.env.KEYBROKER_HOME || CHECKOUT_ROOT,
    dev: options.dev ?? false,
    ...(options.configFile ? { configFile: options.configFile } : {}),
  });
}
