import { KbsError } from '../../domain/errors.js';
import { ISSUER_ID } from '../../pki/ca-home.js';
import { CaBusy } from '../../pki/ca-lock.js';
import { TransitionRefused, UnknownIssuer } from '../../pki/issuer-states.js';
import type { BrokerContext } from '../broker-context.js';
import { requireObject, requireString } from '../json-fields.js';

/** PROTOCOL.md 1.8, CA lifecycle: the state machine's refusals become 409 `not-allowed`. */
async function transition<T extends object>(context: BrokerContext, admin: string, what: string, step: () => Promise<T>): Promise<T & ReturnType<BrokerContext['caLifecycle']['status']>> {
  try {
    const result = await step();
    context.log.info(`CA ${what}`, { admin, ...result });
    return { ...result, ...context.caLifecycle.status() };
  } catch (error) {
    if (error instanceof UnknownIssuer) throw new KbsError('not-found', error.message);
    if (error instanceof TransitionRefused) throw new KbsError('not-allowed', error.message);
    if (error instanceof CaBusy) throw new KbsError('unavailable', 'the CA is being changed by another process; try again');
    throw error;
  }
}

export function caStatus(context: BrokerContext): ReturnType<BrokerContext['caLifecycle']['status']> {
  return context.caLifecycle.status();
}

export function prepareCaIssuer(context: BrokerContext, admin: string) {
  return transition(context, admin, 'issuer prepared', () => context.caLifecycle.prepare());
}

export function activateCaIssuer(context: BrokerContext, admin: string) {
  return transition(context, admin, 'issuer activated', () => context.caLifecycle.activate());
}

/** `POST /kbs/v1/admin/ca/taint|revoke` with `{"id": "<issuer id>"}`. */
export function markCaIssuer(context: BrokerContext, admin: string, action: 'taint' | 'revoke', body: unknown) {
  const id = requireString(requireObject(body), 'id', 64);
  if (!ISSUER_ID.test(id)) throw new KbsError('bad-request', '"id" is not an issuer id');
  return transition(context, admin, action === 'taint' ? 'issuer tainted' : 'issuer revoked', () => context.caLifecycle.mark(id, action));
}
