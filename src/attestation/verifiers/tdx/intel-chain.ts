import { X509Certificate } from 'node:crypto';
import { KbsError, type ErrorCode } from '../../../domain/errors.js';
import { pemBlocks } from '../../../pki/pem.js';

/**
 * SHA-256 of the DER of the Intel SGX Root CA (CN=Intel SGX Root CA, valid 2018-05-21 to 2049-12-31), which
 * anchors PCK certificates and the TCB signing chain. Pinned: a root that arrives inside evidence or collateral
 * is trusted only when its fingerprint is on the list.
 */
export const INTEL_SGX_ROOT_CA_SHA256 = '44a0196b2b99f889b8e149e95b807a350e7424964399e885a7cbb8ccfab674d3';

/** Lowercase hex SHA-256 of the certificate's DER, the form fingerprints are pinned in. */
export function fingerprintOf(certificate: X509Certificate): string {
  return certificate.fingerprint256.replace(/:/g, '').toLowerCase();
}

/** The certificates of a PEM chain, leaf first; a block that is not a certificate makes the chain malformed. */
export function readPemChain(pem: string, what: string, code: ErrorCode = 'bad-evidence-format'): X509Certificate[] {
  const blocks = pemBlocks(pem).filter((block) => block.label === 'CERTIFICATE');
  if (blocks.length === 0) throw new KbsError(code, `${what}: no certificate`);
  return blocks.map((block, index) => {
    try {
      return new X509Certificate(block.der);
    } catch {
      throw new KbsError(code, `${what}: certificate ${index} is not valid DER`);
    }
  });
}

/**
 * Checks a chain leaf → ... → root: each certificate is signed by the next, every issuer is a CA, and the last is
 * self-signed with a pinned fingerprint. Validity dates are not checked here (see `chainValidity`), so a chain can
 * be checked once and its window compared with each verification time.
 */
export function verifyChainSignatures(chain: readonly X509Certificate[], trustedRoots: ReadonlySet<string>, what: string): void {
  if (chain.length < 2) throw new KbsError('attestation-failed', `${what}: the chain must hold at least the leaf and the root`);
  const root = chain[chain.length - 1]!;
  if (!trustedRoots.has(fingerprintOf(root))) throw new KbsError('attestation-failed', `${what}: the root certificate is not a trusted Intel SGX root (fingerprint not pinned)`);
  for (let index = 0; index < chain.length; index++) {
    const certificate = chain[index]!;
    const issuer = chain[Math.min(index + 1, chain.length - 1)]!;
    if (index > 0 && !certificate.ca) throw new KbsError('attestation-failed', `${what}: certificate ${index} is not a CA but issues the one before it`);
    if (!certificate.checkIssued(issuer) || !certificate.verify(issuer.publicKey)) {
      throw new KbsError('attestation-failed', `${what}: certificate ${index} is not signed by the next certificate in the chain`);
    }
  }
}

/** The window in which every certificate of the chain is valid at once. */
export function chainValidity(chain: readonly X509Certificate[]): { notBefore: Date; notAfter: Date } {
  const notBefore = new Date(Math.max(...chain.map((certificate) => Date.parse(certificate.validFrom))));
  const notAfter = new Date(Math.min(...chain.map((certificate) => Date.parse(certificate.validTo))));
  return { notBefore, notAfter };
}

export function requireWithin(window: { notBefore: Date; notAfter: Date }, at: Date, what: string): void {
  if (at < window.notBefore || at > window.notAfter) {
    throw new KbsError('attestation-failed', `${what} is not valid at ${at.toISOString()} (valid ${window.notBefore.toISOString()} to ${window.notAfter.toISOString()})`);
  }
}
