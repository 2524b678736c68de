import { mkdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../../store/fs/atomic-write.js';
import { generateEcKeyPair } from '../key-pair.js';
import { keyObjectSigner, signerFromPem } from '../signer.js';
import type { IssuerKeyStorage } from './issuer-key-storage.js';

const KEY_MODE = 0o600;

/** Issuer keys as PKCS#8 PEM files `<ca>/issuers/<id>/key.pem`, mode 0600, written atomically. */
export function fileKeyStorage(caDir: string): IssuerKeyStorage {
  const keyPath = (issuerId: string): string => join(caDir, 'issuers', issuerId, 'key.pem');
  return {
    kind: 'file',
    async generate(issuerId) {
      if (await stat(keyPath(issuerId)).then(() => true, () => false)) throw new Error(`issuer ${issuerId} already has a key file`);
      await mkdir(join(caDir, 'issuers', issuerId), { recursive: true, mode: 0o700 });
      const key = generateEcKeyPair('P-256');
      await writeFileAtomic(keyPath(issuerId), key.keyPem, KEY_MODE);
      return keyObjectSigner(key.privateKey);
    },
    async load(issuerId) {
      try {
        return signerFromPem(await readFile(keyPath(issuerId), 'utf8'));
      } catch (error) {
        if (error instanceof Error && 'code' in error && error.code === 'ENOENT') return undefined;
        throw error;
      }
    },
    close: async () => undefined,
  };
}
