/**
 * The full issuer rotation cycle under continuous client load: a separate process attests and fetches in a loop
 * while the server prepares, activates and retires issuers on its own schedule (issuers live 8 seconds here) and
 * an operator taints an expired issuer with the CLI. Not one request may fail.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { eventually } from '../helpers/eventually.js';
import { startBroker, type BrokerProcess, REPO_ROOT } from './helpers/broker-process.js';
import { send } from './helpers/https-client.js';
import type { LoadSummary } from './helpers/load-client.js';
import { describeResult, runCli } from './helpers/run-command.js';

const LOAD_CLIENT = join(REPO_ROOT, 'dist', 'test', 'e2e', 'helpers', 'load-client.js');

function logRecords(broker: BrokerProcess): { msg: string; issuer?: string }[] {
  return broker.stdout().split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as { msg: string; issuer?: string });
}

const activations = (broker: BrokerProcess): string[] => logRecords(broker).filter((record) => record.msg === 'CA rotation: activated issuer').map((record) => record.issuer!);

describe('e2e: issuer rotation under continuous client load', function () {
  this.timeout(90_000);
  let broker: BrokerProcess;

  before(async function () {
    broker = await startBroker({ toml: '[ca]\nissuer_ttl_seconds = 8\ncheck_interval_ms = 200\n' });
  });
  after(async function () {
    await broker?.stop();
  });

  it('rotates issuers twice while a client attests and fetches in a loop, with zero failed requests', async function () {
    const work = join(broker.home, 'work');
    mkdirSync(work, { recursive: true });
    const adminDir = join(work, 'admin');
    const issued = await runCli(broker.home, ['ca', 'issue-admin', '--name', 'ops', '--out', adminDir]);
    expect(issued.code, describeResult(issued)).to.equal(0);
    const admin = { cert: readFileSync(join(adminDir, 'cert.pem'), 'utf8'), key: readFileSync(join(adminDir, 'key.pem'), 'utf8') };
    const value = randomBytes(32);
    const resource = `load-${randomBytes(4).toString('hex')}/key/one`;
    const put = await send(broker, { method: 'PUT', path: `/kbs/v1/admin/resource/${resource}`, body: value, credential: admin });
    expect(put.status, put.text()).to.equal(201);
    const firstIssuer = JSON.parse((await runCli(broker.home, ['ca', 'status', '--json'])).stdout.toString('utf8')).issuers[0].id as string;

    const client = spawn(process.execPath, [LOAD_CLIENT, String(broker.port), broker.bundlePath, resource, value.toString('hex'), '20000', '60000'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let errors = '';
    client.stdout.setEncoding('utf8').on('data', (chunk: string) => { output += chunk; });
    client.stderr.setEncoding('utf8').on('data', (chunk: string) => { errors += chunk; });
    const exited = new Promise<number | null>((resolve) => client.once('exit', (code) => resolve(code)));
    try {
      await eventually(async () => activations(broker).length >= 2, { attempts: 400 });
      // An operator's CLI change while the server rotates and serves: the first issuer, retired and by now
      // expired (so no leaf of it is in use), is tainted; the server picks the change up by itself.
      const reloads = (): number => logRecords(broker).filter((record) => record.msg === 'CA reloaded').length;
      const reloadsBefore = reloads();
      const tainted = await runCli(broker.home, ['ca', 'taint', firstIssuer, '--json']);
      expect(tainted.code, describeResult(tainted)).to.equal(0);
      await eventually(async () => reloads() > reloadsBefore);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    } finally {
      client.kill('SIGTERM');
    }
    expect(await exited, errors).to.equal(0);
    const summary = JSON.parse(output.trim()) as LoadSummary;
    // The numbers for the report: how much load ran through the rotations, and how much of it failed.
    process.stdout.write(`      rotation under load: ${summary.iterations} iterations, ${summary.requests} requests, ${summary.failures} failed, ${summary.issuers.length} issuers seen, ${activations(broker).length} activations, ${summary.elapsedMs} ms\n`);
    expect(summary.failures, summary.failureSamples.join('\n')).to.equal(0);
    expect(summary.requests).to.equal(summary.iterations * 3);
    expect(summary.issuers.length, summary.issuers.join('; ')).to.be.at.least(3);
    const status = JSON.parse((await runCli(broker.home, ['ca', 'status', '--json'])).stdout.toString('utf8')) as { issuers: { id: string; state: string }[] };
    expect(status.issuers.find((issuer) => issuer.id === firstIssuer)?.state).to.equal('tainted');
    expect(status.issuers.filter((issuer) => issuer.state === 'active')).to.have.length(1);
  });
});
