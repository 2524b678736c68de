import type { JWTPayload } from 'jose';
import { KbsError } from '../../domain/errors.js';
import { readEarToken } from './coco-as-claims.js';
import type { ServiceAdapter, ServiceConnection, TokenReading, TokenRequest } from './service-adapter.js';
import { serviceRefusal } from './token-answer.js';
import { COMPACT_JWS } from './token-verification.js';

/**
 * Trustee's RESTful CoCo attestation service. Background-check: `POST /attestation` with the evidence (JSON text,
 * base64url), the runtime data as `structured` (the service hashes its RFC 8785 form with SHA-384 and compares it
 * with the report data, then copies it into the token) and the configured `policy_ids`; the answer is the EAR token.
 */
export const cocoAsAdapter: ServiceAdapter = {
  algorithms: ['ES256'],
  async requestToken(service: ServiceConnection, { tee, evidence, runtimeData }: TokenRequest): Promise<string> {
    if (evidence === undefined || evidence === null) throw new KbsError('bad-evidence-format', 'evidence is required');
    const evidenceText = typeof evidence === 'string' ? evidence : JSON.stringify(evidence);
    const body = {
      tee,
      evidence: Buffer.from(evidenceText, 'utf8').toString('base64url'),
      runtime_data: { structured: runtimeData },
      runtime_data_hash_algorithm: 'sha384',
      ...(service.config.policyIds.length > 0 ? { policy_ids: service.config.policyIds } : {}),
    };
    const response = await service.http.request(`${service.url}/attestation`, {
      method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/jwt, text/plain' }, body: JSON.stringify(body),
    });
    if (response.status !== 200) throw serviceRefusal(service, response, 'evidence');
    // The RESTful service answers the bare token text.
    const token = response.body.trim();
    if (!COMPACT_JWS.test(token)) throw new KbsError('verifier-unavailable', `attestation service "${service.config.name}" answered something that is not a token`);
    return token;
  },
  readToken(payload: JWTPayload, tee: string): TokenReading {
    return readEarToken(payload, tee);
  },
};
