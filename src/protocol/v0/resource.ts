import type { FlattenedJWE } from 'jose';
import { KbsError } from '../../domain/errors.js';
import { parseResourcePath } from '../../domain/resource-path.js';
import { recordBestEffort, recordRequired } from '../audit-trail.js';
import type { BrokerContext } from '../broker-context.js';
import { encryptToTeePubkey } from './resource-jwe.js';
import { openSession } from './session.js';
import { parseTeePubkey } from './tee-pubkey.js';
import { verifyV0Token, type V0TokenClaims } from './token.js';
import { TrusteeError } from './trustee-errors.js';
import type { V0Services } from './v0-services.js';

/** How the request presented its attestation: `Authorization: Bearer <token>` or the session cookie. */
export interface V0Credential {
  bearer?: string;
  cookie?: string;
}

/** The verified token of the request: the bearer token when there is one, else the attested session's. */
async function tokenClaims(context: BrokerContext, v0: V0Services, credential: V0Credential): Promise<V0TokenClaims> {
  let token = credential.bearer;
  if (token === undefined) {
    if (credential.cookie === undefined) throw new TrusteeError('TokenNotFound', 'token-invalid', 'send the attestation token as a bearer token or the session cookie');
    const session = openSession(context, v0.sessionBox, credential.cookie);
    token = await context.stores.v0Sessions.token(session.id, context.clock());
    if (!token) throw new TrusteeError('TokenNotFound', 'token-invalid', 'this session is not attested: call /kbs/v0/attest first');
  }
  return verifyV0Token(token, v0.tokenKeys(), context.trustDomain, context.clock());
}

/**
 * PROTOCOL.md 2, `GET /kbs/v0/resource/{repository}/{type}/{tag}`: token (401), path (400), resource policy over
 * the token's claims (403), store (404); the value is encrypted to the token's `tee-pubkey`.
 */
export async function readV0Resource(context: BrokerContext, v0: V0Services, credential: V0Credential, pathText: string): Promise<FlattenedJWE> {
  const claims = await tokenClaims(context, v0, credential);
  const resource = parseResourcePath(pathText);
  const decision = await context.resourcePolicy.evaluate({
    claims: claims['kbs-claims'],
    resource,
    client: { spiffe_id: claims.sub, serial: claims.jti, not_after: new Date(claims.exp * 1000).toISOString() },
  });
  // The token's jti stands for the certificate serial of v1: the issuance record of the token carries it too.
  const audited = { serial: claims.jti, spiffe_id: claims.sub, path: resource.path, rule: decision.rule, policy_version: decision.policyVersion ?? 0, protocol: 'v0' } as const;
  if (!decision.allow) {
    context.log.info('resource denied', { path: resource.path, sub: claims.sub, jti: claims.jti, rule: decision.rule });
    await recordBestEffort(context, { type: 'resource', outcome: 'denied', ...audited });
    throw new KbsError('policy-denied', 'the resource policy denied this request');
  }
  const value = await context.stores.resources.get(resource.path);
  if (!value) throw new KbsError('resource-not-found', `no resource at ${resource.path}`);
  const envelope = await encryptToTeePubkey(value, parseTeePubkey(claims['tee-pubkey'], v0.allowRsa1_5));
  await recordRequired(context, { type: 'resource', outcome: 'released', ...audited });
  context.log.info('resource released', { path: resource.path, sub: claims.sub, jti: claims.jti, rule: decision.rule, protocol: 'v0' });
  return envelope;
}
