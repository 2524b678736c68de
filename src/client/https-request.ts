import { request as httpsRequest, type Agent } from 'node:https';

export interface TlsIdentity {
  /** PEM trust anchors for the broker's server certificate (the CA bundle); the system store when absent. */
  ca?: string;
  /** PEM client certificate and key for mutual TLS. */
  cert?: string;
  key?: string;
}

export interface HttpsResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** An error answer of the broker, with its problem code when it sent one. */
export class KbsClientError extends Error {
  constructor(readonly status: number, readonly code: string | undefined, readonly detail: string) {
    super(`${status}${code ? ` ${code}` : ''}: ${detail}`);
    this.name = 'KbsClientError';
  }

  static fromResponse(response: HttpsResponse): KbsClientError {
    try {
      const problem = JSON.parse(response.body.toString('utf8')) as { type?: string; detail?: string };
      // v1 problem types, or the trustee error types of v0 (PROTOCOL.md 2): the code is the last part.
      const code = problem.type?.replace(/^urn:keybroker:error:|^https:\/\/github\.com\/confidential-containers\/kbs\/errors\//, '');
      return new KbsClientError(response.status, code, problem.detail ?? 'request failed');
    } catch {
      return new KbsClientError(response.status, undefined, response.body.toString('utf8').slice(0, 200) || 'request failed');
    }
  }
}

/** How a request reaches the broker: its own connection with these TLS settings, or an agent that holds them. */
export type Transport = TlsIdentity | { agent: Agent };

export function httpsRequestBuffer(url: string, options: Transport & { method: string; body?: Buffer | string; headers?: Record<string, string> }): Promise<HttpsResponse> {
  return new Promise((resolve, reject) => {
    const body = options.body === undefined ? undefined : Buffer.from(options.body);
    const outgoing = httpsRequest(url, {
      method: options.method,
      headers: { ...(body ? { 'content-length': String(body.length) } : {}), ...options.headers },
      ...('agent' in options ? { agent: options.agent } : {
        ...(options.ca ? { ca: options.ca } : {}),
        ...(options.cert ? { cert: options.cert, key: options.key } : {}),
        agent: false,
      }),
    }, (incoming) => {
      const chunks: Buffer[] = [];
      incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
      incoming.on('end', () => resolve({ status: incoming.statusCode ?? 0, headers: incoming.headers, body: Buffer.concat(chunks) }));
      incoming.on('error', reject);
    });
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

/** Sends JSON, expects a 2xx JSON answer; anything else becomes a KbsClientError. */
export async function postJson<T>(url: string, body: unknown, tls: TlsIdentity): Promise<T> {
  const response = await httpsRequestBuffer(url, { ...tls, method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json', accept: 'application/json' } });
  if (response.status < 200 || response.status >= 300) throw KbsClientError.fromResponse(response);
  return JSON.parse(response.body.toString('utf8')) as T;
}

/** A broker endpoint: the broker URL (trailing slashes or not), the route, then a resource path (leading slashes or not). */
export function brokerUrl(url: string, route: string, resourcePath = ''): string {
  return `${url.replace(/\/+$/, '')}${route}${resourcePath.replace(/^\/+/, '')}`;
}
