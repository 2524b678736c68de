import { KbsError } from '../domain/errors.js';
import { isRecord } from '../domain/json-record.js';

/** Small checks for request bodies: a missing or mistyped required field is 400 naming the field. */
export function requireObject(body: unknown, what = 'request body'): Record<string, unknown> {
  if (!isRecord(body)) throw new KbsError('bad-request', `${what} must be a JSON object`);
  return body;
}

export function requireString(object: Record<string, unknown>, field: string, maxLength = 65536): string {
  const value = object[field];
  if (typeof value !== 'string' || value.length === 0) throw new KbsError('bad-request', `"${field}" is required and must be a non-empty string`);
  if (value.length > maxLength) throw new KbsError('bad-request', `"${field}" is longer than ${maxLength} characters`);
  return value;
}

export function optionalString(object: Record<string, unknown>, field: string, maxLength = 65536): string | undefined {
  return object[field] === undefined ? undefined : requireString(object, field, maxLength);
}
