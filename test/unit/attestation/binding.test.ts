import { expect } from 'chai';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { reportDataMatches, v1ReportData } from '../../../src/attestation/binding.js';

/** PROTOCOL.md 1.2, computed independently: one buffer, one hash. */
function independentReportData(nonce: string, spki: Buffer): Buffer {
  const input = Buffer.concat([Buffer.from('keybroker-v1-bind', 'ascii'), Buffer.from([0x00]), Buffer.from(nonce, 'ascii'), Buffer.from([0x00]), spki]);
  return createHash('sha512').update(input).digest();
}

describe('attestation/binding', () => {
  const spki = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'der' });
  const nonce = 'AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_abcdefgh';

  describe('v1ReportData', () => {
    it('is SHA-512("keybroker-v1-bind" || 0x00 || nonce || 0x00 || SPKI), 64 bytes', () => {
      const data = v1ReportData(nonce, spki);
      expect(data.length).to.equal(64);
      expect(data.toString('hex')).to.equal(independentReportData(nonce, spki).toString('hex'));
    });

    it('matches a fixed vector', () => {
      const fixedSpki = Buffer.from('3059301306072a8648ce3d020106082a8648ce3d030107034200', 'hex');
      const expected = createHash('sha512').update(Buffer.from(`keybroker-v1-bind\u0000n\u0000`, 'ascii')).update(fixedSpki).digest('hex');
      expect(v1ReportData('n', fixedSpki).toString('hex')).to.equal(expected);
    });

    it('changes with the nonce and with the key, and does not let bytes shift between them', () => {
      const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'der' });
      const base = v1ReportData(nonce, spki).toString('hex');
      expect(v1ReportData(`${nonce}x`, spki).toString('hex')).to.not.equal(base);
      expect(v1ReportData(nonce, other).toString('hex')).to.not.equal(base);
      // The 0x00 separator keeps ("ab", "c...") and ("a", "bc...") apart.
      expect(v1ReportData('ab', Buffer.from('c')).toString('hex')).to.not.equal(v1ReportData('a', Buffer.from('bc')).toString('hex'));
    });

    it('accepts any Uint8Array for the SPKI', () => {
      expect(v1ReportData(nonce, new Uint8Array(spki)).equals(v1ReportData(nonce, spki))).to.equal(true);
    });
  });

  describe('reportDataMatches', () => {
    const expected = independentReportData(nonce, spki);

    it('accepts the exact 64 bytes', () => {
      expect(reportDataMatches(Buffer.from(expected), expected)).to.equal(true);
    });

    it('accepts the first 32 bytes (TEEs with a 32-byte field)', () => {
      expect(reportDataMatches(expected.subarray(0, 32), expected)).to.equal(true);
    });

    it('refuses the last 32 bytes', () => {
      expect(reportDataMatches(expected.subarray(32), expected)).to.equal(false);
    });

    for (const length of [0, 1, 16, 31, 33, 48, 63, 65, 128]) {
      it(`refuses a ${length}-byte prefix or extension`, () => {
        const reported = length <= 64 ? expected.subarray(0, length) : Buffer.concat([expected, Buffer.alloc(length - 64)]);
        expect(reportDataMatches(reported, expected)).to.equal(false);
      });
    }

    it('refuses a one-bit change at any position (64 and 32 bytes)', () => {
      for (let bit = 0; bit < 64 * 8; bit++) {
        const changed = Buffer.from(expected);
        changed[bit >> 3]! ^= 1 << (bit & 7);
        expect(reportDataMatches(changed, expected), `bit ${bit}`).to.equal(false);
        if (bit < 32 * 8) expect(reportDataMatches(changed.subarray(0, 32), expected), `bit ${bit} of 32`).to.equal(false);
      }
    });

    it('refuses the binding of another nonce', () => {
      expect(reportDataMatches(independentReportData(`${nonce}A`, spki), expected)).to.equal(false);
    });
  });
});
