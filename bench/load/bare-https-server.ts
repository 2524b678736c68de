/**
 * The baseline server: a bare node:https server with the broker's TLS settings and no application code. POST
 * answers a tiny JSON body; GET answers the given bytes to a client certificate that chains to the bundle.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';

interface BareServerJob {
  cert: string;
  key: string;
  /** CA bundle for client certificates. */
  ca: string;
  /** File whose bytes every GET answers. */
  bodyFile: string;
}

const job = JSON.parse(process.argv[2] ?? '{}') as BareServerJob;
const payload = readFileSync(job.bodyFile);
const answer = Buffer.from('{"ok":true}');

const server = createServer({
  cert: readFileSync(job.cert),
  key: readFileSync(job.key),
  ca: readFileSync(job.ca),
  requestCert: true,
  rejectUnauthorized: false,
  minVersion: 'TLSv1.3',
  ecdhCurve: 'X25519:P-256',
}, (req, res) => {
  if (req.method === 'POST') {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json', 'content-length': answer.length }).end(answer));
    return;
  }
  const socket = req.socket as import('node:tls').TLSSocket;
  if (!socket.authorized) {
    res.writeHead(401).end();
    return;
  }
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': payload.length, 'cache-control': 'no-store' }).end(payload);
});
server.keepAliveTimeout = 30_000;
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`listening ${typeof address === 'object' && address ? address.port : 0}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
