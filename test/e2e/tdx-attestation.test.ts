/**
 * A TDX attestation through `/kbs/v1/attest` on a real broker process: synthetic quotes signed through a fake Intel
 * PKI whose root is trusted only through the dangerous test key `tdx_extra_root_sha256`, collateral from a directory.
 */
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import * as asn1js from 'asn1js';
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_PLATFORM, makeFakeIntelPki, makeTdxCollateral, makeTdxQuote, pcsBodies, type QuoteOptions } from '../unit/attestation/tdx/fake-intel-pki.js';
import { makeTempDir, removeTempDir, startBroker, type BrokerProcess } from './helpers/broker-process.js';
import { expectProblem } from './helpers/https-client.js';
import { challenge, createCsr, generateTeeKey, postAttest, reportData, type AttestResponse } from './helpers/v1-protocol.js';

const OID_CMW = '1.3.6.1.5.5.7.1.35';
const DAY = 86400 * 1000;

/** The claims inside the certificate's CMW extension (PROTOCOL.md 1.4). */
function certificateClaims(pem: string): Record<string, unknown> {
  const cmw = new x509.X509Certificate(pem).extensions.find((extension) => extension.type === OID_CMW);
  if (!cmw) throw new Error('no CMW extension');
  const record = JSON.parse((asn1js.fromBER(cmw.value).result as asn1js.Utf8String).valueBlock.value) as [string, string];
  return JSON.parse(Buffer.from(record[1], 'base64url').toString('utf8')) as Record<string, unknown>;
}

describe('e2e: TDX attestation through /kbs/v1/attest', function () {
  // Collateral exists for this PKI's FMSPC only; the second PKI's platform has another FMSPC.
  const pki = makeFakeIntelPki();
  const uncovered = makeFakeIntelPki({ platform: { ...DEFAULT_PLATFORM, fmspc: Buffer.from('112233445566', 'hex') } });
  let collateralDir: string;
  let broker: BrokerProcess;

  before(async function () {
    collateralDir = makeTempDir('keybroker-tdx-collateral-');
    const now = Date.now();
    const bodies = pcsBodies(makeTdxCollateral(pki, { issueDate: new Date(now - DAY), nextUpdate: new Date(now + 30 * DAY) }));
    writeFileSync(join(collateralDir, `tdx-tcb-info-${DEFAULT_PLATFORM.fmspc.toString('hex')}.json`), bodies.tcbInfo);
    writeFileSync(join(collateralDir, 'tdx-qe-identity.json'), bodies.qeIdentity);
    writeFileSync(join(collateralDir, 'tdx-tcb-signing-chain.pem'), pki.tcbSigningChainPem);
    broker = await startBroker({
      toml: [
        '[attestation]',
        `tdx_collateral_dir = ${JSON.stringify(collateralDir)}`,
        `tdx_extra_root_sha256 = [${JSON.stringify(pki.rootFingerprint)}, ${JSON.stringify(uncovered.rootFingerprint)}]`,
        '',
      ].join('\n'),
    });
  });

  after(async function () {
    await broker?.stop();
    if (collateralDir) removeTempDir(collateralDir);
  });

  /** Challenge for tdx, a fresh key and CSR, and a quote made by `quote` from the binding report data. */
  async function attestWith(quote: (boundReportData: Buffer) => Buffer) {
    const key = await generateTeeKey('ec-p256');
    const { nonce } = await challenge(broker, 'tdx');
    const evidence = { quote: quote(reportData(nonce, key.spki)).toString('base64') };
    return postAttest(broker, { nonce, csr: await createCsr(key), evidence });
  }

  const quoteOf = (options: QuoteOptions = {}) => (boundReportData: Buffer) => makeTdxQuote(pki, { reportData: boundReportData, ...options });

  it('a quote whose REPORTDATA binds nonce and CSR key yields a certificate whose claims show MRTD', async function () {
    const mrTd = Buffer.alloc(48, 0x3c);
    const reply = await attestWith(quoteOf({ mrTd, version: 5 }));
    expect(reply.status, reply.text()).to.equal(201);
    const response = reply.json<AttestResponse>();
    const measurement = mrTd.toString('hex');
    expect(response.spiffe_id).to.equal(`spiffe://keybroker.local/tee/tdx/${createHash('sha256').update(mrTd).digest('hex').slice(0, 16)}`);
    const claims = certificateClaims(response.certificate);
    expect(claims).to.deep.equal(response.claims);
    expect(claims).to.include({ tee: 'tdx', verifier: 'builtin', status: 'affirming', tcb_status: 'UpToDate', measurement });
    expect(claims.tee_claims).to.include({ mr_td: measurement, fmspc: DEFAULT_PLATFORM.fmspc.toString('hex'), debug: false });
  });

  it('the broker warns at start that extra TDX roots are trusted', function () {
    expect(broker.stderr()).to.match(/tdx_extra_root_sha256 trusts 2 root\(s\) besides the Intel SGX Root CA/);
  });

  it('a quote that does not bind the nonce and key: 403 binding-mismatch', async function () {
    const reply = await attestWith(() => makeTdxQuote(pki));
    expectProblem(reply, 403, 'binding-mismatch', broker.home);
  });

  it('a platform without collateral: tcb_status unknown, refused by the default policy (403 policy-denied)', async function () {
    const reply = await attestWith((bound) => makeTdxQuote(uncovered, { reportData: bound }));
    expectProblem(reply, 403, 'policy-denied', broker.home);
  });

  it('a debug TD: 403 attestation-failed', async function () {
    const reply = await attestWith(quoteOf({ tdAttributes: Buffer.from('0100000000000000', 'hex') }));
    expect(expectProblem(reply, 403, 'attestation-failed', broker.home).detail).to.match(/DEBUG/);
  });

  it('a truncated quote: 400 bad-evidence-format', async function () {
    const reply = await attestWith((bound) => makeTdxQuote(pki, { reportData: bound }).subarray(0, 700));
    expect(expectProblem(reply, 400, 'bad-evidence-format', broker.home).detail).to.match(/truncated/);
  });
});
