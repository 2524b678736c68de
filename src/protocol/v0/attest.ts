import { timingSafeEqual } from 'node:crypto';
import { decodeJwt } from 'jose';
import { appraiseSubmission } from '../../attestation/appraise-submission.js';
import { v0BindingDigest, v0ReportDataMatches } from '../../attestation/binding.js';
import type { Submission } from '../../attestation/verifier.js';
import { initDataClaim, initDataMatchesReport } from '../../attestation/init-data.js';
import { digestOf } from '../../domain/audit-chain.js';
import type { Claims } from '../../domain/claims.js';
import { isKbsError, KbsError } from '../../domain/errors.js';
import { IDENTITY_SEGMENT, teeSpiffeId } from '../../domain/identity.js';
import { isRecord } from '../../domain/json-record.js';
import { recordBestEffort, recordRequired } from '../audit-trail.js';
import type { BrokerContext } from '../broker-context.js';
import { requireObject, requireString } from '../json-fields.js';
import { defaultIdentity, parseInitData } from '../v1/attest.js';
import { openSession } from './session.js';
import { parseTeePubkey } from './tee-pubkey.js';
import { issueV0Token, tokenIssuer } from './token.js';
import { TrusteeError } from './trustee-errors.js';
import type { V0Services } from './v0-services.js';

/** `primary_evidence` is the TEE's evidence object; some attesters send it as a JSON text. */
function primaryEvidence(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value);
  } catch {
    throw new KbsError('bad-evidence-format', '"primary_evidence" is neither a JSON object nor the JSON text of one');
  }
}

/**
 * A passport token travels in v0 as `primary_evidence` `{"token": "<JWT>"}` (an object whose only field is the
 * token, or its JSON text); anything else is evidence for the verifier.
 */
function submissionOf(primary: unknown): Submission {
  if (isRecord(primary)) {
    const fields = Object.keys(primary);
    const { token } = primary;
    if (fields.length === 1 && typeof token === 'string') return { mode: 'passport', token };
  }
  return { mode: 'background-check', evidence: primary };
}

function nonceMatches(given: string, expected: string): boolean {
  const a = Buffer.from(given, 'utf8');
  const b = Buffer.from(expected, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * PROTOCOL.md 2, `POST /kbs/v0/attest`: session (401), body shape (400), nonce (401), tee-pubkey (400), evidence
 * (403), binding (403), init data against the report (403), attestation policy (403); then the nonce is consumed and a token issued. An
 * attested session answers the token it already has.
 */
export async function attest(context: BrokerContext, v0: V0Services, cookie: string | undefined, body: unknown): Promise<{ token: string }> {
  const attempt = { tee: 'unknown', verifier: 'unknown' };
  try {
    return await attestChecked(context, v0, cookie, body, attempt);
  } catch (error) {
    const reason = isKbsError(error) ? error.code : 'internal-error';
    await recordBestEffort(context, { type: 'attestation', outcome: 'failure', tee: attempt.tee, verifier: attempt.verifier, reason, protocol: 'v0' });
    throw error;
  }
}

async function attestChecked(context: BrokerContext, v0: V0Services, cookie: string | undefined, body: unknown, attempt: { tee: string; verifier: string }): Promise<{ token: string }> {
  const session = openSession(context, v0.sessionBox, cookie);
  attempt.tee = session.tee;
  const existing = await context.stores.v0Sessions.token(session.id, context.clock());
  if (existing) return { token: existing };

  const request = requireObject(body);
  const runtimeData = requireObject(request['runtime-data'], '"runtime-data"');
  const nonce = requireString(runtimeData, 'nonce', 256);
  const teeEvidence = requireObject(request['tee-evidence'], '"tee-evidence"');
  const additionalEvidence = teeEvidence.additional_evidence ?? '';
  const initData = parseInitData(request['init-data']);
  if (!nonceMatches(nonce, session.nonce)) throw new TrusteeError('AttestationError', 'nonce-invalid', 'runtime-data.nonce is not the nonce of this session');
  const teePubkey = parseTeePubkey(runtimeData['tee-pubkey'], v0.allowRsa1_5);

  const verifier = context.verifiers.select(session.tee);
  attempt.verifier = verifier.name;
  const submission = submissionOf(primaryEvidence(teeEvidence.primary_evidence));
  const verified = await appraiseSubmission(verifier, session.tee, submission, { nonce, publicKey: teePubkey.jwk });
  const digest = v0BindingDigest({ teePubkey: teePubkey.jwk, nonce, additionalEvidence }, session.hashAlgorithm);
  if (verified.reportData && !v0ReportDataMatches(verified.reportData, digest, session.tee)) {
    throw new KbsError('binding-mismatch', 'report data does not bind this nonce, tee-pubkey and additional evidence');
  }

  if (initData && verified.initData && !initDataMatchesReport(initData, verified.initData)) {
    throw new KbsError('binding-mismatch', 'the init-data digest does not match the report\'s init-data field');
  }

  const claimsBeforeIssue = { ...verified.claims, ...(initData ? { init_data: initDataClaim(initData) } : {}) };
  const decision = await context.attestationPolicy.evaluate({ claims: claimsBeforeIssue, tee: session.tee });
  if (!decision.allow) throw new KbsError('policy-denied', decision.reason ?? 'the attestation policy denied this TEE');
  const id = decision.id ?? defaultIdentity(claimsBeforeIssue.measurement, teePubkey.key.export({ type: 'spki', format: 'der' }));
  if (!IDENTITY_SEGMENT.test(id)) throw new KbsError('policy-denied', 'the attestation policy produced an invalid identity');

  if (!(await context.stores.nonces.consume(session.id, session.expiresAt))) {
    // Another request attested this session a moment ago: its token is the session's.
    const raced = await context.stores.v0Sessions.token(session.id, context.clock());
    if (raced) return { token: raced };
    throw new TrusteeError('AttestationError', 'nonce-invalid', 'this session was already used; call /kbs/v0/auth again');
  }
  const now = context.clock();
  const iat = Math.floor(now.getTime() / 1000);
  const claims: Claims = { ...claimsBeforeIssue, iat };
  const token = await issueV0Token(v0.tokenKeys(), {
    iss: tokenIssuer(context.trustDomain),
    sub: teeSpiffeId(context.trustDomain, session.tee, id),
    iat,
    // Never beyond the session: exp is whole seconds, so it is rounded down.
    exp: Math.floor(session.expiresAt.getTime() / 1000),
    tee: session.tee,
    'tee-pubkey': teePubkey.jwk,
    'kbs-claims': claims,
  });
  const inForce = await context.stores.v0Sessions.attest(session.id, token, session.expiresAt);
  const sub = teeSpiffeId(context.trustDomain, session.tee, id);
  const kid = v0.tokenKeys().current.kid;
  context.log.info('v0 token issued', { sub, tee: session.tee, verifier: verifier.name, kid });
  if (inForce === token) {
    await Promise.all([
      recordRequired(context, { type: 'attestation', outcome: 'success', tee: session.tee, verifier: verifier.name, protocol: 'v0' }),
      recordRequired(context, {
        type: 'issuance', serial: String(decodeJwt(token).jti), spiffe_id: sub, tee: session.tee, verifier: verifier.name, issuer: `v0-token:${kid}`,
        claims_digest: digestOf(claims), not_after: session.expiresAt.toISOString(), policy_version: decision.policyVersion ?? 0,
      }),
    ]);
  }
  return { token: inForce };
}
