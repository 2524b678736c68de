import { expect } from 'chai';
import { useTempDir } from '../../helpers/temp-dir.js';
import { chmod, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { openFsStores } from '../../../src/store/fs/fs-stores.js';

describe('openFsStores', () => {
  const parent = useTempDir('stores');

  it('creates the data directory with mode 0700 and is ready', async () => {
    const dataDir = join(parent(), 'nested', 'data');
    const stores = await openFsStores(dataDir);
    try {
      expect((await stat(dataDir)).mode & 0o777).to.equal(0o700);
      expect(await stores.ready()).to.equal(true);
    } finally {
      await stores.close();
    }
  });

  it('wires the resource store and the nonce ledger to the data directory', async () => {
    const dataDir = join(parent(), 'data');
    const stores = await openFsStores(dataDir);
    await stores.resources.put('repo/key/tag', new TextEncoder().encode('v'));
    expect(await stores.nonces.consume('n', new Date(Date.now() + 60_000))).to.equal(true);
    await stores.close();

    const reopened = await openFsStores(dataDir);
    try {
      expect((await reopened.resources.list()).map((meta) => meta.path)).to.deep.equal(['repo/key/tag']);
      expect(await reopened.nonces.consume('n', new Date(Date.now() + 60_000))).to.equal(false);
      expect((await stat(join(dataDir, 'nonce-ledger.jsonl'))).isFile()).to.equal(true);
    } finally {
      await reopened.close();
    }
  });

  it('is not ready once the data directory is gone', async () => {
    const dataDir = join(parent(), 'data');
    const stores = await openFsStores(dataDir);
    try {
      await rm(dataDir, { recursive: true });
      expect(await stores.ready()).to.equal(false);
    } finally {
      await stores.close();
    }
  });

  it('keeps an existing data directory as it is', async () => {
    const dataDir = join(parent(), 'data');
    await (await openFsStores(dataDir)).close();
    await chmod(dataDir, 0o750);
    const stores = await openFsStores(dataDir);
    try {
      expect((await stat(dataDir)).mode & 0o777).to.equal(0o750);
      expect(await stores.ready()).to.equal(true);
    } finally {
      await stores.close();
    }
  });
});
