/** Group 1: client certificates issued per second in-process, against raw node:crypto ECDSA P-256 signing. */
import { generateKeyPairSync, sign } from 'node:crypto';
import { join } from 'node:path';
import type { Claims } from '../../src/domain/claims.js';
import { initCertificateAuthority } from '../../src/pki/ca-home.js';
import { issueClientCertificate } from '../../src/pki/certificate-profiles.js';
import { createCsr, generateClientKey } from '../../src/pki/create-csr.js';
import { verifyCsr } from '../../src/pki/csr.js';
import type { BenchRow } from '../report.js';
import { measureSync, summarizeLatencies } from '../stats.js';

const GROUP = '1. issuance (in-process)';

export async function benchIssuance(workDir: string, seconds: number): Promise<BenchRow[]> {
  const ca = await initCertificateAuthority(join(workDir, 'ca'), { trustDomain: 'keybroker.local', rootTtlSeconds: 86400 * 3650, issuerTtlSeconds: 86400 * 365, serverTtlSeconds: 86400 * 90 });
  const signingKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  // About the size of a client certificate's to-be-signed part.
  const toBeSigned = Buffer.alloc(600, 7);
  const csr = createCsr(generateClientKey('ec-p256'));
  const claims: Claims = {
    v: 1, tee: 'sample', verifier: 'builtin', status: 'affirming', tcb_status: 'unknown',
    trust_vector: { hardware: 0, executables: 0, configuration: 0 }, tee_claims: { svn: '1', report_data: 'ab'.repeat(64) }, iat: 1,
  };
  const issue = (spki: Buffer): void => {
    issueClientCertificate(ca.active, { spki, trustDomain: 'keybroker.local', tee: 'sample', id: '0123456789abcdef', claims, ttlSeconds: 600, now: new Date() });
  };

  const raw = measureSync(() => sign('sha256', toBeSigned, { key: signingKey, dsaEncoding: 'der' }), seconds);
  const baseline = { name: 'raw node:crypto ECDSA P-256 sign', per_second: raw.per_second };
  const measured: Array<[string, () => void]> = [
    ['issue client certificate (CSR check excluded)', () => issue(csr.spki)],
    ['issue client certificate (CSR check included)', () => issue(verifyCsr(csr.pem).spki)],
  ];
  const rows: BenchRow[] = [{ group: GROUP, name: 'raw node:crypto ECDSA P-256 sign (baseline)', per_second: raw.per_second, ...summarizeLatencies(raw.latencies_ms) }];
  for (const [name, operation] of measured) {
    const result = measureSync(operation, seconds);
    rows.push({ group: GROUP, name, per_second: result.per_second, ...summarizeLatencies(result.latencies_ms), baseline, ratio: result.per_second / raw.per_second, target: 0.25 });
  }
  return rows;
}
