import { KbsError } from '../domain/errors.js';

const BASE64_TEXT = /^[A-Za-z0-9+/=_\-\s]+$/;

/**
 * `--evidence FILE` as the verifier's evidence object: trustee's JSON shape as is, or the raw binary report/quote
 * (or base64 of it) wrapped into that shape. Detected from the content: JSON object, base64 text, else binary.
 */
export function evidenceFromFile(tee: string, content: Buffer): unknown {
  const text = content.toString('utf8').trim();
  if (text.startsWith('{')) {
    try {
      return JSON.parse(text);
    } catch {
      throw new KbsError('bad-evidence-format', 'the evidence file starts like JSON but is not valid JSON');
    }
  }
  const raw = text.length > 0 && BASE64_TEXT.test(text) ? Buffer.from(text.replace(/\s+/g, ''), /[-_]/.test(text) ? 'base64url' : 'base64') : content;
  const encoded = raw.toString('base64');
  switch (tee) {
    case 'snp': return { attestation_report: encoded, cert_chain: [] };
    case 'tdx': return { quote: encoded };
    default: throw new KbsError('unsupported-tee', `no raw evidence format known for TEE "${tee}"`);
  }
}
