/** Claims and requests for policy tests, written from PROTOCOL.md 1.4 and 1.7. */
import type { AttestationStatus, Claims } from '../../../src/domain/claims.js';
import type { BrokerFacts } from '../../../src/policy/cel-expression.js';
import type { ResourceRequest } from '../../../src/policy/policy.js';

export const DEV: BrokerFacts = { devMode: true, sampleEnabled: true };
export const PRODUCTION: BrokerFacts = { devMode: false, sampleEnabled: false };

export function claimsFor(tee: string, options: { status?: AttestationStatus; measurement?: string } = {}): Claims {
  return {
    v: 1, tee, verifier: 'builtin', status: options.status ?? 'affirming', tcb_status: 'UpToDate',
    ...(options.measurement ? { measurement: options.measurement } : {}),
    trust_vector: { hardware: 2, executables: 2, configuration: 2 }, tee_claims: { svn: '1', policy: { debug: false } }, iat: 1764410000,
  };
}

export function requestFor(path: string, claims: Claims = claimsFor('snp')): ResourceRequest {
  const [repository = '', type = '', tag = ''] = path.split('/');
  return {
    claims,
    resource: { repository, type, tag, path },
    client: { spiffe_id: `spiffe://keybroker.test/tee/${claims.tee}/abc`, serial: '0a1b', not_after: '2026-12-01T00:00:00.000Z' },
  };
}

/** The detail of the KbsError `action` throws; fails when it throws nothing or something else. */
export function badRequestDetail(action: () => unknown): string {
  try {
    action();
  } catch (error) {
    const failure = error as { name?: string; code?: string; detail?: string };
    if (failure.name !== 'KbsError' || failure.code !== 'bad-request') throw new Error(`expected KbsError bad-request, got ${String(error)}`);
    return failure.detail ?? '';
  }
  throw new Error('expected a bad-request, but nothing was thrown');
}
