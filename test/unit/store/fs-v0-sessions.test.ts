import { createHash } from 'node:crypto';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'chai';
import { FsV0SessionStore } from '../../../src/store/fs/fs-v0-sessions.js';
import type { V0Session } from '../../../src/store/ports.js';
import { useTempDir } from '../../helpers/temp-dir.js';

const key = (text: string): string => createHash('sha256').update(text).digest('hex');

describe('FsV0SessionStore', () => {
  const dir = useTempDir('v0-sessions');
  const now = new Date('2026-03-01T12:00:00Z');
  const session: V0Session = { tee: 'sample', nonce: 'bm9uY2U=', hashAlgorithm: 'sha384', expiresAt: new Date(now.getTime() + 300_000) };

  it('keeps a session until it expires, in a file of mode 0600, also for a second store on the same directory', async () => {
    const store = await FsV0SessionStore.open(dir(), () => now.getTime());
    await store.create(key('a'), session);
    expect(await store.get(key('a'), now)).to.deep.equal(session);
    expect(await (await FsV0SessionStore.open(dir(), () => now.getTime())).get(key('a'), now)).to.deep.equal(session);
    expect(await store.get(key('a'), session.expiresAt)).to.equal(undefined);
    expect(await store.get(key('b'), now)).to.equal(undefined);
    expect((await stat(join(dir(), 'v0-sessions', `${key('a')}.json`))).mode & 0o777).to.equal(0o600);
  });

  it('records the first token only, and none for an unknown session', async () => {
    const store = await FsV0SessionStore.open(dir(), () => now.getTime());
    await store.create(key('a'), session);
    const [first, second] = await Promise.all([store.attest(key('a'), 'token-1'), store.attest(key('a'), 'token-2')]);
    expect([first, second]).to.deep.equal(['token-1', 'token-1']);
    expect((await store.get(key('a'), now))?.token).to.equal('token-1');
    expect(await store.attest(key('b'), 'token-3')).to.equal(undefined);
  });

  it('sweeps expired session files when opened', async () => {
    const store = await FsV0SessionStore.open(dir(), () => now.getTime());
    await store.create(key('old'), { ...session, expiresAt: new Date(now.getTime() + 1000) });
    await store.create(key('new'), session);
    await FsV0SessionStore.open(dir(), () => now.getTime() + 2000);
    expect(await readdir(join(dir(), 'v0-sessions'))).to.deep.equal([`${key('new')}.json`]);
  });

  it('refuses keys that are not SHA-256 digests', async () => {
    const store = await FsV0SessionStore.open(dir(), () => now.getTime());
    let failure: unknown;
    await store.get('../x', now).catch((error: unknown) => { failure = error; });
    expect(failure).to.be.instanceOf(Error);
  });
});
