import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TlsIdentity } from '../client/https-request.js';
import { CliError } from './cli-error.js';

async function readOrFail(path: string, what: string): Promise<string> {
  return readFile(path, 'utf8').catch(() => {
    throw new CliError(`cannot read ${what} ${path}`);
  });
}

/** TLS settings from `--cacert FILE` and a credential directory holding key.pem and cert.pem. */
export async function tlsFromFiles(options: { cacert?: string | undefined; credentialDir?: string | undefined }): Promise<TlsIdentity> {
  const tls: TlsIdentity = {};
  if (options.cacert) tls.ca = await readOrFail(options.cacert, 'CA bundle');
  if (options.credentialDir) {
    tls.cert = await readOrFail(join(options.credentialDir, 'cert.pem'), 'certificate');
    tls.key = await readOrFail(join(options.credentialDir, 'key.pem'), 'key');
  }
  return tls;
}
