/**
 * A minimal DER writer for the structures keybroker builds itself (certificates, their extensions).
 * Generic X.509 builders run at about 1% of the raw signing rate; issuing from DER pieces keeps
 * issuance close to the cost of one signature.
 */
/** How many octets follow the first length octet: 0 for the short form (under 128). */
function longLengthOctets(length: number): number {
  if (length < 0x80) return 0;
  let octets = 1;
  while (length >= 2 ** (8 * octets)) octets++;
  return octets;
}

/** One element, written into a single allocation (issuance builds dozens of them per certificate). */
export function tlv(tag: number, ...content: Uint8Array[]): Buffer {
  let length = 0;
  for (const part of content) length += part.length;
  const octets = longLengthOctets(length);
  const element = Buffer.allocUnsafe(2 + octets + length);
  element[0] = tag;
  element[1] = octets === 0 ? length : 0x80 | octets;
  for (let index = 1; index <= octets; index++) element[1 + index] = Math.floor(length / 2 ** (8 * (octets - index))) & 0xff;
  let offset = 2 + octets;
  for (const part of content) {
    element.set(part, offset);
    offset += part.length;
  }
  return element;
}

export const sequence = (...items: Uint8Array[]): Buffer => tlv(0x30, ...items);
export const set = (...items: Uint8Array[]): Buffer => tlv(0x31, ...items);
export const octetString = (value: Uint8Array): Buffer => tlv(0x04, value);
export const utf8String = (text: string): Buffer => tlv(0x0c, Buffer.from(text, 'utf8'));
export const booleanTrue = (): Buffer => tlv(0x01, Buffer.from([0xff]));
/** Context-specific constructed tag `[n]`, for EXPLICIT tagging. */
export const explicit = (n: number, ...items: Uint8Array[]): Buffer => tlv(0xa0 | n, ...items);
/** Context-specific primitive tag `[n]`, for IMPLICIT tagging of a primitive value. */
export const implicitPrimitive = (n: number, value: Uint8Array): Buffer => tlv(0x80 | n, value);

/** A non-negative INTEGER from big-endian magnitude bytes, minimally encoded. */
export function unsignedInteger(magnitude: Uint8Array): Buffer {
  let start = 0;
  while (start < magnitude.length - 1 && magnitude[start] === 0) start++;
  const trimmed = Buffer.from(magnitude.subarray(start));
  const needsPad = trimmed.length === 0 || (trimmed[0]! & 0x80) !== 0;
  return tlv(0x02, needsPad ? Buffer.concat([Buffer.from([0]), trimmed]) : trimmed);
}

export function smallInteger(value: number): Buffer {
  if (!Number.isInteger(value) || value < 0 || value > 255) throw new Error(`smallInteger takes 0..255, not ${value}`);
  return unsignedInteger(Buffer.from([value]));
}

/** Encoded OIDs by dotted form: the same few are written into every certificate. Callers never modify them. */
const encodedObjectIdentifiers = new Map<string, Buffer>();
const MAX_REMEMBERED_OIDS = 256;

export function objectIdentifier(dotted: string): Buffer {
  let encoded = encodedObjectIdentifiers.get(dotted);
  if (!encoded) {
    encoded = encodeObjectIdentifier(dotted);
    if (encodedObjectIdentifiers.size < MAX_REMEMBERED_OIDS) encodedObjectIdentifiers.set(dotted, encoded);
  }
  return encoded;
}

function encodeObjectIdentifier(dotted: string): Buffer {
  const arcs = dotted.split('.').map((arc) => BigInt(arc));
  if (arcs.length < 2) throw new Error(`invalid OID ${dotted}`);
  const bytes: number[] = [];
  const pushBase128 = (value: bigint): void => {
    const chunk: number[] = [Number(value & 0x7fn)];
    for (let rest = value >> 7n; rest > 0n; rest >>= 7n) chunk.unshift(Number(rest & 0x7fn) | 0x80);
    bytes.push(...chunk);
  };
  pushBase128(arcs[0]! * 40n + arcs[1]!);
  for (const arc of arcs.slice(2)) pushBase128(arc);
  return tlv(0x06, Buffer.from(bytes));
}

/** BIT STRING with no unused bits (keys, signatures). */
export const bitString = (value: Uint8Array): Buffer => tlv(0x03, Buffer.from([0]), value);

/** BIT STRING for named bits (KeyUsage), DER: trailing zero bits dropped and counted as unused. */
export function namedBits(bits: number[]): Buffer {
  const highest = Math.max(...bits);
  const bytes = Buffer.alloc(Math.floor(highest / 8) + 1);
  for (const bit of bits) bytes[bit >> 3]! |= 0x80 >> (bit & 7);
  const unused = 7 - (highest & 7);
  return tlv(0x03, Buffer.from([unused]), bytes);
}

/** UTCTime through 2049, GeneralizedTime after, as RFC 5280 requires; whole seconds, UTC. */
export function time(date: Date): Buffer {
  const iso = date.toISOString();
  const compact = iso.slice(0, 19).replace(/[-:T]/g, '') + 'Z';
  return date.getUTCFullYear() < 2050 ? tlv(0x17, Buffer.from(compact.slice(2), 'ascii')) : tlv(0x18, Buffer.from(compact, 'ascii'));
}

/** One DER element located inside a buffer: tag, and the byte ranges of the whole element and of its content. */
export interface DerElement {
  tag: number;
  start: number;
  contentStart: number;
  end: number;
}

/**
 * Reads the element at `offset` (single-byte tags, definite lengths only, as DER requires). Throws on anything
 * truncated or malformed; callers turn that into their own error.
 */
export function readElement(data: Uint8Array, offset: number, limit = data.length): DerElement {
  if (offset + 2 > limit) throw new Error('DER: truncated element');
  const tag = data[offset]!;
  if ((tag & 0x1f) === 0x1f) throw new Error('DER: multi-byte tags are not supported');
  const first = data[offset + 1]!;
  let contentStart = offset + 2;
  let length = first;
  if (first & 0x80) {
    const count = first & 0x7f;
    if (count === 0 || count > 4 || contentStart + count > limit) throw new Error('DER: bad length');
    length = 0;
    for (let index = 0; index < count; index++) length = length * 256 + data[contentStart + index]!;
    if (length < 0x80 || data[contentStart] === 0) throw new Error('DER: non-minimal length');
    contentStart += count;
  }
  const end = contentStart + length;
  if (end > limit) throw new Error('DER: element runs past its container');
  return { tag, start: offset, contentStart, end };
}

/** The elements directly inside a constructed element. */
export function readChildren(data: Uint8Array, parent: DerElement): DerElement[] {
  const children: DerElement[] = [];
  for (let offset = parent.contentStart; offset < parent.end;) {
    const child = readElement(data, offset, parent.end);
    children.push(child);
    offset = child.end;
  }
  return children;
}
