import { Agent, fetch } from 'undici';
import { KbsError } from '../../domain/errors.js';

export interface ServiceResponse {
  status: number;
  headers: Headers;
  body: string;
}

/** Largest answer read from a service (a token, a JWKS, a nonce). */
const MAX_RESPONSE_BYTES = 1024 * 1024;

function isTimeout(error: unknown): boolean {
  return error instanceof DOMException && (error.name === 'TimeoutError' || error.name === 'AbortError');
}

/**
 * HTTP to one attestation service, with its timeout and TLS trust. Failures become the protocol's codes: no answer
 * within the timeout is 504 `verifier-timeout`; unreachable, a 5xx or an oversized answer is 502
 * `verifier-unavailable`. Other statuses are returned for the adapter to judge.
 */
export class ServiceHttp {
  private readonly dispatcher: Agent;

  constructor(
    readonly serviceName: string,
    private readonly timeoutMs: number,
    caPem?: string,
  ) {
    this.dispatcher = new Agent(caPem !== undefined ? { connect: { ca: caPem } } : {});
  }

  async request(url: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<ServiceResponse> {
    const signal = AbortSignal.timeout(this.timeoutMs);
    try {
      const response = await fetch(url, { ...init, dispatcher: this.dispatcher, signal, redirect: 'error' });
      const body = await readLimited(response.body, MAX_RESPONSE_BYTES);
      if (body === undefined) throw new KbsError('verifier-unavailable', `attestation service "${this.serviceName}" answered more than ${MAX_RESPONSE_BYTES} bytes`);
      if (response.status >= 500) throw new KbsError('verifier-unavailable', `attestation service "${this.serviceName}" answered HTTP ${response.status}`);
      return { status: response.status, headers: response.headers as unknown as Headers, body };
    } catch (error) {
      if (error instanceof KbsError) throw error;
      if (isTimeout(error) || signal.aborted) {
        throw new KbsError('verifier-timeout', `attestation service "${this.serviceName}" did not answer within ${this.timeoutMs} ms`);
      }
      throw new KbsError('verifier-unavailable', `attestation service "${this.serviceName}" is unreachable`, { cause: error });
    }
  }

  /** A JSON answer; a body that is not JSON is the service's fault (502). */
  static json(response: ServiceResponse, serviceName: string): unknown {
    try {
      return JSON.parse(response.body);
    } catch {
      throw new KbsError('verifier-unavailable', `attestation service "${serviceName}" answered something that is not JSON`);
    }
  }

  close(): Promise<void> {
    return this.dispatcher.close();
  }
}

/** The body as text, or undefined when it exceeds `limit` bytes (reading stops there). */
async function readLimited(stream: AsyncIterable<Uint8Array> | null, limit: number): Promise<string | undefined> {
  if (stream === null) return '';
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    size += chunk.byteLength;
    if (size > limit) return undefined;
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks).toString('utf8');
}
