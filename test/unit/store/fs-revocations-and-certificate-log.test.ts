import { expect } from 'chai';
import { appendFile, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { FsCertificateLog } from '../../../src/store/fs/fs-certificate-log.js';
import { FsRevocationList } from '../../../src/store/fs/fs-revocation-list.js';
import type { IssuedCertificateRecord, RevocationRecord } from '../../../src/store/ports.js';
import { useTempDir } from '../../helpers/temp-dir.js';

function issued(serial: string, issuerId = 'issuer-a'): IssuedCertificateRecord {
  return {
    serial, spiffe_id: `spiffe://keybroker.test/tee/sample/${serial.padStart(16, '0').slice(0, 16)}`, issuer_id: issuerId,
    not_before: '2026-03-01T11:59:00.000Z', not_after: '2026-03-01T12:10:00.000Z', tee: 'sample', verifier: 'builtin',
  };
}

function revocation(serial: string, issuerId = 'issuer-a', reason: RevocationRecord['reason'] = 'keyCompromise'): RevocationRecord {
  return { serial, issuer_id: issuerId, revoked_at: '2026-03-01T12:01:00Z', reason, revoked_by: 'ops', not_after: '2026-03-01T12:10:00Z' };
}

describe('store/fs FsRevocationList', function () {
  const dir = useTempDir('revocations');

  it('revokes once: a second revocation keeps the first record and says it was not new', async () => {
    const list = await FsRevocationList.open(dir());
    expect(await list.isRevoked('ab12')).to.equal(false);
    expect(await list.revoke(revocation('ab12'))).to.deep.equal({ created: true, revocation: revocation('ab12') });
    expect(await list.isRevoked('ab12')).to.equal(true);
    const again = await list.revoke({ ...revocation('ab12', 'issuer-a', 'superseded'), revoked_by: 'someone-else' });
    expect(again).to.deep.equal({ created: false, revocation: revocation('ab12') });
    await list.close();
  });

  it('lists per issuer, oldest first', async () => {
    const list = await FsRevocationList.open(dir());
    await list.revoke(revocation('01', 'issuer-a'));
    await list.revoke(revocation('02', 'issuer-b'));
    await list.revoke(revocation('03', 'issuer-a'));
    expect((await list.list('issuer-a')).map((entry) => entry.serial)).to.deep.equal(['01', '03']);
    expect((await list.list('issuer-b')).map((entry) => entry.serial)).to.deep.equal(['02']);
    expect(await list.list()).to.have.lengthOf(3);
    await list.close();
  });

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

  it('records, finds by serial and lists newest first with an issuer filter and a limit', async () => {
    const log = await FsCertificateLog.open(dir());
    await log.record(issued('01', 'issuer-a'));
    await log.record(issued('02', 'issuer-b'));
    await log.record(issued('03', 'issuer-a'));
    expect(await log.get('02')).to.deep.equal(issued('02', 'issuer-b'));
    expect(await log.get('04')).to.equal(undefined);
    expect((await log.list({ limit: 10 })).map((entry) => entry.serial)).to.deep.equal(['03', '02', '01']);
    expect((await log.list({ issuerId: 'issuer-a', limit: 10 })).map((entry) => entry.serial)).to.deep.equal(['03', '01']);
    expect((await log.list({ limit: 1 })).map((entry) => entry.serial)).to.deep.equal(['03']);
    await log.close();
  });

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
