import type { VerifierConfig } from '../../config/verifier-tables.js';
import type { VerifierRegistry } from '../registry.js';
import type { Verifier } from '../verifier.js';
import { SERVICE_ADAPTERS } from './service-adapters.js';
import { createServiceVerifier, type ClosableServiceVerifier } from './service-verifier.js';

/**
 * Registers the `[[verifier]]` tables in file order (the first table listing a TEE is its default), then the
 * built-in verifier as the default of the TEEs no table claimed. Answers the services, to close at shutdown.
 */
export async function registerVerifiers(registry: VerifierRegistry, tables: readonly VerifierConfig[], builtin: Verifier | undefined, clock: () => Date): Promise<ClosableServiceVerifier[]> {
  const services: ClosableServiceVerifier[] = [];
  for (const table of tables) {
    if (table.type === 'builtin') {
      const missing = table.tees.find((tee) => !builtin?.tees.includes(tee));
      if (missing !== undefined) throw new Error(`verifier "builtin": TEE "${missing}" is not enabled in [attestation]`);
      registry.register(builtin!, { defaultFor: table.tees });
      continue;
    }
    const adapter = SERVICE_ADAPTERS[table.type];
    if (!adapter) throw new Error(`verifier "${table.name}": type "${table.type}" is not available in this build`);
    const service = await createServiceVerifier(table, adapter, clock);
    services.push(service);
    registry.register(service);
  }
  if (builtin) registry.register(builtin);
  return services;
}
