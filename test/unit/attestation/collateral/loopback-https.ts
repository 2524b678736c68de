/** A stand-in HTTPS service on 127.0.0.1 (for AMD KDS or Intel PCS formats), with a certificate made by the real openssl. */
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeTempDir, openssl, removeDir } from '../../pki/helpers.js';

export interface StandInReply {
  status?: number;
  headers?: Record<string, string>;
  body?: Buffer | string;
}

export interface LoopbackHttps {
  /** `https://127.0.0.1:PORT` */
  url: string;
  /** PEM of the server certificate, to trust it. */
  certificatePem: string;
  /** Request paths (with query) in order. */
  requests: string[];
  close(): Promise<void>;
}

/** Starts the service; `route` answers each request from its path and query. */
export async function startLoopbackHttps(route: (pathAndQuery: string) => StandInReply): Promise<LoopbackHttps> {
  const dir = await makeTempDir('loopback-https');
  try {
    const result = await openssl([
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
      '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
    ]);
    if (result.code !== 0) throw new Error(`openssl req failed: ${result.stderr}`);
    const [key, cert] = await Promise.all([readFile(join(dir, 'key.pem')), readFile(join(dir, 'cert.pem'), 'utf8')]);
    const requests: string[] = [];
    const server: Server = createServer({ key, cert }, (req, res) => {
      requests.push(req.url ?? '');
      const reply = route(req.url ?? '');
      res.writeHead(reply.status ?? 200, reply.headers ?? {});
      res.end(reply.body ?? '');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    return {
      url: `https://127.0.0.1:${port}`,
      certificatePem: cert,
      requests,
      close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
    };
  } finally {
    await removeDir(dir);
  }
}
