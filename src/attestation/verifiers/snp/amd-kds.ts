import type { HttpsCollateralFetcher } from '../../collateral/https-cache.js';
import { KbsError } from '../../../domain/errors.js';
import { splitCertificates } from './amd-certificate.js';
import type { SnpProduct, TcbParts } from './snp-report.js';

/** AMD's key distribution service: URL formats of its VCEK and certificate-chain endpoints. */
export interface KdsClient {
  baseUrl: string;
  fetcher: HttpsCollateralFetcher;
}

const spl = (value: number): string => String(value).padStart(2, '0');

/** `/vcek/v1/{product}/{hwid}?blSPL=..&teeSPL=..&snpSPL=..&ucodeSPL=..` (Turin: hwid is the first 8 bytes of chip_id, plus fmcSPL). */
export function vcekUrl(baseUrl: string, product: SnpProduct, chipId: Uint8Array, tcb: TcbParts): string {
  const hwid = Buffer.from(product === 'Turin' ? chipId.subarray(0, 8) : chipId).toString('hex');
  const query = [
    ...(product === 'Turin' ? [`fmcSPL=${spl(tcb.fmc ?? 0)}`] : []),
    `blSPL=${spl(tcb.bootloader)}`, `teeSPL=${spl(tcb.tee)}`, `snpSPL=${spl(tcb.snp)}`, `ucodeSPL=${spl(tcb.microcode)}`,
  ].join('&');
  return `${baseUrl}/vcek/v1/${product}/${hwid}?${query}`;
}

/** `/vcek/v1/{product}/cert_chain` (ASK then ARK) or `/vlek/v1/{product}/cert_chain` (ASVK then ARK), PEM. */
export function certChainUrl(baseUrl: string, kind: 'vcek' | 'vlek', product: SnpProduct): string {
  return `${baseUrl}/${kind}/v1/${product}/cert_chain`;
}

/** The VCEK for a chip at a TCB (DER), or undefined when KDS does not know it. */
export async function fetchVcek(kds: KdsClient, product: SnpProduct, chipId: Uint8Array, tcb: TcbParts): Promise<Buffer | undefined> {
  return (await kds.fetcher.get(vcekUrl(kds.baseUrl, product, chipId, tcb)))?.body;
}

export async function fetchCertChain(kds: KdsClient, kind: 'vcek' | 'vlek', product: SnpProduct): Promise<Buffer[]> {
  const response = await kds.fetcher.get(certChainUrl(kds.baseUrl, kind, product));
  if (!response) throw new KbsError('attestation-failed', `AMD KDS has no ${kind.toUpperCase()} certificate chain for ${product}`);
  return splitCertificates(response.body);
}

/** `/vcek/v1/{product}/crl` or `/vlek/v1/{product}/crl`: the ARK's CRL of the product's ASK or ASVK, DER. */
export function crlUrl(baseUrl: string, kind: 'vcek' | 'vlek', product: SnpProduct): string {
  return `${baseUrl}/${kind}/v1/${product}/crl`;
}

/** How long an answer about a product's CRL is reused before KDS is asked again (an unreachable KDS: a shorter while). */
const CRL_RECHECK_MS = 60 * 60 * 1000;
const CRL_RETRY_AFTER_FAILURE_MS = 5 * 60 * 1000;
const crlAnswers = new WeakMap<KdsClient, Map<string, { until: number; crl: Promise<Buffer | undefined> }>>();

/**
 * The product's CRL, or undefined when KDS has none or cannot be reached. It is asked for on the attestation path,
 * so each client reuses an answer (a CRL, none, or a failure) for a while: attestations neither wait on KDS every
 * time nor, while it is away, each wait for its timeout.
 */
export function fetchCrl(kds: KdsClient, kind: 'vcek' | 'vlek', product: SnpProduct, now = Date.now()): Promise<Buffer | undefined> {
  const url = crlUrl(kds.baseUrl, kind, product);
  let answers = crlAnswers.get(kds);
  if (!answers) crlAnswers.set(kds, (answers = new Map()));
  const known = answers.get(url);
  if (known && known.until > now) return known.crl;
  const crl = kds.fetcher.get(url).then((response) => response?.body, () => {
    answer.until = now + CRL_RETRY_AFTER_FAILURE_MS;
    return undefined;
  });
  const answer = { until: now + CRL_RECHECK_MS, crl };
  answers.set(url, answer);
  return crl;
}
