import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type Koa from 'koa';
import type { Config } from '../config/config.js';
import type { CertificateAuthority } from '../pki/ca-home.js';
import { answerUnparsableRequest } from './unparsable-request.js';

/**
 * TLS options of the listener (PROTOCOL.md preamble): a client certificate is requested but not required,
 * each route decides; TLS 1.3 by default; ECDHE over X25519 or P-256. The same options serve `setSecureContext`
 * when the CA changes, so the minimum version is part of them.
 */
export function tlsOptions(ca: CertificateAuthority, minVersion: Config['server']['tlsMinVersion']) {
  return {
    minVersion,
    key: ca.server.keyPem,
    cert: ca.server.certificatePem,
    ca: ca.bundlePem,
    requestCert: true,
    rejectUnauthorized: false,
    ecdhCurve: 'X25519:P-256',
  };
}

export async function listen(app: Koa, config: Config, ca: CertificateAuthority): Promise<{ server: Server; address: AddressInfo }> {
  const server = createServer(tlsOptions(ca, config.server.tlsMinVersion), app.callback());
  server.keepAliveTimeout = 65_000;
  server.on('clientError', answerUnparsableRequest);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.server.listen.port, config.server.listen.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return { server, address: server.address() as AddressInfo };
}
