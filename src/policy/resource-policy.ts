import { KbsError } from '../domain/errors.js';
import { isValidSegment } from '../domain/resource-path.js';
import { celClaims, compileExpression, evaluationFailure, policyEnvironment, type BrokerFacts, type CompiledExpression } from './cel-expression.js';
import { requirePolicyObject } from './attestation-policy.js';
import type { ResourcePolicy, ResourceRequest } from './policy.js';

/** PROTOCOL.md 1.7: ordered rules; the first whose `match` fits the path decides; none fits: deny. */
export interface ResourceRule {
  match: string;
  allow: string;
}

export interface ResourcePolicyDocument {
  rules: ResourceRule[];
}

export const MAX_RULES = 256;

/** A match pattern: three segments, each a literal path segment or `*` (exactly one segment). Undefined = `*`. */
type Pattern = [string | undefined, string | undefined, string | undefined];

function compilePattern(field: string, match: unknown): Pattern {
  if (typeof match !== 'string') throw new KbsError('bad-request', `${field}: a pattern "repository/type/tag" is required`);
  const segments = match.split('/');
  if (segments.length !== 3 || segments.some((segment) => segment !== '*' && !isValidSegment(segment))) {
    throw new KbsError('bad-request', `${field}: "${match.slice(0, 200)}" is not "repository/type/tag" with path segments or "*"`);
  }
  return segments.map((segment) => (segment === '*' ? undefined : segment)) as Pattern;
}

function matches(pattern: Pattern, request: ResourceRequest['resource']): boolean {
  return (pattern[0] === undefined || pattern[0] === request.repository)
    && (pattern[1] === undefined || pattern[1] === request.type)
    && (pattern[2] === undefined || pattern[2] === request.tag);
}

interface CompiledRule {
  pattern: Pattern;
  allow: CompiledExpression;
  /** `#<position from 1> <match>`, as audit records and logs name the rule. */
  label: string;
}

export const NO_RULE_MATCHED = 'no rule matched';

export function compileResourcePolicy(body: unknown, facts: BrokerFacts): { document: ResourcePolicyDocument; policy: ResourcePolicy } {
  const fields = requirePolicyObject(body);
  if (!Array.isArray(fields.rules)) throw new KbsError('bad-request', '"rules" must be an array of {"match", "allow"}');
  if (fields.rules.length > MAX_RULES) throw new KbsError('bad-request', `"rules" holds ${fields.rules.length} rules; at most ${MAX_RULES} are allowed`);
  const environment = policyEnvironment({ claims: 'map', resource: 'map', client: 'map' }, facts);
  const rules: ResourceRule[] = [];
  const compiled: CompiledRule[] = fields.rules.map((value: unknown, index) => {
    const rule = requirePolicyObject(value);
    const field = `"rules[${index}]`;
    const pattern = compilePattern(`${field}.match"`, rule.match);
    const allow = compileExpression(environment, `${field}.allow"`, rule.allow, ['bool']);
    rules.push({ match: rule.match as string, allow: rule.allow as string });
    return { pattern, allow, label: `#${index + 1} ${rule.match as string}` };
  });
  return {
    document: { rules },
    policy: {
      evaluate(request) {
        const rule = compiled.find((candidate) => matches(candidate.pattern, request.resource));
        if (!rule) return { allow: false, rule: NO_RULE_MATCHED };
        try {
          const allowed = rule.allow({ claims: celClaims(request.claims), resource: request.resource, client: request.client });
          return allowed === true ? { allow: true, rule: rule.label } : { allow: false, rule: rule.label, ...(allowed === false ? {} : { reason: '"allow" did not give a boolean' }) };
        } catch (error) {
          return { allow: false, rule: rule.label, reason: evaluationFailure(error) };
        }
      },
    },
  };
}
