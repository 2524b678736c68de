import type { JWK } from 'jose';
import type { Logger } from '../../domain/logger.js';
import { withPublishedKeys, type TokenSigningKeys } from '../../pki/token-signing-key.js';
import { PUBLISHED_KEY_TOPIC, type ChangeFeed } from '../../store/change-feed.js';
import type { KeyDirectory } from '../../store/ports.js';
import { messageOf } from '../../domain/errors.js';

export const TOKEN_KEY_PURPOSE = 'v0-token';

/**
 * How many keys published by any replica verify tokens besides this replica's own: the current and previous key
 * of two CA homes, as during a rollout of a rotated home to the replicas.
 */
export const PUBLISHED_KEYS_TRUSTED = 4;

/**
 * The token signing keys of this replica (from its CA home) and, with a shared store, the public keys the other
 * replicas published: each replica publishes its own at start and after a CA reload, and re-reads the directory
 * when the change feed says another one published.
 */
export class TokenKeyRing {
  private published: JWK[] = [];
  private keys: TokenSigningKeys;

  private constructor(private local: TokenSigningKeys, private readonly directory: KeyDirectory | undefined) {
    this.keys = local;
  }

  static async open(local: TokenSigningKeys, directory: KeyDirectory | undefined, at: Date): Promise<TokenKeyRing> {
    const ring = new TokenKeyRing(local, directory);
    await ring.update(local, at);
    return ring;
  }

  /** What signs new tokens (the local current key) and what verifies tokens and is served as the JWKS. */
  current(): TokenSigningKeys {
    return this.keys;
  }

  /** Takes the replica's keys as loaded now, publishes their public halves, and reads what the others published. */
  async update(local: TokenSigningKeys, at: Date): Promise<void> {
    this.local = local;
    this.keys = withPublishedKeys(local, this.published);
    if (!this.directory) return;
    await this.directory.publish(local.jwks.keys.map((key) => ({ purpose: TOKEN_KEY_PURPOSE, kid: key.kid!, publicJwk: { ...key } })), at);
    await this.refresh();
  }

  async refresh(): Promise<void> {
    if (!this.directory) return;
    this.published = (await this.directory.recent(TOKEN_KEY_PURPOSE, PUBLISHED_KEYS_TRUSTED)).map((key) => key.publicJwk as JWK);
    this.keys = withPublishedKeys(this.local, this.published);
  }

  /** Re-reads the directory whenever another process publishes a key; returns a function that stops it. */
  follow(feed: ChangeFeed, log: Logger): () => void {
    const refresh = (): void => void this.refresh().catch((error: unknown) => {
      log.error('reading the published token keys failed; keeping the keys in force', { error: messageOf(error) });
    });
    return feed.subscribe(PUBLISHED_KEY_TOPIC, { changed: refresh, resync: refresh });
  }
}
