import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileIssuerRegistry } from '../../src/pki/file-issuer-registry.js';
import { issuerRegistryContract } from './issuer-registry.contract.js';

issuerRegistryContract('CA home state.json files', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'keybroker-contract-ca-'));
  return {
    open: async () => ({ issuers: fileIssuerRegistry(dir), close: async () => undefined }),
    sharedByProcesses: false,
    dispose: () => rm(dir, { recursive: true, force: true }),
  };
});
