import { EventEmitter } from 'node:events';
import type { KeyObject } from 'node:crypto';
import type { Agent } from 'node:https';
import type { Dispatcher } from 'undici';
import type { ClientKeyType } from '../pki/create-csr.js';
import { attestV1, type AttestedCredential } from './attest.js';
import { chooseAttester, type Attester, type AttesterName } from './attesters.js';
import { RenewingAgent } from './renewing-agent.js';
import { RenewingDispatcher } from './renewing-dispatcher.js';
import { backoffDelayMs, renewalDelayMs, renewalSettings, type RenewalOptions, type RenewalSettings } from './renewal-schedule.js';
import { getResource } from './resources.js';

export interface AttestOptions {
  /** Base URL of the broker, e.g. `https://kbs.example:8080`. */
  url: string;
  /** The TEE named in the challenge: `sample`, `snp`, `tdx`, ... */
  tee: string;
  /** PEM trust bundle of the broker (`GET /kbs/v1/ca/bundle`, or `ca/bundle.pem`). */
  ca: string;
  /** An attester, or `sample`, `tsm` or `auto`; default `sample` for the sample TEE and `auto` otherwise. */
  attester?: Attester | AttesterName;
  /** configfs-tsm report directory for `tsm` and `auto` (default /sys/kernel/config/tsm/report). */
  tsmRoot?: string;
  /** Key made for each certificate: `ec-p256` (default), `ec-p384`, `ed25519`, `rsa-3072`. */
  keyType?: ClientKeyType;
  /** A configured verifier other than the TEE's default. */
  verifier?: string;
  /** Automatic renewal (on by default); `false` keeps the first certificate until it expires. */
  renew?: RenewalOptions | false;
}

/** Emitted as `renewed` after a new certificate replaced the old one. */
export interface Renewal {
  serial: string;
  expiresAt: Date;
}

/** Emitted as `renewal-error` after a failed renewal attempt. */
export interface RenewalFailure {
  error: Error;
  /** Consecutive failures so far. */
  failures: number;
  /** When the next attempt starts. */
  retryInMs: number;
}

/** A request failed while certificate renewal was failing; `cause` is the last renewal error. */
export class RenewalError extends Error {
  constructor(message: string, readonly renewalError: Error, readonly requestError?: Error) {
    super(message, { cause: renewalError });
    this.name = 'RenewalError';
  }
}

function asError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}

/**
 * An attested client: the current key and certificate, transports that present them, and a timer that
 * re-attests with a fresh key before the certificate expires. Events: `renewed` (Renewal) and
 * `renewal-error` (RenewalFailure).
 */
export class Session extends EventEmitter {
  #credential: AttestedCredential;
  readonly #agent: RenewingAgent;
  readonly #dispatcher: RenewingDispatcher;
  readonly #attestOnce: () => Promise<AttestedCredential>;
  readonly #url: string;
  readonly #renewal: RenewalSettings | undefined;
  #timer: NodeJS.Timeout | undefined;
  #failures = 0;
  #renewalError: Error | undefined;
  #closed = false;

  constructor(url: string, ca: string, first: AttestedCredential, attestOnce: () => Promise<AttestedCredential>, renewal: RenewalSettings | undefined) {
    super();
    this.#url = url;
    this.#credential = first;
    this.#attestOnce = attestOnce;
    this.#renewal = renewal;
    this.#agent = new RenewingAgent(Session.#tlsCredential(first), { ca });
    this.#dispatcher = new RenewingDispatcher(Session.#tlsCredential(first), ca);
    this.#scheduleRenewal();
  }

  static #tlsCredential(credential: AttestedCredential): { cert: string; key: string } {
    return { cert: credential.certificatePem + credential.chainPem, key: credential.keyPem };
  }

  /** The private key of the current certificate; it never leaves this process. */
  get key(): KeyObject { return this.#credential.key; }
  /** The current leaf certificate, PEM. */
  get certificate(): string { return this.#credential.certificatePem; }
  /** The issuing CA certificates of the current leaf, PEM. */
  get chain(): string { return this.#credential.chainPem; }
  get spiffeId(): string { return this.#credential.spiffeId; }
  get serial(): string { return this.#credential.serial; }
  get expiresAt(): Date { return this.#credential.expiresAt; }
  get claims(): Record<string, unknown> { return this.#credential.claims; }
  /** An `https.Agent` presenting the current certificate, for `https.request` and libraries built on it. */
  get agent(): Agent { return this.#agent; }
  /** An undici `Dispatcher` presenting the current certificate, for `fetch` and `request` of undici. */
  get dispatcher(): Dispatcher { return this.#dispatcher; }

  /** `GET /kbs/v1/resource/{path}` over mutual TLS with the current certificate; resolves to the bytes. */
  async getResource(path: string): Promise<Buffer> {
    if (this.#closed) throw new Error('keybroker session is closed');
    const renewalError = this.#renewalError;
    if (renewalError && Date.now() >= this.#credential.expiresAt.getTime()) {
      throw new RenewalError(`certificate expired and renewal fails: ${renewalError.message}`, renewalError);
    }
    try {
      return await getResource(this.#url, path, { agent: this.#agent });
    } catch (error) {
      const pending = this.#renewalError;
      if (!pending) throw error;
      const requestError = asError(error);
      throw new RenewalError(`${requestError.message} (certificate renewal fails: ${pending.message})`, pending, requestError);
    }
  }

  /** Stops renewal and closes the connections; requests in flight are cut off. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#agent.destroy();
    await this.#dispatcher.destroy();
  }

  #scheduleRenewal(delayMs?: number): void {
    if (!this.#renewal || this.#closed) return;
    const delay = delayMs ?? renewalDelayMs(Date.now(), this.#credential.expiresAt.getTime(), this.#renewal, Math.random());
    // Renewal alone does not keep a process alive.
    this.#timer = setTimeout(() => void this.#renew(this.#renewal!), delay).unref();
  }

  async #renew(settings: RenewalSettings): Promise<void> {
    let next: AttestedCredential;
    try {
      next = await this.#attestOnce();
    } catch (error) {
      if (this.#closed) return;
      this.#failures += 1;
      this.#renewalError = asError(error);
      const retryInMs = backoffDelayMs(this.#failures, settings);
      this.emit('renewal-error', { error: this.#renewalError, failures: this.#failures, retryInMs } satisfies RenewalFailure);
      this.#scheduleRenewal(retryInMs);
      return;
    }
    if (this.#closed) return;
    this.#credential = next;
    this.#failures = 0;
    this.#renewalError = undefined;
    this.#agent.setCredential(Session.#tlsCredential(next));
    this.#dispatcher.setCredential(Session.#tlsCredential(next));
    this.emit('renewed', { serial: next.serial, expiresAt: next.expiresAt } satisfies Renewal);
    this.#scheduleRenewal();
  }
}

/**
 * Attests to the broker and resolves to a session holding the certificate. With `renew` (the default) the
 * session re-attests with a fresh key before the certificate expires.
 */
export async function attest(options: AttestOptions): Promise<Session> {
  const renewal = options.renew === false ? undefined : renewalSettings(options.renew);
  const attester = await chooseAttester({ tee: options.tee, attester: options.attester, tsmRoot: options.tsmRoot });
  const attestOnce = (): Promise<AttestedCredential> => attestV1({
    url: options.url, tee: options.tee, ca: options.ca, attester, keyType: options.keyType, verifier: options.verifier,
  });
  return new Session(options.url, options.ca, await attestOnce(), attestOnce, renewal);
}
