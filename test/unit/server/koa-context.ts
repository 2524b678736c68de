/** A real Koa context over an in-memory request, for handler-level tests without a socket. */
import Koa, { type Context } from 'koa';
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';

export interface FakeRequest {
  method?: string;
  url?: string;
  headers?: Record<string, string>;
  /** Body chunks, served on demand; a function serves chunk after chunk until it returns null. */
  body?: Buffer[] | (() => Buffer | null);
}

export interface FakeContext {
  ctx: Context;
  /** How many times the stream was asked for data. */
  reads(): number;
}

export function makeContext(request: FakeRequest = {}): FakeContext {
  const req = new IncomingMessage(new Socket());
  req.method = request.method ?? 'GET';
  req.url = request.url ?? '/';
  req.headers = Object.fromEntries(Object.entries(request.headers ?? {}).map(([name, value]) => [name.toLowerCase(), value]));
  const body = request.body ?? [];
  // As on the wire: a request with a body declares its length or is chunked (type-is looks for either).
  if (req.headers['content-length'] === undefined && (typeof body === 'function' || body.length > 0)) {
    req.headers['transfer-encoding'] = 'chunked';
  }
  let reads = 0;
  const queue = Array.isArray(body) ? [...body] : undefined;
  req._read = function read(): void {
    reads++;
    if (queue) {
      this.push(queue.length > 0 ? queue.shift()! : null);
    } else {
      this.push((body as () => Buffer | null)());
    }
  };
  const res = new ServerResponse(req);
  return { ctx: new Koa().createContext(req, res), reads: () => reads };
}
