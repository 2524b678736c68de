import type { JWTPayload } from 'jose';
import { KbsError } from '../../domain/errors.js';
import { canonicalJson } from '../../domain/canonical-json.js';
import { AZURE_MAA_TEES, azureMaaClaims, type AzureMaaTee } from './azure-maa-claims.js';
import type { ServiceAdapter, ServiceConnection, TokenReading, TokenRequest } from './service-adapter.js';
import { tokenOfAnswer } from './token-answer.js';
import { isRecord } from '../../domain/json-record.js';

/** The REST API version keybroker speaks (Microsoft.Attestation data plane). */
export const MAA_API_VERSION = '2022-08-01';

/**
 * Background-check per TEE: the attest operation and the evidence field it takes. The vTPM TEEs (`az-*-vtpm`) are
 * attested by the guest itself (guest attestation), so they come as passport tokens only.
 */
const ATTEST_OPERATIONS: Partial<Record<AzureMaaTee, { operation: string; field: 'report' | 'quote' }>> = {
  snp: { operation: 'SevSnpVm', field: 'report' },
  tdx: { operation: 'TdxVm', field: 'quote' },
};

const BASE64URL = /^[A-Za-z0-9_-]+={0,2}$/;
const MAX_EVIDENCE_CHARS = 256 * 1024;

function requireTee(tee: string): AzureMaaTee {
  if (!(AZURE_MAA_TEES as string[]).includes(tee)) throw new KbsError('unsupported-tee', `Azure Attestation does not appraise TEE "${tee}"`);
  return tee as AzureMaaTee;
}

/**
 * The evidence a TEE submits for Azure Attestation (background-check), in the attest operation's own terms:
 * `{"report": "<base64url>"}` for SEV-SNP (the report JSON Azure takes, with `SnpReport` and `VcekCertChain`) and
 * `{"quote": "<base64url>"}` for TDX. The first 32 bytes of the report data must be SHA-256 of the runtime data of
 * PROTOCOL.md 1.2 in RFC 8785 form, which is what Azure checks.
 */
function readEvidence(evidence: unknown, field: 'report' | 'quote'): string {
  const value = isRecord(evidence) ? evidence[field] : undefined;
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_EVIDENCE_CHARS || !BASE64URL.test(value)) {
    throw new KbsError('bad-evidence-format', `Azure Attestation evidence must be an object with "${field}" in base64url`);
  }
  return value.replace(/=+$/, '');
}

/** Azure Attestation (`type = "azure-maa"`): RS256 tokens, keys at `/certs` (a JWKS whose keys are given by `x5c`). */
export const azureMaaAdapter: ServiceAdapter = {
  algorithms: ['RS256'],
  jwksPath: '/certs',

  async requestToken(service: ServiceConnection, request: TokenRequest): Promise<string> {
    const tee = requireTee(request.tee);
    const attest = ATTEST_OPERATIONS[tee];
    if (!attest) throw new KbsError('bad-request', `Azure Attestation attests TEE "${tee}" through the guest: submit its token (passport)`);
    const body = {
      [attest.field]: readEvidence(request.evidence, attest.field),
      runtimeData: { data: Buffer.from(canonicalJson(request.runtimeData), 'utf8').toString('base64url'), dataType: 'JSON' },
    };
    const response = await service.http.request(`${service.url}/attest/${attest.operation}?api-version=${MAA_API_VERSION}`, {
      method: 'POST', headers: { accept: 'application/json', 'content-type': 'application/json' }, body: JSON.stringify(body),
    });
    return tokenOfAnswer(service, response);
  },

  readToken(payload: JWTPayload, tee: string): TokenReading {
    return azureMaaClaims(payload, requireTee(tee));
  },
};
