import { createHash } from 'node:crypto';
import { request } from 'node:https';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { KbsError } from '../../domain/errors.js';
import { writeFileAtomic } from '../../store/fs/atomic-write.js';

/** One collateral document as a service served it: the body and the response headers asked for. */
export interface CollateralResponse {
  body: Buffer;
  /** Lowercase header names; only those listed in `keepHeaders` (Intel PCS puts issuer chains in headers). */
  headers: Record<string, string>;
  /** When it was fetched from the network (a cached copy keeps its original time). */
  fetchedAt: Date;
}

export interface HttpsCollateralOptions {
  /** Where fetched documents are kept (created on first use); none: every call goes to the network. */
  cacheDir?: string;
  /** How long a cached copy is served without asking the network again. Verifiers still check validity dates. */
  maxAgeSeconds: number;
  /** Per request, connect to last byte. */
  timeoutMs: number;
  /** Larger answers are refused (collateral is a few KiB to a few hundred KiB). */
  maxBytes: number;
  /** Extra PEM roots for the service's TLS certificate (tests with a loopback stand-in); default: the system store. */
  tlsCa?: string | Buffer;
  clock?: () => Date;
}

export const DEFAULT_HTTPS_COLLATERAL_OPTIONS: HttpsCollateralOptions = { maxAgeSeconds: 86400, timeoutMs: 10000, maxBytes: 4 * 1024 * 1024 };

interface CacheRecord {
  url: string;
  fetched_at: string;
  headers: Record<string, string>;
  body: string;
}

/**
 * Fetches collateral (AMD KDS certificates, Intel PCS TCB info, CRLs) over HTTPS and keeps a copy on disk, so a
 * broker asks each service once per document and `maxAgeSeconds`. `get` answers undefined for 404 (the service
 * does not know the document); other failures throw KbsError `verifier-unavailable` (or `verifier-timeout`).
 */
export class HttpsCollateralFetcher {
  private readonly options: HttpsCollateralOptions;

  constructor(options: Partial<HttpsCollateralOptions> = {}) {
    this.options = { ...DEFAULT_HTTPS_COLLATERAL_OPTIONS, ...options };
  }

  async get(url: string, keepHeaders: readonly string[] = []): Promise<CollateralResponse | undefined> {
    if (!url.startsWith('https://')) throw new Error(`collateral URL must be https: ${url}`);
    const cached = await this.readCache(url);
    const now = (this.options.clock ?? (() => new Date()))();
    if (cached && now.getTime() - cached.fetchedAt.getTime() < this.options.maxAgeSeconds * 1000) return cached;
    const fetched = await this.fetch(url, keepHeaders.map((name) => name.toLowerCase()), now);
    if (fetched) await this.writeCache(url, fetched);
    return fetched;
  }

  private cachePath(url: string): string | undefined {
    if (this.options.cacheDir === undefined) return undefined;
    return join(this.options.cacheDir, `${createHash('sha256').update(url).digest('hex')}.json`);
  }

  private async readCache(url: string): Promise<CollateralResponse | undefined> {
    const path = this.cachePath(url);
    if (path === undefined) return undefined;
    let record: CacheRecord;
    try {
      record = JSON.parse(await readFile(path, 'utf8')) as CacheRecord;
    } catch {
      // Absent or unreadable: fetch again and overwrite.
      return undefined;
    }
    const fetchedAt = new Date(record.fetched_at);
    if (record.url !== url || typeof record.body !== 'string' || Number.isNaN(fetchedAt.getTime())) return undefined;
    return { body: Buffer.from(record.body, 'base64'), headers: record.headers ?? {}, fetchedAt };
  }

  private async writeCache(url: string, response: CollateralResponse): Promise<void> {
    const path = this.cachePath(url);
    if (path === undefined || this.options.cacheDir === undefined) return;
    await mkdir(this.options.cacheDir, { recursive: true, mode: 0o700 });
    const record: CacheRecord = { url, fetched_at: response.fetchedAt.toISOString(), headers: response.headers, body: response.body.toString('base64') };
    await writeFileAtomic(path, JSON.stringify(record), 0o644);
  }

  private fetch(url: string, keepHeaders: string[], now: Date): Promise<CollateralResponse | undefined> {
    const { timeoutMs, maxBytes, tlsCa } = this.options;
    const host = new URL(url).host;
    return new Promise((resolve, reject) => {
      const req = request(url, { method: 'GET', timeout: timeoutMs, ...(tlsCa !== undefined ? { ca: tlsCa } : {}) }, (res) => {
        const status = res.statusCode ?? 0;
        if (status === 404) {
          res.resume();
          resolve(undefined);
          return;
        }
        if (status !== 200) {
          res.resume();
          reject(new KbsError('verifier-unavailable', `collateral service ${host} answered HTTP ${status}`));
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > maxBytes) {
            req.destroy();
            reject(new KbsError('verifier-unavailable', `collateral from ${host} is larger than ${maxBytes} bytes`));
            return;
          }
          chunks.push(chunk);
        });
        res.on('end', () => {
          const headers: Record<string, string> = {};
          for (const name of keepHeaders) {
            const value = res.headers[name];
            if (typeof value === 'string') headers[name] = value;
          }
          resolve({ body: Buffer.concat(chunks), headers, fetchedAt: now });
        });
        res.on('error', (error) => reject(new KbsError('verifier-unavailable', `collateral from ${host}: ${error.message}`)));
      });
      req.on('timeout', () => {
        req.destroy();
        reject(new KbsError('verifier-timeout', `collateral service ${host} did not answer within ${timeoutMs} ms`));
      });
      req.on('error', (error) => reject(new KbsError('verifier-unavailable', `collateral service ${host} unreachable: ${error.message}`)));
      req.end();
    });
  }
}
