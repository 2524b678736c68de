import pg from 'pg';
import { ChangeSubscribers } from '../change-feed.js';
import { CHANGE_CHANNEL } from './migrations.js';

const RETRY_FIRST_MS = 250;
const RETRY_MAX_MS = 5_000;

function parsePayload(payload: string | undefined): { topic: string; key: string } | undefined {
  try {
    const parsed = JSON.parse(payload ?? '') as { topic?: unknown; key?: unknown };
    return typeof parsed.topic === 'string' && typeof parsed.key === 'string' ? { topic: parsed.topic, key: parsed.key } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * LISTENs on the change channel over one dedicated connection. When that connection is lost it reconnects with
 * backoff, and on each reconnection tells every subscriber to resync, since notifications sent meanwhile are lost.
 */
export class PgChangeFeed extends ChangeSubscribers {
  private client: pg.Client | undefined;
  private retryMs = RETRY_FIRST_MS;
  private retryTimer: NodeJS.Timeout | undefined;
  private everConnected = false;
  private closed = false;

  constructor(private readonly clientConfig: pg.ClientConfig) {
    super();
  }

  /** True while the LISTEN connection is up. */
  get listening(): boolean {
    return this.client !== undefined;
  }

  /** Connects now; a failure is not thrown but retried in the background. */
  async start(): Promise<void> {
    await this.connect();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    const client = new pg.Client(this.clientConfig);
    let lost = false;
    const onLost = (): void => {
      if (lost) return;
      lost = true;
      if (this.client === client) this.client = undefined;
      void client.end().catch(() => undefined);
      this.scheduleRetry();
    };
    client.on('error', onLost);
    client.on('end', onLost);
    client.on('notification', (message) => {
      const change = parsePayload(message.payload);
      if (change) this.changed(change.topic, change.key);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANGE_CHANNEL}`);
    } catch {
      onLost();
      return;
    }
    if (this.closed || lost) {
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
    this.retryMs = RETRY_FIRST_MS;
    if (this.everConnected) this.resyncAll();
    this.everConnected = true;
  }

  private scheduleRetry(): void {
    if (this.closed || this.retryTimer !== undefined) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.connect();
    }, this.retryMs);
    this.retryTimer.unref();
    this.retryMs = Math.min(this.retryMs * 2, RETRY_MAX_MS);
  }
}
