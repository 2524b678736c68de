import type { KeyObject } from 'node:crypto';
import type { V0AttestOptions } from '../attest-options.js';
import type { Attester } from '../attesters.js';
import type { RenewalSettings } from '../renewal-schedule.js';
import { RenewingSession, type ExpiringCredential } from '../renewing-session.js';
import { generateV0Key, v0Attest, v0Auth, v0GetResource, v0TokenSummary } from './trustee-client.js';

/** One v0 attestation: the token and the TEE key its resources are encrypted to. */
export interface V0Credential extends ExpiringCredential {
  token: string;
  privateKey: KeyObject;
  spiffeId: string;
  claims: Record<string, unknown>;
}

/**
 * A v0 (trustee protocol) attested client: the current attestation token and TEE key, and a timer that runs
 * /auth and /attest again with a fresh key before the token's `exp`. There is no client certificate, so no
 * `agent` or `dispatcher`: resources come as JWE with the token as bearer. Events as the v1 `Session`, with the
 * token's `jti` as `serial`.
 */
export class V0Session extends RenewingSession<V0Credential> {
  readonly protocol = 'v0';
  readonly #url: string;
  readonly #ca: string;

  constructor(url: string, ca: string, first: V0Credential, attestOnce: () => Promise<V0Credential>, renewal: RenewalSettings | undefined) {
    super('token', first, attestOnce, renewal);
    this.#url = url;
    this.#ca = ca;
    this.startRenewal();
  }

  /** The current attestation token (a JWT), e.g. for a bearer header of another client. */
  get token(): string { return this.credential.token; }
  /** The token's subject, `spiffe://<trust domain>/tee/<tee>/<id>` at keybroker. */
  get spiffeId(): string { return this.credential.spiffeId; }
  /** The token's `kbs-claims`: what the verifier and policies saw. */
  get claims(): Record<string, unknown> { return this.credential.claims; }

  /** `GET /kbs/v0/resource/{path}` with the current token; the JWE is decrypted with the TEE key and resolves to the bytes. */
  getResource(path: string): Promise<Buffer> {
    return this.withCredential((credential) => v0GetResource(this.#url, path, credential, { ca: this.#ca }));
  }
}

/** Runs /auth and /attest with a fresh TEE key and reads the token's lifetime. */
async function attestV0Once(options: V0AttestOptions, attester: Attester): Promise<V0Credential> {
  const auth = await v0Auth(options.url, options.tee, { ca: options.ca });
  const { token, privateKey } = await v0Attest(auth, attester, generateV0Key(options.keyType));
  const summary = v0TokenSummary(token);
  return { token, privateKey, serial: summary.jti, expiresAt: new Date(summary.exp * 1000), spiffeId: summary.sub, claims: summary.kbsClaims };
}

export async function attestV0Session(options: V0AttestOptions, attester: Attester, renewal: RenewalSettings | undefined): Promise<V0Session> {
  const attestOnce = (): Promise<V0Credential> => attestV0Once(options, attester);
  return new V0Session(options.url, options.ca, await attestOnce(), attestOnce, renewal);
}
