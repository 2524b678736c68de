import { digestOf } from '../domain/audit-chain.js';
import { KbsError } from '../domain/errors.js';
import type { PolicyKind } from '../policy/policy.js';
import { POLICY_KINDS, type PolicyView } from '../policy/policy-service.js';
import { recordAdminChange } from './audit-trail.js';
import type { BrokerContext } from './broker-context.js';

export function parsePolicyKind(text: string): PolicyKind {
  const kind = POLICY_KINDS.find((candidate) => candidate === text);
  if (!kind) throw new KbsError('not-found', `no policy "${text.slice(0, 64)}": use ${POLICY_KINDS.join(' or ')}`);
  return kind;
}

/** `?version=N`: absent, or a non-negative decimal integer. */
export function parsePolicyVersion(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !/^\d{1,9}$/.test(value)) throw new KbsError('bad-request', '"version" must be a non-negative integer');
  return Number(value);
}

/** The stored text of a view, without the version fields: what the digests in the audit log cover. */
function documentDigest(view: PolicyView): string {
  const { version: _version, updated_at: _at, updated_by: _by, ...document } = view;
  return digestOf(document);
}

/**
 * Sets a policy (PROTOCOL.md 1.8 `PUT /kbs/v1/admin/policy/{kind}`): compiled first (400 `bad-request` with the
 * error position, nothing changes), stored as a new version, recorded in the audit log, in force for every
 * request that starts after this resolves.
 */
export async function setPolicy(context: BrokerContext, admin: string, kind: PolicyKind, body: unknown): Promise<PolicyView> {
  const { before, after } = await context.policies.set(kind, body, admin, context.clock());
  context.log.info('policy set', { kind, version: after.version, admin });
  await recordAdminChange(context, {
    type: 'admin', admin, action: `policy.${kind}.set`, target: kind,
    before: { version: before.version, digest: documentDigest(before) }, after: { version: after.version, digest: documentDigest(after) },
  });
  return after;
}

const REGO = /^\s*(package\s+[\w.]+|import\s+(rego|future)\.|default\s+\w+\s*(:?=))/m;
const RESOURCE_SHAPE = '{"rules": [{"match": "<repository>/<type>/<tag>", "allow": "<CEL>"}]}';

function refuseRego(text: string, shape: string): void {
  if (REGO.test(text)) throw new KbsError('bad-request', `Rego is not supported; use CEL rules: ${shape}`);
}

/**
 * For the v0 route `POST /kbs/v0/resource-policy`: the policy text as the client sent it. CEL rules in the v1
 * JSON shape (`{"rules": [...]}`) are set like `PUT /kbs/v1/admin/policy/resource`; Rego, trustee's policy
 * language, is refused with a 400 that says so.
 */
export async function setResourcePolicyText(context: BrokerContext, admin: string, text: string): Promise<PolicyView> {
  refuseRego(text, RESOURCE_SHAPE);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new KbsError('bad-request', `the resource policy must be JSON: ${RESOURCE_SHAPE}`);
  }
  return setPolicy(context, admin, 'resource', body);
}

/**
 * For the v0 route `POST /kbs/v0/attestation-policy`: either the v1 JSON shape (`{"allow": ..., "id"?: ...}`) or a
 * bare CEL expression, which becomes `allow`. Rego is refused with a 400 that says so.
 */
export async function setAttestationPolicyText(context: BrokerContext, admin: string, text: string): Promise<PolicyView> {
  refuseRego(text, 'a CEL expression over claims and tee, or {"allow": "<CEL>", "id": "<CEL>"}');
  const trimmed = text.trim();
  if (!trimmed.startsWith('{')) return setPolicy(context, admin, 'attestation', { allow: trimmed });
  let body: unknown;
  try {
    body = JSON.parse(trimmed);
  } catch {
    throw new KbsError('bad-request', 'the attestation policy is neither a CEL expression nor JSON of the form {"allow": "<CEL>"}');
  }
  return setPolicy(context, admin, 'attestation', body);
}
