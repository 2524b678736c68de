import { KbsError } from '../../domain/errors.js';
import { ISSUER_ID } from '../../pki/ca-home.js';
import { CaBusy } from '../../pki/ca-lock.js';
import { TransitionRefused, UnknownIssuer } from '../../pki/issuer-states.js';
import type { TransitionResult } from '../../pki/ca-operations.js';
import { recordAdminChange } from '../audit-trail.js';
import type { BrokerContext } from '../broker-context.js';
import { requireObject, requireString } from '../json-fields.js';

/** What a step changed, as the admin audit record names it: the issuer and its state before and after. */
type StepChange = { id: string; from: string | null; to: string } | undefined;

/**
 * PROTOCOL.md 1.8, CA lifecycle: the state machine's refusals become 409 `not-allowed`. A step that changed
 * something is an admin change in the audit log (who did it; the `ca` events record what changed).
 */
async function transition<T extends object>(
  context: BrokerContext, admin: string, action: 'prepare' | 'activate' | 'taint' | 'revoke', step: () => Promise<T>, changeOf: (result: T) => StepChange,
): Promise<T & ReturnType<BrokerContext['caLifecycle']['status']>> {
  let result: T;
  try {
    result = await step();
  } catch (error) {
    if (error instanceof UnknownIssuer) throw new KbsError('not-found', error.message);
    if (error instanceof TransitionRefused) throw new KbsError('not-allowed', error.message);
    if (error instanceof CaBusy) throw new KbsError('unavailable', 'the CA is being changed by another process; try again');
    throw error;
  }
  context.log.info(`CA ${action}`, { admin, ...result });
  const change = changeOf(result);
  if (change) {
    await recordAdminChange(context, { type: 'admin', admin, action: `ca.${action}`, target: change.id, before: change.from, after: change.to });
  }
  return { ...result, ...context.caLifecycle.status() };
}

const changeOfTransition = (result: TransitionResult): StepChange => (result.changed ? { id: result.id, from: result.from, to: result.to } : undefined);

export function caStatus(context: BrokerContext): ReturnType<BrokerContext['caLifecycle']['status']> {
  return context.caLifecycle.status();
}

export function prepareCaIssuer(context: BrokerContext, admin: string) {
  return transition(context, admin, 'prepare', () => context.caLifecycle.prepare(), ({ id }) => ({ id, from: null, to: 'prepared' }));
}

export function activateCaIssuer(context: BrokerContext, admin: string) {
  return transition(context, admin, 'activate', () => context.caLifecycle.activate(), changeOfTransition);
}

/** `POST /kbs/v1/admin/ca/taint|revoke` with `{"id": "<issuer id>"}`. */
export function markCaIssuer(context: BrokerContext, admin: string, action: 'taint' | 'revoke', body: unknown) {
  const id = requireString(requireObject(body), 'id', 64);
  if (!ISSUER_ID.test(id)) throw new KbsError('bad-request', '"id" is not an issuer id');
  return transition(context, admin, action, () => context.caLifecycle.mark(id, action), changeOfTransition);
}
