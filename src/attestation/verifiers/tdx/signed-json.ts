import { KbsError } from '../../../domain/errors.js';

/** A JSON document signed by Intel: the signature covers `text` byte for byte, so it is never re-serialised. */
export interface SignedJson {
  text: string;
  /** ECDSA P-256 raw r‖s (64 bytes). */
  signature: Buffer;
}

const HEX_SIGNATURE = /^[0-9a-fA-F]{128}$/;

function collateralError(detail: string): KbsError {
  return new KbsError('attestation-failed', `TDX collateral: ${detail}`);
}

/** Index just past the JSON value starting at `start` (after whitespace), scanning strings and brackets. */
function endOfValue(text: string, start: number): number {
  let depth = 0;
  let inString = false;
  for (let index = start; index < text.length; index++) {
    const char = text[index];
    if (inString) {
      if (char === '\\') index++;
      else if (char === '"') {
        inString = false;
        if (depth === 0) return index + 1;
      }
    } else if (depth === 0 && (char === ',' || char === '}')) return index;
    else if (char === '"') inString = true;
    else if (char === '{' || char === '[') depth++;
    else if (char === '}' || char === ']') {
      depth--;
      if (depth === 0) return index + 1;
    }
  }
  throw collateralError('unterminated JSON value');
}

/**
 * The exact text of a top-level member's value in a JSON object, e.g. `tcbInfo` in Intel's
 * `{"tcbInfo":{...},"signature":"..."}`. The document is parsed first, so the scan only sees valid JSON.
 */
function rawMember(text: string, key: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw collateralError(`the "${key}" document is not JSON`);
  }
  if (typeof parsed !== 'object' || parsed === null || !Object.hasOwn(parsed, key)) throw collateralError(`the document has no "${key}"`);
  // Walk the top-level members in order; keys are JSON strings, values are skipped with endOfValue.
  let index = text.indexOf('{') + 1;
  for (;;) {
    const keyStart = text.indexOf('"', index);
    const keyEnd = endOfValue(text, keyStart);
    const colon = text.indexOf(':', keyEnd);
    let valueStart = colon + 1;
    while (/\s/.test(text[valueStart] ?? '')) valueStart++;
    const valueEnd = endOfValue(text, valueStart);
    if (JSON.parse(text.slice(keyStart, keyEnd)) === key) return text.slice(valueStart, valueEnd);
    index = text.indexOf(',', valueEnd) + 1;
    if (index === 0) throw collateralError(`the document has no "${key}"`);
  }
}

export function readSignature(hex: unknown, what: string): Buffer {
  if (typeof hex !== 'string' || !HEX_SIGNATURE.test(hex)) throw collateralError(`${what} signature is not 64 bytes of hex`);
  return Buffer.from(hex, 'hex');
}

/** Splits an Intel PCS response body (`{"<key>": {...}, "signature": "<hex>"}`) into the signed text and signature. */
export function signedJsonFromPcsBody(body: string, key: 'tcbInfo' | 'enclaveIdentity'): SignedJson {
  const text = rawMember(body, key);
  return { text, signature: readSignature((JSON.parse(body) as { signature?: unknown }).signature, key) };
}
