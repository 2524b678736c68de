import { expect } from 'chai';
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { IssuerState } from '../../../src/pki/ca-home.js';
import { authenticateClient, requireNotRevoked, type ClientIdentity } from '../../../src/protocol/client-identity.js';
import { attest } from '../../../src/protocol/v1/attest.js';
import { listCertificates, revokeCertificate } from '../../../src/protocol/v1/certificates.js';
import type { FsAuditLog } from '../../../src/store/fs/fs-audit-log.js';
import type { FsCertificateLog } from '../../../src/store/fs/fs-certificate-log.js';
import type { FsRevocationList } from '../../../src/store/fs/fs-revocation-list.js';
import { errorCodeOf, thrownBy, TRUST_DOMAIN } from '../pki/helpers.js';
import { makeBroker, prepareAttest, type Broker } from './broker-fixture.js';

describe('protocol/v1 revocation and the certificate log', function () {
  this.timeout(20_000);
  let broker: Broker;

  beforeEach(async () => { broker = await makeBroker(); });
  afterEach(async () => { await broker.close(); });

  async function issue(): Promise<{ serial: string; x509: X509Certificate }> {
    const response = await attest(broker.context, prepareAttest(broker.context).body);
    return { serial: response.serial, x509: new X509Certificate(response.certificate) };
  }

  const authenticate = (x509: X509Certificate): Promise<ClientIdentity> => requireNotRevoked(
    authenticateClient({ certificate: x509, authorized: true }, broker.context.ca(), TRUST_DOMAIN, broker.context.clock()),
    broker.context.stores.revocations,
  );

  it('records every certificate issued by attest in the certificate log', async () => {
    const { serial, x509 } = await issue();
    const record = await broker.context.stores.certificates.get(serial);
    expect(record).to.deep.equal({
      serial, spiffe_id: x509.subjectAltName!.replace(/^URI:/, ''), issuer_id: broker.ca.active.id,
      not_before: new Date(x509.validFrom).toISOString(), not_after: new Date(x509.validTo).toISOString(), tee: 'sample', verifier: 'builtin',
    });
  });

  it('fails a certificate at its next request once revoked, although its facts are cached', async () => {
    const { serial, x509 } = await issue();
    expect((await authenticate(x509)).serial).to.equal(serial);
    const result = await revokeCertificate(broker.context, 'ops', serial.toUpperCase(), { reason: 'keyCompromise' });
    expect(result).to.deep.include({ serial, status: 'revoked', reason: 'keyCompromise', revoked_by: 'ops', issuer_id: broker.ca.active.id, newly_revoked: true });
    expect(await errorCodeOf(() => authenticate(x509))).to.equal('certificate-revoked');
    const other = await issue();
    expect((await authenticate(other.x509)).serial).to.equal(other.serial);
  });

  it('is idempotent: revoking again answers the first revocation with newly_revoked false', async () => {
    const { serial } = await issue();
    const first = await revokeCertificate(broker.context, 'alice', serial, undefined);
    expect(first.reason).to.equal('unspecified');
    broker.setClock(new Date(broker.context.clock().getTime() + 5000));
    const second = await revokeCertificate(broker.context, 'bob', `00${serial}`, { reason: 'superseded' });
    expect(second).to.deep.equal({ ...first, newly_revoked: false });
  });

  it('answers 404 for a serial this broker never issued and 400 for a malformed serial or reason', async () => {
    const { serial } = await issue();
    expect(await errorCodeOf(() => revokeCertificate(broker.context, 'ops', 'abcdef0123', undefined))).to.equal('not-found');
    expect(await errorCodeOf(() => revokeCertificate(broker.context, 'ops', 'xyz', undefined))).to.equal('bad-request');
    expect(await errorCodeOf(() => revokeCertificate(broker.context, 'ops', 'a'.repeat(41), undefined))).to.equal('bad-request');
    expect(await errorCodeOf(() => revokeCertificate(broker.context, 'ops', serial, { reason: 'bored' }))).to.equal('bad-request');
    expect(await errorCodeOf(() => revokeCertificate(broker.context, 'ops', serial, ['keyCompromise']))).to.equal('bad-request');
    expect(await broker.context.stores.revocations.isRevoked(serial)).to.equal(false);
  });

  it('puts the revoked serial into the issuer CRL at once', async () => {
    const before = await broker.context.crls.activeCrl();
    const { serial } = await issue();
    await revokeCertificate(broker.context, 'ops', serial, { reason: 'privilegeWithdrawn' });
    const after = await broker.context.crls.activeCrl();
    expect(after.crlNumber > before.crlNumber).to.equal(true);
    expect(after.der.includes(Buffer.from(serial.padStart(32, '0'), 'hex'))).to.equal(true);
  });

  it('lists issued certificates with status valid, revoked, expired or issuer-untrusted, filtered and limited', async () => {
    const revoked = await issue();
    const valid = await issue();
    await revokeCertificate(broker.context, 'ops', revoked.serial, undefined);
    const listed = await listCertificates(broker.context, {});
    expect(listed.certificates.map((view) => [view.serial, view.status])).to.deep.equal([[valid.serial, 'valid'], [revoked.serial, 'revoked']]);
    expect(listed.certificates[1]!.revocation).to.deep.include({ reason: 'unspecified', revoked_by: 'ops' });
    expect((await listCertificates(broker.context, { status: 'revoked' })).certificates.map((view) => view.serial)).to.deep.equal([revoked.serial]);
    expect((await listCertificates(broker.context, { limit: '1' })).certificates).to.have.lengthOf(1);
    expect((await listCertificates(broker.context, { issuer: 'other' })).certificates).to.deep.equal([]);
    broker.setClock(new Date(broker.context.clock().getTime() + 3600_000));
    expect((await listCertificates(broker.context, { status: 'expired' })).certificates.map((view) => view.serial)).to.deep.equal([valid.serial]);
    const tainted: IssuerState = 'tainted';
    const ca = broker.ca;
    broker.context.ca = () => ({ ...ca, issuers: ca.issuers.map((issuer) => ({ ...issuer, state: tainted })) });
    expect((await listCertificates(broker.context, {})).certificates.map((view) => view.status)).to.deep.equal(['issuer-untrusted', 'revoked']);
    expect(await errorCodeOf(() => listCertificates(broker.context, { status: 'weird' }))).to.equal('bad-request');
    expect(await errorCodeOf(() => listCertificates(broker.context, { limit: '0' }))).to.equal('bad-request');
  });

  it('answers 503 and hands out nothing when the certificate log cannot be written', async () => {
    const input = prepareAttest(broker.context);
    await (broker.context.stores.certificates as FsCertificateLog).close();
    expect(await errorCodeOf(() => attest(broker.context, input.body))).to.equal('unavailable');
  });

  it('audits a revocation once: the admin, the serial, its issuer and the reason; repeating it adds nothing', async () => {
    const { serial } = await issue();
    await revokeCertificate(broker.context, 'ops', serial, { reason: 'keyCompromise' });
    await revokeCertificate(broker.context, 'ops', serial, { reason: 'superseded' });
    const events = (await readFile(join(broker.dir, 'data', 'audit.jsonl'), 'utf8')).trim().split('\n')
      .map((line) => (JSON.parse(line) as { event: { type: string; action?: string } }).event)
      .filter((event) => event.type === 'admin' && event.action === 'certificate.revoke');
    expect(events).to.deep.equal([{
      type: 'admin', admin: 'ops', action: 'certificate.revoke', target: serial,
      before: { status: 'issued', issuer: broker.ca.active.id }, after: { status: 'revoked', reason: 'keyCompromise' },
    }]);
  });

  it('answers 503 saying the revocation was stored when its audit record cannot be written; the revocation holds', async () => {
    const { serial, x509 } = await issue();
    await (broker.context.stores.audit as FsAuditLog).close();
    const error = await thrownBy(() => revokeCertificate(broker.context, 'ops', serial, undefined)) as { code: string; detail: string };
    expect(error.code).to.equal('unavailable');
    expect(error.detail).to.equal('the change (certificate.revoke) was stored, but the audit log could not record it; the broker\'s log names it');
    expect(await errorCodeOf(() => authenticate(x509))).to.equal('certificate-revoked');
  });

  it('answers 503 when the revocation cannot be recorded', async () => {
    const { serial } = await issue();
    await (broker.context.stores.revocations as FsRevocationList).close();
    expect(await errorCodeOf(() => revokeCertificate(broker.context, 'ops', serial, undefined))).to.equal('unavailable');
  });
});
