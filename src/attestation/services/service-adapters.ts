import type { ServiceType } from '../../config/verifier-tables.js';
import { azureMaaAdapter } from './azure-maa.js';
import { intelTaAdapter } from './intel-ta.js';
import type { ServiceAdapter } from './service-adapter.js';

/** The adapter of each service type; a type missing here is refused at start. */
export const SERVICE_ADAPTERS: Partial<Record<ServiceType, ServiceAdapter>> = {
  'intel-ta': intelTaAdapter,
  'azure-maa': azureMaaAdapter,
};
