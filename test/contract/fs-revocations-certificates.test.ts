import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FsCertificateLog } from '../../src/store/fs/fs-certificate-log.js';
import { FsRevocationList } from '../../src/store/fs/fs-revocation-list.js';
import { revocationsContract } from './revocations-certificates.contract.js';

revocationsContract('fs', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'keybroker-contract-'));
  return {
    async open() {
      const revocations = await FsRevocationList.open(dataDir);
      const certificates = await FsCertificateLog.open(dataDir);
      return { revocations, certificates, close: async () => { await Promise.all([revocations.close(), certificates.close()]); } };
    },
    sharedByProcesses: false,
    dispose: () => rm(dataDir, { recursive: true, force: true }),
  };
});
