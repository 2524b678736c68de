import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

/** Where Debian's softhsm2 package puts the module (`.ci/run` installs it). */
export const SOFTHSM_MODULE = '/usr/lib/softhsm/libsofthsm2.so';

/** Skips the calling hook's tests with a clear message where SoftHSM2 is not installed. */
export function requireSoftHsm(context: Mocha.Context): void {
  if (existsSync(SOFTHSM_MODULE)) return;
  console.warn(`    skipped: ${SOFTHSM_MODULE} is not installed (apt-get install softhsm2)`);
  context.skip();
}

export interface SoftHsmToken {
  /** Path for SOFTHSM2_CONF. */
  conf: string;
  label: string;
  pin: string;
  /** A file holding the PIN, mode 0600. */
  pinFile: string;
}

/**
 * A fresh SoftHSM2 token in `dir`: its own config file and token directory, so the system token directory is
 * never touched. Processes that should see it need SOFTHSM2_CONF = `conf` before the module initializes.
 */
export async function createSoftHsmToken(dir: string, label = 'keybroker-test'): Promise<SoftHsmToken> {
  const tokens = join(dir, 'tokens');
  await mkdir(tokens, { recursive: true, mode: 0o700 });
  const conf = join(dir, 'softhsm2.conf');
  await writeFile(conf, `directories.tokendir = ${tokens}\nobjectstore.backend = file\nlog.level = ERROR\n`);
  const pin = '4711-test-pin';
  await promisify(execFile)('softhsm2-util', ['--init-token', '--free', '--label', label, '--pin', pin, '--so-pin', '0815-so-pin'], { env: { ...process.env, SOFTHSM2_CONF: conf } });
  const pinFile = join(dir, 'pin');
  await writeFile(pinFile, `${pin}\n`, { mode: 0o600 });
  return { conf, label, pin, pinFile };
}
