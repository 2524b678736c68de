import { KbsError } from '../../domain/errors.js';
import { requireObject } from '../json-fields.js';

/**
 * The policy text of trustee's `POST /kbs/v0/resource-policy` (`{"policy": "<base64url>"}`) and
 * `/kbs/v0/attestation-policy` (`{"type", "policy_id", "policy": "<base64url>"}`) bodies. keybroker keeps one
 * attestation policy, so `policy_id` is not used; `type` is not trusted either: the text itself says whether it is
 * Rego, which is refused later with a clear message.
 */
export function policyTextOf(body: unknown): string {
  const fields = requireObject(body, 'request body');
  const encoded = fields.policy;
  if (typeof encoded !== 'string' || encoded === '') throw new KbsError('bad-request', '"policy" must be the base64url-encoded policy text');
  if (!/^[A-Za-z0-9_\-+/]*={0,2}$/.test(encoded)) throw new KbsError('bad-request', '"policy" is not base64url');
  const text = Buffer.from(encoded, 'base64url').toString('utf8');
  if (text.includes('\uFFFD')) throw new KbsError('bad-request', 'the decoded policy is not UTF-8 text');
  return text;
}
