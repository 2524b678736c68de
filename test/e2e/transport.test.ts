/** The listener's TLS settings (PROTOCOL.md preamble), probed with the real openssl and curl. */
import { expect } from 'chai';
import type { BrokerProcess } from './helpers/broker-process.js';
import { send } from './helpers/https-client.js';
import { describeResult, runCurl, runOpenssl } from './helpers/run-command.js';
import { sharedBroker } from './helpers/shared-broker.js';

describe('e2e: TLS listener', function () {
  let broker: BrokerProcess;

  before(async function () {
    broker = await sharedBroker();
  });

  const handshake = (extra: string[]) => runOpenssl(['s_client', '-connect', `127.0.0.1:${broker.port}`, '-CAfile', broker.bundlePath,
    '-verify_return_error', '-verify_ip', '127.0.0.1', '-brief', ...extra], { input: '', timeoutMs: 10_000 });

  it('negotiates TLS 1.3 with a server certificate that verifies against the bundle for 127.0.0.1', async function () {
    const result = await handshake([]);
    expect(result.code, describeResult(result)).to.equal(0);
    expect(result.stderr).to.include('Protocol version: TLSv1.3');
    expect(result.stderr).to.match(/Verification: OK/);
  });

  it('refuses TLS 1.2 by default (openssl and curl)', async function () {
    const result = await handshake(['-tls1_2']);
    expect(result.code).to.not.equal(0);
    expect(result.stderr).to.match(/protocol version/i);
    const curl = await runCurl(['-sS', '--tls-max', '1.2', '--cacert', broker.bundlePath, `${broker.url}/healthz`]);
    expect(curl.code, describeResult(curl)).to.equal(35);
  });

  it('offers key exchange over X25519 and P-256, not P-384 alone', async function () {
    for (const group of ['X25519', 'P-256']) {
      const result = await handshake(['-groups', group]);
      expect(result.code, `${group}: ${describeResult(result)}`).to.equal(0);
    }
    const p384 = await handshake(['-groups', 'P-384']);
    expect(p384.code, describeResult(p384)).to.not.equal(0);
  });

  it('requests but does not require a client certificate: public routes answer without one', async function () {
    const reply = await send(broker, { path: '/healthz' });
    expect(reply.status).to.equal(200);
    expect(reply.json()).to.deep.equal({ status: 'ok' });
  });
});
