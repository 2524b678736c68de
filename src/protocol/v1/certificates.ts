import { KbsError, messageOf } from '../../domain/errors.js';
import { isRevocationReason, REVOCATION_REASON_CODES, type RevocationReason } from '../../domain/revocation.js';
import { canonicalSerial } from '../../domain/serial.js';
import type { IssuedCertificateRecord, RevocationRecord } from '../../store/ports.js';
import { recordAdminChange } from '../audit-trail.js';
import type { BrokerContext } from '../broker-context.js';
import { requireObject } from '../json-fields.js';

export type CertificateStatus = 'valid' | 'expired' | 'revoked' | 'issuer-untrusted';

export interface CertificateView extends IssuedCertificateRecord {
  status: CertificateStatus;
  revocation?: Pick<RevocationRecord, 'revoked_at' | 'reason' | 'revoked_by'>;
}

export interface RevokeResult extends RevocationRecord {
  status: 'revoked';
  /** False when the serial had already been revoked; the first revocation's record is returned unchanged. */
  newly_revoked: boolean;
}

const toRfc3339 = (date: Date): string => date.toISOString().replace(/\.\d{3}Z$/, 'Z');

/** Records an issued certificate in the log before it is handed out: one that is not logged could not be revoked. */
export async function logIssuedCertificate(context: BrokerContext, record: IssuedCertificateRecord): Promise<void> {
  try {
    await context.stores.certificates.record({ ...record, serial: canonicalSerial(record.serial) ?? record.serial });
  } catch (error) {
    context.log.error('certificate log write failed', { serial: record.serial, error: messageOf(error) });
    throw new KbsError('unavailable', 'the certificate log could not be written; no certificate was issued');
  }
}

function parseReason(body: unknown): RevocationReason {
  if (body === undefined) return 'unspecified';
  const request = requireObject(body);
  if (request.reason === undefined) return 'unspecified';
  if (!isRevocationReason(request.reason)) {
    throw new KbsError('bad-request', `"reason" must be one of ${Object.keys(REVOCATION_REASON_CODES).join(', ')}`);
  }
  return request.reason;
}

function serialOf(text: string): string {
  const serial = canonicalSerial(decodeURIComponent(text));
  if (!serial) throw new KbsError('bad-request', 'a serial is hexadecimal, at most 40 digits');
  return serial;
}

/**
 * `POST /kbs/v1/admin/certificates/{serial}/revoke`. An unknown serial is 404; revoking again is idempotent (200
 * with the first revocation, `newly_revoked: false`), so scripts may retry. The issuer's CRL is rebuilt at once.
 */
export async function revokeCertificate(context: BrokerContext, admin: string, serialText: string, body: unknown): Promise<RevokeResult> {
  const serial = serialOf(serialText);
  const reason = parseReason(body);
  const issued = await context.stores.certificates.get(serial);
  if (!issued) throw new KbsError('not-found', `no certificate with serial ${serial} was issued by this broker`);
  const { created, revocation } = await context.stores.revocations.revoke({
    serial, issuer_id: issued.issuer_id, revoked_at: toRfc3339(context.clock()), reason, revoked_by: admin, not_after: issued.not_after,
  }).catch((error: unknown) => {
    context.log.error('revocation write failed', { serial, error: messageOf(error) });
    throw new KbsError('unavailable', 'the revocation could not be recorded; try again');
  });
  if (created) {
    context.log.info('certificate revoked', { serial, issuer: issued.issuer_id, reason, admin });
    await context.crls.crlOf(issued.issuer_id).catch(() => undefined);
    await recordAdminChange(context, {
      type: 'admin', admin, action: 'certificate.revoke', target: serial, before: { status: 'issued', issuer: issued.issuer_id }, after: { status: 'revoked', reason },
    });
  }
  return { ...revocation, status: 'revoked', newly_revoked: created };
}

const STATUSES: readonly CertificateStatus[] = ['valid', 'expired', 'revoked', 'issuer-untrusted'];
const MAX_LIMIT = 10_000;

export interface CertificateQuery {
  issuer?: string;
  status?: string;
  limit?: string;
}

/** `GET /kbs/v1/admin/certificates[?issuer=ID][&status=S][&limit=N]`: issued certificates, newest first, with status. */
export async function listCertificates(context: BrokerContext, query: CertificateQuery): Promise<{ certificates: CertificateView[] }> {
  if (query.status !== undefined && !(STATUSES as readonly string[]).includes(query.status)) {
    throw new KbsError('bad-request', `"status" must be one of ${STATUSES.join(', ')}`);
  }
  const limit = query.limit === undefined ? 1000 : Number(query.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) throw new KbsError('bad-request', `"limit" must be an integer 1..${MAX_LIMIT}`);
  const now = context.clock();
  const issuers = new Map(context.ca().issuers.map((issuer) => [issuer.id, issuer.state]));
  const revoked = new Map((await context.stores.revocations.list(query.issuer)).map((revocation) => [revocation.serial, revocation]));
  const records = await context.stores.certificates.list({ ...(query.issuer !== undefined ? { issuerId: query.issuer } : {}), limit: query.status === undefined ? limit : MAX_LIMIT });
  const views = records.map((record): CertificateView => {
    const revocation = revoked.get(record.serial);
    const issuerState = issuers.get(record.issuer_id);
    const status: CertificateStatus = revocation ? 'revoked'
      : issuerState === undefined || issuerState === 'tainted' || issuerState === 'revoked' ? 'issuer-untrusted'
        : Date.parse(record.not_after) <= now.getTime() ? 'expired' : 'valid';
    return {
      ...record, status,
      ...(revocation ? { revocation: { revoked_at: revocation.revoked_at, reason: revocation.reason, revoked_by: revocation.revoked_by } } : {}),
    };
  });
  return { certificates: views.filter((view) => query.status === undefined || view.status === query.status).slice(0, limit) };
}
