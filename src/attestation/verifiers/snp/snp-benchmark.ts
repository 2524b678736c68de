import { readFile } from 'node:fs/promises';
import { verify } from 'node:crypto';
import { join } from 'node:path';
import { parseSnpReport, SNP_SIGNED_SIZE } from './snp-report.js';
import { parseAmdCertificates, verifySnpEvidence, type SnpVerifyContext } from './snp-verifier.js';

export interface SnpBenchmark {
  /** One full verification of a real report (signature, chain, TCB, hwID, claims) with its certificates already cached. */
  verifyOnce(): Promise<void>;
  /** The bare node:crypto ECDSA P-384 verification of the same report: the floor to compare against. */
  rawVerifyOnce(): void;
}

/**
 * For `npm run bench`: trustee's Milan test report (`<vectorsDir>/snp/test-report.bin`, its VCEK and the Milan AMD
 * bundle) verified as of 2025-07-01, the certificates parsed and the chain checked once before measuring.
 */
export async function prepareSnpBenchmark(vectorsDir: string): Promise<SnpBenchmark> {
  const read = (name: string) => readFile(join(vectorsDir, 'snp', name));
  const [report, vcek, bundle] = await Promise.all([read('test-report.bin'), read('test-vcek.der'), read('milan_ask_ark_asvk.pem')]);
  const context: SnpVerifyContext = {
    name: 'builtin', now: new Date('2025-07-01T00:00:00Z'), allowDebug: false, maxVmpl: 0, extraArkSha256: [],
    certificates: [...parseAmdCertificates(vcek, 'VCEK'), ...parseAmdCertificates(bundle, 'Milan bundle')],
  };
  const evidence = { attestation_report: report.toString('base64') };
  await verifySnpEvidence(evidence, context);
  const parsed = parseSnpReport(report);
  const [leaf] = context.certificates;
  return {
    verifyOnce: async () => { await verifySnpEvidence(evidence, context); },
    rawVerifyOnce: () => {
      if (!verify('sha384', report.subarray(0, SNP_SIGNED_SIZE), { key: leaf!.publicKey, dsaEncoding: 'ieee-p1363' }, parsed.signature)) throw new Error('benchmark report does not verify');
    },
  };
}
