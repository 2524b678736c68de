import { expect } from 'chai';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { chooseAttester } from '../../../src/client/attesters.js';
import { tsmAttester, TsmGenerationRaceError } from '../../../src/client/tsm/tsm-attester.js';
import { FakeConfigfsTsm, type FakeTsmOptions } from '../../helpers/fake-configfs-tsm.js';
import { useTempDir } from '../../helpers/temp-dir.js';
import { readVector } from '../../helpers/vectors.js';
import { rejection } from '../../helpers/rejection.js';

/** GHCB certificate table GUIDs, in RFC 4122 byte order. */
const GUID = {
  VCEK: '63da758d-e664-4564-adc5-f4b93be8accd',
  ASK: '4ab7b379-bbac-4fe4-a02f-05aef327c782',
  ARK: 'c0b406a4-a803-4952-9743-3fb6014cd0ae',
};

/** A certificate table: 24-byte entries (GUID, offset, length), an all-zero entry, then the certificates. */
function certTable(entries: Array<[string, Buffer]>): Buffer {
  const header = Buffer.alloc((entries.length + 1) * 24);
  let offset = header.length;
  entries.forEach(([guid, der], index) => {
    Buffer.from(guid.replace(/-/g, ''), 'hex').copy(header, index * 24);
    header.writeUInt32LE(offset, index * 24 + 16);
    header.writeUInt32LE(der.length, index * 24 + 20);
    offset += der.length;
  });
  return Buffer.concat([header, ...entries.map(([, der]) => der)]);
}

function pemCertificates(pem: string): Buffer[] {
  return [...pem.matchAll(/-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g)].map((match) => Buffer.from(match[1]!.replace(/\s+/g, ''), 'base64'));
}

/** The real SNP report with its REPORT_DATA (64 bytes at 0x50) replaced, as the firmware would answer. */
function snpReportFor(template: Buffer): (inblob: Buffer) => Buffer {
  return (inblob) => {
    const report = Buffer.from(template);
    inblob.copy(report, 0x50);
    return report;
  };
}

describe('client: configfs-tsm attester against a fake configfs tree', () => {
  const tempDir = useTempDir('tsm');
  let reportData: Buffer;

  beforeEach(() => {
    reportData = randomBytes(64);
  });

  async function fakeTree(options: FakeTsmOptions): Promise<FakeConfigfsTsm> {
    const fake = new FakeConfigfsTsm(join(tempDir(), 'tsm', 'report'), options);
    await fake.create();
    return fake;
  }

  it('SNP: writes the 64 bytes to inblob, turns outblob and auxblob into trustee\'s snp evidence, removes the entry', async function () {
    const vcek = readVector(this, 'snp/test-vcek.der');
    const [ask, ark] = pemCertificates(readVector(this, 'snp/milan_ask_ark_asvk.pem').toString('utf8'));
    const fake = await fakeTree({
      provider: 'sev_guest',
      report: snpReportFor(readVector(this, 'snp/test-report.bin')),
      auxblob: certTable([[GUID.VCEK, vcek], [GUID.ASK, ask!], [GUID.ARK, ark!]]),
    });
    const evidence = await tsmAttester({ root: fake.root, files: fake, tee: 'snp' })(reportData) as {
      attestation_report: Record<string, unknown>;
      cert_chain: Array<{ cert_type: string; data: number[] }>;
    };
    expect(Object.keys(evidence)).to.deep.equal(['attestation_report', 'cert_chain']);
    expect(fake.inblobWrites).to.deep.equal([reportData]);
    expect(Buffer.from(evidence.attestation_report.report_data as number[]).equals(reportData)).to.equal(true);
    expect(evidence.attestation_report.version).to.equal(2);
    expect(evidence.cert_chain.map((entry) => entry.cert_type)).to.deep.equal(['VCEK', 'ASK', 'ARK']);
    expect(Buffer.from(evidence.cert_chain[0]!.data).equals(vcek)).to.equal(true);
    expect(Buffer.from(evidence.cert_chain[2]!.data).equals(ark!)).to.equal(true);
    expect(fake.entries).to.have.length(1);
    expect(existsSync(fake.entries[0]!), 'entry removed').to.equal(false);
    expect(readdirSync(fake.root)).to.deep.equal([]);
  });

  it('SNP without auxblob (no certificate table from the host): cert_chain is null', async function () {
    const fake = await fakeTree({ provider: 'sev_guest', report: snpReportFor(readVector(this, 'snp/test-vlek-report.bin')) });
    const evidence = await tsmAttester({ root: fake.root, files: fake })(reportData) as Record<string, unknown>;
    expect(evidence.cert_chain).to.equal(null);
    expect((evidence.attestation_report as Record<string, unknown>).version).to.equal(3);
  });

  it('TDX: the quote from outblob, standard base64, in trustee\'s tdx shape', async function () {
    const quote = readVector(this, 'tdx/tdx_quote_4.dat');
    // TDX 1.0 quote v4: REPORTDATA is 64 bytes at 48 (header) + 520 (offset in the TD report body).
    const fake = await fakeTree({ provider: 'tdx_guest', report: (inblob) => Buffer.concat([quote.subarray(0, 568), inblob, quote.subarray(632)]) });
    const evidence = await tsmAttester({ root: fake.root, files: fake, tee: 'tdx' })(reportData) as { quote: string };
    expect(Object.keys(evidence)).to.deep.equal(['quote']);
    const decoded = Buffer.from(evidence.quote, 'base64');
    expect(decoded.length).to.equal(quote.length);
    expect(decoded.subarray(568, 632).equals(reportData)).to.equal(true);
    expect(evidence.quote).to.match(/^[A-Za-z0-9+/]+={0,2}$/);
  });

  it('reads an outblob larger than one read (a TDX quote with a long certification chain)', async () => {
    const large = randomBytes(200_000);
    const fake = await fakeTree({ provider: 'tdx_guest', report: () => large });
    const evidence = await tsmAttester({ root: fake.root, files: fake })(reportData) as { quote: string };
    expect(Buffer.from(evidence.quote, 'base64').equals(large)).to.equal(true);
  });

  it('generation race: another writer\'s inblob lands before outblob is read; the attester notices and writes again', async function () {
    const template = readVector(this, 'snp/test-report.bin');
    const intruder = randomBytes(64);
    let raced = 0;
    const fake: FakeConfigfsTsm = await fakeTree({
      provider: 'sev_guest',
      report: snpReportFor(template),
      beforeReport: async (entry) => {
        if (raced++ === 0) await fake.write(join(entry, 'inblob'), intruder);
      },
    });
    const evidence = await tsmAttester({ root: fake.root, files: fake })(reportData) as { attestation_report: Record<string, unknown> };
    expect(fake.inblobWrites, 'ours, the other writer\'s, ours again').to.deep.equal([reportData, intruder, reportData]);
    expect(Buffer.from(evidence.attestation_report.report_data as number[]).equals(reportData), 'the report carries our data').to.equal(true);
    expect(readdirSync(fake.root)).to.deep.equal([]);
  });

  it('a writer racing every attempt: TsmGenerationRaceError after maxAttempts, entry removed', async function () {
    const fake: FakeConfigfsTsm = await fakeTree({
      provider: 'sev_guest',
      report: snpReportFor(readVector(this, 'snp/test-report.bin')),
      beforeReport: (entry) => fake.write(join(entry, 'inblob'), randomBytes(64)),
    });
    const failure = await rejection(tsmAttester({ root: fake.root, files: fake, maxAttempts: 3 })(reportData));
    expect(failure).to.be.instanceOf(TsmGenerationRaceError);
    expect(fake.inblobWrites).to.have.length(6);
    expect(readdirSync(fake.root)).to.deep.equal([]);
  });

  it('refuses a provider of another TEE than the one asked for, and an unknown provider', async () => {
    const snp = await fakeTree({ provider: 'sev_guest', report: () => Buffer.alloc(1184) });
    expect((await rejection(tsmAttester({ root: snp.root, files: snp, tee: 'tdx' })(reportData))).message).to.match(/sev_guest produces snp evidence, not tdx/);
    const other = await fakeTree({ provider: 'arm_cca_guest', report: () => Buffer.alloc(10) });
    expect((await rejection(tsmAttester({ root: other.root, files: other })(reportData))).message).to.match(/provider "arm_cca_guest" is not supported/);
    expect(readdirSync(other.root)).to.deep.equal([]);
  });

  it('takes exactly 64 bytes of report data', async () => {
    const fake = await fakeTree({ provider: 'sev_guest', report: () => Buffer.alloc(1184) });
    expect((await rejection(tsmAttester({ root: fake.root, files: fake })(Buffer.alloc(32)))).message).to.match(/64 bytes/);
    expect(fake.entries).to.deep.equal([]);
  });

  it('auto: without a configfs-tsm directory a clear error, never the sample attester', async () => {
    const missing = join(tempDir(), 'no-configfs');
    expect((await rejection(chooseAttester({ tee: 'snp', tsmRoot: missing }))).message).to.match(/no TEE attestation interface: .*no-configfs \(Linux configfs-tsm\) is missing/);
    expect((await rejection(chooseAttester({ tee: 'snp', attester: 'auto', tsmRoot: missing }))).message).to.match(/configfs-tsm/);
  });

  it('auto: with the directory present, the tsm attester of the real configfs adapter', async () => {
    const root = join(tempDir(), 'report');
    const fake = new FakeConfigfsTsm(root, { provider: 'sev_guest', report: () => Buffer.alloc(1184) });
    await fake.create();
    const attester = await chooseAttester({ tee: 'snp', tsmRoot: root });
    // On a plain directory the kernel does not populate the entry, so the real adapter finds no attributes.
    expect((await rejection(attester(reportData))).message).to.match(/no generation attribute/);
    expect(readdirSync(root), 'the empty entry was removed again').to.deep.equal([]);
  });

  it('sample TEE picks the sample attester when none is given', async () => {
    const evidence = await (await chooseAttester({ tee: 'sample' }))(reportData);
    expect(evidence).to.deep.equal({ svn: '1', report_data: reportData.toString('base64') });
  });
});
