import { Agent, type AgentOptions, type RequestOptions } from 'node:https';
import type { Duplex } from 'node:stream';
import type { TlsCredential } from './client-credential.js';

/**
 * An `https.Agent` that presents the session's current certificate. Each credential gets its own connection
 * pool (and TLS session cache) through `getName`, so after a swap new requests open connections with the new
 * certificate while requests in flight finish on theirs; sockets of an old credential are not kept alive.
 */
export class RenewingAgent extends Agent {
  #credential: TlsCredential;
  #generation = 0;
  readonly #socketGeneration = new WeakMap<Duplex, number>();

  constructor(credential: TlsCredential, options: AgentOptions = {}) {
    super({ keepAlive: true, ...options });
    this.#credential = credential;
  }

  get credential(): TlsCredential {
    return this.#credential;
  }

  setCredential(credential: TlsCredential): void {
    this.#credential = credential;
    this.#generation += 1;
    for (const sockets of Object.values(this.freeSockets)) for (const socket of sockets ?? []) socket.destroy();
  }

  override getName(options?: RequestOptions): string {
    return `${super.getName(options)}:credential-${this.#generation}`;
  }

  override createConnection(options: RequestOptions, callback?: (error: Error | null, stream: Duplex) => void): Duplex | null | undefined {
    const socket = super.createConnection({ ...options, cert: this.#credential.cert, key: this.#credential.key }, callback);
    if (socket) this.#socketGeneration.set(socket, this.#generation);
    return socket;
  }

  override keepSocketAlive(socket: Duplex): boolean {
    if (this.#socketGeneration.get(socket) !== this.#generation) return false;
    return (super.keepSocketAlive(socket) as unknown) !== false;
  }
}
