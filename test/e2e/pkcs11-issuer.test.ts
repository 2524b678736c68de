/** A broker whose issuer keys live in a SoftHSM2 token ([ca] key_storage = "pkcs11"), checked with the real openssl. */
import { expect } from 'chai';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createSoftHsmToken, requireSoftHsm, SOFTHSM_MODULE } from '../helpers/softhsm.js';
import { makeTempDir, removeTempDir, startBroker, type BrokerProcess } from './helpers/broker-process.js';
import { expectProblem, send } from './helpers/https-client.js';
import { describeResult, runCli, runOpenssl } from './helpers/run-command.js';
import { attestNew, pemBlocks } from './helpers/v1-protocol.js';

describe('e2e: issuer keys in a PKCS#11 token (SoftHSM2)', function () {
  this.timeout(60_000);
  let home: string | undefined;
  let broker: BrokerProcess | undefined;
  const previousConf = process.env.SOFTHSM2_CONF;

  before(async function () {
    requireSoftHsm(this);
    home = makeTempDir();
    const token = await createSoftHsmToken(join(home, 'hsm'), 'kb-e2e');
    // The broker and CLI processes inherit the environment, and with it the test's own SoftHSM2 config.
    process.env.SOFTHSM2_CONF = token.conf;
    broker = await startBroker({
      home,
      toml: `[ca]\nkey_storage = "pkcs11"\nauto_rotate = false\n[pkcs11]\nmodule = "${SOFTHSM_MODULE}"\ntoken_label = "kb-e2e"\npin_file = "hsm/pin"\n`,
    });
  });

  after(async () => {
    await broker?.stop();
    if (previousConf === undefined) delete process.env.SOFTHSM2_CONF; else process.env.SOFTHSM2_CONF = previousConf;
    if (home) removeTempDir(home);
  });

  const issuerIds = (): string[] => readdirSync(join(home!, 'ca', 'issuers')).sort();

  it('creates the issuer key in the token: no key file in the CA home', () => {
    const ids = issuerIds();
    expect(ids).to.have.lengthOf(1);
    expect(existsSync(join(home!, 'ca', 'issuers', ids[0]!, 'cert.pem'))).to.equal(true);
    expect(existsSync(join(home!, 'ca', 'issuers', ids[0]!, 'key.pem'))).to.equal(false);
  });

  it('issues client certificates signed in the token that openssl verify accepts and the broker authenticates', async () => {
    const { response, credential } = await attestNew(broker!);
    const certFile = join(home!, 'tee.pem');
    writeFileSync(certFile, response.certificate);
    const verified = await runOpenssl(['verify', '-CAfile', broker!.bundlePath, certFile]);
    expect(verified.code, describeResult(verified)).to.equal(0);
    expect(verified.stdout.toString()).to.include(': OK');
    // Past authentication and policy, the store answers: the certificate was accepted.
    expectProblem(await send(broker!, { path: '/kbs/v1/resource/none/key/absent', credential }), 404, 'resource-not-found', home);
  });

  it('signs the CRL in the token', async () => {
    const reply = await send(broker!, { path: '/kbs/v1/ca/crl' });
    expect(reply.status).to.equal(200);
    const crl = join(home!, 'active.crl');
    writeFileSync(crl, reply.body);
    const result = await runOpenssl(['crl', '-inform', 'DER', '-in', crl, '-noout', '-CAfile', broker!.bundlePath]);
    expect(result.stderr + result.stdout.toString()).to.include('verify OK');
  });

  it('makes the key of an offline-root issuer request in the token and signs its CSR there', async () => {
    const requested = await runCli(home!, ['ca', 'request-issuer', '--json']);
    expect(requested.code, describeResult(requested)).to.equal(0);
    const { id, csr } = JSON.parse(requested.stdout.toString()) as { id: string; csr: string };
    expect(existsSync(join(home!, 'ca', 'issuers', id, 'key.pem'))).to.equal(false);
    const verified = await runOpenssl(['req', '-in', csr, '-noout', '-verify']);
    expect(verified.code, describeResult(verified)).to.equal(0);
    expect(verified.stderr + verified.stdout.toString()).to.match(/verify OK/i);
    // Signed by the root (here with plain openssl) and imported, it becomes a prepared issuer whose key is in the token.
    const certFile = join(home!, 'requested.pem');
    const extensions = join(home!, 'issuer.ext');
    writeFileSync(extensions, 'basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,digitalSignature,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n');
    const signed = await runOpenssl(['x509', '-req', '-in', csr, '-CA', join(home!, 'ca', 'root', 'cert.pem'), '-CAkey', join(home!, 'ca', 'root', 'key.pem'),
      '-days', '30', '-sha384', '-extfile', extensions, '-out', certFile]);
    expect(signed.code, describeResult(signed)).to.equal(0);
    const imported = await runCli(home!, ['ca', 'import-issuer', '--cert', certFile, '--json']);
    expect(imported.code, describeResult(imported)).to.equal(0);
    const activated = await runCli(home!, ['ca', 'activate', '--json']);
    expect(activated.code, describeResult(activated)).to.equal(0);
    process.kill(broker!.pid, 'SIGHUP');
    for (let attempt = 0; attempt < 50; attempt++) {
      const { response } = await attestNew(broker!);
      if (pemBlocks(response.chain)[0]!.equals(pemBlocks(readFileSync(certFile, 'utf8'))[0]!)) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect.fail('the broker did not issue from the imported issuer after SIGHUP');
  });

  it('puts the key of an issuer prepared with the CLI into the token as well', async () => {
    const prepared = await runCli(home!, ['ca', 'prepare', '--json']);
    expect(prepared.code, describeResult(prepared)).to.equal(0);
    const ids = issuerIds();
    expect(ids).to.have.lengthOf(3);
    for (const id of ids) expect(existsSync(join(home!, 'ca', 'issuers', id, 'key.pem')), id).to.equal(false);
    const status = await runCli(home!, ['ca', 'status', '--json']);
    expect(status.code, describeResult(status)).to.equal(0);
  });
});
