/** A parsed JSON object (not null, not an array): what evidence, tokens and request bodies must be before fields are read. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
