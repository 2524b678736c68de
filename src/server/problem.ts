import type { Context } from 'koa';
import { isKbsError, KbsError } from '../domain/errors.js';
import type { Logger } from '../domain/logger.js';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** The RFC 9457 problem body of an error (PROTOCOL.md section 0). */
export function problemJson(error: KbsError): string {
  return JSON.stringify({ type: `urn:keybroker:error:${error.code}`, title: error.title, status: error.status, detail: error.detail });
}

/** Writes an RFC 9457 problem body (PROTOCOL.md section 0). */
export function writeProblem(ctx: Context, error: KbsError): void {
  ctx.status = error.status;
  ctx.type = PROBLEM_CONTENT_TYPE;
  ctx.body = problemJson(error);
}

/** Anything that is not a KbsError is a bug: logged in full on the server, answered as a bare 500. */
export function toKbsError(error: unknown, log: Logger): KbsError {
  if (isKbsError(error)) return error;
  log.error('unhandled error', { error: error instanceof Error ? `${error.name}: ${error.message}` : String(error), stack: error instanceof Error ? error.stack : undefined });
  return new KbsError('internal-error', 'the broker failed to handle this request');
}
