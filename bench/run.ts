import { generateKeyPairSync, sign } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { initCertificateAuthority } from '../src/pki/ca-home.js';
import { issueClientCertificate } from '../src/pki/certificate-profiles.js';
import { createCsr, generateClientKey } from '../src/pki/create-csr.js';
import { verifyCsr } from '../src/pki/csr.js';
import type { Claims } from '../src/domain/claims.js';

/** Runs `operation` repeatedly for about `seconds` and returns operations per second. */
function rate(operation: () => void, seconds = 2): number {
  for (let warm = 0; warm < 200; warm++) operation();
  const started = process.hrtime.bigint();
  const deadline = started + BigInt(Math.round(seconds * 1e9));
  let count = 0;
  let now = started;
  while (now < deadline) {
    for (let batch = 0; batch < 50; batch++) operation();
    count += 50;
    now = process.hrtime.bigint();
  }
  return count / (Number(now - started) / 1e9);
}

async function main(): Promise<void> {
  const home = await mkdtemp(join(tmpdir(), 'keybroker-bench-'));
  try {
    const ca = await initCertificateAuthority(join(home, 'ca'), { trustDomain: 'keybroker.local', rootTtlSeconds: 86400 * 3650, issuerTtlSeconds: 86400 * 365, serverTtlSeconds: 86400 * 90 });
    const signingKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    const toBeSigned = Buffer.alloc(600, 7);
    const csr = createCsr(generateClientKey('ec-p256'));
    const claims: Claims = {
      v: 1, tee: 'sample', verifier: 'builtin', status: 'affirming', tcb_status: 'unknown',
      trust_vector: { hardware: 0, executables: 0, configuration: 0 }, tee_claims: { svn: '1', report_data: 'ab'.repeat(64) }, iat: 1,
    };
    const issue = (spki: Buffer): void => {
      issueClientCertificate(ca.active, { spki, trustDomain: 'keybroker.local', tee: 'sample', id: '0123456789abcdef', claims, ttlSeconds: 600, now: new Date() });
    };

    const rawSign = rate(() => sign('sha256', toBeSigned, { key: signingKey, dsaEncoding: 'der' }));
    const issuance = rate(() => issue(csr.spki));
    const issuanceWithCsr = rate(() => issue(verifyCsr(csr.pem).spki));
    const rows = [
      { name: 'raw node:crypto ECDSA P-256 sign (baseline)', per_second: rawSign, ratio: 1 },
      { name: 'issue client certificate (CSR check excluded)', per_second: issuance, ratio: issuance / rawSign },
      { name: 'issue client certificate (CSR check included)', per_second: issuanceWithCsr, ratio: issuanceWithCsr / rawSign },
    ];
    const machine = { cores: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', node: process.version, openssl: process.versions.openssl };
    process.stdout.write(`machine: ${machine.cores} cores, ${machine.cpu}, node ${machine.node}, OpenSSL ${machine.openssl}\n`);
    for (const row of rows) process.stdout.write(`${row.name.padEnd(50)} ${row.per_second.toFixed(0).padStart(9)}/s  ratio ${row.ratio.toFixed(3)}\n`);
    await writeFile(join(process.cwd(), 'bench', 'results.json'), `${JSON.stringify({ machine, issuance: rows }, null, 2)}\n`);
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}

await main();
