import { expect } from 'chai';
import { join } from 'node:path';
import type { KeyObject } from 'node:crypto';
import { HttpsCollateralFetcher } from '../../../../src/attestation/collateral/https-cache.js';
import { certChainUrl, crlUrl, vcekUrl } from '../../../../src/attestation/verifiers/snp/amd-kds.js';
import { parseAmdCertificates, verifySnpEvidence, type SnpVerifyContext } from '../../../../src/attestation/verifiers/snp/snp-verifier.js';
import type { KbsError } from '../../../../src/domain/errors.js';
import { derToPem } from '../../../../src/pki/pem.js';
import { useTempDir } from '../../../helpers/temp-dir.js';
import { errorCodeOf } from '../../pki/helpers.js';
import { startLoopbackHttps, type LoopbackHttps } from '../collateral/loopback-https.js';
import { fakeAmd, makeCertificate, makeCrl, makeReport, milanTcb, p384Key, vcekExtensions, type FakeAmd, type Tcb } from './fake-amd-pki.js';

describe('SNP verifier: certificates from AMD KDS (loopback stand-in)', function () {
  this.timeout(120_000);
  const cacheDir = useTempDir('kds-cache');
  const TCB: Tcb = { bootloader: 4, tee: 0, snp: 24, microcode: 217 };
  const chipId = Buffer.alloc(64, 0x5c);
  const hwid = chipId.toString('hex');
  let amd: FakeAmd;
  let key: KeyObject;
  let vcek: Buffer;
  let kds: LoopbackHttps;
  let down = false;
  let crl: Buffer | undefined;

  before(async () => {
    amd = await fakeAmd();
    key = await p384Key();
    vcek = makeCertificate({ subject: 'SEV-VCEK', issuer: 'SEV-Milan', publicKey: key, signingKey: amd.askKey, extensions: vcekExtensions({ product: 'Milan-B0', tcb: TCB, hwId: chipId }) });
    kds = await startLoopbackHttps((path) => {
      if (down) return { status: 503 };
      if (path === `/vcek/v1/Milan/${hwid}?blSPL=04&teeSPL=00&snpSPL=24&ucodeSPL=217`) return { body: vcek, headers: { 'content-type': 'application/x-x509-ca-cert' } };
      if (path === '/vcek/v1/Milan/crl') return crl ? { body: crl, headers: { 'content-type': 'application/pkix-crl' } } : { status: 404 };
      if (path === '/vcek/v1/Milan/cert_chain') return { body: derToPem(amd.ask, 'CERTIFICATE') + derToPem(amd.ark, 'CERTIFICATE'), headers: { 'content-type': 'application/x-pem-file' } };
      return { status: 404 };
    });
  });
  after(() => kds.close());
  beforeEach(() => { kds.requests.length = 0; down = false; crl = undefined; });

  function context(): SnpVerifyContext {
    return {
      name: 'builtin', now: new Date('2026-03-01T00:00:00Z'), allowDebug: false, maxVmpl: 0, extraArkSha256: [amd.arkSha256], certificates: [],
      kds: { baseUrl: kds.url, fetcher: new HttpsCollateralFetcher({ cacheDir: join(cacheDir(), 'kds'), tlsCa: kds.certificatePem }) },
    };
  }

  it('builds the KDS URLs as AMD documents them (Turin: 8-byte hwid and fmcSPL)', () => {
    expect(vcekUrl('https://kdsintf.amd.com', 'Genoa', chipId, TCB)).to.equal(`https://kdsintf.amd.com/vcek/v1/Genoa/${hwid}?blSPL=04&teeSPL=00&snpSPL=24&ucodeSPL=217`);
    expect(vcekUrl('https://kdsintf.amd.com', 'Turin', chipId, { fmc: 1, bootloader: 2, tee: 3, snp: 4, microcode: 5 }))
      .to.equal(`https://kdsintf.amd.com/vcek/v1/Turin/${chipId.subarray(0, 8).toString('hex')}?fmcSPL=01&blSPL=02&teeSPL=03&snpSPL=04&ucodeSPL=05`);
    expect(certChainUrl('https://kdsintf.amd.com', 'vlek', 'Milan')).to.equal('https://kdsintf.amd.com/vlek/v1/Milan/cert_chain');
  });

  it('fetches the VCEK, the ASK/ARK chain and the CRL for evidence that carries no certificates, then serves them from the cache', async () => {
    const evidence = { attestation_report: makeReport({ reportedTcb: milanTcb(TCB), chipId }, key).toString('base64') };
    const verified = await verifySnpEvidence(evidence, context());
    expect(verified.claims.status).to.equal('affirming');
    expect(kds.requests).to.deep.equal([`/vcek/v1/Milan/${hwid}?blSPL=04&teeSPL=00&snpSPL=24&ucodeSPL=217`, '/vcek/v1/Milan/cert_chain', '/vcek/v1/Milan/crl']);
    down = true;
    // Certificates from the cache; the CRL (KDS had none) is asked again and, KDS being down, soft-fails.
    expect((await verifySnpEvidence(evidence, context())).claims.measurement).to.equal(verified.claims.measurement);
    expect(kds.requests.slice(3)).to.deep.equal(['/vcek/v1/Milan/crl']);
  });

  it('asks KDS for the CRL once per while, not on every attestation, also while KDS is away', async () => {
    const evidence = { attestation_report: makeReport({ reportedTcb: milanTcb(TCB), chipId }, key).toString('base64') };
    const shared = context();
    await verifySnpEvidence(evidence, shared);
    await verifySnpEvidence(evidence, shared);
    expect(kds.requests.filter((path) => path.endsWith('/crl'))).to.deep.equal(['/vcek/v1/Milan/crl']);
    down = true;
    const away = context();
    for (let round = 0; round < 3; round += 1) expect((await verifySnpEvidence(evidence, away)).claims.status).to.equal('affirming');
    expect(kds.requests.filter((path) => path.endsWith('/crl'))).to.deep.equal(['/vcek/v1/Milan/crl', '/vcek/v1/Milan/crl']);
  });

  it('enforces the CRL KDS publishes for the product: a listed ASK fails the evidence', async () => {
    const askSerial = parseAmdCertificates(amd.ask, 'ask')[0]!.serial;
    crl = makeCrl({ issuer: 'ARK-Milan', signingKey: amd.arkKey, thisUpdate: new Date('2026-02-01T00:00:00Z'), nextUpdate: new Date('2026-04-01T00:00:00Z'), revoked: [askSerial] });
    const evidence = { attestation_report: makeReport({ reportedTcb: milanTcb(TCB), chipId }, key).toString('base64') };
    const error = await verifySnpEvidence(evidence, context()).then(() => undefined, (caught: KbsError) => caught);
    expect(error?.code).to.equal('attestation-failed');
    expect(error?.detail).to.equal(`SNP chain: AMD's CRL revokes the ASK (serial ${askSerial})`);
    expect(crlUrl('https://kdsintf.amd.com', 'vlek', 'Genoa')).to.equal('https://kdsintf.amd.com/vlek/v1/Genoa/crl');
  });

  it('fails attestation when KDS has no VCEK for the chip and TCB, and is unavailable when KDS fails', async () => {
    const unknownTcb = { attestation_report: makeReport({ reportedTcb: milanTcb({ ...TCB, microcode: 1 }), chipId }, key).toString('base64') };
    expect(await errorCodeOf(() => verifySnpEvidence(unknownTcb, context()))).to.equal('attestation-failed');
    down = true;
    const otherChip = { attestation_report: makeReport({ reportedTcb: milanTcb(TCB), chipId: Buffer.alloc(64, 1) }, key).toString('base64') };
    expect(await errorCodeOf(() => verifySnpEvidence(otherChip, context()))).to.equal('verifier-unavailable');
  });
});
