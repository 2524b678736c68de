/** PEM armour: one DER object per block. */
export function derToPem(der: Uint8Array, label: string): string {
  const body = Buffer.from(der).toString('base64').replace(/.{1,64}/g, '$&\n');
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
