import { Agent, Dispatcher } from 'undici';
import type { TlsCredential } from './client-credential.js';

/**
 * An undici `Dispatcher` presenting the session's current certificate: it forwards to an undici `Agent` made
 * for the current credential; on a swap the old agent closes gracefully, finishing the requests it carries.
 */
export class RenewingDispatcher extends Dispatcher {
  #current: Agent;
  readonly #ca: string;

  constructor(credential: TlsCredential, ca: string) {
    super();
    this.#ca = ca;
    this.#current = this.#agentFor(credential);
  }

  #agentFor(credential: TlsCredential): Agent {
    return new Agent({ connect: { ca: this.#ca, cert: credential.cert, key: credential.key } });
  }

  setCredential(credential: TlsCredential): void {
    const previous = this.#current;
    this.#current = this.#agentFor(credential);
    previous.close().catch(() => undefined);
  }

  override dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandlers): boolean {
    return this.#current.dispatch(options, handler);
  }

  override close(): Promise<void>;
  override close(callback: () => void): void;
  override close(callback?: () => void): Promise<void> | void {
    const closed = this.#current.close();
    if (!callback) return closed;
    closed.then(callback, callback);
  }

  override destroy(): Promise<void>;
  override destroy(error: Error | null): Promise<void>;
  override destroy(callback: () => void): void;
  override destroy(error: Error | null, callback: () => void): void;
  override destroy(first?: Error | null | (() => void), second?: () => void): Promise<void> | void {
    const error = typeof first === 'function' ? null : first ?? null;
    const callback = typeof first === 'function' ? first : second;
    const destroyed = this.#current.destroy(error);
    if (!callback) return destroyed;
    destroyed.then(callback, callback);
  }
}
