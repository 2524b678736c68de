/**
 * A broker over real TLS on 127.0.0.1 whose verifiers include external attestation services (stand-ins), built
 * from `[[verifier]]` settings as the composition root builds them: TLS trust and API key read from files.
 */
import { randomBytes } from 'node:crypto';
import { chmod, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { VerifierRegistry } from '../../../../src/attestation/registry.js';
import { SERVICE_ADAPTERS } from '../../../../src/attestation/services/service-adapters.js';
import { createServiceVerifier, type ClosableServiceVerifier } from '../../../../src/attestation/services/service-verifier.js';
import { sampleVerifier } from '../../../../src/attestation/verifiers/sample.js';
import type { ServiceType, ServiceVerifierConfig } from '../../../../src/config/verifier-tables.js';
import { loadTokenSigningKeys } from '../../../../src/pki/token-signing-key.js';
import { SealedBox } from '../../../../src/protocol/sealed-box.js';
import { createApp } from '../../../../src/server/app.js';
import { tlsOptions } from '../../../../src/server/listen.js';
import type { Target } from '../../../e2e/helpers/https-client.js';
import type { StandInService } from '../../../helpers/token-service-standin.js';
import { makeBroker, type Broker } from '../../protocol/broker-fixture.js';

export interface ServiceTable {
  name: string;
  type: ServiceType;
  tees: string[];
  service: StandInService;
  apiKey?: string;
  timeoutMs?: number;
  /** Passport only: no `url`, keys from `jwks`. */
  passportOnly?: boolean;
  /** PEM certificates written to files for `trusted_certs` (coco-as `x5c` anchors). */
  trustedCertsPem?: string[];
  /** `jwks` instead of the service's own (e.g. a `file://` URL). */
  jwks?: string;
}

export interface ServiceBroker {
  broker: Broker;
  target: Target;
  close(): Promise<void>;
}

async function configOf(table: ServiceTable, dir: string): Promise<ServiceVerifierConfig> {
  const tlsCaFile = join(dir, `${table.name}-tls.pem`);
  await writeFile(tlsCaFile, table.service.tlsCertificatePem);
  let apiKeyFile: string | undefined;
  if (table.apiKey !== undefined) {
    apiKeyFile = join(dir, `${table.name}-api-key`);
    await writeFile(apiKeyFile, `${table.apiKey}\n`, { mode: 0o600 });
    await chmod(apiKeyFile, 0o600);
  }
  return {
    name: table.name,
    type: table.type,
    tees: table.tees,
    ...(table.passportOnly ? { jwks: `${table.service.url}/certs` } : { url: table.service.url }),
    ...(table.jwks !== undefined ? { jwks: table.jwks } : {}),
    trustedCerts: await Promise.all((table.trustedCertsPem ?? []).map(async (pem, index) => {
      const path = join(dir, `${table.name}-trusted-${index}.pem`);
      await writeFile(path, pem);
      return path;
    })),
    ...(apiKeyFile !== undefined ? { apiKeyFile } : {}),
    timeoutMs: table.timeoutMs ?? 5000,
    skewSeconds: 60,
    tlsCaFile,
    policyIds: [],
  };
}

export async function startServiceBroker(tables: ServiceTable[]): Promise<ServiceBroker> {
  const registry = new VerifierRegistry().register(sampleVerifier());
  const broker = await makeBroker({ registry });
  const services: ClosableServiceVerifier[] = [];
  for (const table of tables) {
    const verifier = await createServiceVerifier(await configOf(table, broker.dir), SERVICE_ADAPTERS[table.type]!, () => new Date());
    services.push(verifier);
    registry.register(verifier);
  }
  const keys = await loadTokenSigningKeys(join(broker.dir, 'ca'));
  broker.context.v0 = { sessionTtlSeconds: 300, allowRsa1_5: false, sessionBox: new SealedBox(randomBytes(32), 'test-v0-session'), tokenKeys: () => keys };
  const server: Server = createServer(tlsOptions(broker.ca, 'TLSv1.3'), createApp(broker.context, { maxBodyBytes: 1024 * 1024 }).callback());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    broker,
    target: { port: (server.address() as AddressInfo).port, bundlePem: broker.ca.bundlePem },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await Promise.all(services.map((service) => service.close()));
      await broker.close();
    },
  };
}
