/**
 * Groups 2 to 4 and the challenge-memory part of 5: the broker as a real process under load from a separate
 * client process, each figure next to a baseline server measured in the same run with the same client.
 */
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startBroker, type BrokerProcess } from '../../test/e2e/helpers/broker-process.js';
import { runCli } from '../../test/e2e/helpers/run-command.js';
import type { LoadJob, LoadResult } from '../load/load-client.js';
import type { BenchRow } from '../report.js';
import { findOrInstallNginx, startBareHttpsServer, startNginx, type BaselineFiles, type RunningServer } from '../servers.js';

const LOAD_CLIENT = fileURLToPath(new URL('../load/load-client.js', import.meta.url));
const RESOURCE = 'bench/key/secret';

function runLoad(job: LoadJob): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [LOAD_CLIENT, JSON.stringify(job)], { maxBuffer: 1 << 20, timeout: (job.seconds + 60) * 1000 }, (error, stdout, stderr) => {
      if (error) return reject(new Error(`load client failed: ${error.message}\n${stderr}`));
      resolve(JSON.parse(stdout) as LoadResult);
    });
  });
}

async function cli(home: string, args: string[]): Promise<void> {
  const result = await runCli(home, args, { timeoutMs: 60_000 });
  if (result.code !== 0) throw new Error(`keybroker ${args.join(' ')} failed: ${result.stderr}`);
}

function row(group: string, name: string, result: LoadResult, baseline?: { name: string; result: LoadResult }, target?: number): BenchRow {
  const notes: string[] = [];
  if (result.errors > 0) notes.push(`${result.errors} errors, first: ${result.first_error}`);
  if (result.client_cpu_share > 0.9) notes.push(`client at ${Math.round(result.client_cpu_share * 100)}% of a core: client-bound`);
  return {
    group, name, per_second: result.per_second, p50_ms: result.p50_ms, p99_ms: result.p99_ms,
    ...(baseline ? { baseline: { name: baseline.name, per_second: baseline.result.per_second }, ratio: result.per_second / baseline.result.per_second } : {}),
    ...(target !== undefined ? { target } : {}),
    ...(notes.length > 0 ? { note: notes.join('; ') } : {}),
  };
}

function residentMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
  return kib / 1024;
}

/** `count` challenges over one kept-alive connection; none is answered by an attest, so all stay outstanding. */
async function requestChallenges(url: string, ca: string, count: number): Promise<void> {
  const agent = new Agent({ keepAlive: true, maxSockets: 8, ca });
  const one = (): Promise<void> => new Promise((resolve, reject) => {
    const outgoing = request(`${url}/kbs/v1/challenge`, { method: 'POST', agent, headers: { 'content-type': 'application/json' } }, (incoming) => {
      incoming.resume();
      incoming.on('end', () => (incoming.statusCode === 200 ? resolve() : reject(new Error(`challenge answered ${incoming.statusCode}`))));
    });
    outgoing.on('error', reject);
    outgoing.end('{"tee":"sample"}');
  });
  let issued = 0;
  await Promise.all(Array.from({ length: 8 }, async () => {
    while (issued < count) {
      issued++;
      await one();
    }
  }));
  agent.destroy();
}

/** `extraToml` is appended to the broker's config, to compare settings (e.g. the resource cache off) in one run. */
export async function benchNetwork(workDir: string, seconds: number, extraToml = ''): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const broker: BrokerProcess = await startBroker({ toml: `[server]\nlisten = "127.0.0.1:0"\n${extraToml}` });
  const servers: RunningServer[] = [];
  try {
    const home = broker.home;
    const ca = broker.bundlePem;
    const payload = Buffer.alloc(1024, 'k');
    const payloadFile = join(workDir, 'payload.bin');
    writeFileSync(payloadFile, payload);
    await cli(home, ['ca', 'issue-admin', '--name', 'bench', '--out', join(workDir, 'admin')]);
    await cli(home, ['admin', 'set-resource', '--url', broker.url, '--admin', join(workDir, 'admin'), '--cacert', broker.bundlePath, '--file', payloadFile, RESOURCE]);
    await cli(home, ['client', 'attest', '--url', broker.url, '--tee', 'sample', '--out', join(workDir, 'client'), '--cacert', broker.bundlePath]);
    const clientCert = readFileSync(join(workDir, 'client', 'cert.pem'), 'utf8') + readFileSync(join(workDir, 'client', 'chain.pem'), 'utf8');
    const clientKey = readFileSync(join(workDir, 'client', 'key.pem'), 'utf8');
    const files: BaselineFiles = {
      cert: join(home, 'ca', 'server', 'cert.pem'),
      key: join(home, 'ca', 'server', 'key.pem'),
      ca: broker.bundlePath,
      bodyFile: payloadFile,
      path: `/kbs/v1/resource/${RESOURCE}`,
    };

    const group2 = '2. full v1 attestation, sample TEE, new TLS connection each';
    const bare = await startBareHttpsServer(files);
    servers.push(bare);
    const tinyPost = await runLoad({ mode: 'post', url: bare.url, path: '/', ca, concurrency: 8, seconds });
    const attestations = await runLoad({ mode: 'attest', url: broker.url, ca, concurrency: 8, seconds });
    rows.push(row(group2, `${bare.name}: tiny POST, new connection (baseline)`, tinyPost));
    rows.push(row(group2, 'keybroker: challenge + CSR + attest (one connection)', attestations, { name: 'bare POST', result: tinyPost }, 0.6));

    const nginxBinary = findOrInstallNginx();
    const reference = nginxBinary ? await startNginx(nginxBinary, files, join(workDir, 'nginx')) : bare;
    if (reference !== bare) servers.push(reference);
    const referenceName = nginxBinary ? 'nginx' : 'bare node:https (nginx unavailable)';
    const identity = { ca, cert: clientCert, key: clientKey, path: files.path };

    const group3 = '3. resource GET over kept-alive mTLS (1 KiB)';
    const referenceKept = await runLoad({ mode: 'get-keepalive', url: reference.url, ...identity, concurrency: 16, seconds });
    const brokerKept = await runLoad({ mode: 'get-keepalive', url: broker.url, ...identity, concurrency: 16, seconds });
    rows.push(row(group3, `${reference.name} (baseline)`, referenceKept));
    rows.push(row(group3, 'keybroker: policy + store read + response', brokerKept, { name: referenceName, result: referenceKept }, 0.5));

    const group4 = '4. new mTLS connection + resource GET';
    const referenceNew = await runLoad({ mode: 'get-new', url: reference.url, ...identity, concurrency: 8, seconds });
    const brokerNew = await runLoad({ mode: 'get-new', url: broker.url, ...identity, concurrency: 8, seconds });
    rows.push(row(group4, `${reference.name} (baseline)`, referenceNew));
    rows.push(row(group4, 'keybroker', brokerNew, { name: referenceName, result: referenceNew }, 0.8));

    const before = residentMiB(broker.pid);
    await requestChallenges(broker.url, ca, 10_000);
    const after = residentMiB(broker.pid);
    rows.push({
      group: '5. scaling', name: 'broker resident memory after 10,000 outstanding challenges (MiB)',
      p50_ms: undefined, per_second: undefined, ratio: after / before,
      note: `${before.toFixed(1)} MiB before, ${after.toFixed(1)} MiB after; ratio = after/before (nonces are sealed, nothing is kept per challenge)`,
    });
  } finally {
    for (const server of servers) await server.stop();
    await broker.stop();
  }
  return rows;
}
