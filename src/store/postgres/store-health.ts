import { KbsError } from '../../domain/errors.js';
import type { Logger } from '../../domain/logger.js';

/** Node socket errors that mean the database cannot be reached. */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);
/** SQLSTATEs of a server that is going away or not accepting connections: admin/crash shutdown, cannot connect now, too many connections. */
const SERVER_CODES = new Set(['57P01', '57P02', '57P03', '53300']);
/** node-postgres reports a lost or timed-out connection with these messages and no code. */
const CLIENT_MESSAGES = /connection terminated|timeout exceeded when trying to connect|query read timeout|not queryable|connection error/i;

/** True when `error` says the database is unreachable (as opposed to a bad query, which is a bug). */
export function isConnectionError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = 'code' in error ? String(error.code) : '';
  return NETWORK_CODES.has(code) || SERVER_CODES.has(code) || code.startsWith('08') || CLIENT_MESSAGES.test(error.message);
}

/**
 * Whether the database answered the last time it was asked. Connection failures become 503 `unavailable`; a change of
 * state is logged once (not once per request), naming the database by host, port and name only, never the password.
 */
export class StoreHealth {
  private available = true;

  constructor(
    private readonly log: Logger,
    /** `host:port/database`. */
    private readonly database: string,
    /** Removed from any message that is logged, in case a driver ever echoes it. */
    private readonly secret: string | undefined,
  ) {}

  get isAvailable(): boolean {
    return this.available;
  }

  /** Runs one store operation, mapping a lost database to KbsError `unavailable`. */
  async guard<T>(operation: string, run: () => Promise<T>): Promise<T> {
    try {
      const result = await run();
      this.succeeded();
      return result;
    } catch (error) {
      if (!isConnectionError(error)) throw error;
      this.failed(operation, error);
      throw new KbsError('unavailable', 'the store is unavailable; retry shortly');
    }
  }

  succeeded(): void {
    if (this.available) return;
    this.available = true;
    this.log.info('store available again', { backend: 'postgres', database: this.database });
  }

  failed(operation: string, error: unknown): void {
    if (!this.available) return;
    this.available = false;
    this.log.error('store unavailable: requests that need the database get 503 until it answers again', {
      backend: 'postgres', database: this.database, operation, reason: this.reasonOf(error),
    });
  }

  private reasonOf(error: unknown): string {
    const message = error instanceof Error ? `${'code' in error && error.code ? `${String(error.code)}: ` : ''}${error.message}` : String(error);
    const line = message.split('\n')[0] ?? '';
    return this.secret ? line.split(this.secret).join('***') : line;
  }
}
