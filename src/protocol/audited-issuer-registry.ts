import type { IssuerRegistry } from '../domain/issuer-registry.js';
import { recordIssuerStateChanges, type AuditContext } from './audit-trail.js';

/**
 * A registry shared by replicas, audited by the process that records each transition (a replica's admin API or
 * rotation schedule, or `keybroker ca`), once. Replicas that only reload the change do not audit it, or the one
 * shared chain would hold the same event once per replica.
 */
export function auditedIssuerRegistry(registry: IssuerRegistry, context: AuditContext): IssuerRegistry {
  return {
    list: () => registry.list(),
    exclusive: (step) => registry.exclusive(step),
    async record(entries, at) {
      const before = await registry.list();
      await registry.record(entries, at);
      await recordIssuerStateChanges(context, before, entries);
    },
  };
}
