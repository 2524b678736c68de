import { expect } from 'chai';
import * as asn1js from 'asn1js';
import {
  bitString, booleanTrue, explicit, implicitPrimitive, namedBits, objectIdentifier, octetString,
  readChildren, readElement, sequence, set, smallInteger, time, tlv, unsignedInteger, utf8String,
} from '../../../src/pki/der.js';
import { makeTempDir, openssl, removeDir, writeTemp } from './helpers.js';

const hex = (value: Uint8Array): string => Buffer.from(value).toString('hex');

/** Parses DER with asn1js and insists the whole input was one well-formed object. */
function parseWhole(der: Uint8Array): asn1js.AsnType {
  const parsed = asn1js.fromBER(der);
  expect(parsed.offset, 'asn1js could not parse the DER').to.not.equal(-1);
  expect(parsed.offset, 'trailing bytes after the DER object').to.equal(der.length);
  return parsed.result;
}

/** An independent OID decoder (base-128 sub-identifiers with BigInt), to check large arcs that asn1js prints as hex. */
function decodeOid(der: Uint8Array): string {
  expect(der[0]).to.equal(0x06);
  const length = der[1]!;
  expect(length).to.be.lessThan(0x80);
  const content = der.subarray(2, 2 + length);
  expect(content.length).to.equal(der.length - 2);
  const subidentifiers: bigint[] = [];
  let current = 0n;
  for (let index = 0; index < content.length; index++) {
    const byte = content[index]!;
    if (current === 0n) expect(byte, 'sub-identifier with a leading 0x80 is not minimal').to.not.equal(0x80);
    current = (current << 7n) | BigInt(byte & 0x7f);
    if ((byte & 0x80) === 0) {
      subidentifiers.push(current);
      current = 0n;
    }
  }
  expect(current, 'unterminated sub-identifier').to.equal(0n);
  const first = subidentifiers[0]!;
  const [a, b] = first < 40n ? [0n, first] : first < 80n ? [1n, first - 40n] : [2n, first - 80n];
  return [a, b, ...subidentifiers.slice(1)].join('.');
}

describe('pki/der', () => {
  describe('tlv lengths', () => {
    const cases: [number, string][] = [
      [0, '00'], [1, '01'], [127, '7f'], [128, '8180'], [200, '81c8'], [255, '81ff'], [256, '820100'], [300, '82012c'],
      [65535, '82ffff'], [65536, '83010000'],
    ];
    for (const [length, header] of cases) {
      it(`encodes a ${length}-byte body with the minimal length octets ${header}`, () => {
        const body = Buffer.alloc(length, 0x41);
        const der = tlv(0x04, body);
        expect(hex(der.subarray(0, 1 + header.length / 2))).to.equal(`04${header}`);
        expect(der.length).to.equal(1 + header.length / 2 + length);
        const parsed = parseWhole(der);
        expect(parsed).to.be.instanceOf(asn1js.OctetString);
        expect(Buffer.from((parsed as asn1js.OctetString).valueBlock.valueHexView).equals(body)).to.equal(true);
      });
    }

    it('concatenates several content pieces', () => {
      expect(hex(tlv(0x30, Buffer.from([1]), Buffer.from([2, 3])))).to.equal('3003010203');
    });
  });

  describe('unsignedInteger', () => {
    const cases: [string, string][] = [
      ['', '020100'],
      ['00', '020100'],
      ['0000', '020100'],
      ['01', '020101'],
      ['7f', '02017f'],
      ['80', '02020080'],
      ['ff', '020200ff'],
      ['0080', '02020080'],
      ['000000ff', '020200ff'],
      ['00007f01', '02027f01'],
      ['0100', '02020100'],
      ['80000000000000000000000000000001', '02110080000000000000000000000000000001'],
    ];
    for (const [magnitude, expected] of cases) {
      it(`encodes magnitude 0x${magnitude || '(empty)'} minimally as ${expected}`, () => {
        const der = unsignedInteger(Buffer.from(magnitude, 'hex'));
        expect(hex(der)).to.equal(expected);
        const parsed = parseWhole(der) as asn1js.Integer;
        expect(parsed).to.be.instanceOf(asn1js.Integer);
        expect(parsed.toBigInt()).to.equal(magnitude ? BigInt(`0x${magnitude}`) : 0n);
      });
    }

    it('always encodes a non-negative value for random 128-bit magnitudes with the top bit set', () => {
      for (let round = 0; round < 50; round++) {
        const magnitude = Buffer.from(Array.from({ length: 16 }, () => Math.floor(Math.random() * 256)));
        magnitude[0]! |= 0x80;
        const parsed = parseWhole(unsignedInteger(magnitude)) as asn1js.Integer;
        expect(parsed.toBigInt()).to.equal(BigInt(`0x${magnitude.toString('hex')}`));
        expect(parsed.valueBlock.valueHexView.length).to.equal(17);
      }
    });

    it('does not modify its input', () => {
      const input = Buffer.from('0080', 'hex');
      unsignedInteger(input);
      expect(hex(input)).to.equal('0080');
    });
  });

  describe('smallInteger', () => {
    for (const [value, expected] of [[0, '020100'], [2, '020102'], [127, '02017f'], [128, '02020080'], [255, '020200ff']] as const) {
      it(`encodes ${value} as ${expected}`, () => {
        const der = smallInteger(value);
        expect(hex(der)).to.equal(expected);
        expect((parseWhole(der) as asn1js.Integer).valueBlock.valueDec).to.equal(value);
      });
    }
  });

  describe('objectIdentifier', () => {
    const known: [string, string][] = [
      ['1.3.6.1.5.5.7.1.35', '06082b06010505070123'],
      ['2.5.29.19', '0603551d13'],
      ['1.2.840.10045.4.3.2', '06082a8648ce3d040302'],
      ['1.2.840.113549.1.1.11', '06092a864886f70d01010b'],
      ['1.3.101.112', '06032b6570'],
      ['0.0', '060100'],
      ['2.999.3', '0603883703'],
    ];
    for (const [oid, expected] of known) {
      it(`encodes ${oid} as ${expected}`, () => {
        const der = objectIdentifier(oid);
        expect(hex(der)).to.equal(expected);
        expect(decodeOid(der)).to.equal(oid);
      });
    }

    it('round-trips small-arc OIDs through asn1js', () => {
      for (const oid of ['1.3.6.1.5.5.7.1.35', '1.2.840.113549.1.1.11', '2.5.4.3', '1.3.6.1.4.1.311.21.7', '2.16.840.1.101.3.4.2.1']) {
        const parsed = parseWhole(objectIdentifier(oid)) as asn1js.ObjectIdentifier;
        expect(parsed).to.be.instanceOf(asn1js.ObjectIdentifier);
        expect(parsed.valueBlock.toString()).to.equal(oid);
      }
    });

    it('encodes arcs above 2^32 and 2^64 (UUID OIDs under 2.25) exactly', () => {
      const oids = [
        '1.2.4294967296.5',
        '1.3.18446744073709551616',
        '2.25.329800735698586629295641978511506172918',
        '2.25.340282366920938463463374607431768211455',
      ];
      for (const oid of oids) {
        const der = objectIdentifier(oid);
        expect(decodeOid(der)).to.equal(oid);
        const parsed = asn1js.fromBER(der);
        expect(parsed.offset).to.equal(der.length);
      }
      // 2.25.<uuid>: first sub-identifier 2*40+25 = 105 = 0x69
      expect(hex(objectIdentifier('2.25.329800735698586629295641978511506172918'))).to.equal('06146983f09da7ebcfdee0c7a1a7b2c0948cc8f9d776');
    });

    it('agrees with openssl asn1parse on large arcs', async () => {
      const dir = await makeTempDir('der');
      try {
        const oid = '2.25.329800735698586629295641978511506172918';
        const file = await writeTemp(dir, 'oid.der', objectIdentifier(oid));
        const result = await openssl(['asn1parse', '-inform', 'DER', '-in', file]);
        expect(result.code, result.stderr).to.equal(0);
        expect(result.stdout).to.contain(`OBJECT            :${oid}`);
      } finally {
        await removeDir(dir);
      }
    });

    it('refuses an OID with fewer than two arcs', () => {
      expect(() => objectIdentifier('1')).to.throw();
    });
  });

  describe('time', () => {
    const cases: [string, number, string][] = [
      ['1999-12-31T23:59:59Z', 0x17, '991231235959Z'],
      ['2000-01-01T00:00:00Z', 0x17, '000101000000Z'],
      ['2026-03-01T12:34:56Z', 0x17, '260301123456Z'],
      ['2049-12-31T23:59:59Z', 0x17, '491231235959Z'],
      ['2050-01-01T00:00:00Z', 0x18, '20500101000000Z'],
      ['2126-07-04T01:02:03Z', 0x18, '21260704010203Z'],
    ];
    for (const [iso, tag, text] of cases) {
      it(`encodes ${iso} as ${tag === 0x17 ? 'UTCTime' : 'GeneralizedTime'} ${text}`, () => {
        const der = time(new Date(iso));
        expect(der[0]).to.equal(tag);
        expect(der[1]).to.equal(text.length);
        expect(der.subarray(2).toString('ascii')).to.equal(text);
        const parsed = parseWhole(der) as asn1js.UTCTime | asn1js.GeneralizedTime;
        expect(parsed).to.be.instanceOf(tag === 0x17 ? asn1js.UTCTime : asn1js.GeneralizedTime);
        expect(parsed.toDate().toISOString()).to.equal(new Date(iso).toISOString());
      });
    }

    it('drops milliseconds (whole seconds, no fraction) in both forms', () => {
      expect(time(new Date('2049-12-31T23:59:59.999Z')).subarray(2).toString('ascii')).to.equal('491231235959Z');
      expect(time(new Date('2050-06-01T00:00:00.500Z')).subarray(2).toString('ascii')).to.equal('20500601000000Z');
    });

    it('uses UTC whatever the local time zone', () => {
      // 2049-12-31T23:30:00-05:00 is 2050-01-01T04:30:00Z: GeneralizedTime by its UTC year.
      const der = time(new Date('2049-12-31T23:30:00-05:00'));
      expect(der[0]).to.equal(0x18);
      expect(der.subarray(2).toString('ascii')).to.equal('20500101043000Z');
    });
  });

  describe('namedBits', () => {
    const cases: [number[], string][] = [
      [[0], '03020780'],
      [[0, 4], '03020388'],
      [[0, 2], '030205a0'],
      [[5, 6], '03020106'],
      [[0, 5, 6], '03020186'],
      [[7], '03020001'],
      [[8], '0303070080'],
      [[0, 8], '0303078080'],
    ];
    for (const [bits, expected] of cases) {
      it(`encodes bits [${bits.join(', ')}] as ${expected} (trailing zero bits dropped)`, () => {
        const der = namedBits(bits);
        expect(hex(der)).to.equal(expected);
        const parsed = parseWhole(der) as asn1js.BitString;
        expect(parsed).to.be.instanceOf(asn1js.BitString);
        const unused = parsed.valueBlock.unusedBits;
        const bytes = parsed.valueBlock.valueHexView;
        const set: number[] = [];
        for (let bit = 0; bit < bytes.length * 8 - unused; bit++) if (bytes[bit >> 3]! & (0x80 >> (bit & 7))) set.push(bit);
        expect(set).to.deep.equal([...bits].sort((x, y) => x - y));
        // DER: the last used bit is a 1.
        expect(set[set.length - 1]).to.equal(bytes.length * 8 - unused - 1);
      });
    }
  });

  describe('simple types', () => {
    it('encodes the primitive helpers with their universal tags', () => {
      expect(hex(octetString(Buffer.from([1, 2])))).to.equal('04020102');
      expect(hex(utf8String('é'))).to.equal('0c02c3a9');
      expect(hex(booleanTrue())).to.equal('0101ff');
      expect(hex(bitString(Buffer.from([0xab])))).to.equal('030200ab');
      expect(hex(sequence())).to.equal('3000');
      expect(hex(set(Buffer.from('0500', 'hex')))).to.equal('31020500');
      expect(hex(explicit(0, smallInteger(2)))).to.equal('a003020102');
      expect(hex(explicit(3))).to.equal('a300');
      expect(hex(implicitPrimitive(6, Buffer.from('u')))).to.equal('860175');
    });

    it('produces a nested structure asn1js reads back', () => {
      const der = sequence(explicit(0, smallInteger(2)), utf8String('keybroker'), set(sequence(objectIdentifier('2.5.4.3'), utf8String('x'))));
      const parsed = parseWhole(der) as asn1js.Sequence;
      expect(parsed.valueBlock.value).to.have.length(3);
      expect((parsed.valueBlock.value[1] as asn1js.Utf8String).valueBlock.value).to.equal('keybroker');
      expect((parsed.valueBlock.value[0] as asn1js.Constructed).idBlock.tagClass).to.equal(3);
      expect((parsed.valueBlock.value[0] as asn1js.Constructed).idBlock.tagNumber).to.equal(0);
    });
  });

  describe('readElement and readChildren', () => {
    it('locate what the writer wrote, for short and long lengths', () => {
      for (const length of [0, 5, 127, 128, 255, 256, 70000]) {
        const der = Buffer.concat([Buffer.from([0xaa]), tlv(0x04, Buffer.alloc(length, 1)), Buffer.from([0xbb])]);
        const element = readElement(der, 1);
        expect(element.tag).to.equal(0x04);
        expect(element.start).to.equal(1);
        expect(element.end - element.contentStart).to.equal(length);
        expect(element.end).to.equal(der.length - 1);
      }
    });

    it('list the direct children of a constructed element', () => {
      const der = sequence(smallInteger(1), sequence(utf8String('a'), utf8String('b')), octetString(Buffer.alloc(300)));
      const outer = readElement(der, 0);
      expect(outer.end).to.equal(der.length);
      const children = readChildren(der, outer);
      expect(children.map((child) => child.tag)).to.deep.equal([0x02, 0x30, 0x04]);
      expect(readChildren(der, children[1]!).map((child) => der.subarray(child.contentStart, child.end).toString())).to.deep.equal(['a', 'b']);
      expect(children[2]!.end - children[2]!.contentStart).to.equal(300);
      expect(readChildren(der, readElement(sequence(), 0))).to.deep.equal([]);
    });

    const malformed: [string, string][] = [
      ['an empty input', ''],
      ['a lone tag', '30'],
      ['a length past the end', '3005020101'],
      ['an indefinite length', '30800000'],
      ['a non-minimal long length (< 128 in long form)', '04810548656c6c6f'],
      ['a long length with a leading zero byte', '0482008000'],
      ['a multi-byte tag', '1f810100'],
      ['a length of more than 4 octets', '04850100000000'],
      ['a truncated long length', '0482ff'],
    ];
    for (const [label, hexText] of malformed) {
      it(`throw on ${label}`, () => {
        expect(() => readElement(Buffer.from(hexText, 'hex'), 0)).to.throw();
      });
    }

    it('throw on a child that runs past its parent', () => {
      // SEQUENCE of length 3 holding an INTEGER that claims 5 bytes
      const der = Buffer.from('3003020501020304', 'hex');
      expect(() => readChildren(der, readElement(der, 0))).to.throw();
    });
  });
});
