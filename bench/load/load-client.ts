/**
 * The load generator, run as its own process so that client work never shares the event loop with the server
 * under test. It reads one JSON job from argv, runs `concurrency` request loops for `seconds`, and prints one
 * JSON result line.
 */
import { Agent, request, type RequestOptions } from 'node:https';
import { v1ReportData } from '../../src/attestation/binding.js';
import { sampleAttester } from '../../src/client/attesters.js';
import { createCsr, generateClientKey } from '../../src/pki/create-csr.js';
import { summarizeLatencies } from '../stats.js';

export type LoadMode = 'post' | 'attest' | 'get-keepalive' | 'get-new';

export interface LoadJob {
  mode: LoadMode;
  /** `https://127.0.0.1:PORT` */
  url: string;
  /** Path of the GET or POST (not used by `attest`). */
  path?: string;
  /** PEM trust bundle. */
  ca: string;
  /** PEM client certificate and key for the GET modes. */
  cert?: string;
  key?: string;
  concurrency: number;
  seconds: number;
}

export interface LoadResult {
  mode: LoadMode;
  count: number;
  errors: number;
  first_error?: string;
  seconds: number;
  per_second: number;
  p50_ms: number;
  p99_ms: number;
  /** CPU the client itself used, as a share of one core: near 1 means the client, not the server, set the pace. */
  client_cpu_share: number;
}

interface Reply {
  status: number;
  body: Buffer;
}

function send(options: RequestOptions & { url: string; body?: string }): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const outgoing = request(options.url, options, (incoming) => {
      const chunks: Buffer[] = [];
      incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
      incoming.on('end', () => resolve({ status: incoming.statusCode ?? 0, body: Buffer.concat(chunks) }));
      incoming.on('error', reject);
    });
    outgoing.on('error', reject);
    outgoing.end(options.body);
  });
}

function expectStatus(reply: Reply, expected: number): Reply {
  if (reply.status !== expected) throw new Error(`status ${reply.status}: ${reply.body.toString('utf8').slice(0, 200)}`);
  return reply;
}

const JSON_HEADERS = { 'content-type': 'application/json', accept: 'application/json' };

/** One full v1 attestation with the sample TEE: challenge and attest over one new TLS connection. */
async function attestOnce(job: LoadJob): Promise<void> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1, ca: job.ca });
  try {
    const challenge = expectStatus(await send({ url: `${job.url}/kbs/v1/challenge`, method: 'POST', agent, headers: JSON_HEADERS, body: '{"tee":"sample"}' }), 200);
    const { nonce } = JSON.parse(challenge.body.toString('utf8')) as { nonce: string };
    const csr = createCsr(generateClientKey('ec-p256'));
    const evidence = await sampleAttester()(v1ReportData(nonce, csr.spki));
    const body = JSON.stringify({ nonce, csr: csr.pem, evidence });
    expectStatus(await send({ url: `${job.url}/kbs/v1/attest`, method: 'POST', agent, headers: JSON_HEADERS, body }), 201);
  } finally {
    agent.destroy();
  }
}

function operationFor(job: LoadJob): () => Promise<void> {
  const target = `${job.url}${job.path ?? '/'}`;
  switch (job.mode) {
    case 'attest':
      return () => attestOnce(job);
    case 'post':
      return async () => {
        expectStatus(await send({ url: target, method: 'POST', agent: false, ca: job.ca, headers: JSON_HEADERS, body: '{"tee":"sample"}' }), 200);
      };
    case 'get-new':
      return async () => {
        expectStatus(await send({ url: target, method: 'GET', agent: false, ca: job.ca, cert: job.cert, key: job.key }), 200);
      };
    case 'get-keepalive': {
      const agent = new Agent({ keepAlive: true, maxSockets: job.concurrency, ca: job.ca, cert: job.cert, key: job.key });
      return async () => {
        expectStatus(await send({ url: target, method: 'GET', agent }), 200);
      };
    }
  }
}

async function runJob(job: LoadJob): Promise<LoadResult> {
  const operation = operationFor(job);
  for (let warm = 0; warm < Math.max(4, job.concurrency); warm++) await operation();
  const latencies: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  const cpuBefore = process.cpuUsage();
  const started = process.hrtime.bigint();
  const deadline = started + BigInt(Math.round(job.seconds * 1e9));
  const loop = async (): Promise<void> => {
    while (process.hrtime.bigint() < deadline) {
      const before = process.hrtime.bigint();
      try {
        await operation();
        latencies.push(Number(process.hrtime.bigint() - before) / 1e6);
      } catch (error) {
        errors++;
        firstError ??= error instanceof Error ? error.message : String(error);
      }
    }
  };
  await Promise.all(Array.from({ length: job.concurrency }, loop));
  const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = process.cpuUsage(cpuBefore);
  return {
    mode: job.mode,
    count: latencies.length,
    errors,
    ...(firstError ? { first_error: firstError } : {}),
    seconds: elapsed,
    per_second: latencies.length / elapsed,
    ...summarizeLatencies(latencies),
    client_cpu_share: (cpu.user + cpu.system) / 1e6 / elapsed,
  };
}

const job = JSON.parse(process.argv[2] ?? '{}') as LoadJob;
process.stdout.write(`${JSON.stringify(await runJob(job))}\n`);
process.exit(0);
