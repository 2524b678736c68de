import { KbsError } from '../domain/errors.js';
import type { AnyVerifier } from './verifier.js';

/** Verifiers by name, and the default verifier for each enabled TEE. */
export class VerifierRegistry {
  private readonly byName = new Map<string, AnyVerifier>();
  private readonly defaultByTee = new Map<string, AnyVerifier>();

  register(verifier: AnyVerifier, options: { defaultFor?: readonly string[] } = {}): this {
    this.byName.set(verifier.name, verifier);
    for (const tee of options.defaultFor ?? verifier.tees) {
      if (!this.defaultByTee.has(tee)) this.defaultByTee.set(tee, verifier);
    }
    return this;
  }

  /** The verifier for a challenge: the named one (which must handle the TEE) or the TEE's default. */
  select(tee: string, verifierName?: string): AnyVerifier {
    if (verifierName === undefined) {
      const verifier = this.defaultByTee.get(tee);
      if (!verifier) throw new KbsError('unsupported-tee', `TEE "${tee}" is not enabled on this broker`);
      return verifier;
    }
    const verifier = this.byName.get(verifierName);
    if (!verifier) throw new KbsError('bad-request', `verifier "${verifierName}" is not configured`);
    if (!verifier.tees.includes(tee)) throw new KbsError('unsupported-tee', `verifier "${verifierName}" does not handle TEE "${tee}"`);
    return verifier;
  }

  get(name: string): AnyVerifier | undefined {
    return this.byName.get(name);
  }

  enabledTees(): string[] {
    return [...this.defaultByTee.keys()];
  }
}
