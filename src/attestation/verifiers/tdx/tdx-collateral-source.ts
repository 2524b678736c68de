import type { HttpsCollateralFetcher } from '../../collateral/https-cache.js';
import { readOfflineCollateral } from '../../collateral/offline-directory.js';
import { KbsError } from '../../../domain/errors.js';
import { signedJsonFromPcsBody } from './signed-json.js';
import { tdxCollateralFromBundle, type TdxCollateral } from './tdx-collateral.js';

/** Which Intel CA issued the PCK certificate; its CRL is the one to check. */
export type PckCa = 'platform' | 'processor';

/** Where TDX collateral comes from. Answers undefined when it has none for this FMSPC. */
export interface TdxCollateralSource {
  collateralFor(fmspc: string, pckCa: PckCa): Promise<TdxCollateral | undefined>;
}

function utf8(bytes: Buffer | undefined): string | undefined {
  return bytes === undefined ? undefined : bytes.toString('utf8');
}

/**
 * An operator's directory. Per FMSPC (lowercase hex) either one bundle `tdx-collateral-<fmspc>.json` (the
 * dcap-qvl / PCCS shape: tcb_info, tcb_info_signature, qe_identity, ... as strings) or Intel PCS answers saved as
 * files: `tdx-tcb-info-<fmspc>.json` and `tdx-qe-identity.json` (response bodies), `tdx-tcb-signing-chain.pem`
 * (their issuer chain header), optionally `tdx-pck-crl-platform.der`, `tdx-pck-crl-processor.der`, `tdx-root-ca-crl.der`.
 */
export function directoryCollateralSource(dir: string): TdxCollateralSource {
  return {
    async collateralFor(fmspc, pckCa) {
      const bundle = await readOfflineCollateral(dir, `tdx-collateral-${fmspc}.json`);
      if (bundle) return tdxCollateralFromBundle(bundle.toString('utf8'));
      const tcbInfo = utf8(await readOfflineCollateral(dir, `tdx-tcb-info-${fmspc}.json`));
      if (tcbInfo === undefined) return undefined;
      const qeIdentity = utf8(await readOfflineCollateral(dir, 'tdx-qe-identity.json'));
      const signingChain = utf8(await readOfflineCollateral(dir, 'tdx-tcb-signing-chain.pem'));
      if (qeIdentity === undefined || signingChain === undefined) {
        throw new KbsError('attestation-failed', 'TDX collateral: the directory has TCB info but lacks tdx-qe-identity.json or tdx-tcb-signing-chain.pem');
      }
      const pckCrl = await readOfflineCollateral(dir, `tdx-pck-crl-${pckCa}.der`);
      const rootCaCrl = await readOfflineCollateral(dir, 'tdx-root-ca-crl.der');
      return {
        tcbInfo: signedJsonFromPcsBody(tcbInfo, 'tcbInfo'),
        tcbInfoIssuerChain: signingChain,
        qeIdentity: signedJsonFromPcsBody(qeIdentity, 'enclaveIdentity'),
        qeIdentityIssuerChain: signingChain,
        ...(pckCrl ? { pckCrl } : {}),
        ...(rootCaCrl ? { rootCaCrl } : {}),
      };
    },
  };
}

const TCB_INFO_ISSUER_CHAIN = 'tcb-info-issuer-chain';
const QE_IDENTITY_ISSUER_CHAIN = 'sgx-enclave-identity-issuer-chain';
const HEX_TEXT = /^\s*(?:[0-9a-fA-F]{2})+\s*$/;

function issuerChain(headers: Record<string, string>, name: string): string {
  const value = headers[name];
  if (value === undefined) throw new KbsError('verifier-unavailable', `Intel PCS answered without the ${name} header`);
  try {
    return decodeURIComponent(value);
  } catch {
    throw new KbsError('verifier-unavailable', `Intel PCS sent a malformed ${name} header`);
  }
}

/**
 * Intel PCS (`https://api.trustedservices.intel.com`) or a PCCS with the same v4 API, through the shared HTTPS
 * fetcher and its cache. The PCK CRL is asked for in DER; a PCCS that answers hex is accepted too.
 */
export function pcsCollateralSource(fetcher: HttpsCollateralFetcher, baseUrl: string): TdxCollateralSource {
  return {
    async collateralFor(fmspc, pckCa) {
      const tcbInfo = await fetcher.get(`${baseUrl}/tdx/certification/v4/tcb?fmspc=${fmspc.toUpperCase()}`, [TCB_INFO_ISSUER_CHAIN]);
      if (!tcbInfo) return undefined;
      const qeIdentity = await fetcher.get(`${baseUrl}/tdx/certification/v4/qe/identity`, [QE_IDENTITY_ISSUER_CHAIN]);
      if (!qeIdentity) throw new KbsError('verifier-unavailable', 'Intel PCS has no TD_QE identity');
      const crl = await fetcher.get(`${baseUrl}/sgx/certification/v4/pckcrl?ca=${pckCa}&encoding=der`);
      const crlText = crl?.body.toString('latin1');
      const pckCrl = crl && crlText !== undefined && HEX_TEXT.test(crlText) ? Buffer.from(crlText.trim(), 'hex') : crl?.body;
      return {
        tcbInfo: signedJsonFromPcsBody(tcbInfo.body.toString('utf8'), 'tcbInfo'),
        tcbInfoIssuerChain: issuerChain(tcbInfo.headers, TCB_INFO_ISSUER_CHAIN),
        qeIdentity: signedJsonFromPcsBody(qeIdentity.body.toString('utf8'), 'enclaveIdentity'),
        qeIdentityIssuerChain: issuerChain(qeIdentity.headers, QE_IDENTITY_ISSUER_CHAIN),
        ...(pckCrl ? { pckCrl } : {}),
      };
    },
  };
}

/** The first source that has collateral for the FMSPC (the operator's directory before the network). */
export function firstCollateralSource(sources: readonly TdxCollateralSource[]): TdxCollateralSource {
  return {
    async collateralFor(fmspc, pckCa) {
      for (const source of sources) {
        const collateral = await source.collateralFor(fmspc, pckCa);
        if (collateral) return collateral;
      }
      return undefined;
    },
  };
}
