import type { Config } from '../../config/config.js';
import { KbsError } from '../../domain/errors.js';
import { HttpsCollateralFetcher } from '../collateral/https-cache.js';
import type { VerifiedEvidence, Verifier } from '../verifier.js';
import { sampleVerifier } from './sample.js';
import { createSnpVerifier } from './snp/snp-verifier.js';
import { createTdxVerifier } from './tdx/tdx-verifier.js';

/** The name certificates carry as `claims.verifier` for evidence checked inside the broker. */
export const BUILTIN_VERIFIER_NAME = 'builtin';

/** What the offline CLI (`keybroker evidence verify`) changes on top of the config; the server passes none. */
export interface BuiltinOverrides {
  /** `--collateral DIR`: replaces each TEE's configured offline collateral directory. */
  collateralDir?: string;
  /** `--certs FILE ...`: certificate files' contents (PEM or DER, bundles allowed), trusted only through the pinned roots. */
  certificates?: Buffer[];
  /** Never reach a network service (AMD KDS, Intel PCS). */
  offline?: boolean;
}

/** One TEE's verifier inside the built-in one. */
type TeeVerify = (evidence: unknown) => Promise<VerifiedEvidence>;

/**
 * The built-in verifier: one `Verifier` named "builtin" for every TEE checked in-process (sample, snp, tdx), each
 * enabled by its own `[attestation]` key. Undefined when none is enabled.
 */
export async function createBuiltinVerifier(
  attestation: Config['attestation'],
  clock: () => Date,
  overrides: BuiltinOverrides = {},
): Promise<Verifier | undefined> {
  const byTee = new Map<string, TeeVerify>();
  const fetcher = overrides.offline ? undefined : new HttpsCollateralFetcher({ cacheDir: attestation.collateralCacheDir, clock });
  if (attestation.enableSample) {
    const sample = sampleVerifier(BUILTIN_VERIFIER_NAME);
    byTee.set('sample', (evidence) => sample.verify('sample', evidence));
  }
  if (attestation.snp.enabled) {
    const snp = await createSnpVerifier(
      { ...attestation.snp, ...(overrides.collateralDir !== undefined ? { certDir: overrides.collateralDir } : {}), kds: attestation.snp.kds && fetcher !== undefined },
      { name: BUILTIN_VERIFIER_NAME, clock, certificates: overrides.certificates ?? [], ...(fetcher ? { fetcher } : {}) },
    );
    byTee.set('snp', snp);
  }
  if (attestation.tdx.enabled) {
    const tdxSettings = { ...attestation.tdx, ...(overrides.collateralDir !== undefined ? { collateralDir: overrides.collateralDir } : {}) };
    byTee.set('tdx', createTdxVerifier(tdxSettings, { name: BUILTIN_VERIFIER_NAME, clock, ...(fetcher ? { fetcher } : {}) }));
  }
  if (byTee.size === 0) return undefined;
  return {
    name: BUILTIN_VERIFIER_NAME,
    tees: [...byTee.keys()],
    async verify(tee: string, evidence: unknown): Promise<VerifiedEvidence> {
      const verify = byTee.get(tee);
      if (!verify) throw new KbsError('unsupported-tee', `the built-in verifier does not handle TEE "${tee}"`);
      return verify(evidence);
    },
  };
}
