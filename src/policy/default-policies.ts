import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PolicyKind } from './policy.js';

/** `policies/` at the root of the checkout (this module runs from dist/src/policy/). */
export const DEFAULT_POLICY_DIR = fileURLToPath(new URL('../../../policies/', import.meta.url));

/**
 * The default policies as shipped, readable by operators: `attestation.cel` holds the `allow` expression,
 * `resource.json` the whole resource policy document. They are version 0 of each policy.
 */
export async function loadDefaultPolicies(dir = DEFAULT_POLICY_DIR): Promise<Record<PolicyKind, unknown>> {
  const allow = (await readFile(join(dir, 'attestation.cel'), 'utf8')).trim();
  const resourceText = await readFile(join(dir, 'resource.json'), 'utf8');
  let resource: unknown;
  try {
    resource = JSON.parse(resourceText);
  } catch (error) {
    throw new Error(`default resource policy ${join(dir, 'resource.json')} is not JSON: ${(error as Error).message}`);
  }
  return { attestation: { allow }, resource };
}
