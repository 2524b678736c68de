import { constants } from 'node:fs';
import { access, mkdir, stat } from 'node:fs/promises';
import type { Stores } from '../ports.js';
import { FsCertificateLog } from './fs-certificate-log.js';
import { FsNonceLedger } from './fs-nonce-ledger.js';
import { FsResourceStore } from './fs-resource-store.js';
import { FsRevocationList } from './fs-revocation-list.js';

async function isWritableDirectory(dir: string): Promise<boolean> {
  try {
    if (!(await stat(dir)).isDirectory()) return false;
    await access(dir, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** The embedded store: everything under one data directory, created (mode 0700) when missing. */
export async function openFsStores(dataDir: string): Promise<Stores> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const nonces = await FsNonceLedger.open(dataDir);
  const revocations = await FsRevocationList.open(dataDir);
  const certificates = await FsCertificateLog.open(dataDir);
  return {
    resources: new FsResourceStore(dataDir),
    nonces,
    revocations,
    certificates,
    ready: () => isWritableDirectory(dataDir),
    close: async () => {
      await Promise.all([nonces.close(), revocations.close(), certificates.close()]);
    },
  };
}
