import { resolve } from 'node:path';
import { ConfigError } from './config-error.js';
import type { ConfigSection } from './config-document.js';
import { describeValue, integerIn, readBoolean, readHttpsUrl, readPath, type ValueReader } from './config-values.js';

/** The built-in SEV-SNP verifier's settings, `[attestation] snp_*` keys (README, "SEV-SNP verifier"). */
export interface SnpSettings {
  enabled: boolean;
  /** Operator-provided AMD certificates (ASK/ARK/ASVK bundles, VCEKs, VLEKs), PEM or DER files; absolute path. */
  certDir?: string;
  /** Fetch VCEKs and AMD chains from the key distribution service when neither the evidence nor certDir has them. */
  kds: boolean;
  kdsUrl: string;
  allowDebug: boolean;
  /** Reports from a less privileged VMPL than this are refused. */
  maxVmpl: number;
  /** Lowercase SHA-256 hex of extra ARK certificates to trust for every product. Dangerous: for test hierarchies only. */
  extraArkSha256: string[];
}

const SHA256_HEX = /^[0-9a-fA-F]{64}$/;

export const readSha256List: ValueReader<string[]> = (value, key) => {
  if (!Array.isArray(value)) throw new ConfigError(key, `must be an array of SHA-256 hex strings, got ${describeValue(value)}`);
  return value.map((item, index) => {
    if (typeof item !== 'string' || !SHA256_HEX.test(item)) {
      throw new ConfigError(`${key}[${index}]`, `must be 64 hex digits (SHA-256 of a DER certificate), got ${describeValue(item)}`);
    }
    return item.toLowerCase();
  });
};

/** Reads the `snp_*` keys of `[attestation]`; relative paths are resolved against the home. */
export function readSnpSettings(attestation: ConfigSection, home: string): SnpSettings {
  const certDir = attestation.optional('snp_cert_dir', readPath);
  return {
    enabled: attestation.optional('enable_snp', readBoolean) ?? true,
    ...(certDir !== undefined ? { certDir: resolve(home, certDir) } : {}),
    kds: attestation.optional('snp_kds', readBoolean) ?? false,
    kdsUrl: attestation.optional('snp_kds_url', readHttpsUrl) ?? 'https://kdsintf.amd.com',
    allowDebug: attestation.optional('snp_allow_debug', readBoolean) ?? false,
    maxVmpl: attestation.optional('snp_max_vmpl', integerIn(0, 3)) ?? 0,
    extraArkSha256: attestation.optional('snp_extra_ark_sha256', readSha256List) ?? [],
  };
}

/** Settings that weaken SNP verification, as warnings to log at every start. */
export function snpSettingWarnings(settings: SnpSettings): string[] {
  if (!settings.enabled) return [];
  return [
    ...(settings.extraArkSha256.length > 0 ? [`[attestation] snp_extra_ark_sha256 trusts ${settings.extraArkSha256.length} ARK(s) besides AMD's: for test hierarchies only, never in production`] : []),
    ...(settings.allowDebug ? ['[attestation] snp_allow_debug accepts guests that allow debugging, whose memory the host can read: never in production'] : []),
  ];
}
