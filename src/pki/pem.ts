/** PEM armour: one DER object per block. */
export function derToPem(der: Uint8Array, label: string): string {
  const base64 = Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString('base64');
  let body = '';
  for (let start = 0; start < base64.length; start += 64) body += `${base64.slice(start, start + 64)}\n`;
  return `-----BEGIN ${label}-----\n${body}-----END ${label}-----\n`;
}

const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;

/** Every PEM block in the text, in order. */
export function pemBlocks(text: string): { label: string; der: Buffer }[] {
  return [...text.matchAll(BLOCK)].map((match) => ({ label: match[1]!, der: Buffer.from(match[2]!.replace(/\s+/g, ''), 'base64') }));
}

/** The DER of the first block with this label, or undefined. */
export function pemToDer(text: string, label: string): Buffer | undefined {
  return pemBlocks(text).find((block) => block.label === label)?.der;
}
