import type { AttestationPolicy, ResourcePolicy } from './policy.js';

/** Attestation: affirming claims only, and `sample` only while the sample TEE is enabled. */
export function defaultAttestationPolicy(options: { sampleEnabled: boolean }): AttestationPolicy {
  return {
    evaluate({ claims, tee }) {
      if (tee === 'sample' && !options.sampleEnabled) return { allow: false, reason: 'the sample TEE is disabled' };
      if (claims.status !== 'affirming') return { allow: false, reason: `attestation status is "${claims.status}", not "affirming"` };
      return { allow: true };
    },
  };
}

/** Resources: one rule for `*\/*\/*` allowing every certificate of this broker, except `sample` ones outside development mode. */
export function defaultResourcePolicy(options: { devMode: boolean }): ResourcePolicy {
  const rule = 'default */*/*';
  return {
    evaluate({ claims }) {
      if (claims.tee === 'sample' && !options.devMode) return { allow: false, rule };
      return { allow: claims.status === 'affirming', rule };
    },
  };
}
