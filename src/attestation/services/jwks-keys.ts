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

/**
 * A service's signing keys from a JWKS file (`file://`) or URL. The set is read once and cached; a token whose
 * `kid` (or key type) matches no cached key makes it read the set again, once, so a rotation at the service is
 * picked up without letting every forged `kid` cost more than one fetch. A token without a `kid` gets the same one
 * re-read through `refreshed` when no cached key verifies it.
 */
export class JwksKeys {
  private cached?: Promise<KeyLookup>;
  private loadedText?: string;

  constructor(
    private readonly location: string,
    private readonly http: ServiceHttp,
  ) {}

  async keyFor(header: JWSHeaderParameters, token: FlattenedJWSInput): Promise<ResolvedKey> {
    const current = this.cached ?? this.reload();
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

  private reload(): Promise<KeyLookup> {
    const loading = this.read().then((set) => {
      this.loadedText = JSON.stringify(set);
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
