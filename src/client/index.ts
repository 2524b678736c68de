/**
 * `keybroker/client`: the library a TEE workload imports to attest to a keybroker and fetch its secrets over
 * mutual TLS with a certificate that renews itself (v1), or with a trustee attestation token (v0).
 */
export { attest, type Session } from './session.js';
export type { AttestOptions, CommonAttestOptions, V0AttestOptions } from './attest-options.js';
export type { V0Session } from './v0/v0-session.js';
export type { V0KeyType } from './v0/trustee-client.js';
export { RenewalError, type Renewal, type RenewalFailure } from './renewing-session.js';
export { sampleAttester, type Attester, type AttesterName } from './attesters.js';
export { tsmAttester, TsmGenerationRaceError, DEFAULT_TSM_ROOT, type TsmAttesterOptions } from './tsm/tsm-attester.js';
export type { TsmFiles } from './tsm/tsm-files.js';
export type { RenewalOptions } from './renewal-schedule.js';
export { KbsClientError } from './https-request.js';
export type { ClientKeyType } from '../pki/create-csr.js';
