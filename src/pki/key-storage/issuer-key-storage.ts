import type { CertificateSigner } from '../signer.js';

/**
 * Where the private keys of issuing CAs live. An adapter creates a key for an issuer and hands back a signer;
 * the private key never leaves the storage (for PKCS#11 it never leaves the token). Keys are named by issuer id.
 */
export interface IssuerKeyStorage {
  /** `file` or `pkcs11`, for logs and `ca status`. */
  readonly kind: string;
  /** Creates a new ECDSA P-256 key for the issuer; fails when one already exists for that id. */
  generate(issuerId: string): Promise<CertificateSigner>;
  /** The issuer's signer, or undefined when this storage holds no key for it. */
  load(issuerId: string): Promise<CertificateSigner | undefined>;
  close(): Promise<void>;
}

/**
 * New keys go to `primary`; existing keys are looked up in `primary`, then in each fallback, so issuers created
 * before a switch to an HSM keep working with their key files.
 */
export function withFallback(primary: IssuerKeyStorage, ...fallbacks: IssuerKeyStorage[]): IssuerKeyStorage {
  return {
    kind: primary.kind,
    generate: (issuerId) => primary.generate(issuerId),
    async load(issuerId) {
      for (const storage of [primary, ...fallbacks]) {
        const signer = await storage.load(issuerId);
        if (signer) return signer;
      }
      return undefined;
    },
    async close() {
      await Promise.all([primary, ...fallbacks].map((storage) => storage.close()));
    },
  };
}
