import fc from 'fast-check';
import type { KeyObject } from 'node:crypto';
import { parseAmdCertificates, verifySnpEvidence, type SnpVerifyContext } from '../../../../src/attestation/verifiers/snp/snp-verifier.js';
import { mutate, mutation, onlyKbsErrors } from '../../../helpers/fuzz.js';
import { fakeAmd, makeCertificate, makeReport, milanTcb, p384Key, vcekExtensions, type Tcb } from './fake-amd-pki.js';

describe('SNP verifier: properties (fast-check)', function () {
  this.timeout(120_000);
  const TCB: Tcb = { bootloader: 4, tee: 0, snp: 24, microcode: 217 };
  const chipId = Buffer.alloc(64, 0x5c);
  let context: SnpVerifyContext;
  let report: Buffer;
  let vcek: Buffer;
  let key: KeyObject;

  before(async () => {
    const amd = await fakeAmd();
    key = await p384Key();
    vcek = makeCertificate({ subject: 'SEV-VCEK', issuer: 'SEV-Milan', publicKey: key, signingKey: amd.askKey, extensions: vcekExtensions({ product: 'Milan-B0', tcb: TCB, hwId: chipId }) });
    report = makeReport({ reportedTcb: milanTcb(TCB), chipId }, key);
    context = {
      name: 'builtin', now: new Date('2026-03-01T00:00:00Z'), allowDebug: false, maxVmpl: 0, extraArkSha256: [amd.arkSha256],
      certificates: [amd.ask, amd.ark].flatMap((der) => parseAmdCertificates(der, 'fake')),
    };
    // The unmutated evidence verifies, so the mutations below start from a report that reaches every check.
    await verifySnpEvidence({ attestation_report: report.toString('base64'), cert_chain: [{ cert_type: 'VCEK', data: [...vcek] }] }, context);
  });

  it('random buffers as the report throw nothing but KbsError', async () => {
    await fc.assert(fc.asyncProperty(fc.oneof(fc.uint8Array({ maxLength: 1300 }), fc.uint8Array({ minLength: 1184, maxLength: 1184 })), async (bytes) => {
      await onlyKbsErrors(() => verifySnpEvidence({ attestation_report: Buffer.from(bytes).toString('base64'), cert_chain: [{ cert_type: 'VCEK', data: [...vcek] }] }, context));
    }), { numRuns: 200 });
  });

  it('mutated reports, re-signed or not, throw nothing but KbsError', async () => {
    await fc.assert(fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 4 }), fc.boolean(), async (mutations, resign) => {
      let bytes = mutations.reduce(mutate, report);
      if (resign && bytes.length === report.length) bytes = makeReportSigned(bytes);
      await onlyKbsErrors(() => verifySnpEvidence({ attestation_report: [...bytes], cert_chain: [{ cert_type: 'VCEK', data: [...vcek] }] }, context));
    }), { numRuns: 200 });
  });

  it('mutated VCEK certificates throw nothing but KbsError', async () => {
    await fc.assert(fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 3 }), async (mutations) => {
      const certificate = mutations.reduce(mutate, vcek);
      await onlyKbsErrors(() => verifySnpEvidence({ attestation_report: report.toString('base64'), cert_chain: [{ cert_type: 'VCEK', data: certificate.toString('base64') }] }, context));
    }), { numRuns: 200 });
  });

  it('arbitrary JSON as evidence, and as the report object, throws nothing but KbsError', async () => {
    await fc.assert(fc.asyncProperty(fc.jsonValue(), fc.oneof(fc.jsonValue(), fc.object()), async (evidence, reportObject) => {
      await onlyKbsErrors(() => verifySnpEvidence(evidence, context));
      await onlyKbsErrors(() => verifySnpEvidence({ attestation_report: reportObject, cert_chain: evidence }, context));
    }), { numRuns: 300 });
  });

  function makeReportSigned(bytes: Buffer): Buffer {
    return makeReport({ reportedTcb: bytes.subarray(0x180, 0x188), chipId: bytes.subarray(0x1a0, 0x1e0), version: bytes.readUInt32LE(0), policy: bytes.readBigUInt64LE(8), vmpl: bytes.readUInt32LE(0x30) % 8, family: bytes[0x188], model: bytes[0x189] }, key);
  }
});
