/**
 * The SNP certificate table that configfs-tsm exposes as `auxblob` (GHCB extended guest request): entries of
 * a 16-byte GUID, a 32-bit little-endian offset and length into the table, ended by an all-zero entry. Each
 * becomes a trustee `cert_chain` entry `{cert_type, data}` with the DER bytes as an array of numbers.
 */
const ENTRY_SIZE = 24;

/** GUIDs (RFC 4122 byte order) of the AMD certificate kinds, named as trustee's `cert_type`. */
const CERT_TYPES: Record<string, string> = {
  '63da758d-e664-4564-adc5-f4b93be8accd': 'VCEK',
  'a8074bc2-a25a-483e-aae6-39c045a0b8a1': 'VLEK',
  '4ab7b379-bbac-4fe4-a02f-05aef327c782': 'ASK',
  'c0b406a4-a803-4952-9743-3fb6014cd0ae': 'ARK',
  '92f81bc3-5811-4d3d-97ff-d19f88dc67ea': 'CRL',
};

export interface SnpCertTableEntry {
  cert_type: string;
  data: number[];
}

function guidText(raw: Buffer): string {
  const hex = raw.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export function parseSnpCertTable(table: Buffer): SnpCertTableEntry[] {
  const entries: SnpCertTableEntry[] = [];
  for (let at = 0; ; at += ENTRY_SIZE) {
    if (at + ENTRY_SIZE > table.length) throw new Error('SNP certificate table has no terminating entry');
    const guid = table.subarray(at, at + 16);
    const offset = table.readUInt32LE(at + 16);
    const length = table.readUInt32LE(at + 20);
    if (guid.every((byte) => byte === 0) && offset === 0 && length === 0) return entries;
    if (offset + length > table.length) throw new Error('SNP certificate table entry points past the table');
    const text = guidText(guid);
    // Unknown kinds keep their GUID as the type, as trustee does for OTHER(uuid).
    entries.push({ cert_type: CERT_TYPES[text] ?? text, data: [...table.subarray(offset, offset + length)] });
  }
}
