import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openFsStores } from '../../src/store/fs/fs-stores.js';
import { storeContract } from './store-contract.js';

storeContract('fs', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'keybroker-contract-'));
  return {
    // As the broker opens it: with the default resource cache.
    open: () => openFsStores(dataDir, { maxAgeMs: 1000 }),
    sharedByProcesses: false,
    dispose: () => rm(dataDir, { recursive: true, force: true }),
  };
});
