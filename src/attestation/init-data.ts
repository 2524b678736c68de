import { createHash, timingSafeEqual } from 'node:crypto';
import { parse } from 'smol-toml';
import { KbsError } from '../domain/errors.js';

const ALGORITHMS = { sha256: 'sha256', sha384: 'sha384', sha512: 'sha512' } as const;
type Algorithm = keyof typeof ALGORITHMS;

/** The init-data document a TEE was started with (trustee's initdata: TOML, or the same keys as JSON). */
export interface InitData {
  body: string;
  /** The document's `algorithm` key (trustee initdata spec), when it has one. */
  algorithm?: Algorithm;
}

/** Checks the document parses and reads its digest algorithm; throws KbsError `bad-request` otherwise. */
export function readInitData(format: 'toml' | 'json', body: string): InitData {
  let document: unknown;
  try {
    document = format === 'toml' ? parse(body) : JSON.parse(body);
  } catch {
    throw new KbsError('bad-request', `"init_data.body" is not valid ${format.toUpperCase()}`);
  }
  const declared = typeof document === 'object' && document !== null ? (document as Record<string, unknown>).algorithm : undefined;
  if (declared === undefined) return { body };
  if (typeof declared !== 'string' || !Object.hasOwn(ALGORITHMS, declared)) {
    throw new KbsError('bad-request', '"init_data" algorithm must be "sha256", "sha384" or "sha512"');
  }
  return { body, algorithm: declared as Algorithm };
}

/** Without an `algorithm` key: SHA-256 for a 32-byte field, SHA-384 for 48 bytes, SHA-512 for 64. */
function defaultAlgorithm(fieldLength: number): Algorithm {
  return fieldLength <= 32 ? 'sha256' : fieldLength <= 48 ? 'sha384' : 'sha512';
}

/**
 * PROTOCOL.md 1.3: the digest of the init-data body (with the document's algorithm) must equal the report's init-data
 * field (SNP HOST_DATA, TDX MRCONFIGID), the digest zero-padded to the field's length. Compared in constant time.
 */
export function initDataMatchesReport(initData: InitData, reportField: Uint8Array): boolean {
  const algorithm = initData.algorithm ?? defaultAlgorithm(reportField.length);
  const digest = createHash(ALGORITHMS[algorithm]).update(initData.body, 'utf8').digest();
  if (digest.length > reportField.length) {
    throw new KbsError('binding-mismatch', `"init_data" algorithm ${algorithm} does not fit the report's ${reportField.length}-byte init-data field`);
  }
  const expected = Buffer.alloc(reportField.length);
  digest.copy(expected);
  return timingSafeEqual(expected, Buffer.from(reportField));
}

/** What certificates record as `claims.init_data`: SHA-384 hex of the body, whatever the TEE's field holds. */
export function initDataClaim(initData: InitData): string {
  return createHash('sha384').update(initData.body, 'utf8').digest('hex');
}
