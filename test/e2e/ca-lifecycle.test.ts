/**
 * The CA lifecycle through the operator's tools: `keybroker ca ...` with --json and exit codes, the offline-root
 * rotation script with the real openssl, the admin API of PROTOCOL.md 1.8, and a running server that picks up
 * CA changes and renews its TLS certificate without a restart.
 */
import { spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { join } from 'node:path';
import { expect } from 'chai';
import { eventually } from '../helpers/eventually.js';
import { brokerEnv, makeTempDir, REPO_ROOT, removeTempDir, startBroker, type BrokerProcess } from './helpers/broker-process.js';
import { expectProblem, postJson, send, type Credential } from './helpers/https-client.js';
import { describeResult, runCli, runCommand, runOpenssl, type CommandResult } from './helpers/run-command.js';
import { attestNew, pemBlocks } from './helpers/v1-protocol.js';

interface Status { issuers: { id: string; state: string; not_before: string; not_after: string }[] }

const ROTATE_SCRIPT = join(REPO_ROOT, 'scripts', 'ca-rotate.sh');
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

const json = <T>(result: CommandResult): T => JSON.parse(result.stdout.toString('utf8')) as T;

async function cli(home: string, args: string[], expectedCode = 0): Promise<CommandResult> {
  const result = await runCli(home, args);
  expect(result.code, `keybroker ${args.join(' ')}: ${describeResult(result)}`).to.equal(expectedCode);
  return result;
}

async function status(home: string): Promise<Status> {
  return json<Status>(await cli(home, ['ca', 'status', '--json']));
}

const idIn = (value: Status, state: string): string => value.issuers.find((issuer) => issuer.state === state)!.id;

/** The issuing CA's subject CN of an attest response. */
const issuerCnOf = (chainPem: string): string => new X509Certificate(chainPem).subject.split('\n').find((line) => line.startsWith('CN='))!.slice(3);

describe('e2e: CA lifecycle', function () {
  this.timeout(60_000);

  describe('keybroker ca (CLI, no server)', () => {
    let home: string;
    before(async () => {
      home = makeTempDir();
      await cli(home, ['ca', 'init', '--json']);
    });
    after(() => removeTempDir(home));

    it('status --json has the shape of GET /kbs/v1/admin/ca', async () => {
      const value = await status(home);
      expect(value).to.have.all.keys('issuers');
      expect(value.issuers).to.have.length(1);
      expect(value.issuers[0]).to.have.all.keys('id', 'state', 'not_before', 'not_after');
      expect(value.issuers[0]!.state).to.equal('active');
      expect(value.issuers[0]!.not_before).to.match(RFC3339);
      expect(Date.parse(value.issuers[0]!.not_after)).to.be.greaterThan(Date.parse(value.issuers[0]!.not_before));
    });

    it('prepare, activate, taint and revoke answer JSON; the bundle file follows', async () => {
      const first = idIn(await status(home), 'active');
      const prepared = json<{ id: string; state: string }>(await cli(home, ['ca', 'prepare', '--json']));
      expect(prepared.state).to.equal('prepared');
      expect(pemBlocks(readFileSync(join(home, 'ca', 'bundle.pem'), 'utf8'))).to.have.length(3);
      expect(json(await cli(home, ['ca', 'activate', '--json']))).to.deep.equal({ id: prepared.id, from: 'prepared', to: 'active', changed: true, retired: first });
      expect(json(await cli(home, ['ca', 'taint', first, '--json']))).to.deep.equal({ id: first, from: 'retired', to: 'tainted', changed: true });
      expect(json(await cli(home, ['ca', 'revoke', first, '--json']))).to.deep.equal({ id: first, from: 'tainted', to: 'revoked', changed: true });
      expect(json(await cli(home, ['ca', 'revoke', first, '--json']))).to.deep.equal({ id: first, from: 'revoked', to: 'revoked', changed: false });
      const states = Object.fromEntries((await status(home)).issuers.map((issuer) => [issuer.id, issuer.state]));
      expect(states).to.deep.equal({ [first]: 'revoked', [prepared.id]: 'active' });
      expect(pemBlocks(readFileSync(join(home, 'ca', 'bundle.pem'), 'utf8'))).to.have.length(2);
    });

    it('refuses bad transitions with exit code 3 and one clear line; wrong usage is exit code 2', async () => {
      const before = await status(home);
      const active = idIn(before, 'active');
      const revoked = idIn(before, 'revoked');
      // Each refusal changes nothing, so they may run side by side.
      const [revokeActive, activateRevoked, activateNothing, taintUnknown, taintUsage, initUsage] = await Promise.all([
        cli(home, ['ca', 'revoke', active], 3),
        cli(home, ['ca', 'activate', revoked], 3),
        cli(home, ['ca', 'activate'], 3),
        cli(home, ['ca', 'taint', 'no-such-issuer'], 3),
        cli(home, ['ca', 'taint'], 2),
        cli(home, ['ca', 'init', '--root-offline'], 2),
      ]);
      expect(revokeActive.stderr).to.equal(`keybroker: cannot revoke issuer ${active} (active): it is the active issuer; activate a successor first ("keybroker ca prepare", then "keybroker ca activate")\n`);
      expect(activateRevoked.stderr).to.match(/^keybroker: cannot activate issuer \S+ \(revoked\): a revoked issuer is no longer trusted; prepare a new one\n$/);
      expect(activateNothing.stderr).to.match(/no prepared issuer to activate/);
      expect(taintUnknown.stderr).to.match(/no issuer "no-such-issuer"/);
      expect(taintUsage.stderr).to.match(/usage: keybroker ca taint <id>/);
      expect(initUsage.stderr).to.match(/--root-out/);
      expect(await status(home)).to.deep.equal(before);
    });

    it('prepare --if-due does nothing before half of the active issuer\'s life', async () => {
      const before = await status(home);
      expect(json(await cli(home, ['ca', 'prepare', '--if-due', '--json']))).to.deep.equal({ changed: false, due: null });
      expect(await status(home)).to.deep.equal(before);
    });
  });

  describe('offline root: scripts/ca-rotate.sh', () => {
    let home: string;
    let rootDir: string;
    const rotate = (args: string[]) => runCommand('bash', [ROTATE_SCRIPT, ...args], { cwd: home, env: brokerEnv(home), timeoutMs: 30_000 });

    before(async () => {
      home = makeTempDir();
      rootDir = join(makeTempDir('keybroker-offline-root-'), 'root');
      const init = json<{ root_offline: boolean }>(await cli(home, ['ca', 'init', '--root-offline', '--root-out', rootDir, '--json']));
      expect(init.root_offline).to.equal(true);
    });
    after(() => removeTempDir(home));

    it('keeps the root key out of the CA home', () => {
      expect(existsSync(join(home, 'ca', 'root', 'cert.pem'))).to.equal(true);
      expect(existsSync(join(home, 'ca', 'root', 'key.pem'))).to.equal(false);
      expect(existsSync(join(rootDir, 'key.pem'))).to.equal(true);
    });

    it('renews the server certificate with ca issue-server --root DIR, and says what to do without it', async () => {
      const refused = await cli(home, ['ca', 'issue-server', '--dns', 'localhost', '--out', join(home, 'ca', 'server')], 1);
      expect(refused.stderr).to.match(/offline root\): give --root DIR/);
      const before = readFileSync(join(home, 'ca', 'server', 'cert.pem'), 'utf8');
      await cli(home, ['ca', 'issue-server', '--root', rootDir, '--dns', 'localhost', '--ip', '127.0.0.1', '--out', join(home, 'ca', 'server')]);
      const serverCert = join(home, 'ca', 'server', 'cert.pem');
      expect(readFileSync(serverCert, 'utf8')).to.not.equal(before);
      const verify = await runOpenssl(['verify', '-x509_strict', '-purpose', 'sslserver', '-verify_hostname', 'localhost', '-CAfile', join(home, 'ca', 'bundle.pem'), serverCert]);
      expect(verify.code, describeResult(verify)).to.equal(0);
    });

    it('writes a CSR and exits 10 until the root has signed it; keybroker ca sign-issuer signs it elsewhere; the script imports and activates', async () => {
      const first = idIn(await status(home), 'active');
      const waiting = await rotate([]);
      expect(waiting.code, describeResult(waiting)).to.equal(10);
      const csr = waiting.stdout.toString('utf8').trim();
      expect(readFileSync(csr, 'utf8')).to.match(/^-----BEGIN CERTIFICATE REQUEST-----/);
      expect(waiting.stderr).to.match(/waits for the root's signature/);
      // Running it again reuses the pending request instead of making another key.
      expect((await rotate([])).stdout.toString('utf8').trim()).to.equal(csr);

      // "Elsewhere": another home, where only the root key is.
      const offlineHome = makeTempDir();
      const signedPath = join(offlineHome, 'issuer.pem');
      await cli(offlineHome, ['ca', 'sign-issuer', '--root', rootDir, '--csr', csr, '--out', signedPath]);
      const verify = await runOpenssl(['verify', '-x509_strict', '-CAfile', join(rootDir, 'cert.pem'), signedPath]);
      expect(verify.code, describeResult(verify)).to.equal(0);

      const done = await rotate(['--signed-cert', signedPath]);
      expect(done.code, describeResult(done)).to.equal(0);
      const after = await status(home);
      expect(after.issuers.find((issuer) => issuer.id === first)!.state).to.equal('retired');
      const active = idIn(after, 'active');
      expect(active).to.not.equal(first);
      expect(readFileSync(join(home, 'ca', 'issuers', active, 'cert.pem'), 'utf8')).to.equal(readFileSync(signedPath, 'utf8'));
      removeTempDir(offlineHome);
    });

    it('signs with plain openssl x509 -req when the root is at hand (--root-dir), and the result chains in openssl', async () => {
      const before = idIn(await status(home), 'active');
      const done = await rotate(['--root-dir', rootDir, '--days', '30']);
      expect(done.code, describeResult(done)).to.equal(0);
      const active = idIn(await status(home), 'active');
      expect(active).to.not.equal(before);
      const issuerCert = join(home, 'ca', 'issuers', active, 'cert.pem');
      const verify = await runOpenssl(['verify', '-x509_strict', '-CAfile', join(home, 'ca', 'bundle.pem'), issuerCert]);
      expect(verify.code, describeResult(verify)).to.equal(0);
      const text = (await runOpenssl(['x509', '-in', issuerCert, '-noout', '-text'])).stdout.toString('utf8');
      expect(text).to.match(/CA:TRUE, pathlen:0/);
      expect(text).to.match(/Certificate Sign, CRL Sign/);
    });

    it('is idempotent from cron (--when-due does nothing when nothing is due) and exits 4 while another run holds the lock', async () => {
      const before = await status(home);
      const idle = await rotate(['--when-due', '--root-dir', rootDir]);
      expect(idle.code, describeResult(idle)).to.equal(0);
      expect(await status(home)).to.deep.equal(before);

      const holder = spawn('flock', [join(home, 'ca', '.rotate.lock'), '-c', 'echo locked; sleep 20'], { stdio: ['ignore', 'pipe', 'ignore'] });
      try {
        await new Promise<void>((resolve) => holder.stdout.once('data', () => resolve()));
        const locked = await rotate(['--when-due']);
        expect(locked.code, describeResult(locked)).to.equal(4);
        expect(locked.stderr).to.match(/another rotation is running/);
      } finally {
        holder.kill('SIGKILL');
      }
      expect((await rotate(['--bogus'])).code).to.equal(2);
    });
  });

  describe('a running server', () => {
    let broker: BrokerProcess;
    let admin: Credential;

    before(async () => {
      broker = await startBroker({ toml: '[ca]\ncheck_interval_ms = 200\nserver_ttl_seconds = 33\n' });
      admin = await issueAdmin('ops');
    });
    after(async () => {
      await broker?.stop();
    });

    async function issueAdmin(name: string): Promise<Credential> {
      const dir = join(broker.home, 'work', name);
      mkdirSync(join(broker.home, 'work'), { recursive: true });
      await cli(broker.home, ['ca', 'issue-admin', '--name', name, '--out', dir]);
      return { cert: readFileSync(join(dir, 'cert.pem'), 'utf8'), key: readFileSync(join(dir, 'key.pem'), 'utf8') };
    }
    const bundleCount = async (): Promise<number> => pemBlocks((await send(broker, { path: '/kbs/v1/ca/bundle' })).text()).length;
    const adminCa = (credential = admin) => send(broker, { path: '/kbs/v1/admin/ca', credential });
    const adminPost = (path: string, body?: unknown, credential = admin) => (body === undefined
      ? send(broker, { method: 'POST', path, credential })
      : postJson(broker, path, body, { credential }));

    it('picks up issuers prepared and activated by the CLI without a restart', async () => {
      const pid = broker.pid;
      const prepared = json<{ id: string }>(await cli(broker.home, ['ca', 'prepare', '--json']));
      await eventually(async () => (await bundleCount()) === 3);
      await cli(broker.home, ['ca', 'activate']);
      await eventually(async () => issuerCnOf((await attestNew(broker)).response.chain) === `keybroker issuing CA ${prepared.id}`);
      expect(broker.pid).to.equal(pid);
      expect(broker.running()).to.equal(true);
    });

    it('GET /kbs/v1/admin/ca answers the issuers and their states, as ca status --json does', async () => {
      const reply = await adminCa();
      expect(reply.status, reply.text()).to.equal(200);
      expect(reply.json()).to.deep.equal(await status(broker.home));
      expectProblem(await send(broker, { path: '/kbs/v1/admin/ca' }), 401, 'admin-auth-required');
      expectProblem(await adminCa((await attestNew(broker)).credential), 403, 'admin-forbidden');
    });

    it('POST prepare and activate rotate; a forbidden transition is 409 not-allowed; a tainted issuer\'s leaves are refused', async () => {
      const leafOfOld = (await attestNew(broker)).credential;
      const oldActive = idIn(await status(broker.home), 'active');

      const prepared = await adminPost('/kbs/v1/admin/ca/prepare');
      expect(prepared.status, prepared.text()).to.equal(200);
      const preparedId = prepared.json<{ id: string }>().id;
      expect(prepared.json<Status>().issuers.find((issuer) => issuer.id === preparedId)!.state).to.equal('prepared');
      expect(expectProblem(await adminPost('/kbs/v1/admin/ca/prepare'), 409, 'not-allowed').detail).to.match(/already prepared/);

      const activated = await adminPost('/kbs/v1/admin/ca/activate');
      expect(activated.status, activated.text()).to.equal(200);
      expect(activated.json()).to.include({ id: preparedId, from: 'prepared', to: 'active', changed: true, retired: oldActive });
      expect(expectProblem(await adminPost('/kbs/v1/admin/ca/revoke', { id: preparedId }), 409, 'not-allowed').detail).to.match(/it is the active issuer/);
      expectProblem(await adminPost('/kbs/v1/admin/ca/taint', { id: 'no-such-issuer' }), 404, 'not-found');
      expectProblem(await adminPost('/kbs/v1/admin/ca/taint', {}), 400, 'bad-request');
      expectProblem(await adminPost('/kbs/v1/admin/ca/taint', { id: '../../etc' }), 400, 'bad-request');

      // The retired issuer's leaves stay valid until it is tainted.
      const path = `rot-${Date.now()}/key/one`;
      expect((await send(broker, { method: 'PUT', path: `/kbs/v1/admin/resource/${path}`, body: 'v', credential: admin })).status).to.equal(201);
      expect((await send(broker, { path: `/kbs/v1/resource/${path}`, credential: leafOfOld })).status).to.equal(200);
      const tainted = await adminPost('/kbs/v1/admin/ca/taint', { id: oldActive });
      expect(tainted.status, tainted.text()).to.equal(200);
      expect(tainted.json()).to.include({ id: oldActive, from: 'retired', to: 'tainted', changed: true });
      expectProblem(await send(broker, { path: `/kbs/v1/resource/${path}`, credential: leafOfOld }), 401, 'certificate-invalid');
      const fresh = await attestNew(broker);
      expect((await send(broker, { path: `/kbs/v1/resource/${path}`, credential: fresh.credential })).status).to.equal(200);
      const revoked = await adminPost('/kbs/v1/admin/ca/revoke', { id: oldActive });
      expect(revoked.json()).to.include({ id: oldActive, from: 'tainted', to: 'revoked' });
      expect(expectProblem(await adminPost('/kbs/v1/admin/ca/taint', { id: oldActive }), 409, 'not-allowed').detail).to.match(/cannot taint/);

      // Each step that changed something is an admin change in the audit log, naming who; refusals add nothing.
      const steps = readFileSync(join(broker.home, 'data', 'audit.jsonl'), 'utf8').trim().split('\n')
        .map((line) => (JSON.parse(line) as { event: Record<string, unknown> }).event)
        .filter((event) => event.type === 'admin' && String(event.action).startsWith('ca.'));
      expect(steps).to.deep.equal([
        { type: 'admin', admin: 'ops', action: 'ca.prepare', target: preparedId, before: null, after: 'prepared' },
        { type: 'admin', admin: 'ops', action: 'ca.activate', target: preparedId, before: 'prepared', after: 'active' },
        { type: 'admin', admin: 'ops', action: 'ca.taint', target: oldActive, before: 'retired', after: 'tainted' },
        { type: 'admin', admin: 'ops', action: 'ca.revoke', target: oldActive, before: 'tainted', after: 'revoked' },
      ]);
    });

    it('renews its TLS certificate from the root before it expires and swaps it without dropping open connections', async () => {
      const agent = new Agent({ keepAlive: true, maxSockets: 1, ca: broker.bundlePem });
      const get = () => new Promise<{ status: number; fingerprint: string; reused: boolean; socket: TLSSocket }>((resolve, reject) => {
        const outgoing = request({ host: '127.0.0.1', port: broker.port, path: '/healthz', agent }, (incoming) => {
          const socket = incoming.socket as TLSSocket;
          const fingerprint = socket.getPeerCertificate().fingerprint256;
          incoming.resume();
          incoming.on('end', () => {
            resolve({ status: incoming.statusCode ?? 0, fingerprint, reused: outgoing.reusedSocket, socket });
          });
        });
        outgoing.on('error', reject);
        outgoing.end();
      });
      try {
        const first = await get();
        expect(first.status).to.equal(200);
        // With server_ttl_seconds = 33 the certificate is renewed once two thirds of its 93 s (with back-dating) are gone.
        const freshCertificate = (): Promise<X509Certificate> => new Promise<X509Certificate>((resolve, reject) => {
            const outgoing = request({ host: '127.0.0.1', port: broker.port, path: '/healthz', agent: false, ca: broker.bundlePem }, (incoming) => {
              incoming.resume();
              resolve(new X509Certificate((incoming.socket as TLSSocket).getPeerCertificate().raw));
            });
            outgoing.on('error', reject);
            outgoing.end();
          });
        let renewed: X509Certificate | undefined;
        await eventually(async () => {
          renewed = await freshCertificate();
          return renewed.fingerprint256 !== first.fingerprint;
        }, { attempts: 200 });
        const root = new X509Certificate(pemBlocks(broker.bundlePem)[0]!);
        expect(renewed!.checkIssued(root) && renewed!.verify(root.publicKey), 'the renewed certificate is signed by the root').to.equal(true);
        expect(renewed!.checkHost('localhost')).to.equal('localhost');

        const again = await get();
        expect(again.status).to.equal(200);
        expect(again.reused, 'the kept-alive connection was dropped').to.equal(true);
        expect(again.socket).to.equal(first.socket);
        expect(again.fingerprint).to.equal(first.fingerprint);
      } finally {
        agent.destroy();
      }
    });
  });

  describe('a running server with a long check interval', () => {
    let broker: BrokerProcess;
    before(async () => {
      broker = await startBroker({ toml: '[ca]\ncheck_interval_ms = 3600000\n' });
    });
    after(async () => {
      await broker?.stop();
    });

    it('re-reads the CA home on SIGHUP', async () => {
      const served = async (): Promise<number> => pemBlocks((await send(broker, { path: '/kbs/v1/ca/bundle' })).text()).length;
      await cli(broker.home, ['ca', 'prepare']);
      expect(pemBlocks(readFileSync(broker.bundlePath, 'utf8'))).to.have.length(3);
      expect(await served()).to.equal(2);
      process.kill(broker.pid, 'SIGHUP');
      await eventually(async () => (await served()) === 3);
      expect(broker.running()).to.equal(true);
    });
  });
});
