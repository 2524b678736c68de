import { expect } from 'chai';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { signedJsonFromPcsBody } from '../../../../src/attestation/verifiers/tdx/signed-json.js';
import { tdxClaims } from '../../../../src/attestation/verifiers/tdx/tdx-claims.js';
import { tdxCollateralFromBundle, verifyTdxCollateral, type TdxCollateral } from '../../../../src/attestation/verifiers/tdx/tdx-collateral.js';
import { createTdxVerifier, tdxTrustedRoots } from '../../../../src/attestation/verifiers/tdx/tdx-verifier.js';
import { verifyTdxQuote } from '../../../../src/attestation/verifiers/tdx/verify-tdx-quote.js';
import type { TdxSettings } from '../../../../src/config/tdx-settings.js';
import { useSharedVectors } from '../../../helpers/shared-vectors.js';
import { useTempDir } from '../../../helpers/temp-dir.js';
import { rejection } from './rejection.js';

const ZERO_48 = '00'.repeat(48);

/** MANIFEST.md's expected values for each TDX quote in ../shared/vectors/tdx. */
const QUOTES = [
  {
    file: 'tdx/tdx_quote_4.dat', version: 4, debug: true, fmspc: '50806f000000', pceSvn: 11,
    teeTcbSvn: '03000500000000000000000000000000', tdAttributes: '0100001000000000', xfam: 'e742060000000000',
    mrSeam: '2fd279c16164a93dd5bf373d834328d46008c2b693af9ebb865b08b2ced320c9a89b4869a9fab60fbe9d0c5a5363c656',
    mrTd: '705ee9381b8633a9fbe532b52345e8433343d2868959f57889d84ca377c395b689cac1599ccea1b7d420483a9ce5f031',
    mrConfigId: ZERO_48,
    rtmrs: [
      'e940da7c2712d2790e2961e00484f4fa8e6f9eed71361655ae22699476b14f9e63867eb41edd4b480fef0c59f496b288',
      '559cfcf42716ed6c40a48a73d5acb7da255435012f0a9f00fbe8c1c57612ede486a5684c4c9ff3ddf52315fcdca3a596',
      ZERO_48, ZERO_48,
    ],
    reportData: '7c71fe2c86eff65a7cf8dbc22b3275689fd0464a267baced1bf94fc1324656aeb755da3d44d098c0c87382f3a5f85b45c8a28fee1d3bdb38342bf96671501429',
  },
  {
    file: 'tdx/tdx_quote_5.dat', version: 5, debug: false, fmspc: '90c06f000000', pceSvn: 13,
    teeTcbSvn: '05010200000000000000000000000000', tdAttributes: '0000001000000000', xfam: 'e742060000000000',
    mrSeam: '1cc6a17ab799e9a693fac7536be61c12ee1e0fabada82d0c999e08ccee2aa86de77b0870f558c570e7ffe55d6d47fa04',
    mrTd: 'dfba221b48a22af8511542ee796603f37382800840dcd978703909bf8e64d4c8a1e9de86e7c9638bfcba422f3886400a',
    mrConfigId: ZERO_48,
    rtmrs: [
      '9b529f3689e2e8ebb899e9abbbc3dab394d6545e8cdb28a2abb9cc2f377b83a65c01ba56b824cd3ee885df20051f5128',
      'ca5a979317ffe8a527a3b7aadab03976d7cb6eef1041fb9bd9d69e6fafa7252cdc10e4c2a55e7ecbd2ddb5cacc867430',
      ZERO_48, ZERO_48,
    ],
    reportData: '6d6ab13b046cff606ac0074be13981b07b6325dba10b5facc96febf551c0c3be2b75f92fe1f88f4bb996969ad0174b4b7a70261b7b85c844f4b33a4674fd049f',
    teeTcbSvn2: '05010200000000000000000000000000',
    mrServiceTd: '383c87d3bbb047b2d171eaca95312ede99f258088dc788f6ae2ccf8b6dd848fe8d47629e08b3f6cbd4a00dd47a5a033d',
  },
  {
    file: 'tdx/tdx_quote_6.dat', version: 4, debug: false, fmspc: '00a06d080000', pceSvn: 11,
    teeTcbSvn: '05030200000000000000000000000000', tdAttributes: '0000001000000000', xfam: 'e702060000000000',
    mrSeam: '476a2997c62bccc78370913d0a80b956e3721b24272bc66c4d6307ced4be2865c40e26afac75f12df3425b03eb59ea7c',
    mrTd: '21e8dead92d6c69d7cbba79816686c03a48485c7df0c11f6f04792d5e1d378f6b8c46615ba6946adccac6becffbb1e88',
    mrConfigId: '889abf4718f037e38d74464c11e7c91a6e9890b5546409e1e7df9de7a51ca93152bf847bd2440328e90adb18b150ed67',
    rtmrs: [
      '395aefe7bac15b24c40f1cd7ba6f8fa48732be5c56c61485ed3cd9c8b16cce8ece64c331b99ce36d96605135c753aaa2',
      'fc4b0f849d8d76fdf1da563a8c29d0d456b484a65e01797baf52ea1d8c002040527a1f0278925077219656dba039429f',
      '193edd321148e81fd4d6ce00ac8331e737febdb428f18ae66f697c1d2a7f2cd97c535c8df9f045f62b16a41facad84a1',
      ZERO_48,
    ],
    reportData: '26cae1c77185617fb6a03fc29bf1f924596e52352b9b7594940b576ae126cd4a570cc3202a900c5d19a6eb0a95b32cfd00000000000000000000000000000000',
  },
  {
    file: 'tdx/dcap-qvl-tdx_quote.bin', version: 4, debug: false, fmspc: 'b0c06f000000', pceSvn: 11,
    teeTcbSvn: '06010300000000000000000000000000', tdAttributes: '0000001000000000', xfam: 'e702060000000000',
    mrSeam: '5b38e33a6487958b72c3c12a938eaa5e3fd4510c51aeeab58c7d5ecee41d7c436489d6c8e4f92f160b7cad34207b00c1',
    mrTd: '91eb2b44d141d4ece09f0c75c2c53d247a3c68edd7fafe8a3520c942a604a407de03ae6dc5f87f27428b2538873118b7',
    mrConfigId: ZERO_48,
    rtmrs: [
      '44c0197b39157fdd7a4dcc44767f9d6b0bb3977c7a8e347b8492f827fe9d9e5c48aca29b220b80b6a540cf994b9bc9c0',
      '0084452c01668329d4bc06acdf58a7205c26743304509973949e5619bf81a6a7aea8c323c173019b3093d54e579e9378',
      'd833feef2cd945148aa38ead2c53e9b7f138190aaaebfc551dccd829fc207aa3ba80b70870d7330733642e01d48c3132',
      ZERO_48,
    ],
    reportData: '9a9d48e7f6799642d3d1b34e1e5e1742d4bb02dd6ddd551862c1211d35c304f9eca3efdbb481601c163cf52493d6e44aed55d51ec39b7e518fadb92c2b523f20',
  },
];

/** An instant at which every PCK chain in the folder and the dcap-qvl collateral are valid (MANIFEST.md, Clock). */
const PINNED = new Date('2025-07-01T00:00:00Z');
/** trustee's tcbInfo.json and enclaveIdentity.json are current only from 2025-10-28 to 2025-11-26. */
const TRUSTEE_COLLATERAL_TIME = new Date('2025-11-01T00:00:00Z');

const intelRoots = tdxTrustedRoots([]);

describe('attestation/verifiers/tdx: real quotes from ../shared/vectors', function () {
  const vector = useSharedVectors(this);
  const tempDir = useTempDir('tdx-vectors');

  /** Trustee's PCS bodies with the TCB signing chain taken from the dcap-qvl collateral (trustee does not ship it). */
  function trusteeCollateral(): TdxCollateral {
    const signingChain = (JSON.parse(vector('tdx/dcap-qvl-tdx_quote_collateral.json').toString('utf8')) as { tcb_info_issuer_chain: string }).tcb_info_issuer_chain;
    return {
      tcbInfo: signedJsonFromPcsBody(vector('tdx/tcbInfo.json').toString('utf8'), 'tcbInfo'),
      tcbInfoIssuerChain: signingChain,
      qeIdentity: signedJsonFromPcsBody(vector('tdx/enclaveIdentity.json').toString('utf8'), 'enclaveIdentity'),
      qeIdentityIssuerChain: signingChain,
    };
  }

  for (const expected of QUOTES) {
    it(`${expected.file} verifies and its claims equal MANIFEST.md's values`, () => {
      const check = verifyTdxQuote(vector(expected.file), { trustedRoots: intelRoots, at: PINNED, allowDebug: expected.debug });
      const claims = tdxClaims(check, 'builtin');
      expect(check.quote.version).to.equal(expected.version);
      expect(claims.measurement).to.equal(expected.mrTd);
      expect(claims.tcb_status).to.equal('unknown');
      expect(claims.status).to.equal('warning');
      expect(claims.tee_claims).to.include({
        quote_version: expected.version,
        tee_tcb_svn: expected.teeTcbSvn,
        mr_seam: expected.mrSeam,
        mr_signer_seam: ZERO_48,
        td_attributes: expected.tdAttributes,
        debug: expected.debug,
        xfam: expected.xfam,
        mr_td: expected.mrTd,
        mr_config_id: expected.mrConfigId,
        mr_owner: ZERO_48,
        mr_owner_config: ZERO_48,
        rtmr0: expected.rtmrs[0],
        rtmr1: expected.rtmrs[1],
        rtmr2: expected.rtmrs[2],
        rtmr3: expected.rtmrs[3],
        report_data: expected.reportData,
        fmspc: expected.fmspc,
        pce_svn: expected.pceSvn,
        tcb_status: 'unknown',
      });
      expect(claims.tee_claims.tee_tcb_svn2).to.equal(expected.teeTcbSvn2);
      expect(claims.tee_claims.mr_servicetd).to.equal(expected.mrServiceTd);
    });
  }

  it('refuses tdx_quote_4.dat, a debug TD, unless debug TDs are allowed', async () => {
    const error = await rejection(() => verifyTdxQuote(vector('tdx/tdx_quote_4.dat'), { trustedRoots: intelRoots, at: PINNED, allowDebug: false }));
    expect(error.code).to.equal('attestation-failed');
    expect(error.detail).to.match(/DEBUG/);
  });

  it('dcap-qvl quote with its collateral at 2025-07-01: UpToDate, affirming, no advisories', () => {
    const collateral = verifyTdxCollateral(tdxCollateralFromBundle(vector('tdx/dcap-qvl-tdx_quote_collateral.json').toString('utf8')), intelRoots);
    const check = verifyTdxQuote(vector('tdx/dcap-qvl-tdx_quote.bin'), { trustedRoots: intelRoots, at: PINNED, allowDebug: false, collateral });
    const claims = tdxClaims(check, 'builtin');
    expect(claims.tcb_status).to.equal('UpToDate');
    expect(claims.status).to.equal('affirming');
    expect(claims.trust_vector.hardware).to.equal(2);
    expect(claims.tee_claims).to.deep.include({ advisory_ids: [], tcb_date: '2024-03-13T00:00:00Z', tcb_evaluation_data_number: 17 });
  });

  it('dcap-qvl collateral has expired at the real clock of the vectors (2026-11-29)', async () => {
    const collateral = verifyTdxCollateral(tdxCollateralFromBundle(vector('tdx/dcap-qvl-tdx_quote_collateral.json').toString('utf8')), intelRoots);
    const error = await rejection(() => verifyTdxQuote(vector('tdx/dcap-qvl-tdx_quote.bin'), {
      trustedRoots: intelRoots, at: new Date('2026-11-29T00:00:00Z'), allowDebug: false, collateral,
    }));
    expect(error.code).to.equal('attestation-failed');
    expect(error.detail).to.match(/TCB info is not valid at 2026-11-29/);
  });

  it('tdx_quote_6.dat with trustee\'s TCB info and QE identity at 2025-11-01: OutOfDate (PCESVN 11 misses the UpToDate level)', () => {
    const collateral = verifyTdxCollateral(trusteeCollateral(), intelRoots);
    const check = verifyTdxQuote(vector('tdx/tdx_quote_6.dat'), { trustedRoots: intelRoots, at: TRUSTEE_COLLATERAL_TIME, allowDebug: false, collateral });
    const claims = tdxClaims(check, 'builtin');
    expect(claims.tcb_status).to.equal('OutOfDate');
    expect(claims.status).to.equal('warning');
    expect(claims.tee_claims).to.deep.include({ tcb_date: '2018-01-04T00:00:00Z', advisory_ids: [] });
  });

  it('collateral for another FMSPC is refused', async () => {
    const collateral = verifyTdxCollateral(trusteeCollateral(), intelRoots);
    const error = await rejection(() => verifyTdxQuote(vector('tdx/tdx_quote_5.dat'), { trustedRoots: intelRoots, at: TRUSTEE_COLLATERAL_TIME, allowDebug: false, collateral }));
    expect(error.detail).to.match(/FMSPC 00a06d080000, the PCK certificate says 90c06f000000/);
  });

  it('the verifier reads trustee evidence and takes collateral from a directory (bundle file, then PCS bodies)', async () => {
    const dir = tempDir();
    await writeFile(join(dir, 'tdx-collateral-b0c06f000000.json'), vector('tdx/dcap-qvl-tdx_quote_collateral.json'));
    await writeFile(join(dir, 'tdx-tcb-info-00a06d080000.json'), vector('tdx/tcbInfo.json'));
    await writeFile(join(dir, 'tdx-qe-identity.json'), vector('tdx/enclaveIdentity.json'));
    await writeFile(join(dir, 'tdx-tcb-signing-chain.pem'), trusteeCollateral().tcbInfoIssuerChain);
    const settings: TdxSettings = { enabled: true, collateralDir: dir, pcs: false, pcsUrl: 'https://pcs.invalid', allowDebug: false, extraRootSha256: [] };
    const atPinned = createTdxVerifier(settings, { name: 'builtin', clock: () => PINNED });
    const dcap = await atPinned({ quote: vector('tdx/dcap-qvl-tdx_quote.bin').toString('base64') });
    expect(dcap.claims.tcb_status).to.equal('UpToDate');
    expect(Buffer.from(dcap.reportData).toString('hex')).to.equal(QUOTES[3]!.reportData);
    expect(Buffer.from(dcap.initData!).toString('hex')).to.equal(ZERO_48);

    const atTrusteeTime = createTdxVerifier(settings, { name: 'builtin', clock: () => TRUSTEE_COLLATERAL_TIME });
    const six = await atTrusteeTime({ quote: vector('tdx/tdx_quote_6.dat').toString('base64'), cc_eventlog: null });
    expect(six.claims.tcb_status).to.equal('OutOfDate');
    expect(Buffer.from(six.initData!).toString('hex')).to.equal(QUOTES[2]!.mrConfigId);

    // No collateral for this FMSPC in the directory: the status stays unknown.
    const five = await atTrusteeTime({ quote: vector('tdx/tdx_quote_5.dat').toString('base64') });
    expect(five.claims.tcb_status).to.equal('unknown');
  });
});
