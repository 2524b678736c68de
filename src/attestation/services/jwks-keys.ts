import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { createLocalJWKSet, errors as joseErrors, type JSONWebKeySet, type JWSHeaderParameters, type FlattenedJWSInput } from 'jose';
import { KbsError } from '../../domain/errors.js';
import { withKeysFromX5c } from './jwks-x5c.js';
import { ServiceHttp } from './service-http.js';

type KeyLookup = ReturnType<typeof createLocalJWKSet>;
export type ResolvedKey = Awaited<ReturnType<KeyLookup>>;

function isKeySet(value: unknown): value is JSONWebKeySet {
  return typeof value === 'object' && value !== null && Array.isArray((value as { keys?: unknown }).keys);
}

/** How long a read key set is used before it is read again: a key the service withdraws stops verifying by then. */
export const JWKS_MAX_AGE_MS = 10 * 60 * 1000;

/**
 * A service's signing keys from a JWKS file (`file://`) or URL. The set is cached and read again once it is
 * `maxAgeMs` old, so a key the service withdraws is refused within that time; when that read fails, the set in hand
 * stays in use (the service being down withdraws nothing) until the next one. A token whose `kid` (or key type)
 * matches no cached key makes it read the set again, once, so a rotation at the service is picked up without
 * letting every forged `kid` cost more than one fetch. A token without a `kid` gets the same one re-read through
 * `refreshed` when no cached key verifies it.
 */
export class JwksKeys {
  private cached?: Promise<KeyLookup>;
  private loadedText?: string;
  private loadedAt = 0;

  constructor(
    private readonly location: string,
    private readonly http: ServiceHttp,
    private readonly maxAgeMs = JWKS_MAX_AGE_MS,
    private readonly now: () => number = Date.now,
  ) {}

  async keyFor(header: JWSHeaderParameters, token: FlattenedJWSInput): Promise<ResolvedKey> {
    const current = this.cached === undefined ? this.reload() : this.now() - this.loadedAt >= this.maxAgeMs ? this.renew(this.cached) : this.cached;
    try {
      return await (await current)(header, token);
    } catch (error) {
      if (!(error instanceof joseErrors.JWKSNoMatchingKey)) throw error;
      // Reload unless another request already did while this one waited.
      const next = this.cached === current ? this.reload() : this.cached!;
      return (await next)(header, token);
    }
  }

  /**
   * Reads the set again and says whether it changed: for tokens without a `kid`, whose signature fails with every
   * cached key, a changed set is worth one more try.
   */
  async refreshed(): Promise<boolean> {
    const before = this.loadedText;
    await this.reload();
    return this.loadedText !== before;
  }

  /** A fresh read of an aged set; if it fails, the aged set serves until the next `maxAgeMs` is over. */
  private renew(aged: Promise<KeyLookup>): Promise<KeyLookup> {
    this.loadedAt = this.now();
    const renewing: Promise<KeyLookup> = this.reload().catch(() => {
      if (this.cached === renewing) this.cached = aged;
      return aged;
    });
    this.cached = renewing;
    return renewing;
  }

  private reload(): Promise<KeyLookup> {
    const loading = this.read().then((set) => {
      this.loadedText = JSON.stringify(set);
      this.loadedAt = this.now();
      return createLocalJWKSet(withKeysFromX5c(set));
    });
    // A failed read is not cached: the next token tries again.
    loading.catch(() => { if (this.cached === loading) this.cached = undefined; });
    this.cached = loading;
    return loading;
  }

  private async read(): Promise<JSONWebKeySet> {
    const service = this.http.serviceName;
    let parsed: unknown;
    if (this.location.startsWith('file:')) {
      try {
        parsed = JSON.parse(await readFile(fileURLToPath(this.location), 'utf8'));
      } catch {
        throw new KbsError('verifier-unavailable', `the key set of attestation service "${service}" cannot be read`);
      }
    } else {
      const response = await this.http.request(this.location, { headers: { accept: 'application/json' } });
      if (response.status !== 200) throw new KbsError('verifier-unavailable', `the key set of attestation service "${service}" answered HTTP ${response.status}`);
      parsed = ServiceHttp.json(response, service);
    }
    if (!isKeySet(parsed)) throw new KbsError('verifier-unavailable', `the key set of attestation service "${service}" is not a JWKS`);
    return parsed;
  }
}
