import { readFileSync } from 'node:fs';
import type { Config } from '../config/config.js';
import { PKCS11_PIN_ENV } from '../config/load-config.js';
import { fileKeyStorage } from '../pki/key-storage/file-key-storage.js';
import { withFallback, type IssuerKeyStorage } from '../pki/key-storage/issuer-key-storage.js';
import { openPkcs11KeyStorage } from '../pki/key-storage/pkcs11-key-storage.js';

function readPin(pkcs11: NonNullable<Config['pkcs11']>): string {
  if (pkcs11.pinFile !== undefined) return readFileSync(pkcs11.pinFile, 'utf8').replace(/\r?\n$/, '');
  const pin = process.env[PKCS11_PIN_ENV];
  if (!pin) throw new Error(`${PKCS11_PIN_ENV} is not set and [pkcs11] pin_file is not given`);
  return pin;
}

/** The token is opened on first use and kept for the life of the process: one login, one session. */
function lazyPkcs11Storage(pkcs11: NonNullable<Config['pkcs11']>): IssuerKeyStorage {
  let token: IssuerKeyStorage | undefined;
  const open = (): IssuerKeyStorage => (token ??= openPkcs11KeyStorage({
    modulePath: pkcs11.modulePath, tokenLabel: pkcs11.tokenLabel, pin: readPin(pkcs11), keyLabelPrefix: pkcs11.keyLabelPrefix,
  }));
  return {
    kind: 'pkcs11',
    generate: (issuerId) => open().generate(issuerId),
    load: (issuerId) => open().load(issuerId),
    async close() {
      const opened = token;
      token = undefined;
      await opened?.close();
    },
  };
}

const byCaDir = new Map<string, IssuerKeyStorage>();

/**
 * The issuer key storage the config asks for: key files in the CA home, or a PKCS#11 token for new keys with
 * key files still found for issuers made before the switch. One per CA directory per process.
 */
export function issuerKeyStorage(config: Config): IssuerKeyStorage {
  const existing = byCaDir.get(config.ca.dir);
  if (existing) return existing;
  const files = fileKeyStorage(config.ca.dir);
  const storage = config.ca.keyStorage === 'pkcs11' && config.pkcs11 ? withFallback(lazyPkcs11Storage(config.pkcs11), files) : files;
  byCaDir.set(config.ca.dir, storage);
  return storage;
}
