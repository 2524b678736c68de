import { expect } from 'chai';
import { appendFile, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { FsCertificateLog } from '../../../src/store/fs/fs-certificate-log.js';
import { FsRevocationList } from '../../../src/store/fs/fs-revocation-list.js';
import type { IssuedCertificateRecord } from '../../../src/store/ports.js';
import { issued, revocation } from '../../contract/revocations-certificates.contract.js';
import { useTempDir } from '../../helpers/temp-dir.js';

describe('store/fs FsRevocationList', function () {
  const dir = useTempDir('revocations');

  it('survives a reopen, keeps its file private and drops a torn last line', async () => {
    const first = await FsRevocationList.open(dir());
    await first.revoke(revocation('c0ffee', 'issuer-a', 'cessationOfOperation'));
    await first.close();
    const file = join(dir(), 'revocations.jsonl');
    expect((await stat(file)).mode & 0o777).to.equal(0o600);
    await appendFile(file, '{"serial":"dead');
    const reopened = await FsRevocationList.open(dir());
    expect(await reopened.isRevoked('c0ffee')).to.equal(true);
    expect(await reopened.list()).to.deep.equal([revocation('c0ffee', 'issuer-a', 'cessationOfOperation')]);
    expect(await readFile(file, 'utf8')).to.not.include('dead');
    await reopened.close();
  });

  it('refuses to open a file with a corrupt line or an unknown reason, naming the file', async () => {
    await appendFile(join(dir(), 'revocations.jsonl'), `${JSON.stringify({ ...revocation('01'), reason: 'bored' })}\n`);
    const error = await FsRevocationList.open(dir()).then(() => undefined, (caught: Error) => caught);
    expect(error?.message).to.match(/revocations\.jsonl: a revocation entry is malformed/);
  });
});

describe('store/fs FsCertificateLog', function () {
  const dir = useTempDir('certificate-log');

  it('keeps the first record of a serial and stores only the known fields', async () => {
    const log = await FsCertificateLog.open(dir());
    await log.record(issued('0a'));
    await log.record({ ...issued('0a'), tee: 'snp' });
    await log.record({ ...issued('0b'), extra: 'not stored' } as IssuedCertificateRecord);
    await log.close();
    const text = await readFile(join(dir(), 'certificate-log.jsonl'), 'utf8');
    expect(text.trim().split('\n')).to.have.lengthOf(2);
    expect(text).to.not.include('not stored');
  });

  it('holds every record across a reopen, written by concurrent issuances', async () => {
    const log = await FsCertificateLog.open(dir());
    const serials = Array.from({ length: 50 }, (_, index) => (index + 1).toString(16));
    await Promise.all(serials.map((serial) => log.record(issued(serial))));
    await log.close();
    const reopened = await FsCertificateLog.open(dir());
    for (const serial of serials) expect(await reopened.get(serial), serial).to.deep.equal(issued(serial));
    expect(await reopened.list({ limit: 1000 })).to.have.lengthOf(50);
    await reopened.close();
  });
});
