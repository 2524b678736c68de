import type { KeyObject } from 'node:crypto';
import type { Agent } from 'node:https';
import type { Dispatcher } from 'undici';
import { attestV1, type AttestedCredential } from './attest.js';
import type { AttestOptions, V0AttestOptions } from './attest-options.js';
import { chooseAttester } from './attesters.js';
import { RenewingAgent } from './renewing-agent.js';
import { RenewingDispatcher } from './renewing-dispatcher.js';
import { renewalSettings, type RenewalSettings } from './renewal-schedule.js';
import { RenewingSession } from './renewing-session.js';
import { getResource } from './resources.js';
import { attestV0Session, type V0Session } from './v0/v0-session.js';

/**
 * A v1 attested client: the current key and certificate, transports that present them, and a timer that
 * re-attests with a fresh key before the certificate expires. Events: `renewed` (Renewal) and
 * `renewal-error` (RenewalFailure).
 */
export class Session extends RenewingSession<AttestedCredential> {
  readonly protocol = 'v1';
  readonly #agent: RenewingAgent;
  readonly #dispatcher: RenewingDispatcher;
  readonly #url: string;

  constructor(url: string, ca: string, first: AttestedCredential, attestOnce: () => Promise<AttestedCredential>, renewal: RenewalSettings | undefined) {
    super('certificate', first, attestOnce, renewal);
    this.#url = url;
    this.#agent = new RenewingAgent(Session.#tlsCredential(first), { ca });
    this.#dispatcher = new RenewingDispatcher(Session.#tlsCredential(first), ca);
    this.startRenewal();
  }

  static #tlsCredential(credential: AttestedCredential): { cert: string; key: string } {
    return { cert: credential.certificatePem + credential.chainPem, key: credential.keyPem };
  }

  /** The private key of the current certificate; it never leaves this process. */
  get key(): KeyObject { return this.credential.key; }
  /** The current leaf certificate, PEM. */
  get certificate(): string { return this.credential.certificatePem; }
  /** The issuing CA certificates of the current leaf, PEM. */
  get chain(): string { return this.credential.chainPem; }
  get spiffeId(): string { return this.credential.spiffeId; }
  get claims(): Record<string, unknown> { return this.credential.claims; }
  /** An `https.Agent` presenting the current certificate, for `https.request` and libraries built on it. */
  get agent(): Agent { return this.#agent; }
  /** An undici `Dispatcher` presenting the current certificate, for `fetch` and `request` of undici. */
  get dispatcher(): Dispatcher { return this.#dispatcher; }

  /** `GET /kbs/v1/resource/{path}` over mutual TLS with the current certificate; resolves to the bytes. */
  getResource(path: string): Promise<Buffer> {
    return this.withCredential(() => getResource(this.#url, path, { agent: this.#agent }));
  }

  protected override credentialRenewed(next: AttestedCredential): void {
    this.#agent.setCredential(Session.#tlsCredential(next));
    this.#dispatcher.setCredential(Session.#tlsCredential(next));
  }

  protected override async closeTransports(): Promise<void> {
    this.#agent.destroy();
    await this.#dispatcher.destroy();
  }
}

/**
 * Attests to the broker and resolves to a session: with `protocol: "v1"` (the default) one holding a client
 * certificate, with `protocol: "v0"` one holding a trustee attestation token. With `renew` (the default) the
 * session re-attests with a fresh key before the credential expires.
 */
export function attest(options: V0AttestOptions): Promise<V0Session>;
export function attest(options: AttestOptions): Promise<Session>;
export function attest(options: AttestOptions | V0AttestOptions): Promise<Session | V0Session>;
export async function attest(options: AttestOptions | V0AttestOptions): Promise<Session | V0Session> {
  const protocol: string = options.protocol ?? 'v1';
  if (protocol !== 'v1' && protocol !== 'v0') throw new Error(`unknown protocol "${protocol}" (v1, v0)`);
  const renewal = options.renew === false ? undefined : renewalSettings(options.renew);
  const attester = await chooseAttester({ tee: options.tee, attester: options.attester, tsmRoot: options.tsmRoot });
  if (options.protocol === 'v0') return attestV0Session(options, attester, renewal);
  const attestOnce = (): Promise<AttestedCredential> => attestV1({
    url: options.url, tee: options.tee, ca: options.ca, attester, keyType: options.keyType, verifier: options.verifier,
  });
  return new Session(options.url, options.ca, await attestOnce(), attestOnce, renewal);
}
