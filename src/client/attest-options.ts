import type { ClientKeyType } from '../pki/create-csr.js';
import type { Attester, AttesterName } from './attesters.js';
import type { RenewalOptions } from './renewal-schedule.js';
import type { V0KeyType } from './v0/trustee-client.js';

/** Options of `attest` in both protocols. */
export interface CommonAttestOptions {
  /** Base URL of the broker, e.g. `https://kbs.example:8080`. */
  url: string;
  /** The TEE named in the challenge (v1) or in /auth (v0): `sample`, `snp`, `tdx`, ... */
  tee: string;
  /** PEM trust bundle of the broker (`GET /kbs/v1/ca/bundle`, or `ca/bundle.pem`). */
  ca: string;
  /** An attester, or `sample`, `tsm` or `auto`; default `sample` for the sample TEE and `auto` otherwise. */
  attester?: Attester | AttesterName;
  /** configfs-tsm report directory for `tsm` and `auto` (default /sys/kernel/config/tsm/report). */
  tsmRoot?: string;
  /** Automatic renewal (on by default); `false` keeps the first credential until it expires. */
  renew?: RenewalOptions | false;
}

/** The v1 protocol (the default): an X.509 client certificate and resources over mutual TLS. */
export interface AttestOptions extends CommonAttestOptions {
  protocol?: 'v1';
  /** Key made for each certificate: `ec-p256` (default), `ec-p384`, `ed25519`, `rsa-3072`. */
  keyType?: ClientKeyType;
  /** A configured verifier other than the TEE's default. */
  verifier?: string;
}

/**
 * The trustee protocol 0.4.0 (`/kbs/v0/...`), for a trustee KBS or keybroker's v0 endpoints: an attestation token
 * and resources encrypted to a TEE key (JWE). No client certificate, so no `agent` or `dispatcher`.
 */
export interface V0AttestOptions extends CommonAttestOptions {
  protocol: 'v0';
  /** The TEE key the resources are encrypted to: `ec-p256` (default), `ec-p384`, `rsa-3072`. */
  keyType?: V0KeyType;
  /** v1 only: v0 has no verifier choice. */
  verifier?: never;
}
