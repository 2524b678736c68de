import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { reportDataMatches, v1ReportData } from '../../attestation/binding.js';
import { initDataClaim, initDataMatchesReport, readInitData, type InitData } from '../../attestation/init-data.js';
import { digestOf } from '../../domain/audit-chain.js';
import type { Claims } from '../../domain/claims.js';
import { isKbsError, KbsError } from '../../domain/errors.js';
import { IDENTITY_SEGMENT } from '../../domain/identity.js';
import { issueClientCertificate } from '../../pki/certificate-profiles.js';
import { verifyCsr } from '../../pki/csr.js';
import { recordBestEffort, recordRequired } from '../audit-trail.js';
import type { BrokerContext } from '../broker-context.js';
import { requireObject, requireString } from '../json-fields.js';
import { logIssuedCertificate } from './certificates.js';

export interface AttestResponse {
  certificate: string;
  chain: string;
  spiffe_id: string;
  serial: string;
  expires_at: string;
  claims: Claims;
}

const MAX_CSR_CHARS = 16 * 1024;
const MAX_INIT_DATA_CHARS = 256 * 1024;

export function parseInitData(value: unknown): InitData | undefined {
  if (value === undefined) return undefined;
  const initData = requireObject(value, '"init_data"');
  const format = requireString(initData, 'format', 16);
  if (format !== 'toml' && format !== 'json') throw new KbsError('bad-request', '"init_data.format" must be "toml" or "json"');
  return readInitData(format, requireString(initData, 'body', MAX_INIT_DATA_CHARS));
}

/** The certificate's id segment: from the measurement when there is one, otherwise from the key. */
export function defaultIdentity(measurement: string | undefined, spki: Buffer): string {
  const source = measurement !== undefined ? Buffer.from(measurement, 'hex') : spki;
  return createHash('sha256').update(source).digest('hex').slice(0, 16);
}

/** TEE and verifier of an attempt, as far as the attempt got (for metrics and the audit log). */
interface Attempt {
  tee: string;
  verifier: string;
}

/** PROTOCOL.md 1.3 with its metrics and audit records: every attempt is counted and recorded, with the error code when it fails. */
export async function attest(context: BrokerContext, body: unknown): Promise<AttestResponse> {
  const started = performance.now();
  const attempt: Attempt = { tee: 'unknown', verifier: 'unknown' };
  try {
    const response = await attestChecked(context, body, attempt);
    context.metrics.attestation(attempt.tee, attempt.verifier, 'issued');
    context.metrics.issuance((performance.now() - started) / 1000);
    return response;
  } catch (error) {
    const reason = isKbsError(error) ? error.code : 'internal-error';
    context.metrics.attestation(attempt.tee, attempt.verifier, reason);
    await recordBestEffort(context, { type: 'attestation', outcome: 'failure', tee: attempt.tee, verifier: attempt.verifier, reason });
    throw error;
  }
}

/**
 * PROTOCOL.md 1.3, checked in the documented order, stopping at the first failure: body shape, nonce, CSR,
 * evidence, binding, init data, policy. Only then is the nonce consumed and a certificate issued.
 */
async function attestChecked(context: BrokerContext, body: unknown, attempt: Attempt): Promise<AttestResponse> {
  const request = requireObject(body);
  // Any string is well-formed here; one that is not a nonce of ours (too long included) is 401 from `open`.
  const nonce = requireString(request, 'nonce');
  const csrPem = requireString(request, 'csr', MAX_CSR_CHARS);
  const hasEvidence = request.evidence !== undefined && request.evidence !== null;
  const hasToken = request.token !== undefined && request.token !== null;
  if (hasEvidence === hasToken) throw new KbsError('bad-request', 'exactly one of "evidence" and "token" is required');
  const initData = parseInitData(request.init_data);

  const now = context.clock();
  const sealed = context.nonces.open(nonce, now);
  attempt.tee = sealed.tee;
  attempt.verifier = sealed.verifier;
  if (await context.stores.nonces.isUsed(sealed.id)) throw new KbsError('nonce-invalid', 'nonce was already used; request a new challenge');

  const csr = verifyCsr(csrPem);

  const verifier = context.verifiers.get(sealed.verifier);
  if (!verifier) throw new KbsError('nonce-invalid', 'the verifier named by this nonce is no longer configured');
  if (hasToken) throw new KbsError('bad-request', `verifier "${verifier.name}" takes evidence, not a token`);
  const verifyStarted = performance.now();
  const verified = await verifier.verify(sealed.tee, request.evidence).finally(() => {
    context.metrics.verifierCall(verifier.name, sealed.tee, (performance.now() - verifyStarted) / 1000);
  });

  if (!reportDataMatches(verified.reportData, v1ReportData(nonce, csr.spki))) {
    throw new KbsError('binding-mismatch', 'report data does not bind this nonce and the CSR key');
  }

  if (initData && verified.initData && !initDataMatchesReport(initData, verified.initData)) {
    throw new KbsError('binding-mismatch', 'the init-data digest does not match the report\'s init-data field');
  }

  const claimsBeforeIssue = { ...verified.claims, ...(initData ? { init_data: initDataClaim(initData) } : {}) };
  const decision = context.attestationPolicy.evaluate({ claims: claimsBeforeIssue, tee: sealed.tee });
  if (!decision.allow) throw new KbsError('policy-denied', decision.reason ?? 'the attestation policy denied this TEE');
  const id = decision.id ?? defaultIdentity(claimsBeforeIssue.measurement, csr.spki);
  if (!IDENTITY_SEGMENT.test(id)) throw new KbsError('policy-denied', 'the attestation policy produced an invalid certificate id');

  if (!(await context.stores.nonces.consume(sealed.id, sealed.expiresAt))) {
    throw new KbsError('nonce-invalid', 'nonce was already used; request a new challenge');
  }
  const claims: Claims = { ...claimsBeforeIssue, iat: Math.floor(now.getTime() / 1000) };
  const ca = context.ca();
  const issued = issueClientCertificate(ca.active, {
    spki: csr.spki, trustDomain: context.trustDomain, tee: sealed.tee, id, claims, ttlSeconds: context.leafTtlSeconds, now,
  });
  await logIssuedCertificate(context, {
    serial: issued.serial, spiffe_id: issued.spiffeId, issuer_id: ca.active.id, not_before: issued.notBefore.toISOString(),
    not_after: issued.notAfter.toISOString(), tee: sealed.tee, verifier: verifier.name,
  });
  context.log.info('certificate issued', { serial: issued.serial, spiffe_id: issued.spiffeId, tee: sealed.tee, verifier: verifier.name, issuer: ca.active.id });
  await Promise.all([
    recordRequired(context, { type: 'attestation', outcome: 'success', tee: sealed.tee, verifier: verifier.name }),
    recordRequired(context, {
      type: 'issuance', serial: issued.serial, spiffe_id: issued.spiffeId, tee: sealed.tee, verifier: verifier.name, issuer: ca.active.id,
      claims_digest: digestOf(claims), not_after: issued.notAfter.toISOString(), policy_version: decision.policyVersion ?? 0,
    }),
  ]);
  return {
    certificate: issued.pem,
    chain: ca.active.certificate.pem,
    spiffe_id: issued.spiffeId,
    serial: issued.serial,
    expires_at: issued.notAfter.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    claims,
  };
}
