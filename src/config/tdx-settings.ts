import { resolve } from 'node:path';
import type { ConfigSection } from './config-document.js';
import { readBoolean, readHttpsUrl, readPath } from './config-values.js';
import { readSha256List } from './verifier-settings.js';

/** The built-in TDX verifier's settings, `[attestation] tdx_*` keys (README, "TDX verifier"). */
export interface TdxSettings {
  enabled: boolean;
  /** Operator-provided Intel collateral (TCB info, QE identity, signing chain, CRLs); absolute path. */
  collateralDir?: string;
  /** Fetch collateral from Intel PCS (or a PCCS at `pcsUrl`) when the directory has none for the FMSPC. */
  pcs: boolean;
  pcsUrl: string;
  allowDebug: boolean;
  /** Lowercase SHA-256 hex of extra root certificates to trust besides the Intel SGX Root CA. Dangerous: for test hierarchies only. */
  extraRootSha256: string[];
}

/** Reads the `tdx_*` keys of `[attestation]`; relative paths are resolved against the home. */
export function readTdxSettings(attestation: ConfigSection, home: string): TdxSettings {
  const collateralDir = attestation.optional('tdx_collateral_dir', readPath);
  return {
    enabled: attestation.optional('enable_tdx', readBoolean) ?? true,
    ...(collateralDir !== undefined ? { collateralDir: resolve(home, collateralDir) } : {}),
    pcs: attestation.optional('tdx_pcs', readBoolean) ?? false,
    pcsUrl: attestation.optional('tdx_pcs_url', readHttpsUrl) ?? 'https://api.trustedservices.intel.com',
    allowDebug: attestation.optional('tdx_allow_debug', readBoolean) ?? false,
    extraRootSha256: attestation.optional('tdx_extra_root_sha256', readSha256List) ?? [],
  };
}

/** Settings that weaken TDX verification, as warnings to log at every start. */
export function tdxSettingWarnings(settings: TdxSettings): string[] {
  if (!settings.enabled) return [];
  return [
    ...(settings.extraRootSha256.length > 0 ? [`[attestation] tdx_extra_root_sha256 trusts ${settings.extraRootSha256.length} root(s) besides the Intel SGX Root CA: for test hierarchies only, never in production`] : []),
    ...(settings.allowDebug ? ['[attestation] tdx_allow_debug accepts debug TDs, whose memory the host can read: never in production'] : []),
  ];
}
