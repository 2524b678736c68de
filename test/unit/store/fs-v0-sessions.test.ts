import { randomBytes } from 'node:crypto';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'chai';
import { FsV0SessionStore } from '../../../src/store/fs/fs-v0-sessions.js';
import { useTempDir } from '../../helpers/temp-dir.js';

const sessionId = (): string => randomBytes(16).toString('hex');

/** File-specific behaviour; what every adapter must do is in test/contract/v0-session-store.contract.ts. */
describe('FsV0SessionStore', () => {
  const dir = useTempDir('v0-sessions');
  const now = new Date('2026-03-01T12:00:00Z');
  const expiresAt = new Date(now.getTime() + 300_000);

  it('writes one file per attested session, mode 0600 (it holds a token)', async () => {
    const store = await FsV0SessionStore.open(dir(), () => now.getTime());
    const id = sessionId();
    await store.attest(id, 'token-1', expiresAt);
    expect((await stat(join(dir(), 'v0-sessions', `${id}.json`))).mode & 0o777).to.equal(0o600);
  });

  it('sweeps the files of expired sessions when opened', async () => {
    const store = await FsV0SessionStore.open(dir(), () => now.getTime());
    const old = sessionId();
    const live = sessionId();
    await store.attest(old, 'old', new Date(now.getTime() + 1000));
    await store.attest(live, 'live', expiresAt);
    await FsV0SessionStore.open(dir(), () => now.getTime() + 2000);
    expect(await readdir(join(dir(), 'v0-sessions'))).to.deep.equal([`${live}.json`]);
  });

  it('refuses session ids that are not 32 hex digits', async () => {
    const store = await FsV0SessionStore.open(dir(), () => now.getTime());
    let failure: unknown;
    await store.token('../x', now).catch((error: unknown) => { failure = error; });
    expect(failure).to.be.instanceOf(Error);
  });
});
