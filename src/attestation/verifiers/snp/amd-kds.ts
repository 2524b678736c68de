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

/** The product's CRL, or undefined when KDS has none. */
export async function fetchCrl(kds: KdsClient, kind: 'vcek' | 'vlek', product: SnpProduct): Promise<Buffer | undefined> {
  return (await kds.fetcher.get(crlUrl(kds.baseUrl, kind, product)))?.body;
}
