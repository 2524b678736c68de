import { KbsError } from '../../domain/errors.js';
import type { VerifiedEvidence, Verifier } from '../verifier.js';

const BASE64_STANDARD = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const HEX = /^(?:[0-9a-fA-F]{2}){1,64}$/;

/**
 * The `sample` TEE: evidence `{"svn": "1", "report_data": "<base64>", "measurement"?: "<hex>"}`, as trustee's
 * sample attester sends it. It proves nothing about hardware; it exists for development and tests only.
 */
export function sampleVerifier(name = 'builtin'): Verifier {
  return {
    name,
    tees: ['sample'],
    async verify(_tee: string, evidence: unknown): Promise<VerifiedEvidence> {
      if (typeof evidence !== 'object' || evidence === null || Array.isArray(evidence)) {
        throw new KbsError('bad-evidence-format', 'sample evidence must be a JSON object');
      }
      const { svn, report_data: reportDataText, measurement } = evidence as Record<string, unknown>;
      if (typeof svn !== 'string' || !/^\d{1,9}$/.test(svn)) throw new KbsError('bad-evidence-format', 'sample evidence "svn" must be a decimal string');
      if (typeof reportDataText !== 'string' || !BASE64_STANDARD.test(reportDataText)) {
        throw new KbsError('bad-evidence-format', 'sample evidence "report_data" must be standard padded base64');
      }
      const reportData = Buffer.from(reportDataText, 'base64');
      if (reportData.length !== 64 && reportData.length !== 32 && reportData.length !== 48) {
        throw new KbsError('bad-evidence-format', `sample evidence "report_data" must decode to 32, 48 or 64 bytes, not ${reportData.length}`);
      }
      if (measurement !== undefined && (typeof measurement !== 'string' || !HEX.test(measurement))) {
        throw new KbsError('bad-evidence-format', 'sample evidence "measurement" must be hex (at most 64 bytes)');
      }
      return {
        reportData,
        claims: {
          v: 1,
          tee: 'sample',
          verifier: name,
          status: 'affirming',
          tcb_status: 'unknown',
          ...(typeof measurement === 'string' ? { measurement: measurement.toLowerCase() } : {}),
          // The sample TEE makes no hardware claim; the trust vector says so (0 = no claim).
          trust_vector: { hardware: 0, executables: 0, configuration: 0 },
          tee_claims: { svn, report_data: reportData.toString('hex') },
        },
      };
    },
  };
}
