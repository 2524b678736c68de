/**
 * A stand-in for Azure Attestation (Microsoft.Attestation data plane, api-version 2022-08-01) on 127.0.0.1:
 * - `POST /attest/SevSnpVm?api-version=...` takes `{"report": base64url(JSON {"SnpReport", "VcekCertChain"}),
 *   "runtimeData": {"data": base64url, "dataType": "JSON"}}`; `POST /attest/TdxVm` takes `{"quote": base64url,
 *   "runtimeData": ...}`; both answer `{"token"}`, an RS256 JWT with `x-ms-attestation-type`,
 *   `x-ms-compliance-status`, `x-ms-runtime` (the runtime data as JSON) and the `x-ms-sevsnpvm-*` or `tdx_*` claims;
 * - `GET /certs` publishes the signing keys as Azure does: `kty`, `kid` and `x5c` only.
 * Like the service it refuses a report whose first 32 bytes of report data are not SHA-256 of the runtime data.
 * Reports and quotes are parsed with the broker's own parsers; their signatures are not appraised here.
 */
import { createHash, randomUUID, type KeyObject } from 'node:crypto';
import { parseSnpReport, tcbParts } from '../../src/attestation/verifiers/snp/snp-report.js';
import { parseTdxQuote } from '../../src/attestation/verifiers/tdx/tdx-quote.js';
import { makeReport, milanTcb } from '../unit/attestation/snp/fake-amd-pki.js';
import { runtimeDataBytes, ServiceSigningKeys, signToken, startStandInService, tdxQuoteBodyClaims, type ServiceReply, type ServiceRequest, type StandInService } from './token-service-standin.js';

export interface AzureMaaStandIn {
  service: StandInService;
  keys: ServiceSigningKeys;
  /** What the next tokens report; `compliance` undefined leaves the claim out, as Azure does for a non-compliant VM. */
  appraisal: { compliance: string | undefined; lifetimeSeconds: number };
  close(): Promise<void>;
}

const hex = (bytes: Buffer): string => bytes.toString('hex');

/** SEV-SNP report JSON in Azure's SevSnpVm `report` field, base64url. */
export function maaSnpReport(report: Buffer): string {
  return Buffer.from(JSON.stringify({ SnpReport: report.toString('base64url'), VcekCertChain: '' })).toString('base64url');
}

/** The first 32 bytes of report data Azure expects: SHA-256 of the runtime data bytes. */
export function maaReportData(runtimeData: Buffer): Buffer {
  return Buffer.concat([createHash('sha256').update(runtimeData).digest(), Buffer.alloc(32)]);
}

/** What an SEV-SNP VM sends in background-check: its report (signed by `vcek`) binding the runtime data. */
export function maaSnpEvidence(vcek: KeyObject, nonce: string, spki: Buffer, measurement?: Buffer): { report: string } {
  const report = makeReport({
    reportData: maaReportData(runtimeDataBytes(nonce, spki)), ...(measurement ? { measurement } : {}), reportedTcb: milanTcb({ bootloader: 4, tee: 0, snp: 22, microcode: 213 }),
  }, vcek);
  return { report: maaSnpReport(report) };
}

function snpClaims(report: Buffer): { reportData: Buffer; claims: Record<string, unknown> } {
  const parsed = parseSnpReport(report);
  const tcb = tcbParts(parsed.reportedTcb, parsed.product ?? 'Milan');
  const prefix = 'x-ms-sevsnpvm-';
  return {
    reportData: parsed.reportData,
    claims: {
      'x-ms-attestation-type': 'sevsnpvm',
      [`${prefix}authorkeydigest`]: hex(parsed.authorKeyDigest),
      [`${prefix}bootloader-svn`]: tcb.bootloader,
      [`${prefix}familyId`]: hex(parsed.familyId),
      [`${prefix}guestsvn`]: parsed.guestSvn,
      [`${prefix}hostdata`]: hex(parsed.hostData),
      [`${prefix}idkeydigest`]: hex(parsed.idKeyDigest),
      [`${prefix}imageId`]: hex(parsed.imageId),
      [`${prefix}is-debuggable`]: (parsed.policy & (1n << 19n)) !== 0n,
      [`${prefix}launchmeasurement`]: hex(parsed.measurement),
      [`${prefix}microcode-svn`]: tcb.microcode,
      [`${prefix}migration-allowed`]: (parsed.policy & (1n << 18n)) !== 0n,
      [`${prefix}reportdata`]: hex(parsed.reportData),
      [`${prefix}reportid`]: hex(parsed.reportId),
      [`${prefix}smt-allowed`]: (parsed.policy & (1n << 16n)) !== 0n,
      [`${prefix}snpfw-svn`]: tcb.snp,
      [`${prefix}tee-svn`]: tcb.tee,
      [`${prefix}vmpl`]: parsed.vmpl,
    },
  };
}

function tdxClaims(quote: Buffer): { reportData: Buffer; claims: Record<string, unknown> } {
  const { body } = parseTdxQuote(quote);
  return {
    reportData: body.reportData,
    claims: {
      'x-ms-attestation-type': 'tdxvm',
      attester_tcb_status: 'UpToDate',
      ...tdxQuoteBodyClaims(body),
    },
  };
}

function error(status: number, code: string, message: string): ServiceReply {
  return { status, json: { error: { code, message } } };
}

export async function startAzureMaaStandIn(): Promise<AzureMaaStandIn> {
  const keys = await ServiceSigningKeys.create();
  const appraisal: AzureMaaStandIn['appraisal'] = { compliance: 'azure-compliant-cvm', lifetimeSeconds: 300 };

  const attest = async (request: ServiceRequest, operation: 'SevSnpVm' | 'TdxVm'): Promise<ServiceReply> => {
    if (request.query.get('api-version') !== '2022-08-01') return error(400, 'InvalidParameter', 'unsupported api-version');
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(request.body.toString('utf8')) as Record<string, unknown>;
    } catch {
      return error(400, 'InvalidParameter', 'request body is not JSON');
    }
    const runtime = body.runtimeData as { data?: unknown; dataType?: unknown } | undefined;
    if (typeof runtime?.data !== 'string' || runtime.dataType !== 'JSON') return error(400, 'InvalidParameter', 'runtimeData of type JSON is required');
    const runtimeData = Buffer.from(runtime.data, 'base64url');
    let appraised: { reportData: Buffer; claims: Record<string, unknown> };
    try {
      if (operation === 'SevSnpVm') {
        const report = JSON.parse(Buffer.from(String(body.report), 'base64url').toString('utf8')) as { SnpReport?: string };
        appraised = snpClaims(Buffer.from(String(report.SnpReport), 'base64url'));
      } else {
        appraised = tdxClaims(Buffer.from(String(body.quote), 'base64url'));
      }
    } catch {
      return error(400, 'InvalidParameter', 'the report does not parse');
    }
    if (!appraised.reportData.subarray(0, 32).equals(maaReportData(runtimeData).subarray(0, 32))) {
      return error(400, 'InvalidParameter', 'report data does not hold the hash of the runtime data');
    }
    const now = Math.floor(Date.now() / 1000);
    const claims = {
      ...appraised.claims,
      ...(appraisal.compliance !== undefined ? { 'x-ms-compliance-status': appraisal.compliance } : {}),
      'x-ms-runtime': JSON.parse(runtimeData.toString('utf8')) as unknown,
      'x-ms-policy-hash': createHash('sha256').update('default policy').digest('base64url'),
      'x-ms-ver': '1.0',
      iss: service.url,
      iat: now,
      nbf: now,
      exp: now + appraisal.lifetimeSeconds,
      jti: randomUUID(),
    };
    return { json: { token: await signToken(claims, keys.current, 'RS256', { jku: `${service.url}/certs` }) } };
  };

  const service = await startStandInService((request) => {
    if (request.method === 'GET' && request.path === '/certs') return { json: keys.jwks({ withModulus: false }) };
    if (request.method === 'POST' && request.path === '/attest/SevSnpVm') return attest(request, 'SevSnpVm');
    if (request.method === 'POST' && request.path === '/attest/TdxVm') return attest(request, 'TdxVm');
    return error(404, 'NotFound', 'not found');
  });

  return { service, keys, appraisal, close: () => service.close() };
}
