/**
 * `keybroker/client`: the library a TEE workload imports to attest to a keybroker and fetch its secrets over
 * mutual TLS with a certificate that renews itself.
 */
export { attest, RenewalError, type Session, type AttestOptions, type Renewal, type RenewalFailure } from './session.js';
export { sampleAttester, type Attester, type AttesterName } from './attesters.js';
export { tsmAttester, TsmGenerationRaceError, DEFAULT_TSM_ROOT, type TsmAttesterOptions } from './tsm/tsm-attester.js';
export type { TsmFiles } from './tsm/tsm-files.js';
export type { RenewalOptions } from './renewal-schedule.js';
export { KbsClientError } from './https-request.js';
export type { ClientKeyType } from '../pki/create-csr.js';
