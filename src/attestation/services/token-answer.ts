import { KbsError } from '../../domain/errors.js';
import type { ServiceConnection } from './service-adapter.js';
import { ServiceHttp, type ServiceResponse } from './service-http.js';
import { isRecord } from '../../domain/json-record.js';

/**
 * A 4xx from a service: 401 and 403 refuse the broker's own credentials (a configuration fault, 502); any other
 * refusal is about what the TEE submitted (403 `attestation-failed`). The service's body is not repeated.
 */
export function serviceRefusal(service: ServiceConnection, response: ServiceResponse, what: string): KbsError {
  if (response.status === 401 || response.status === 403) {
    return new KbsError('verifier-unavailable', `attestation service "${service.config.name}" refused the broker's credentials (HTTP ${response.status})`);
  }
  return new KbsError('attestation-failed', `attestation service "${service.config.name}" refused the ${what} (HTTP ${response.status})`);
}

/** The JSON answer `{"token": "<JWT>"}` of an attest call (Intel Trust Authority, Azure Attestation). */
export function tokenOfAnswer(service: ServiceConnection, response: ServiceResponse): string {
  if (response.status !== 200) throw serviceRefusal(service, response, 'evidence');
  const answer = ServiceHttp.json(response, service.config.name);
  if (!isRecord(answer) || typeof answer.token !== 'string') throw new KbsError('verifier-unavailable', `attestation service "${service.config.name}" answered no token`);
  return answer.token;
}
