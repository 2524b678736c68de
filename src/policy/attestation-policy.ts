import { KbsError } from '../domain/errors.js';
import { celClaims, compileExpression, evaluationFailure, policyEnvironment, type BrokerFacts } from './cel-expression.js';
import type { AttestationPolicy } from './policy.js';

/** PROTOCOL.md 1.8: `{"allow": "<CEL>", "id": "<optional CEL giving the SPIFFE id segment>"}`. */
export interface AttestationPolicyDocument {
  allow: string;
  id?: string;
}

export function requirePolicyObject(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new KbsError('bad-request', 'the policy must be a JSON object');
  return body as Record<string, unknown>;
}

/** Compiles the document (400 `bad-request` with the error position when it does not compile). Unknown fields are dropped. */
export function compileAttestationPolicy(body: unknown, facts: BrokerFacts): { document: AttestationPolicyDocument; policy: AttestationPolicy } {
  const fields = requirePolicyObject(body);
  const environment = policyEnvironment({ claims: 'map', tee: 'string' }, facts);
  const allow = compileExpression(environment, '"allow"', fields.allow, ['bool']);
  const hasId = fields.id !== undefined && fields.id !== null;
  const id = hasId ? compileExpression(environment, '"id"', fields.id, ['string']) : undefined;
  const document: AttestationPolicyDocument = { allow: fields.allow as string, ...(hasId ? { id: fields.id as string } : {}) };
  return {
    document,
    policy: {
      evaluate({ claims, tee }) {
        const activation = { claims: celClaims(claims), tee };
        let allowed: unknown;
        let identity: unknown;
        try {
          allowed = allow(activation);
          if (allowed === true && id) identity = id(activation);
        } catch (error) {
          return { allow: false, reason: `attestation policy: ${evaluationFailure(error)}` };
        }
        if (allowed !== true) return { allow: false, reason: allowed === false ? 'the attestation policy denied this TEE' : 'attestation policy: "allow" did not give a boolean' };
        if (id && typeof identity !== 'string') return { allow: false, reason: 'attestation policy: "id" did not give a string' };
        return { allow: true, ...(typeof identity === 'string' ? { id: identity } : {}) };
      },
    },
  };
}
