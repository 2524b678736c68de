import { expect } from 'chai';
import * as asn1js from 'asn1js';
import type { Claims } from '../../../src/domain/claims.js';
import { octetString, tlv, utf8String } from '../../../src/pki/der.js';
import {
  CLAIMS_MEDIA_TYPE, claimsExtension, claimsOfCertificate, decodeClaimsExtensionValue,
} from '../../../src/pki/claims-extension.js';
import { issueAdminCertificate, issueClientCertificate } from '../../../src/pki/certificate-profiles.js';
import { ecKey, makeIssuer, makeRoot, NOW, spkiOf, TRUST_DOMAIN } from './helpers.js';

const claims: Claims = {
  v: 1, tee: 'snp', verifier: 'builtin', status: 'affirming', tcb_status: 'UpToDate', measurement: '00ff'.repeat(24),
  init_data: 'aa'.repeat(48), trust_vector: { hardware: 2, executables: 2, configuration: 2 },
  tee_claims: { 'policy.debug': false, 'reported_tcb.snp': 23, text: 'ünïcødé ✓ "quoted" \\ back' }, iat: 1764410000,
};

const record = (mediaType: unknown, payload: unknown): Buffer => utf8String(JSON.stringify([mediaType, payload]));
const b64url = (value: unknown): string => Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');

describe('pki/claims-extension', () => {
  it('uses the EAT UCS JSON media type', () => {
    expect(CLAIMS_MEDIA_TYPE).to.equal('application/eat-ucs+json');
  });

  it('builds a non-critical extension 1.3.6.1.5.5.7.1.35 whose value is a DER UTF8String', () => {
    const extension = claimsExtension(claims);
    expect(extension.oid).to.equal('1.3.6.1.5.5.7.1.35');
    expect(extension.critical).to.equal(false);
    const parsed = asn1js.fromBER(extension.value);
    expect(parsed.offset).to.equal(extension.value.length);
    expect(parsed.result).to.be.instanceOf(asn1js.Utf8String);
    const [mediaType, payload] = JSON.parse((parsed.result as asn1js.Utf8String).valueBlock.value) as [string, string];
    expect(mediaType).to.equal('application/eat-ucs+json');
    expect(payload).to.not.contain('=');
    expect(JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'))).to.deep.equal(claims);
  });

  it('round-trips claims through the extension value', () => {
    expect(decodeClaimsExtensionValue(claimsExtension(claims).value)).to.deep.equal(claims);
  });

  it('round-trips claims through an issued certificate', () => {
    const root = makeRoot();
    const issuer = makeIssuer(root);
    const issued = issueClientCertificate(issuer, { spki: spkiOf(ecKey()), trustDomain: TRUST_DOMAIN, tee: 'snp', id: 'abc', claims, ttlSeconds: 600, now: NOW });
    expect(claimsOfCertificate(issued.der)).to.deep.equal(claims);
    const admin = issueAdminCertificate(issuer, { spki: spkiOf(ecKey()), trustDomain: TRUST_DOMAIN, name: 'ops', ttlSeconds: 600, now: NOW });
    expect(claimsOfCertificate(admin.der)).to.equal(undefined);
  });

  it('accepts a record built independently of the encoder', () => {
    expect(decodeClaimsExtensionValue(record('application/eat-ucs+json', b64url(claims)))).to.deep.equal(claims);
  });

  it('refuses claims JSON over 8 KiB', () => {
    expect(() => claimsExtension({ ...claims, tee_claims: { pad: 'x'.repeat(8192) } })).to.throw();
  });

  describe('returns undefined for anything that is not our claims', () => {
    const cases: [string, Uint8Array][] = [
      ['a foreign media type', record('application/eat+cwt', b64url(claims))],
      ['a media type with parameters', record('application/eat-ucs+json; charset=utf-8', b64url(claims))],
      ['an IA5String instead of a UTF8String', tlv(0x16, Buffer.from(JSON.stringify([CLAIMS_MEDIA_TYPE, b64url(claims)]), 'ascii'))],
      ['an OCTET STRING instead of a UTF8String', octetString(Buffer.from(JSON.stringify([CLAIMS_MEDIA_TYPE, b64url(claims)])))],
      ['the raw JSON without DER', Buffer.from(JSON.stringify([CLAIMS_MEDIA_TYPE, b64url(claims)]))],
      ['an empty value', new Uint8Array()],
      ['a UTF8String that is not JSON', utf8String('not json')],
      ['a JSON object instead of the record array', utf8String(JSON.stringify({ type: CLAIMS_MEDIA_TYPE, value: b64url(claims) }))],
      ['a record of three items', utf8String(JSON.stringify([CLAIMS_MEDIA_TYPE, b64url(claims), 'x']))],
      ['a payload that is not a string', record(CLAIMS_MEDIA_TYPE, claims)],
      ['a payload that is not JSON', record(CLAIMS_MEDIA_TYPE, Buffer.from('{{{').toString('base64url'))],
      ['a payload that is a JSON array', record(CLAIMS_MEDIA_TYPE, b64url([1, 2]))],
      ['a payload that is JSON null', record(CLAIMS_MEDIA_TYPE, b64url(null))],
      ['claims of another version', record(CLAIMS_MEDIA_TYPE, b64url({ ...claims, v: 2 }))],
      ['claims without a version', record(CLAIMS_MEDIA_TYPE, b64url({ tee: 'snp' }))],
    ];
    for (const [label, value] of cases) {
      it(label, () => {
        expect(decodeClaimsExtensionValue(value)).to.equal(undefined);
      });
    }
  });
});
