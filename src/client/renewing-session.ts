import { EventEmitter } from 'node:events';
import { backoffDelayMs, renewalDelayMs, type RenewalSettings } from './renewal-schedule.js';

/** Emitted as `renewed` after a new credential replaced the old one. */
export interface Renewal {
  /** The certificate serial (v1) or the token's `jti` (v0). */
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

/** A request failed while renewal was failing; `cause` is the last renewal error. */
export class RenewalError extends Error {
  constructor(message: string, readonly renewalError: Error, readonly requestError?: Error) {
    super(message, { cause: renewalError });
    this.name = 'RenewalError';
  }
}

/** What every attested credential tells the renewal timer. */
export interface ExpiringCredential {
  serial: string;
  expiresAt: Date;
}

function asError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}

/**
 * The protocol-independent part of a session: the current credential, a timer that re-attests before it expires
 * and backs off on failure, and requests that report a failing renewal. Events: `renewed` (Renewal) and
 * `renewal-error` (RenewalFailure).
 */
export abstract class RenewingSession<C extends ExpiringCredential> extends EventEmitter {
  #credential: C;
  readonly #attestOnce: () => Promise<C>;
  readonly #renewal: RenewalSettings | undefined;
  #timer: NodeJS.Timeout | undefined;
  #failures = 0;
  #renewalError: Error | undefined;
  #closed = false;
  /** What the credential is called in errors: `certificate` (v1) or `token` (v0). */
  readonly #credentialName: string;

  protected constructor(credentialName: string, first: C, attestOnce: () => Promise<C>, renewal: RenewalSettings | undefined) {
    super();
    this.#credentialName = credentialName;
    this.#credential = first;
    this.#attestOnce = attestOnce;
    this.#renewal = renewal;
  }

  protected get credential(): C { return this.#credential; }
  get serial(): string { return this.#credential.serial; }
  get expiresAt(): Date { return this.#credential.expiresAt; }

  /** Starts the renewal timer; subclasses call it once their transports exist. */
  protected startRenewal(): void {
    this.#scheduleRenewal();
  }

  /** Called with each renewed credential before `renewed` is emitted; sessions with transports swap them here. */
  protected credentialRenewed(_next: C): void {}
  /** Releases the transports on close, where a session keeps any. */
  protected async closeTransports(): Promise<void> {}

  /**
   * Runs a request with the current credential. While renewal fails, an expired credential is refused without
   * contacting the broker, and a failing request carries the renewal error.
   */
  protected async withCredential<T>(request: (credential: C) => Promise<T>): Promise<T> {
    if (this.#closed) throw new Error('keybroker session is closed');
    const credential = this.#credential;
    const renewalError = this.#renewalError;
    if (renewalError && Date.now() >= credential.expiresAt.getTime()) {
      throw new RenewalError(`${this.#credentialName} expired and renewal fails: ${renewalError.message}`, renewalError);
    }
    try {
      return await request(credential);
    } catch (error) {
      const pending = this.#renewalError;
      if (!pending) throw error;
      const requestError = asError(error);
      throw new RenewalError(`${requestError.message} (${this.#credentialName} renewal fails: ${pending.message})`, pending, requestError);
    }
  }

  /** Stops renewal and closes the connections; requests in flight are cut off. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#timer);
    await this.closeTransports();
  }

  #scheduleRenewal(delayMs?: number): void {
    if (!this.#renewal || this.#closed) return;
    const delay = delayMs ?? renewalDelayMs(Date.now(), this.#credential.expiresAt.getTime(), this.#renewal, Math.random());
    // Renewal alone does not keep a process alive.
    this.#timer = setTimeout(() => void this.#renew(this.#renewal!), delay).unref();
  }

  async #renew(settings: RenewalSettings): Promise<void> {
    let next: C;
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
    this.credentialRenewed(next);
    this.emit('renewed', { serial: next.serial, expiresAt: next.expiresAt } satisfies Renewal);
    this.#scheduleRenewal();
  }
}
