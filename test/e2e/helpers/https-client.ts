import { request as httpsRequest } from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';
import { expect } from 'chai';

/** Where to send: the broker's port and the PEM bundle that anchors its server certificate. */
export interface Target {
  port: number;
  bundlePem: string;
}

/** A TLS client certificate and its key, PEM. */
export interface Credential {
  cert: string;
  key: string;
}

export interface RequestOptions {
  method?: string;
  /** Sent exactly as given, without normalization (so `/a/../b` reaches the server as is). */
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Send the body with chunked transfer encoding instead of a content-length. */
  chunked?: boolean;
  credential?: Credential;
}

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  text(): string;
  json<T = Record<string, unknown>>(): T;
}

/** One HTTPS request over a fresh connection (`agent: false`), the bundle as the only trust anchor. */
export function send(target: Target, options: RequestOptions): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const body = options.body === undefined ? undefined : Buffer.from(options.body);
    const headers: Record<string, string> = { ...options.headers };
    if (body && !options.chunked && headers['content-length'] === undefined) headers['content-length'] = String(body.length);
    const outgoing = httpsRequest({
      host: '127.0.0.1',
      port: target.port,
      method: options.method ?? 'GET',
      path: options.path,
      headers,
      ca: target.bundlePem,
      agent: false,
      ...(options.credential ? { cert: options.credential.cert, key: options.credential.key } : {}),
    }, (incoming) => {
      const chunks: Buffer[] = [];
      incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
      incoming.on('error', reject);
      incoming.on('end', () => {
        const data = Buffer.concat(chunks);
        resolve({
          status: incoming.statusCode ?? 0,
          headers: incoming.headers,
          body: data,
          text: () => data.toString('utf8'),
          json: <T>() => JSON.parse(data.toString('utf8')) as T,
        });
      });
    });
    outgoing.on('error', reject);
    if (body && options.chunked) {
      // Several writes so the body really streams in chunks.
      for (let offset = 0; offset < body.length; offset += 1024) outgoing.write(body.subarray(offset, offset + 1024));
      outgoing.end();
    } else {
      outgoing.end(body);
    }
  });
}

/** `send`, but a connection-level failure (TLS alert, reset) resolves as `{ error }` instead of rejecting. */
export async function sendOrError(target: Target, options: RequestOptions): Promise<{ reply?: Reply; error?: Error }> {
  try {
    return { reply: await send(target, options) };
  } catch (error) {
    return { error: error as Error };
  }
}

export function postJson(target: Target, path: string, value: unknown, options: Omit<RequestOptions, 'path' | 'body'> = {}): Promise<Reply> {
  return send(target, {
    ...options,
    method: 'POST',
    path,
    body: JSON.stringify(value),
    headers: { 'content-type': 'application/json', accept: 'application/json', ...options.headers },
  });
}

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
}

/**
 * Asserts a v1 error (PROTOCOL.md section 0): the exact status, content-type application/problem+json,
 * `type` = urn:keybroker:error:<code>, `status` repeated in the body, and a `detail` without stack trace
 * or file path of the broker's home.
 */
export function expectProblem(reply: Reply, status: number, code: string, home?: string): Problem {
  const context = `${reply.status} ${reply.headers['content-type'] ?? ''} ${reply.text().slice(0, 400)}`;
  expect(reply.status, context).to.equal(status);
  expect(String(reply.headers['content-type']), context).to.match(/^application\/problem\+json(;|$)/);
  const problem = reply.json<Problem>();
  expect(problem.type, context).to.equal(`urn:keybroker:error:${code}`);
  expect(problem.status, context).to.equal(status);
  expect(problem.title, context).to.be.a('string').and.not.equal('');
  expect(problem.detail, context).to.be.a('string');
  const text = reply.text();
  expect(text, 'problem body holds a stack trace').not.to.include('    at ');
  expect(text, 'problem body holds a stack trace').not.to.match(/\bat \S+ \(.*:\d+:\d+\)/);
  if (home) expect(text, 'problem body holds a file path of the home').not.to.include(home);
  expect(text, 'problem body holds a file path').not.to.match(/\/(tmp|home|work|usr|var)\//);
  return problem;
}
