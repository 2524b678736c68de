import { randomBytes } from 'node:crypto';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'chai';
import { FsV0SessionStore } from '../../../src/store/fs/fs-v0-sessions.js';
import { useTempDir } from '../../helpers/temp-dir.js';

const sessionId = (): string => randomBytes(16).toString('hex');

describe('FsV0SessionStore', () => {
  const dir = useTempDir('v0-sessions');
  const now = new Date('2026-03-01T12:00:00Z');
  const expiresAt = new Date(now.getTime() + 300_000);

  it('keeps the token of an attested session until it expires, mode 0600, also for a second store on the same directory', async () => {
    const store = await FsV0SessionStore.open(dir(), () => now.getTime());
    const id = sessionId();
    expect(await store.token(id, now)).to.equal(undefined);
    expect(await store.attest(id, 'token-1', expiresAt)).to.equal('token-1');
    expect(await store.token(id, now)).to.equal('token-1');
    expect(await (await FsV0SessionStore.open(dir(), () => now.getTime())).token(id, now)).to.equal('token-1');
    expect(await store.token(id, expiresAt)).to.equal(undefined);
    expect((await stat(join(dir(), 'v0-sessions', `${id}.json`))).mode & 0o777).to.equal(0o600);
  });

  it('the first token wins, also when two requests attest at once', async () => {
    const store = await FsV0SessionStore.open(dir(), () => now.getTime());
    const id = sessionId();
    const answers = await Promise.all([store.attest(id, 'token-1', expiresAt), store.attest(id, 'token-2', expiresAt)]);
    expect(answers).to.deep.equal(['token-1', 'token-1']);
    expect(await store.attest(id, 'token-3', expiresAt)).to.equal('token-1');
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
