import { expect } from 'chai';
import { useTempDir } from '../../helpers/temp-dir.js';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../../../src/store/fs/atomic-write.js';

describe('writeFileAtomic', () => {
  const dir = useTempDir('atomic');

  it('writes a new file with mode 0600 and leaves no temp file', async () => {
    const file = join(dir(), 'key.pem');
    await writeFileAtomic(file, 'secret');
    expect(await readFile(file, 'utf8')).to.equal('secret');
    expect((await stat(file)).mode & 0o777).to.equal(0o600);
    expect(await readdir(dir())).to.deep.equal(['key.pem']);
  });

  it('replaces an existing file, taking the requested mode', async () => {
    const file = join(dir(), 'bundle.pem');
    await writeFile(file, 'old', { mode: 0o600 });
    await writeFileAtomic(file, new Uint8Array([1, 2, 3]), 0o644);
    expect([...(await readFile(file))]).to.deep.equal([1, 2, 3]);
    expect((await stat(file)).mode & 0o777).to.equal(0o644);
    expect(await readdir(dir())).to.deep.equal(['bundle.pem']);
  });

  it('fails without leaving a temp file when the target cannot be replaced', async () => {
    // rename() cannot put a file over a non-empty directory.
    const target = join(dir(), 'occupied');
    await mkdir(target);
    await writeFile(join(target, 'inside'), 'x');
    let failure: unknown;
    try {
      await writeFileAtomic(target, 'data');
    } catch (error) {
      failure = error;
    }
    expect(failure).to.be.instanceOf(Error);
    expect(await readdir(dir())).to.deep.equal(['occupied']);
  });

  it('fails when the parent directory does not exist', async () => {
    let failure: unknown;
    try {
      await writeFileAtomic(join(dir(), 'missing', 'file'), 'data');
    } catch (error) {
      failure = error;
    }
    expect(failure).to.have.property('code', 'ENOENT');
  });
});
