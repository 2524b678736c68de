import { expect } from 'chai';
import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { derToPem } from '../../../../src/pki/pem.js';
import { INTEL_SGX_ROOT_CA_SHA256 } from '../../../../src/attestation/verifiers/tdx/intel-chain.js';
import { tdxClaims } from '../../../../src/attestation/verifiers/tdx/tdx-claims.js';
import { verifyTdxCollateral, type TdxCollateral } from '../../../../src/attestation/verifiers/tdx/tdx-collateral.js';
import { parseTdxQuote } from '../../../../src/attestation/verifiers/tdx/tdx-quote.js';
import { createTdxVerifier, readTdxEvidence } from '../../../../src/attestation/verifiers/tdx/tdx-verifier.js';
import { verifyTdxQuote, type TdxQuoteCheckOptions } from '../../../../src/attestation/verifiers/tdx/verify-tdx-quote.js';
import {
  DEFAULT_PLATFORM, FAKE_NOW, makeCrl, makeFakeIntelPki, makeTdxCollateral, makeTdxQuote, x509, type CollateralOptions, type QuoteOptions,
} from './fake-intel-pki.js';
import { rejection } from './rejection.js';

const DAY = 86400 * 1000;

describe('attestation/verifiers/tdx: synthetic quotes through a fake Intel PKI', () => {
  const pki = makeFakeIntelPki();
  const trustedRoots = new Set([pki.rootFingerprint]);

  function check(quoteOptions: QuoteOptions = {}, options: Partial<TdxQuoteCheckOptions> & { collateralOptions?: CollateralOptions } = {}) {
    const { collateralOptions, ...rest } = options;
    const collateral = collateralOptions ? verifyTdxCollateral(makeTdxCollateral(pki, collateralOptions), trustedRoots) : undefined;
    return verifyTdxQuote(makeTdxQuote(pki, quoteOptions), { trustedRoots, at: FAKE_NOW, allowDebug: false, ...(collateral ? { collateral } : {}), ...rest });
  }

  async function failure(action: () => unknown, code: string, detail: RegExp): Promise<void> {
    const error = await rejection(action);
    expect(error.code).to.equal(code);
    expect(error.detail).to.match(detail);
  }

  describe('good quotes', () => {
    for (const [version, bodyType] of [[4, 2], [5, 2], [5, 3]] as const) {
      it(`v${version} with body type ${bodyType} verifies and yields its fields`, () => {
        const reportData = randomBytes(64);
        const mrTd = randomBytes(48);
        const result = check({ version, bodyType, reportData, mrTd }, { collateralOptions: {} });
        expect(result.quote.version).to.equal(version);
        expect(result.quote.bodyType).to.equal(bodyType);
        expect(result.quote.body.reportData.equals(reportData)).to.equal(true);
        expect(result.quote.body.teeTcbSvn2 !== undefined).to.equal(bodyType === 3);
        expect(result.platform.fmspc.equals(DEFAULT_PLATFORM.fmspc)).to.equal(true);
        const claims = tdxClaims(result, 'builtin');
        expect(claims).to.deep.include({ tee: 'tdx', status: 'affirming', tcb_status: 'UpToDate', measurement: mrTd.toString('hex') });
        expect(claims.tee_claims.fmspc).to.equal(DEFAULT_PLATFORM.fmspc.toString('hex'));
      });
    }

    it('tolerates trailing bytes after the declared signature data', () => {
      const quote = Buffer.concat([makeTdxQuote(pki), randomBytes(97)]);
      expect(verifyTdxQuote(quote, { trustedRoots, at: FAKE_NOW, allowDebug: false }).quote.version).to.equal(4);
    });

    it('without collateral the TCB status is "unknown" and the status "warning", which the default attestation policy refuses', () => {
      const claims = tdxClaims(check(), 'builtin');
      expect(claims.tcb_status).to.equal('unknown');
      expect(claims.status).to.equal('warning');
      expect(claims.trust_vector.hardware).to.equal(0);
    });
  });

  describe('signatures and chain', () => {
    it('refuses a quote signed by a key other than the attestation key', async () => {
      const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
      await failure(() => check({ quoteSigningKey: other }), 'attestation-failed', /quote signature does not verify/);
    });

    it('refuses a quote whose signed body was altered after signing', async () => {
      const quote = makeTdxQuote(pki);
      quote[48 + 136] ^= 0x01; // first byte of MRTD
      await failure(() => verifyTdxQuote(quote, { trustedRoots, at: FAKE_NOW, allowDebug: false }), 'attestation-failed', /quote signature does not verify/);
    });

    it('refuses a QE report not signed by the PCK key', async () => {
      const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
      await failure(() => check({ qeSigningKey: other }), 'attestation-failed', /QE report signature does not verify with the PCK key/);
    });

    it('refuses a QE report whose report data does not bind the attestation key', async () => {
      await failure(() => check({ qeReportData: randomBytes(64) }), 'attestation-failed', /QE report data does not bind the attestation key/);
    });

    it('refuses a PCK chain whose root is not pinned (the real Intel root only)', async () => {
      await failure(() => check({}, { trustedRoots: new Set([INTEL_SGX_ROOT_CA_SHA256]) }), 'attestation-failed', /root certificate is not a trusted Intel SGX root/);
    });

    it('refuses a PCK chain where the leaf is not signed by the intermediate', async () => {
      const other = makeFakeIntelPki();
      // The other PKI's PCK leaf (which signs the QE report) followed by this PKI's intermediate and root.
      const pckChainPem = derToPem(other.pck.der, 'CERTIFICATE') + derToPem(pki.platformCa.der, 'CERTIFICATE') + derToPem(pki.root.der, 'CERTIFICATE');
      const quote = makeTdxQuote({ ...pki, pck: other.pck, pckChainPem });
      await failure(() => verifyTdxQuote(quote, { trustedRoots, at: FAKE_NOW, allowDebug: false }), 'attestation-failed', /certificate 0 is not signed by the next/);
    });

    it('refuses an expired PCK certificate', async () => {
      const shortLived = makeFakeIntelPki({ pckNotAfter: new Date(FAKE_NOW.getTime() - DAY) });
      await failure(() => verifyTdxQuote(makeTdxQuote(shortLived), { trustedRoots: new Set([shortLived.rootFingerprint]), at: FAKE_NOW, allowDebug: false }),
        'attestation-failed', /PCK certificate chain is not valid at/);
    });

    it('refuses a PCK certificate listed in the PCK CRL', async () => {
      const pckCrl = makeCrl(pki.platformCa, [randomBytes(16), pki.pckSerial], new Date(FAKE_NOW.getTime() - DAY), new Date(FAKE_NOW.getTime() + DAY));
      await failure(() => check({}, { collateralOptions: { pckCrl } }), 'attestation-failed', /PCK certificate is revoked/);
      expect(check({}, { collateralOptions: { pckCrl: makeCrl(pki.platformCa, [randomBytes(16)], new Date(FAKE_NOW.getTime() - DAY), new Date(FAKE_NOW.getTime() + DAY)) } }).tcb?.tcbStatus).to.equal('UpToDate');
    });

    it('refuses a PCK CRL not signed by the PCK issuer, and an expired one', async () => {
      const forged = makeCrl(pki.tcbSigning, [], new Date(FAKE_NOW.getTime() - DAY), new Date(FAKE_NOW.getTime() + DAY));
      await failure(() => check({}, { collateralOptions: { pckCrl: forged } }), 'attestation-failed', /PCK CRL: signature does not verify/);
      const stale = makeCrl(pki.platformCa, [], new Date(FAKE_NOW.getTime() - 3 * DAY), new Date(FAKE_NOW.getTime() - DAY));
      await failure(() => check({}, { collateralOptions: { pckCrl: stale } }), 'attestation-failed', /PCK CRL is not valid at/);
    });

    it('refuses a PCK issuing CA listed in the root CA CRL', async () => {
      const serial = Buffer.from(x509(pki.platformCa).serialNumber, 'hex');
      const rootCaCrl = makeCrl(pki.root, [serial], new Date(FAKE_NOW.getTime() - DAY), new Date(FAKE_NOW.getTime() + DAY));
      await failure(() => check({}, { collateralOptions: { rootCaCrl } }), 'attestation-failed', /PCK issuing CA is revoked/);
    });
  });

  describe('TD attributes', () => {
    const debugAttributes = Buffer.from('0100001000000000', 'hex');

    it('refuses a debug TD by default', async () => {
      await failure(() => check({ tdAttributes: debugAttributes }), 'attestation-failed', /DEBUG attribute/);
    });

    it('accepts a debug TD when configured, as a warning', () => {
      const claims = tdxClaims(check({ tdAttributes: debugAttributes }, { allowDebug: true, collateralOptions: {} }), 'builtin');
      expect(claims.status).to.equal('warning');
      expect(claims.tee_claims.debug).to.equal(true);
      expect(claims.trust_vector.configuration).to.equal(32);
    });
  });

  describe('collateral', () => {
    it('refuses collateral past its nextUpdate, and before its issueDate', async () => {
      await failure(() => check({}, { collateralOptions: { nextUpdate: new Date(FAKE_NOW.getTime() - 1000) } }), 'attestation-failed', /TCB info is not valid at/);
      await failure(() => check({}, { collateralOptions: { issueDate: new Date(FAKE_NOW.getTime() + DAY) } }), 'attestation-failed', /TCB info is not valid at/);
    });

    it('refuses TCB info with a bad signature', async () => {
      const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
      await failure(() => verifyTdxCollateral(makeTdxCollateral(pki, { tcbInfoSigningKey: other }), trustedRoots), 'attestation-failed', /TCB info signature does not verify/);
    });

    it('refuses TCB info altered after signing (the signed text is used byte for byte)', async () => {
      const collateral = makeTdxCollateral(pki);
      const altered: TdxCollateral = { ...collateral, tcbInfo: { ...collateral.tcbInfo, text: collateral.tcbInfo.text.replace('"tcbEvaluationDataNumber":17', '"tcbEvaluationDataNumber": 17') } };
      await failure(() => verifyTdxCollateral(altered, trustedRoots), 'attestation-failed', /TCB info signature does not verify/);
    });

    it('refuses TCB info signed by a PCK key, which chains to the root through the PCK platform CA', async () => {
      const collateral = makeTdxCollateral(pki);
      const byPck: TdxCollateral = {
        ...collateral,
        tcbInfo: { text: collateral.tcbInfo.text, signature: sign('sha256', Buffer.from(collateral.tcbInfo.text), { key: pki.pck.key, dsaEncoding: 'ieee-p1363' }) },
        tcbInfoIssuerChain: pki.pckChainPem,
      };
      await failure(() => verifyTdxCollateral(byPck, trustedRoots), 'attestation-failed', /TCB info must be signed by a TCB signing certificate issued directly by the root/);
    });

    it('refuses a TCB signing chain that does not end in a pinned root', async () => {
      await failure(() => verifyTdxCollateral(makeTdxCollateral(pki), new Set([INTEL_SGX_ROOT_CA_SHA256])), 'attestation-failed', /TCB info issuer chain: the root certificate is not a trusted/);
    });

    it('derives OutOfDate when the platform misses the first level', () => {
      const levels = [{ status: 'UpToDate', pceSvn: DEFAULT_PLATFORM.pceSvn + 2 }, { status: 'OutOfDate', pceSvn: 5, advisoryIds: ['INTEL-SA-00001', 'INTEL-SA-00002'] }];
      const result = check({}, { collateralOptions: { platformLevels: levels } });
      expect(result.tcb).to.deep.include({ tcbStatus: 'OutOfDate', advisoryIds: ['INTEL-SA-00001', 'INTEL-SA-00002'] });
      expect(tdxClaims(result, 'builtin')).to.deep.include({ status: 'warning', tcb_status: 'OutOfDate' });
    });

    it('compares the TDX components with TEE_TCB_SVN', () => {
      const levels = [{ status: 'UpToDate', tdxTcbComponents: [4, 1, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0] }, { status: 'SWHardeningNeeded' }];
      expect(check({}, { collateralOptions: { platformLevels: levels } }).tcb?.tcbStatus).to.equal('SWHardeningNeeded');
    });

    it('combines the platform, module and QE statuses', () => {
      expect(check({}, { collateralOptions: { platformLevels: [{ status: 'ConfigurationNeeded' }], qeStatus: 'OutOfDate' } }).tcb?.tcbStatus).to.equal('OutOfDateConfigurationNeeded');
      expect(check({}, { collateralOptions: { platformLevels: [{ status: 'SWHardeningNeeded' }], moduleStatus: 'ConfigurationNeeded' } }).tcb?.tcbStatus).to.equal('ConfigurationAndSWHardeningNeeded');
    });

    it('refuses a Revoked TCB level, for the platform and for the quoting enclave', async () => {
      await failure(() => check({}, { collateralOptions: { platformLevels: [{ status: 'Revoked' }] } }), 'attestation-failed', /TCB is Revoked/);
      await failure(() => check({}, { collateralOptions: { qeStatus: 'Revoked' } }), 'attestation-failed', /TCB is Revoked/);
    });

    it('refuses a platform below every TCB level, and a quoting enclave below its levels', async () => {
      await failure(() => check({}, { collateralOptions: { platformLevels: [{ status: 'UpToDate', pceSvn: 99 }] } }), 'attestation-failed', /matches no TCB level/);
      await failure(() => check({ qeIsvSvn: 3 }, { collateralOptions: {} }), 'attestation-failed', /quoting enclave SVN matches no level/);
    });

    it('refuses a TDX module with no identity in the TCB info', async () => {
      await failure(() => check({ teeTcbSvn: Buffer.from('03020300000000000000000000000000', 'hex') }, { collateralOptions: {} }), 'attestation-failed', /no module identity TDX_02/);
    });
  });

  describe('malformed input', () => {
    it('rejects every truncation of a quote with bad-evidence-format naming the field', async () => {
      const quote = makeTdxQuote(pki, { version: 5 });
      for (const length of [0, 1, 47, 48, 53, 54, 600, 701, 702, 705, 706, 770, 834, 1218, 1282, 1284, 1316, 1322, quote.length - 1]) {
        const error = await rejection(() => parseTdxQuote(quote.subarray(0, length)));
        expect(error.code, `length ${length}`).to.equal('bad-evidence-format');
        expect(error.detail, `length ${length}`).to.match(/truncated: .+ needs \d+ bytes at offset \d+/);
      }
    });

    it('rejects a wrong version, key type, TEE type and v5 body type or size', async () => {
      const quote = makeTdxQuote(pki, { version: 5 });
      const patched = (offset: number, bytes: number[]): Buffer => {
        const copy = Buffer.from(quote);
        Buffer.from(bytes).copy(copy, offset);
        return copy;
      };
      await failure(() => parseTdxQuote(patched(0, [3, 0])), 'bad-evidence-format', /version 3 is not supported/);
      await failure(() => parseTdxQuote(patched(2, [3, 0])), 'bad-evidence-format', /attestation key type 3/);
      await failure(() => parseTdxQuote(patched(4, [0, 0, 0, 0])), 'bad-evidence-format', /not TDX/);
      await failure(() => parseTdxQuote(patched(48, [4, 0])), 'bad-evidence-format', /body type 4 is not supported/);
      await failure(() => parseTdxQuote(patched(50, [0x40, 2, 0, 0])), 'bad-evidence-format', /declares 576 bytes, not 648/);
    });

    it('reads trustee evidence and rejects other shapes', async () => {
      const quote = makeTdxQuote(pki);
      expect(readTdxEvidence({ quote: quote.toString('base64'), cc_eventlog: 'AAAA' }).equals(quote)).to.equal(true);
      for (const bad of [null, 'text', [], {}, { quote: 7 }, { quote: quote.toString('base64url') + '-' }, { quote: 'abc' }, { quote: 'AAAA', cc_eventlog: 5 }]) {
        expect((await rejection(() => readTdxEvidence(bad))).code, JSON.stringify(bad)).to.equal('bad-evidence-format');
      }
    });
  });

  describe('createTdxVerifier', () => {
    it('trusts the fake root only when its fingerprint is configured as an extra root', async () => {
      const settings = { enabled: true, pcs: false, pcsUrl: 'https://pcs.invalid', allowDebug: false, extraRootSha256: [] as string[] };
      const evidence = { quote: makeTdxQuote(pki, { mrConfigId: Buffer.alloc(48, 0xc0) }).toString('base64') };
      const intelOnly = createTdxVerifier(settings, { name: 'builtin', clock: () => FAKE_NOW });
      expect((await rejection(() => intelOnly(evidence))).detail).to.match(/not a trusted Intel SGX root/);
      const withTestRoot = createTdxVerifier({ ...settings, extraRootSha256: [pki.rootFingerprint.toUpperCase()] }, { name: 'builtin', clock: () => FAKE_NOW });
      const verified = await withTestRoot(evidence);
      expect(verified.claims.tcb_status).to.equal('unknown');
      expect(Buffer.from(verified.initData!).equals(Buffer.alloc(48, 0xc0))).to.equal(true);
    });
  });
});
