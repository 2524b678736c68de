import canonicalizeModule from 'canonicalize';

// The package is CommonJS (`module.exports = serialize`) while its typings declare an ES default export.
const canonicalize = canonicalizeModule as unknown as (value: unknown) => string | undefined;

/** RFC 8785 canonical JSON: the one byte form of a value that two parties (or two replicas) compute alike. */
export function canonicalJson(value: unknown): string {
  const text = canonicalize(value);
  if (text === undefined) throw new Error('value has no JSON form');
  return text;
}
