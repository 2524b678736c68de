import { expect } from 'chai';
import { eventually } from '../helpers/eventually.js';
import type { CertificateLog, IssuedCertificateRecord, RevocationList, RevocationRecord } from '../../src/store/ports.js';
import { useFreshBacking, type Backing } from './backing.js';

/** Handles on one backing's RevocationList and CertificateLog; each `open()` is another process or replica. */
export interface RevocationsHandle {
  revocations: RevocationList;
  certificates: CertificateLog;
  close(): Promise<void>;
}

export type RevocationsBacking = Backing<RevocationsHandle>;

/** A certificate log record for `serial` (fixed times, sample TEE). */
export function issued(serial: string, issuerId = 'issuer-a'): IssuedCertificateRecord {
  return {
    serial, spiffe_id: `spiffe://keybroker.test/tee/sample/${serial}`, issuer_id: issuerId,
    not_before: '2026-03-01T11:59:00.000Z', not_after: '2026-03-01T12:10:00.000Z', tee: 'sample', verifier: 'builtin',
  };
}

/** A revocation of `serial` by `ops`. */
export function revocation(serial: string, issuerId = 'issuer-a', reason: RevocationRecord['reason'] = 'keyCompromise'): RevocationRecord {
  return { serial, issuer_id: issuerId, revoked_at: '2026-03-01T12:01:00Z', reason, revoked_by: 'ops', not_after: '2026-03-01T12:10:00Z' };
}

/** The behaviour a RevocationList and a CertificateLog adapter must show (file and PostgreSQL adapters run it). */
export function revocationsContract(adapter: string, freshBacking: () => Promise<RevocationsBacking>): void {
  describe(`revocation list and certificate log contract: ${adapter}`, () => {
    const backing = useFreshBacking(freshBacking);
    const { open, reopen } = backing;

    describe('RevocationList', () => {
      it('revokes once: a second revocation keeps the first record and says it was not new', async () => {
        const { revocations } = await open();
        expect(await revocations.isRevoked('ab12')).to.equal(false);
        expect(await revocations.revoke(revocation('ab12'))).to.deep.equal({ created: true, revocation: revocation('ab12') });
        expect(await revocations.isRevoked('ab12')).to.equal(true);
        const again = await revocations.revoke({ ...revocation('ab12', 'issuer-a', 'superseded'), revoked_by: 'someone-else' });
        expect(again).to.deep.equal({ created: false, revocation: revocation('ab12') });
        expect(await revocations.isRevoked('ab13')).to.equal(false);
      });

      it('lists per issuer, oldest first, and keeps everything across a reopen', async () => {
        const handle = await open();
        await handle.revocations.revoke(revocation('01', 'issuer-a'));
        await handle.revocations.revoke(revocation('02', 'issuer-b', 'superseded'));
        await handle.revocations.revoke(revocation('03', 'issuer-a'));
        const { revocations } = await reopen(handle);
        expect(await revocations.isRevoked('02')).to.equal(true);
        expect((await revocations.list('issuer-a')).map((entry) => entry.serial)).to.deep.equal(['01', '03']);
        expect(await revocations.list('issuer-b')).to.deep.equal([revocation('02', 'issuer-b', 'superseded')]);
        expect(await revocations.list()).to.have.lengthOf(3);
      });

      it('a revocation by one replica is seen by another; of concurrent revocations of one serial exactly one is new', async function () {
        if (!backing.current().sharedByProcesses) this.skip();
        const [one, two] = [await open(), await open()];
        expect(await two.revocations.isRevoked('c0ffee')).to.equal(false);
        const results = await Promise.all([one, two, one, two].map((handle, index) => handle.revocations.revoke({ ...revocation('c0ffee'), revoked_by: `admin${index}` })));
        expect(results.filter((result) => result.created)).to.have.lengthOf(1);
        const first = results.find((result) => result.created)!.revocation;
        for (const result of results) expect(result.revocation).to.deep.equal(first);
        expect(await one.revocations.isRevoked('c0ffee')).to.equal(true);
        expect(await two.revocations.isRevoked('c0ffee')).to.equal(true);

        // Revoked by one replica only: the other one learns it within the store's documented delay.
        await one.revocations.revoke(revocation('beef'));
        await eventually(() => two.revocations.isRevoked('beef'), { intervalMs: 10 });
        expect(await two.revocations.list()).to.have.lengthOf(2);
      });
    });

    describe('CertificateLog', () => {
      it('records, finds by serial and lists newest first with an issuer filter and a limit, also after a reopen', async () => {
        const handle = await open();
        await handle.certificates.record(issued('01', 'issuer-a'));
        await handle.certificates.record(issued('02', 'issuer-b'));
        await handle.certificates.record(issued('03', 'issuer-a'));
        const { certificates } = await reopen(handle);
        expect(await certificates.get('02')).to.deep.equal(issued('02', 'issuer-b'));
        expect(await certificates.get('04')).to.equal(undefined);
        expect((await certificates.list({ limit: 10 })).map((entry) => entry.serial)).to.deep.equal(['03', '02', '01']);
        expect((await certificates.list({ issuerId: 'issuer-a', limit: 10 })).map((entry) => entry.serial)).to.deep.equal(['03', '01']);
        expect((await certificates.list({ limit: 1 })).map((entry) => entry.serial)).to.deep.equal(['03']);
      });

      it('keeps the first record of a serial and only the known fields', async () => {
        const { certificates } = await open();
        await certificates.record(issued('0a'));
        await certificates.record({ ...issued('0a'), tee: 'snp' });
        await certificates.record({ ...issued('0b'), extra: 'not stored' } as IssuedCertificateRecord);
        expect(await certificates.get('0a')).to.deep.equal(issued('0a'));
        expect(await certificates.get('0b')).to.deep.equal(issued('0b'));
      });

      it('holds every record written by concurrent issuances of several replicas', async () => {
        const handles = backing.current().sharedByProcesses ? [await open(), await open()] : [await open()];
        const serials = Array.from({ length: 40 }, (_, index) => (index + 1).toString(16));
        await Promise.all(serials.map((serial, index) => handles[index % handles.length]!.certificates.record(issued(serial))));
        for (const serial of serials) expect(await handles[0]!.certificates.get(serial), serial).to.deep.equal(issued(serial));
        expect(await handles[0]!.certificates.list({ limit: 1000 })).to.have.lengthOf(40);
      });
    });
  });
}
