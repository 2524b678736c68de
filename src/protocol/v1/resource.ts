import { KbsError } from '../../domain/errors.js';
import { parseResourcePath } from '../../domain/resource-path.js';
import { recordBestEffort, recordRequired } from '../audit-trail.js';
import type { BrokerContext } from '../broker-context.js';
import type { ClientIdentity } from '../client-identity.js';

/** PROTOCOL.md 1.5 after authentication: claims required, then path, then policy, then store. */
export async function readResource(context: BrokerContext, client: ClientIdentity, pathText: string): Promise<Uint8Array> {
  if (client.principal.kind !== 'tee' || !client.claims) {
    throw new KbsError('certificate-invalid', 'client certificate carries no attestation claims');
  }
  const resource = parseResourcePath(pathText);
  const decision = context.resourcePolicy.evaluate({
    claims: client.claims,
    resource,
    client: { spiffe_id: client.principal.spiffeId, serial: client.serial, not_after: client.notAfter.toISOString() },
  });
  const audited = { serial: client.serial, spiffe_id: client.principal.spiffeId, path: resource.path, rule: decision.rule, policy_version: decision.policyVersion ?? 0 };
  if (!decision.allow) {
    context.log.info('resource denied', { path: resource.path, serial: client.serial, rule: decision.rule, ...(decision.reason ? { reason: decision.reason } : {}) });
    await recordBestEffort(context, { type: 'resource', outcome: 'denied', ...audited });
    throw new KbsError('policy-denied', 'the resource policy denied this request');
  }
  const value = await context.stores.resources.get(resource.path);
  if (!value) throw new KbsError('resource-not-found', `no resource at ${resource.path}`);
  await recordRequired(context, { type: 'resource', outcome: 'released', ...audited });
  context.log.info('resource released', { path: resource.path, serial: client.serial, rule: decision.rule });
  return value;
}
