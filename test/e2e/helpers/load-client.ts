/**
 * A client process for the rotation-under-load test: attests and fetches a resource in a loop, as a TEE would,
 * until it has done `max-iterations`, `max-ms` have passed, or it receives SIGTERM; then prints one JSON summary
 * line on stdout. Every request counts; a failure is any answer other than the expected one, or a broken
 * connection.
 *
 * usage: node load-client.js PORT BUNDLE_FILE RESOURCE_PATH EXPECTED_HEX MAX_ITERATIONS MAX_MS
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { send, type Target } from './https-client.js';
import { attestBody, challenge, generateTeeKey, postAttest, type AttestResponse } from './v1-protocol.js';

export interface LoadSummary {
  iterations: number;
  requests: number;
  failures: number;
  /** The first few failures, for the assertion message. */
  failureSamples: string[];
  /** Subjects of the issuing CAs whose certificates the client received, in order of first sight. */
  issuers: string[];
  elapsedMs: number;
}

async function run(): Promise<void> {
  const [port, bundleFile, resourcePath, expectedHex, maxIterations, maxMs] = process.argv.slice(2);
  const target: Target = { port: Number(port), bundlePem: readFileSync(bundleFile!, 'utf8') };
  const expected = Buffer.from(expectedHex!, 'hex');
  const started = Date.now();
  let stopping = false;
  process.once('SIGTERM', () => { stopping = true; });
  const summary: LoadSummary = { iterations: 0, requests: 0, failures: 0, failureSamples: [], issuers: [], elapsedMs: 0 };
  const fail = (what: string): void => {
    summary.failures += 1;
    if (summary.failureSamples.length < 5) summary.failureSamples.push(`iteration ${summary.iterations}: ${what}`);
  };
  /** One request; answers undefined (after counting the failure) when it did not do what it should. */
  async function request<T>(what: string, action: () => Promise<T>): Promise<T | undefined> {
    summary.requests += 1;
    try {
      return await action();
    } catch (error) {
      fail(`${what}: ${error instanceof Error ? error.message : String(error)}`);
      return undefined;
    }
  }

  while (!stopping && summary.iterations < Number(maxIterations) && Date.now() - started < Number(maxMs)) {
    summary.iterations += 1;
    const key = await generateTeeKey('ec-p256');
    const nonce = await request('challenge', async () => (await challenge(target)).nonce);
    if (nonce === undefined) continue;
    const body = await attestBody(nonce, key);
    const attested = await request('attest', async () => {
      const reply = await postAttest(target, body);
      if (reply.status !== 201) throw new Error(`${reply.status} ${reply.text().slice(0, 200)}`);
      return reply.json<AttestResponse>();
    });
    if (!attested) continue;
    const issuer = new X509Certificate(attested.chain).subject.replace(/\n/g, ', ');
    if (!summary.issuers.includes(issuer)) summary.issuers.push(issuer);
    await request('resource', async () => {
      const reply = await send(target, { path: `/kbs/v1/resource/${resourcePath}`, credential: { cert: attested.certificate, key: key.privateKeyPem } });
      if (reply.status !== 200) throw new Error(`${reply.status} ${reply.text().slice(0, 200)}`);
      if (!reply.body.equals(expected)) throw new Error('resource bytes differ');
    });
  }
  summary.elapsedMs = Date.now() - started;
  process.stdout.write(`${JSON.stringify(summary)}\n`);
}

await run();
