import { KbsError } from '../../domain/errors.js';
import { parseResourcePath } from '../../domain/resource-path.js';
import type { PutResult, ResourceMeta } from '../../store/ports.js';
import { recordAdminChange } from '../audit-trail.js';
import type { BrokerContext } from '../broker-context.js';
import type { ClientIdentity } from '../client-identity.js';

/** Admin routes need an admin identity: none is 401, a TEE certificate is 403. */
export function requireAdmin(client: ClientIdentity | undefined): string {
  if (!client) throw new KbsError('admin-auth-required', 'an admin client certificate or bearer token is required');
  if (client.principal.kind !== 'admin') throw new KbsError('admin-forbidden', 'this certificate has no admin role');
  return client.principal.name;
}

export async function putResource(context: BrokerContext, admin: string, pathText: string, value: Uint8Array): Promise<PutResult> {
  const resource = parseResourcePath(pathText);
  const result = await context.stores.resources.put(resource.path, value);
  context.log.info(result.created ? 'resource created' : 'resource replaced', { path: resource.path, version: result.meta.version, size: result.meta.size, admin });
  // Versions and sizes, not digests: a digest of a short secret could be brute-forced from the log.
  await recordAdminChange(context, {
    type: 'admin', admin, action: 'resource.put', target: resource.path,
    before: result.created ? null : { version: result.meta.version - 1 }, after: { version: result.meta.version, size: result.meta.size },
  });
  return result;
}

export async function deleteResource(context: BrokerContext, admin: string, pathText: string): Promise<void> {
  const resource = parseResourcePath(pathText);
  if (!(await context.stores.resources.delete(resource.path))) throw new KbsError('resource-not-found', `no resource at ${resource.path}`);
  context.log.info('resource deleted', { path: resource.path, admin });
  await recordAdminChange(context, { type: 'admin', admin, action: 'resource.delete', target: resource.path, before: 'present', after: null });
}

const PREFIX = /^[A-Za-z0-9_.\/-]{0,400}$/;

export async function listResources(context: BrokerContext, prefix: string | undefined): Promise<{ resources: ResourceMeta[] }> {
  if (prefix !== undefined && (!PREFIX.test(prefix) || prefix.includes('..'))) throw new KbsError('bad-request', 'prefix may hold only path characters');
  return { resources: await context.stores.resources.list(prefix) };
}
