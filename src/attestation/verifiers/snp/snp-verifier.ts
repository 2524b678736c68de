import { verify } from 'node:crypto';
import { readOfflineCollateralFiles } from '../../collateral/offline-directory.js';
import type { HttpsCollateralFetcher } from '../../collateral/https-cache.js';
import type { SnpSettings } from '../../../config/verifier-settings.js';
import { KbsError, messageOf } from '../../../domain/errors.js';
import type { VerifiedEvidence } from '../../verifier.js';
import {
  AMD_OID, oidKey, parseAmdCertificate, productNameExtension, signedByAmdKey, splExtension, splitCertificates, type AmdCertificate,
} from './amd-certificate.js';
import { crlIssuerName, listsSerial } from '../../collateral/vendor-crl.js';
import { pemBlocks } from '../../../pki/pem.js';
import { checkAmdCrl, isCrlOf } from './amd-crl.js';
import { fetchCertChain, fetchCrl, fetchVcek, type KdsClient } from './amd-kds.js';
import { PINNED_ARK_SHA256 } from './amd-roots.js';
import { snpClaims } from './snp-claims.js';
import { decodeSnpEvidence } from './snp-evidence.js';
import {
  parseSnpReport, POLICY_DEBUG, SigningKey, SNP_PRODUCTS, SNP_SIGNED_SIZE, tcbParts, type SnpProduct, type SnpReport, type TcbParts,
} from './snp-report.js';

/** What a verification needs besides the evidence: pure inputs, so the same evidence verifies the same way at `now`. */
export interface SnpVerifyContext {
  name: string;
  now: Date;
  allowDebug: boolean;
  maxVmpl: number;
  /** Trusted for every product in addition to the pinned ARKs (tests only). */
  extraArkSha256: readonly string[];
  /** Certificates known before the evidence arrives (offline directory, `--certs`). */
  certificates: readonly AmdCertificate[];
  /** AMD CRLs (DER) from the offline directory; KDS adds the product's own when enabled. */
  crls?: readonly Buffer[];
  kds?: KdsClient;
}

const PARSED_CACHE_LIMIT = 1024;
const parsedCache = new Map<string, AmdCertificate>();

function failed(detail: string): KbsError {
  return new KbsError('attestation-failed', detail);
}

/** Parses a certificate once per process (evidence repeats the same VCEK and chain); throws a plain Error when malformed. */
function parseCached(der: Buffer): AmdCertificate {
  const key = der.toString('base64');
  const known = parsedCache.get(key);
  if (known) return known;
  const parsed = parseAmdCertificate(der);
  if (parsedCache.size >= PARSED_CACHE_LIMIT) parsedCache.clear();
  parsedCache.set(key, parsed);
  return parsed;
}

/** Certificates from files or evidence: PEM bundles or DER. `what` names the source in the error. */
export function parseAmdCertificates(data: Buffer, what: string, code: 'bad-evidence-format' | 'bad-request' = 'bad-evidence-format'): AmdCertificate[] {
  return splitCertificates(data).map((der, index) => {
    try {
      return parseCached(der);
    } catch (error) {
      throw new KbsError(code, `${what}${index > 0 ? ` (certificate ${index + 1})` : ''} is not an X.509 certificate: ${messageOf(error)}`);
    }
  });
}

const isP384 = (certificate: AmdCertificate): boolean =>
  certificate.publicKey.asymmetricKeyType === 'ec' && certificate.publicKey.asymmetricKeyDetails?.namedCurve === 'secp384r1';

function reportSignedBy(report: SnpReport, certificate: AmdCertificate): boolean {
  return verify('sha384', report.bytes.subarray(0, SNP_SIGNED_SIZE), { key: certificate.publicKey, dsaEncoding: 'ieee-p1363' }, report.signature);
}

function productOfName(leaf: AmdCertificate): SnpProduct | undefined {
  let name: string | undefined;
  try {
    name = productNameExtension(leaf);
  } catch {
    throw failed('SNP VCEK: the product name extension is malformed');
  }
  if (name === undefined) return undefined;
  const product = SNP_PRODUCTS.find((candidate) => name === candidate || name!.startsWith(`${candidate}-`));
  if (product === undefined) throw failed(`SNP VCEK: unknown product "${name.slice(0, 32)}"`);
  return product;
}

function checkValidity(certificate: AmdCertificate, role: string, now: Date): void {
  if (now < certificate.notBefore) throw failed(`SNP chain: the ${role} certificate is not valid before ${certificate.notBefore.toISOString()}`);
  if (now > certificate.notAfter) throw failed(`SNP chain: the ${role} certificate expired at ${certificate.notAfter.toISOString()}`);
}

/** The leaf (VCEK or VLEK) and its product: from the report's CPUID, else the leaf's product name, else undecided. */
async function findLeaf(report: SnpReport, pool: AmdCertificate[], context: SnpVerifyContext): Promise<AmdCertificate> {
  const leaves = pool.filter(isP384);
  const signer = leaves.find((leaf) => reportSignedBy(report, leaf));
  if (signer) return signer;
  const kind = report.signingKey === SigningKey.Vcek ? 'VCEK' : 'VLEK';
  if (context.kds && report.signingKey === SigningKey.Vcek) {
    for (const product of report.product ? [report.product] : (['Milan', 'Genoa'] as const)) {
      const der = await fetchVcek(context.kds, product, report.chipId, tcbParts(report.reportedTcb, product));
      if (!der) continue;
      const [fetched] = parseAmdCertificates(der, 'the VCEK from AMD KDS', 'bad-evidence-format');
      if (fetched && isP384(fetched) && reportSignedBy(report, fetched)) return fetched;
    }
  }
  if (leaves.length === 0) throw failed(`SNP report: no ${kind} certificate (give it in the evidence cert_chain, the certificate directory${kind === 'VCEK' ? ', or enable AMD KDS' : ''})`);
  throw failed(`SNP report signature does not verify with the ${kind}`);
}

/** The intermediate (ASK or ASVK) and the pinned ARK above `leaf` for one product, or a reason why not. */
function findChain(leaf: AmdCertificate, pool: AmdCertificate[], trusted: ReadonlySet<string>): { intermediate: AmdCertificate; ark: AmdCertificate } | string {
  const intermediate = pool.find((candidate) => !candidate.selfIssued && signedByAmdKey(leaf, candidate));
  if (!intermediate) return 'no ASK/ASVK certificate signed the VCEK/VLEK with RSASSA-PSS SHA-384';
  const roots = pool.filter((candidate) => candidate.selfIssued && candidate.subject === intermediate.issuer);
  const ark = roots.find((candidate) => trusted.has(candidate.sha256));
  if (!ark) return roots.length === 0 ? 'no ARK certificate for the ASK/ASVK' : `the ARK (SHA-256 ${roots[0]!.sha256}) is not a pinned AMD root`;
  if (!signedByAmdKey(intermediate, ark)) return 'the ASK/ASVK is not signed by the ARK';
  if (!signedByAmdKey(ark, ark)) return 'the ARK self-signature does not verify';
  return { intermediate, ark };
}

function trustedFor(product: SnpProduct, context: SnpVerifyContext): Set<string> {
  return new Set([...PINNED_ARK_SHA256[product], ...context.extraArkSha256]);
}

async function verifyChain(
  report: SnpReport, leaf: AmdCertificate, products: readonly SnpProduct[], pool: AmdCertificate[], context: SnpVerifyContext,
): Promise<SnpProduct> {
  let reason = '';
  for (const product of products) {
    let chain = findChain(leaf, pool, trustedFor(product, context));
    if (typeof chain === 'string' && context.kds) {
      const fetched = await fetchCertChain(context.kds, report.signingKey === SigningKey.Vcek ? 'vcek' : 'vlek', product);
      chain = findChain(leaf, [...pool, ...fetched.map((der) => parseCached(der))], trustedFor(product, context));
    }
    if (typeof chain === 'string') {
      reason ||= chain;
      continue;
    }
    checkValidity(leaf, report.signingKey === SigningKey.Vcek ? 'VCEK' : 'VLEK', context.now);
    checkValidity(chain.intermediate, 'ASK/ASVK', context.now);
    checkValidity(chain.ark, 'ARK', context.now);
    await checkRevocation(chain, report.signingKey === SigningKey.Vcek ? 'vcek' : 'vlek', product, context);
    return product;
  }
  throw failed(`SNP chain: ${reason}`);
}

/**
 * The ARK's CRLs at hand (the offline directory's, and AMD KDS's when enabled and reachable) must be current and
 * must not list the ASK/ASVK. A CRL of another ARK is skipped; one that names this ARK but does not verify fails
 * the evidence.
 */
async function checkRevocation(
  chain: { intermediate: AmdCertificate; ark: AmdCertificate }, kind: 'vcek' | 'vlek', product: SnpProduct, context: SnpVerifyContext,
): Promise<void> {
  const sources: [string, Buffer][] = (context.crls ?? []).map((der) => ['SNP CRL from the certificate directory', der]);
  if (context.kds) {
    // Soft-fail: KDS out of reach must not stop every attestation whose evidence carries its whole chain (as it
    // did not before CRLs were checked); a CRL that does arrive, or one in the directory, is enforced.
    const fetched = await fetchCrl(context.kds, kind, product);
    if (fetched) sources.push(['SNP CRL from AMD KDS', fetched]);
  }
  for (const [what, der] of sources) {
    if (!isCrlOf(der, chain.ark)) continue;
    const crl = checkAmdCrl(der, chain.ark, what);
    if (context.now < crl.thisUpdate || context.now > crl.nextUpdate) {
      throw failed(`${what}: not current at ${context.now.toISOString()} (thisUpdate ${crl.thisUpdate.toISOString()}, nextUpdate ${crl.nextUpdate.toISOString()}); refresh it`);
    }
    if (listsSerial(crl, chain.intermediate.serial)) {
      throw failed(`SNP chain: AMD's CRL revokes the ${kind === 'vcek' ? 'ASK' : 'ASVK'} (serial ${chain.intermediate.serial})`);
    }
  }
}

function checkTcb(leaf: AmdCertificate, reported: TcbParts, product: SnpProduct): void {
  const expected: [keyof TcbParts, string][] = [
    ...(product === 'Turin' ? [['fmc', AMD_OID.fmcSpl] as [keyof TcbParts, string]] : []),
    ['bootloader', AMD_OID.blSpl], ['tee', AMD_OID.teeSpl], ['snp', AMD_OID.snpSpl], ['microcode', AMD_OID.ucodeSpl],
  ];
  for (const [part, oid] of expected) {
    let certified: number | undefined;
    try {
      certified = splExtension(leaf, oid);
    } catch {
      throw failed(`SNP TCB: the certificate's ${part} SPL extension is malformed`);
    }
    if (certified === undefined) throw failed(`SNP TCB: the certificate has no ${part} SPL extension (${oid})`);
    if (certified !== reported[part]) throw failed(`SNP TCB mismatch: reported ${part} ${reported[part]}, certificate ${certified}`);
  }
}

function checkHardwareId(report: SnpReport, leaf: AmdCertificate, product: SnpProduct): void {
  const hwId = leaf.extensions.get(oidKey(AMD_OID.hwId));
  if (report.signingKey === SigningKey.Vlek) {
    if (hwId !== undefined) throw failed('SNP report says VLEK but was signed by a VCEK (hwID present)');
    return;
  }
  if (hwId === undefined) throw failed('SNP report says VCEK but the certificate has no hwID extension');
  const length = product === 'Turin' ? 8 : 64;
  if (hwId.length !== length || !hwId.equals(report.chipId.subarray(0, length))) throw failed('SNP hwID: the VCEK was issued for another chip than chip_id');
}

/** Verifies SNP evidence (trustee's shape) at `context.now`: signature, chain to a pinned ARK, TCB, hwID, VMPL, debug. */
export async function verifySnpEvidence(evidence: unknown, context: SnpVerifyContext): Promise<VerifiedEvidence> {
  const decoded = decodeSnpEvidence(evidence);
  const report = parseSnpReport(decoded.report);
  const evidenceCertificates = decoded.certificates.flatMap((data, index) => parseAmdCertificates(data, `SNP evidence cert_chain[${index}]`));
  const pool = [...evidenceCertificates, ...context.certificates];

  const leaf = await findLeaf(report, pool, context);
  const named = productOfName(leaf);
  if (report.product && named && named !== report.product) throw failed(`SNP report is from ${report.product} but the certificate is for ${named}`);
  const product = await verifyChain(report, leaf, report.product ? [report.product] : named ? [named] : SNP_PRODUCTS, pool, context);

  const reportedTcb = tcbParts(report.reportedTcb, product);
  checkTcb(leaf, reportedTcb, product);
  checkHardwareId(report, leaf, product);
  if (report.vmpl > context.maxVmpl) throw failed(`SNP VMPL ${report.vmpl} is above the allowed ${context.maxVmpl}`);
  const debug = (report.policy & POLICY_DEBUG) !== 0n;
  if (debug && !context.allowDebug) throw failed('SNP policy: the guest allows debugging (refused unless snp_allow_debug is set)');

  return {
    reportData: report.reportData,
    initData: report.hostData,
    claims: snpClaims(report, { name: context.name, product, reportedTcb, debug }),
  };
}

export interface SnpVerifierDependencies {
  name: string;
  clock: () => Date;
  /** Certificate files' contents (`--certs`), PEM or DER. */
  certificates?: readonly Buffer[];
  fetcher?: HttpsCollateralFetcher;
}

/** A `*.crl` file of the certificate directory: DER, or PEM `X509 CRL` blocks (KDS answers DER). */
function amdCrlFile(data: Buffer, name: string): Buffer[] {
  const text = data.toString('latin1');
  const crls = text.includes('-----BEGIN') ? pemBlocks(text).filter((block) => block.label === 'X509 CRL').map((block) => block.der) : [data];
  if (crls.length === 0 || crls.some((der) => crlIssuerName(der) === undefined)) throw new Error(`SNP CRL file ${name} is not a CRL (DER, or PEM "X509 CRL")`);
  return crls;
}

/** Loads the configured certificate directory once; the returned function verifies one piece of evidence at the clock's time. */
export async function createSnpVerifier(
  settings: Omit<SnpSettings, 'enabled'>,
  dependencies: SnpVerifierDependencies,
): Promise<(evidence: unknown) => Promise<VerifiedEvidence>> {
  const certificates: AmdCertificate[] = [];
  const crls: Buffer[] = [];
  for (const [index, data] of (dependencies.certificates ?? []).entries()) certificates.push(...parseAmdCertificates(data, `certificate file ${index + 1}`, 'bad-request'));
  if (settings.certDir !== undefined) {
    const files = await readOfflineCollateralFiles(settings.certDir).catch((error: unknown) => {
      throw new Error(`SNP certificate directory ${settings.certDir}: ${messageOf(error)}`);
    });
    for (const [name, data] of files) {
      if (/\.(pem|crt|cer|der)$/i.test(name)) certificates.push(...parseAmdCertificates(data, `SNP certificate file ${name}`, 'bad-request'));
      if (/\.crl$/i.test(name)) crls.push(...amdCrlFile(data, name));
    }
  }
  const kds = settings.kds && dependencies.fetcher ? { baseUrl: settings.kdsUrl, fetcher: dependencies.fetcher } : undefined;
  return (evidence) => verifySnpEvidence(evidence, {
    name: dependencies.name,
    now: dependencies.clock(),
    allowDebug: settings.allowDebug,
    maxVmpl: settings.maxVmpl,
    extraArkSha256: settings.extraArkSha256,
    certificates,
    crls,
    ...(kds ? { kds } : {}),
  });
}
