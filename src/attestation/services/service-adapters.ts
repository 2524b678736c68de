import type { ServiceType } from '../../config/verifier-tables.js';
import { azureMaaAdapter } from './azure-maa.js';
import { cocoAsAdapter } from './coco-as.js';
import { intelTaAdapter } from './intel-ta.js';
import type { ServiceAdapter } from './service-adapter.js';

/** The adapter of each service type; a type missing here is refused at start. */
export const SERVICE_ADAPTERS: Partial<Record<ServiceType, ServiceAdapter>> = {
  'coco-as': cocoAsAdapter,
  'intel-ta': intelTaAdapter,
  'azure-maa': azureMaaAdapter,
};
