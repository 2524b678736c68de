import type { IdentityProviderConfig } from './admin-config.js';
import type { TdxSettings } from './tdx-settings.js';
import type { SnpSettings } from './verifier-settings.js';
import type { VerifierConfig } from './verifier-tables.js';

/** The one typed configuration, after the TOML file and the environment were merged and validated. */
export interface ListenAddress {
  host: string;
  port: number;
}

export interface Config {
  /** Absolute path of KEYBROKER_HOME; holds ca/, data/ and keybroker.toml. */
  home: string;
  /** Development mode (`serve --dev`): creates a missing CA, enables the sample TEE loudly. */
  dev: boolean;
  server: {
    listen: ListenAddress;
    maxBodyBytes: number;
    tlsMinVersion: 'TLSv1.2' | 'TLSv1.3';
  };
  ca: {
    /** Absolute path, default `<home>/ca`. */
    dir: string;
    trustDomain: string;
    leafTtlSeconds: number;
    adminTtlSeconds: number;
    issuerTtlSeconds: number;
    rootTtlSeconds: number;
    serverTtlSeconds: number;
    /** The server runs the rotation schedule itself (prepare at 1/2, activate at 5/6 of the active issuer's life). */
    autoRotate: boolean;
    /** How often the server checks the CA home: rotation schedule, changes made by the CLI or scripts. */
    checkIntervalMs: number;
    /** Validity of each CRL (`nextUpdate - thisUpdate`); rebuilt once half of it is gone. */
    crlValiditySeconds: number;
    /** Where new issuer keys are made: key files, or a PKCS#11 token (`[pkcs11]`). */
    keyStorage: 'file' | 'pkcs11';
  };
  /** Present when `[ca] key_storage = "pkcs11"`. */
  pkcs11?: {
    /** Absolute path of the PKCS#11 module. */
    modulePath: string;
    tokenLabel: string;
    /** Where the user PIN is read from: a file (absolute path; trailing newline ignored) or KEYBROKER_PKCS11_PIN. */
    pinFile?: string;
    keyLabelPrefix: string;
  };
  attestation: {
    nonceTtlSeconds: number;
    /** The sample TEE: on in development mode unless configured off; off otherwise unless configured on. */
    enableSample: boolean;
    /** Where fetched attestation collateral (AMD KDS, Intel PCS) is cached; absolute path, default `<data_dir>/collateral-cache`. */
    collateralCacheDir: string;
    snp: SnpSettings;
    tdx: TdxSettings;
  };
  /** The trustee protocol (PROTOCOL.md 2). */
  v0: {
    sessionTtlSeconds: number;
    allowRsa1_5: boolean;
  };
  /** Admin bearer tokens (PROTOCOL.md 1.8): the `role` claim value and the providers whose tokens count. */
  admin: {
    role: string;
    identityProviders: IdentityProviderConfig[];
  };
  store: {
    backend: 'fs' | 'postgres';
    /** Absolute path, default `<home>/data`; with PostgreSQL it still holds `keys/` (shared by the replicas). */
    dataDir: string;
    /** `postgres://...`; set exactly when the backend is PostgreSQL. A secret (it may carry a password). */
    url?: string;
    /** How long a replica serves a resource from its cache without asking the database. */
    cacheMaxAgeMs: number;
    /** PostgreSQL connections per replica (plus one for change notifications). */
    poolSize: number;
  };
  /** `[[verifier]]` tables in file order: external attestation services and the built-in verifier's default TEEs. */
  verifiers: VerifierConfig[];
}
