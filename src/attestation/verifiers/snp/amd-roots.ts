import type { SnpProduct } from './snp-report.js';

/**
 * SHA-256 of the DER of each AMD Root Key (ARK), per product: the only roots the SNP verifier trusts. Computed from
 * the ARK certificates AMD's key distribution service publishes (`/vcek/v1/<product>/cert_chain`); the certificates
 * themselves are not shipped, they come from evidence, the offline directory or KDS and must hash to these.
 */
export const PINNED_ARK_SHA256: Readonly<Record<SnpProduct, readonly string[]>> = {
  Milan: ['69d063b45344d26a2e94e1f4210de49ef555308287d4c174445c95639a540bcd'],
  Genoa: ['4c6598d19c18719c5dfd4a7d335f674e5bfe1d8f800cea2cf270c10d103db2f1'],
  Turin: ['1f084161a44bb6d93778a904877d4819cafa5d05ef4193b2ded9dd9c73dd3f6a'],
};
