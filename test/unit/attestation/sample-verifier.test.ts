import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { sampleVerifier } from '../../../src/attestation/verifiers/sample.js';
import { errorCodeOf } from '../pki/helpers.js';

describe('attestation/verifiers/sample', () => {
  const verifier = sampleVerifier();
  const reportData = randomBytes(64);
  const good = { svn: '1', report_data: reportData.toString('base64') };

  it('is named "builtin" by default and handles the sample TEE only', () => {
    expect(verifier.name).to.equal('builtin');
    expect(verifier.tees).to.deep.equal(['sample']);
    expect(sampleVerifier('dev').name).to.equal('dev');
  });

  it('turns good evidence into normalized affirming claims and the report data', async () => {
    const verified = await verifier.verify('sample', good);
    expect(Buffer.from(verified.reportData).equals(reportData)).to.equal(true);
    expect(verified.claims).to.deep.equal({
      v: 1,
      tee: 'sample',
      verifier: 'builtin',
      status: 'affirming',
      tcb_status: 'unknown',
      trust_vector: { hardware: 0, executables: 0, configuration: 0 },
      tee_claims: { svn: '1', report_data: reportData.toString('hex') },
    });
    expect(verified.claims).to.not.have.property('measurement');
    expect(verified.claims).to.not.have.property('iat');
  });

  it('names the verifier it was created with in the claims', async () => {
    expect((await sampleVerifier('dev').verify('sample', good)).claims.verifier).to.equal('dev');
  });

  it('adds the measurement, lowercased, when the evidence carries one', async () => {
    const verified = await verifier.verify('sample', { ...good, measurement: 'ABCDEF0123' });
    expect(verified.claims.measurement).to.equal('abcdef0123');
    const long = 'Aa'.repeat(64);
    expect((await verifier.verify('sample', { ...good, measurement: long })).claims.measurement).to.equal('aa'.repeat(64));
  });

  it('accepts 32- and 48-byte report data', async () => {
    for (const length of [32, 48]) {
      const data = randomBytes(length);
      expect(Buffer.from((await verifier.verify('sample', { svn: '7', report_data: data.toString('base64') })).reportData).equals(data)).to.equal(true);
    }
  });

  it('ignores unknown fields', async () => {
    const verified = await verifier.verify('sample', { ...good, extra: { anything: true } });
    expect(verified.claims.status).to.equal('affirming');
  });

  describe('refuses malformed evidence with bad-evidence-format', () => {
    const b64 = (length: number): string => randomBytes(length).toString('base64');
    const cases: [string, unknown][] = [
      ['null', null],
      ['a string', 'evidence'],
      ['a number', 1],
      ['an array', [good]],
      ['a missing svn', { report_data: good.report_data }],
      ['a numeric svn', { ...good, svn: 1 }],
      ['a non-decimal svn', { ...good, svn: 'one' }],
      ['an empty svn', { ...good, svn: '' }],
      ['a negative svn', { ...good, svn: '-1' }],
      ['an svn of 10 digits', { ...good, svn: '1234567890' }],
      ['a missing report_data', { svn: '1' }],
      ['a numeric report_data', { svn: '1', report_data: 64 }],
      ['unpadded base64 report_data', { svn: '1', report_data: b64(32).replace(/=+$/, '') }],
      ['base64url report_data', { svn: '1', report_data: `${Buffer.alloc(64, 0xfb).toString('base64url')}==` }],
      ['hex report_data', { svn: '1', report_data: randomBytes(64).toString('hex') }],
      ['16-byte report_data', { svn: '1', report_data: b64(16) }],
      ['63-byte report_data', { svn: '1', report_data: b64(63) }],
      ['65-byte report_data', { svn: '1', report_data: b64(65) }],
      ['empty report_data', { svn: '1', report_data: '' }],
      ['a numeric measurement', { ...good, measurement: 12 }],
      ['an empty measurement', { ...good, measurement: '' }],
      ['an odd-length measurement', { ...good, measurement: 'abc' }],
      ['a non-hex measurement', { ...good, measurement: 'zz' }],
      ['a measurement over 64 bytes', { ...good, measurement: 'ab'.repeat(65) }],
    ];
    for (const [label, evidence] of cases) {
      it(label, async () => {
        expect(await errorCodeOf(() => verifier.verify('sample', evidence))).to.equal('bad-evidence-format');
      });
    }
  });
});
