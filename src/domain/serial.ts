/**
 * Certificate serials as keybroker writes and compares them: lowercase hex without leading zeros, the form
 * `openssl x509 -serial` prints (lowercased).
 */
export function normalizeSerial(hex: string): string {
  return hex.toLowerCase().replace(/^0+(?=.)/, '');
}

/** At most 20 octets (RFC 5280 4.1.2.2). */
const SERIAL = /^[0-9a-f]{1,40}$/;

/** The normal form of a serial given by an operator (any case, optional leading zeros or colons), or undefined. */
export function canonicalSerial(text: string): string | undefined {
  const hex = text.replace(/:/g, '').toLowerCase();
  return SERIAL.test(hex) ? normalizeSerial(hex) : undefined;
}
