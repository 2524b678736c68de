/** Leaf certificates and `openssl verify -crl_check`, for the CRL and PKCS#11 tests. */
import type { Claims } from '../../../src/domain/claims.js';
import { issueClientCertificate, type IssuedCertificate, type SigningAuthority } from '../../../src/pki/certificate-profiles.js';
import { derToPem } from '../../../src/pki/pem.js';
import { ecKey, epochSeconds, NOW, openssl, spkiOf, TRUST_DOMAIN, writeTemp } from './helpers.js';

const claims: Claims = {
  v: 1, tee: 'sample', verifier: 'builtin', status: 'affirming', tcb_status: 'unknown', measurement: 'cd'.repeat(32),
  trust_vector: { hardware: 0, executables: 0, configuration: 0 }, tee_claims: {}, iat: 1764410000,
};

export function leafOf(issuer: SigningAuthority, now = NOW): IssuedCertificate {
  return issueClientCertificate(issuer, { spki: spkiOf(ecKey()), trustDomain: TRUST_DOMAIN, tee: 'sample', id: '0123456789abcdef', claims, ttlSeconds: 600, now });
}

/** `openssl verify -crl_check` of `leaf` against root + issuer and the CRL, at `at`. */
export async function verifyWithCrl(dir: string, chainPem: string, crlDer: Buffer, leaf: IssuedCertificate, at: Date): Promise<{ code: number; output: string }> {
  const chain = await writeTemp(dir, 'chain.pem', chainPem);
  const crl = await writeTemp(dir, 'crl.pem', derToPem(crlDer, 'X509 CRL'));
  const leafFile = await writeTemp(dir, `leaf-${leaf.serial}.pem`, leaf.pem);
  const result = await openssl(['verify', '-crl_check', '-attime', epochSeconds(at), '-CAfile', chain, '-CRLfile', crl, leafFile]);
  return { code: result.code, output: result.stdout + result.stderr };
}

