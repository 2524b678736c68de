import type { JWTPayload } from 'jose';
import { KbsError } from '../../domain/errors.js';
import { canonicalJson } from '../../domain/canonical-json.js';
import { INTEL_TA_TEES, intelTaClaims, type IntelTaTee } from './intel-ta-claims.js';
import { ServiceHttp } from './service-http.js';
import type { ServiceAdapter, ServiceConnection, TokenReading, TokenRequest } from './service-adapter.js';
import { serviceRefusal, tokenOfAnswer } from './token-answer.js';
import { isRecord } from '../../domain/json-record.js';

/** Intel's signed nonce, as `GET /appraisal/v2/nonce` answers it and `/appraisal/v2/attest` takes it back (base64 fields). */
export interface ItaVerifierNonce {
  val: string;
  iat: string;
  signature: string;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const MAX_QUOTE_CHARS = 256 * 1024;

function isVerifierNonce(value: unknown): value is ItaVerifierNonce {
  return isRecord(value) && ['val', 'iat', 'signature'].every((field) => typeof value[field] === 'string' && BASE64.test(value[field] as string));
}

function requireTee(tee: string): IntelTaTee {
  if (!(INTEL_TA_TEES as string[]).includes(tee)) throw new KbsError('unsupported-tee', `Intel Trust Authority does not appraise TEE "${tee}"`);
  return tee as IntelTaTee;
}

/**
 * The evidence a TEE submits for Intel Trust Authority (background-check): `{"quote": "<base64 quote>",
 * "verifier_nonce": {...}}`, the quote's REPORTDATA being SHA-512(val ‖ iat ‖ runtime data) with the
 * `verifier_nonce` of its challenge and the runtime data of PROTOCOL.md 1.2 in RFC 8785 form.
 */
function readEvidence(evidence: unknown): { quote: string; verifierNonce: ItaVerifierNonce } {
  if (!isRecord(evidence)) throw new KbsError('bad-evidence-format', 'Intel Trust Authority evidence must be a JSON object');
  const { quote, verifier_nonce: verifierNonce } = evidence;
  if (typeof quote !== 'string' || quote.length === 0 || quote.length > MAX_QUOTE_CHARS || !BASE64.test(quote)) {
    throw new KbsError('bad-evidence-format', 'Intel Trust Authority evidence "quote" must be standard padded base64');
  }
  if (!isVerifierNonce(verifierNonce)) {
    throw new KbsError('bad-evidence-format', 'Intel Trust Authority evidence "verifier_nonce" must be the challenge\'s verifier_nonce {"val", "iat", "signature"}');
  }
  return { quote, verifierNonce };
}

function requireApiKey(service: ServiceConnection): string {
  if (service.apiKey === undefined) throw new KbsError('verifier-unavailable', `attestation service "${service.config.name}" has no API key configured`);
  return service.apiKey;
}

function headers(apiKey: string): Record<string, string> {
  return { 'x-api-key': apiKey, accept: 'application/json', 'content-type': 'application/json' };
}

/**
 * Intel Trust Authority, appraisal API v2 (`type = "intel-ta"`): TDX and SGX quotes. Tokens are PS384 (Intel's
 * default) or RS256, keys at `/certs`. The service's nonce goes to the TEE through `/kbs/v1/challenge`
 * (`verifier_nonce`) and comes back inside the evidence.
 */
export const intelTaAdapter: ServiceAdapter = {
  algorithms: ['PS384', 'RS256'],
  jwksPath: '/certs',

  async fetchNonce(service: ServiceConnection, tee: string): Promise<unknown> {
    requireTee(tee);
    const response = await service.http.request(`${service.url}/appraisal/v2/nonce`, { headers: headers(requireApiKey(service)) });
    if (response.status === 401 || response.status === 403) throw serviceRefusal(service, response, 'nonce request');
    // The TEE sent nothing yet: any other failure to hand out a nonce is the service's.
    if (response.status !== 200) throw new KbsError('verifier-unavailable', `attestation service "${service.config.name}" answered HTTP ${response.status} to the nonce request`);
    const nonce = ServiceHttp.json(response, service.config.name);
    if (!isVerifierNonce(nonce)) throw new KbsError('verifier-unavailable', `attestation service "${service.config.name}" answered a nonce without val, iat and signature`);
    return { val: nonce.val, iat: nonce.iat, signature: nonce.signature };
  },

  async requestToken(service: ServiceConnection, request: TokenRequest): Promise<string> {
    const tee = requireTee(request.tee);
    const { quote, verifierNonce } = readEvidence(request.evidence);
    const body = {
      [tee]: {
        quote,
        runtime_data: Buffer.from(canonicalJson(request.runtimeData), 'utf8').toString('base64'),
        verifier_nonce: verifierNonce,
      },
      ...(service.config.policyIds.length > 0 ? { policy_ids: service.config.policyIds } : {}),
    };
    const response = await service.http.request(`${service.url}/appraisal/v2/attest`, {
      method: 'POST', headers: headers(requireApiKey(service)), body: JSON.stringify(body),
    });
    return tokenOfAnswer(service, response);
  },

  readToken(payload: JWTPayload, tee: string): TokenReading {
    return intelTaClaims(payload, requireTee(tee));
  },
};
