import type { Context } from 'koa';
import { KbsError } from '../domain/errors.js';

/**
 * Reads the request body up to `limit` bytes. A declared length over the limit is refused before anything is
 * read; a body that grows past it while streaming is refused as soon as it does.
 */
export async function readBody(ctx: Context, limit: number): Promise<Buffer> {
  const declared = ctx.request.length;
  if (declared !== undefined && declared > limit) throw new KbsError('payload-too-large', `request body is larger than ${limit} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new KbsError('payload-too-large', `request body is larger than ${limit} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** A JSON body: `application/json` (another declared type is 415; none is read as JSON), UTF-8, parsed (400 when malformed). */
export async function readJsonBody(ctx: Context, limit: number): Promise<unknown> {
  const type = ctx.request.type;
  if (type !== '' && type !== 'application/json' && !type.endsWith('+json')) throw new KbsError('unsupported-media-type', 'request body must be application/json');
  const raw = await readBody(ctx, limit);
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(raw));
  } catch {
    throw new KbsError('bad-request', 'request body is not valid UTF-8 JSON');
  }
}
