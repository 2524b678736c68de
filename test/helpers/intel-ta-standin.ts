/**
 * A stand-in for Intel Trust Authority's appraisal API v2 on 127.0.0.1, following Intel's documented formats:
 * - `GET /appraisal/v2/nonce` with `x-api-key` answers a signed nonce `{"val", "iat", "signature"}` (base64);
 * - `POST /appraisal/v2/attest` with `x-api-key` takes `{"tdx": {"quote", "runtime_data", "verifier_nonce", ...},
 *   "policy_ids"?, "token_signing_alg"?}` and answers `{"token"}`: a PS384 (or RS256 when asked) JWT whose TDX
 *   claims are nested under `tdx`, with `attester_runtime_data` holding the runtime data when it is JSON;
 * - `GET /certs` publishes the token-signing keys (JWKS with `n`, `e`, `alg` and `x5c`).
 * Like the real service it refuses a nonce it did not sign and a quote whose REPORTDATA is not
 * SHA-512(val ‖ iat ‖ runtime_data). The quote is parsed with the broker's own TDX parser; its signature chain is
 * not appraised here (the broker never sees that step of the real service either).
 */
import { createHash, generateKeyPairSync, randomBytes, randomUUID, sign, verify, type KeyObject } from 'node:crypto';
import { parseTdxQuote, type TdxQuote } from '../../src/attestation/verifiers/tdx/tdx-quote.js';
import { makeTdxQuote, type FakeIntelPki } from '../unit/attestation/tdx/fake-intel-pki.js';
import { runtimeDataBytes, ServiceSigningKeys, signToken, startStandInService, tdxQuoteBodyClaims, type ServiceReply, type ServiceRequest, type StandInService } from './token-service-standin.js';

export interface ItaNonce {
  val: string;
  iat: string;
  signature: string;
}

export interface IntelTaStandIn {
  service: StandInService;
  apiKey: string;
  /** One signing key per token algorithm, each published with its `alg`. */
  keys: { PS384: ServiceSigningKeys; RS256: ServiceSigningKeys };
  /** What the next tokens report; tests change it between calls. */
  appraisal: { tcbStatus: string; policyIdsUnmatched: string[]; lifetimeSeconds: number };
  /** The payload the service would sign for this quote (passport tests re-sign variants of it). */
  claimsFor(quote: Buffer, runtimeData: Buffer, nonce: ItaNonce): Record<string, unknown>;
  close(): Promise<void>;
}

const ISSUER = 'Intel Trust Authority';
const hex = (bytes: Buffer): string => bytes.toString('hex');

/** REPORTDATA of a TD attested with Intel Trust Authority v2: SHA-512(nonce val ‖ nonce iat ‖ runtime data). */
export function itaReportData(nonce: ItaNonce, runtimeData: Buffer): Buffer {
  return createHash('sha512').update(Buffer.from(nonce.val, 'base64')).update(Buffer.from(nonce.iat, 'base64')).update(runtimeData).digest();
}

/** What a TD sends in background-check: its quote over Intel's nonce and the runtime data, and that nonce. */
export function itaEvidence(pki: FakeIntelPki, itaNonce: ItaNonce, nonce: string, spki: Buffer, mrTd?: Buffer): { quote: string; verifier_nonce: ItaNonce } {
  const quote = makeTdxQuote(pki, { ...(mrTd ? { mrTd } : {}), reportData: itaReportData(itaNonce, runtimeDataBytes(nonce, spki)) });
  return { quote: quote.toString('base64'), verifier_nonce: itaNonce };
}

function nonceSigned(nonce: ItaNonce, key: KeyObject): boolean {
  const signed = Buffer.concat([Buffer.from(nonce.val, 'base64'), Buffer.from(nonce.iat, 'base64')]);
  return verify('sha384', signed, { key, padding: 6 /* RSA_PKCS1_PSS_PADDING */, saltLength: 48 }, Buffer.from(nonce.signature, 'base64'));
}

function isNonce(value: unknown): value is ItaNonce {
  const record = value as Record<string, unknown> | null;
  return typeof record === 'object' && record !== null && ['val', 'iat', 'signature'].every((field) => typeof record[field] === 'string');
}

function tdxClaims(quote: TdxQuote): Record<string, unknown> {
  const body = quote.body;
  const debug = (body.tdAttributes[0]! & 1) === 1;
  return {
    ...tdxQuoteBodyClaims(body),
    tdx_seam_attributes: hex(body.seamAttributes),
    tdx_is_debuggable: debug,
    tdx_seamsvn: body.teeTcbSvn.readUInt16LE(0),
  };
}

export async function startIntelTaStandIn(): Promise<IntelTaStandIn> {
  const apiKey = randomBytes(24).toString('base64url');
  const nonceKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  const keys = { PS384: await ServiceSigningKeys.create(), RS256: await ServiceSigningKeys.create() };
  const appraisal = { tcbStatus: 'UpToDate', policyIdsUnmatched: [] as string[], lifetimeSeconds: 300 };

  const claimsFor = (quoteBytes: Buffer, runtimeData: Buffer, nonce: ItaNonce): Record<string, unknown> => {
    let runtimeJson: unknown;
    try {
      runtimeJson = JSON.parse(runtimeData.toString('utf8'));
    } catch {
      runtimeJson = undefined;
    }
    const now = Math.floor(Date.now() / 1000);
    return {
      tdx: {
        ...tdxClaims(parseTdxQuote(quoteBytes)),
        attester_tcb_status: appraisal.tcbStatus,
        attester_tcb_date: '2025-11-12T00:00:00Z',
        attester_advisory_ids: appraisal.tcbStatus === 'UpToDate' ? [] : ['INTEL-SA-00837'],
        attester_type: 'TDX',
        ...(runtimeJson !== undefined ? { attester_runtime_data: runtimeJson } : { attester_held_data: runtimeData.toString('base64') }),
        verifier_nonce: nonce,
        pce_svn: 13,
        tdx_collateral: { qeidcerthash: hex(randomBytes(32)), qeidcrlhash: hex(randomBytes(32)), quotehash: hex(createHash('sha256').update(quoteBytes).digest()) },
      },
      policy_ids_matched: [],
      policy_ids_unmatched: appraisal.policyIdsUnmatched.map((id) => ({ id, version: 'v1' })),
      ver: '2.0.0',
      exp: now + appraisal.lifetimeSeconds,
      iat: now,
      nbf: now,
      iss: ISSUER,
      jti: randomUUID(),
    };
  };

  const authorized = (request: ServiceRequest): boolean => request.headers['x-api-key'] === apiKey;
  const refuse = (status: number, error: string): ServiceReply => ({ status, json: { error } });

  const attest = async (request: ServiceRequest): Promise<ServiceReply> => {
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(request.body.toString('utf8')) as Record<string, unknown>;
    } catch {
      return refuse(400, 'request body is not JSON');
    }
    const tdx = body.tdx as Record<string, unknown> | undefined;
    if (typeof tdx !== 'object' || tdx === null || typeof tdx.quote !== 'string') return refuse(400, 'tdx.quote is required');
    if (!isNonce(tdx.verifier_nonce) || !nonceSigned(tdx.verifier_nonce, nonceKey)) return refuse(400, 'verifier nonce is invalid');
    const quote = Buffer.from(tdx.quote, 'base64');
    const runtimeData = Buffer.from(typeof tdx.runtime_data === 'string' ? tdx.runtime_data : '', 'base64');
    let reportData: Buffer;
    try {
      reportData = parseTdxQuote(quote).body.reportData;
    } catch {
      return refuse(400, 'quote does not parse');
    }
    if (!reportData.equals(itaReportData(tdx.verifier_nonce, runtimeData))) return refuse(400, 'report data does not match the nonce and runtime data');
    const alg = body.token_signing_alg === 'RS256' ? 'RS256' : 'PS384';
    return { json: { token: await signToken(claimsFor(quote, runtimeData, tdx.verifier_nonce), keys[alg].current, alg, { jku: `${service.url}/certs` }) } };
  };

  const service = await startStandInService(async (request) => {
    if (request.method === 'GET' && request.path === '/certs') {
      return { json: { keys: [...keys.PS384.jwks({ withModulus: true, alg: 'PS384' }).keys, ...keys.RS256.jwks({ withModulus: true, alg: 'RS256' }).keys] } };
    }
    if (!authorized(request)) return refuse(401, 'invalid api key');
    if (request.method === 'GET' && request.path === '/appraisal/v2/nonce') {
      const val = randomBytes(64);
      const iat = Buffer.from(new Date().toISOString());
      const signature = sign('sha384', Buffer.concat([val, iat]), { key: nonceKey, padding: 6, saltLength: 48 });
      return { json: { val: val.toString('base64'), iat: iat.toString('base64'), signature: signature.toString('base64') } };
    }
    if (request.method === 'POST' && request.path === '/appraisal/v2/attest') return attest(request);
    return refuse(404, 'not found');
  });

  return { service, apiKey, keys, appraisal, claimsFor, close: () => service.close() };
}
