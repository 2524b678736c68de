import { expect } from 'chai';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { HttpsCollateralFetcher } from '../../../../src/attestation/collateral/https-cache.js';
import { createTdxVerifier } from '../../../../src/attestation/verifiers/tdx/tdx-verifier.js';
import type { TdxSettings } from '../../../../src/config/tdx-settings.js';
import { useTempDir } from '../../../helpers/temp-dir.js';
import { startLoopbackHttps, type LoopbackHttps, type StandInReply } from '../collateral/loopback-https.js';
import { DEFAULT_PLATFORM, FAKE_NOW, makeCrl, makeFakeIntelPki, makeTdxCollateral, makeTdxQuote, pcsBodies } from './fake-intel-pki.js';
import { rejection } from './rejection.js';

const DAY = 86400 * 1000;

describe('attestation/verifiers/tdx: collateral from an Intel PCS stand-in', () => {
  const pki = makeFakeIntelPki();
  const fmspc = DEFAULT_PLATFORM.fmspc.toString('hex').toUpperCase();
  const bodies = pcsBodies(makeTdxCollateral(pki));
  const cacheDir = useTempDir('tdx-pcs-cache');
  let pcs: LoopbackHttps;
  /** What the stand-in serves as the PCK CRL; Intel PCS sends DER for encoding=der, some PCCS versions hex. */
  let pckCrl: Buffer | string;

  // Intel PCS v4: signed JSON bodies, issuer chains URL-encoded in response headers, 404 for an unknown FMSPC.
  function route(pathAndQuery: string): StandInReply {
    const issuerChain = encodeURIComponent(pki.tcbSigningChainPem);
    if (pathAndQuery === `/tdx/certification/v4/tcb?fmspc=${fmspc}`) return { headers: { 'content-type': 'application/json', 'TCB-Info-Issuer-Chain': issuerChain }, body: bodies.tcbInfo };
    if (pathAndQuery === '/tdx/certification/v4/qe/identity') return { headers: { 'content-type': 'application/json', 'SGX-Enclave-Identity-Issuer-Chain': issuerChain }, body: bodies.qeIdentity };
    if (pathAndQuery === '/sgx/certification/v4/pckcrl?ca=platform&encoding=der') return { headers: { 'SGX-PCK-CRL-Issuer-Chain': encodeURIComponent(pki.pckChainPem) }, body: pckCrl };
    return { status: 404 };
  }

  before(async () => {
    pcs = await startLoopbackHttps(route);
  });

  after(async () => {
    await pcs?.close();
  });

  beforeEach(() => {
    pcs.requests.length = 0;
    pckCrl = makeCrl(pki.platformCa, [randomBytes(16)], new Date(FAKE_NOW.getTime() - DAY), new Date(FAKE_NOW.getTime() + DAY));
  });

  function verifier(options: { cache: boolean } = { cache: true }) {
    const settings: TdxSettings = { enabled: true, pcs: true, pcsUrl: pcs.url, allowDebug: false, extraRootSha256: [pki.rootFingerprint] };
    const fetcher = new HttpsCollateralFetcher({ ...(options.cache ? { cacheDir: cacheDir() } : {}), tlsCa: pcs.certificatePem, clock: () => FAKE_NOW });
    return createTdxVerifier(settings, { name: 'builtin', clock: () => FAKE_NOW, fetcher });
  }

  it('fetches TCB info, QE identity and the PCK CRL, evaluates the TCB, and serves the next quote from the cache', async () => {
    const verify = verifier();
    const first = await verify({ quote: makeTdxQuote(pki).toString('base64') });
    expect(first.claims).to.include({ status: 'affirming', tcb_status: 'UpToDate' });
    expect(pcs.requests).to.deep.equal([
      `/tdx/certification/v4/tcb?fmspc=${fmspc}`,
      '/tdx/certification/v4/qe/identity',
      '/sgx/certification/v4/pckcrl?ca=platform&encoding=der',
    ]);
    const second = await verifier()({ quote: makeTdxQuote(pki).toString('base64') });
    expect(second.claims.tcb_status).to.equal('UpToDate');
    expect(pcs.requests, 'the second verifier reads the on-disk cache').to.have.lengthOf(3);
  });

  it('refuses a PCK certificate that the fetched CRL lists, in DER or as PCCS hex', async () => {
    const revoking = makeCrl(pki.platformCa, [pki.pckSerial], new Date(FAKE_NOW.getTime() - DAY), new Date(FAKE_NOW.getTime() + DAY));
    for (const served of [revoking, revoking.toString('hex')]) {
      pckCrl = served;
      const error = await rejection(() => verifier({ cache: false })({ quote: makeTdxQuote(pki).toString('base64') }));
      expect(error.detail).to.match(/PCK certificate is revoked/);
    }
  });

  it('a platform the service does not know (404) keeps tcb_status "unknown"', async () => {
    const other = makeFakeIntelPki({ platform: { ...DEFAULT_PLATFORM, fmspc: Buffer.from('aabbccddeeff', 'hex') } });
    const settings: TdxSettings = { enabled: true, pcs: true, pcsUrl: pcs.url, allowDebug: false, extraRootSha256: [other.rootFingerprint] };
    const fetcher = new HttpsCollateralFetcher({ tlsCa: pcs.certificatePem, clock: () => FAKE_NOW });
    const verified = await createTdxVerifier(settings, { name: 'builtin', clock: () => FAKE_NOW, fetcher })({ quote: makeTdxQuote(other).toString('base64') });
    expect(verified.claims.tcb_status).to.equal('unknown');
    expect(pcs.requests).to.deep.equal(['/tdx/certification/v4/tcb?fmspc=AABBCCDDEEFF']);
  });

  it('a forged quote never reaches the service', async () => {
    const forged = makeTdxQuote(pki, { quoteSigningKey: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey });
    expect((await rejection(() => verifier()({ quote: forged.toString('base64') }))).detail).to.match(/quote signature/);
    expect(pcs.requests).to.deep.equal([]);
  });
});
