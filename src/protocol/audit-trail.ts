import { KbsError, messageOf } from '../domain/errors.js';
import type { Logger } from '../domain/logger.js';
import type { AuditLog, AuditRecord } from '../store/ports.js';

/**
 * The events of the audit log (one JSON object each, in the record's `event`). They name certificates by serial
 * and SPIFFE ID, claims and policies by SHA-256 digest, resources by path: never a secret, a key or a resource value.
 */
export type AuditEvent =
  | { type: 'attestation'; outcome: 'success' | 'failure'; tee: string; verifier: string; reason?: string; protocol?: 'v0' }
  | { type: 'issuance'; serial: string; spiffe_id: string; tee: string; verifier: string; issuer: string; claims_digest: string; not_after: string; policy_version: number }
  | { type: 'resource'; outcome: 'released' | 'denied'; serial: string; spiffe_id: string; path: string; rule: string; policy_version: number; protocol?: 'v0' }
  | { type: 'admin'; admin: string; action: string; target: string; before: unknown; after: unknown }
  | { type: 'ca'; action: string; issuer: string; detail?: Record<string, string | number> };

export interface AuditContext {
  stores: { audit: AuditLog };
  clock(): Date;
  log: Logger;
}

/**
 * Records an event durably before the caller answers (releases, issuance, admin changes). When the log cannot
 * be written the request fails with 503 `unavailable`: nothing is released or changed without its record.
 */
export async function recordRequired(context: AuditContext, event: AuditEvent): Promise<AuditRecord> {
  try {
    return await context.stores.audit.append(event, context.clock());
  } catch (error) {
    context.log.error('audit log write failed', { event: event.type, error: messageOf(error) });
    throw new KbsError('unavailable', 'the audit log cannot be written; nothing was changed or released');
  }
}

/**
 * Records an admin change that is already stored (a resource, a policy, a revocation): the request still fails
 * with 503 when the record cannot be written, and says honestly that the change was made without it.
 */
export async function recordAdminChange(context: AuditContext, event: Extract<AuditEvent, { type: 'admin' }>): Promise<AuditRecord> {
  try {
    return await context.stores.audit.append(event, context.clock());
  } catch (error) {
    context.log.error('audit log write failed after an admin change', { action: event.action, target: event.target, error: messageOf(error) });
    throw new KbsError('unavailable', `the change (${event.action}) was stored, but the audit log could not record it; the broker's log names it`);
  }
}

/**
 * Records an event that must not change the answer (denials, failed attestations): resolves once the record is
 * durable, or once a failed write was logged. Awaiting it keeps the log in step with what clients were told.
 */
export async function recordBestEffort(context: AuditContext, event: AuditEvent): Promise<void> {
  try {
    await context.stores.audit.append(event, context.clock());
  } catch (error) {
    context.log.error('audit log write failed', { event: event.type, error: messageOf(error) });
  }
}

/** A CA lifecycle step (prepare, activate, retire, taint, revoke, ...) for the audit log; durable when it resolves. */
export function recordCaEvent(context: AuditContext, action: string, issuer: string, detail?: Record<string, string | number>): Promise<AuditRecord> {
  return recordRequired(context, { type: 'ca', action, issuer, ...(detail ? { detail } : {}) });
}

/** One `issuer.<state>` event per issuer that appeared or changed state between `before` and `after`. */
export async function recordIssuerStateChanges(
  context: AuditContext, before: readonly { id: string; state: string }[], after: readonly { id: string; state: string }[],
): Promise<void> {
  const states = new Map(before.map((issuer) => [issuer.id, issuer.state]));
  for (const issuer of after) {
    const from = states.get(issuer.id);
    if (from !== issuer.state) await recordCaEvent(context, `issuer.${issuer.state}`, issuer.id, from ? { from } : undefined);
  }
}
