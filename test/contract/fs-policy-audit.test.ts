import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openFsPolicyAndAudit } from '../../src/store/fs/fs-stores.js';
import { policyAuditContract } from './policy-audit.contract.js';

policyAuditContract('fs', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'keybroker-contract-'));
  return {
    async open() {
      const { policies, audit } = await openFsPolicyAndAudit(dataDir);
      return { policies, audit, close: () => audit.close() };
    },
    sharedByProcesses: false,
    dispose: () => rm(dataDir, { recursive: true, force: true }),
  };
});
