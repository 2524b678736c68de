/**
 * The issuing-CA state machine and rotation schedule (DESIGN.md, "The CA"), as pure functions of the issuers'
 * states and the time. No I/O: ca-operations.ts applies the answers to a CA home.
 *
 *   prepared ──activate──▶ active ──(successor activated)──▶ retired ──taint──▶ tainted ──revoke──▶ revoked
 *
 * A prepared or retired issuer may also be tainted or revoked directly; the active one never is, since
 * exactly one issuer must stay active: activate a successor first.
 */
import type { IssuerState } from '../domain/issuer-registry.js';

export { ISSUER_STATES, type IssuerState } from '../domain/issuer-registry.js';

/** What the lifecycle needs to know of an issuer. */
export interface IssuerStatus {
  id: string;
  state: IssuerState;
  notBefore: Date;
  notAfter: Date;
}

export type IssuerAction = 'activate' | 'retire' | 'taint' | 'revoke';

/** A transition the state machine forbids; the API answers 409 `not-allowed`, the CLI exits with code 3. */
export class TransitionRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TransitionRefused';
  }
}

/** An issuer id that names no issuer of this CA home (API 404 `not-found`). */
export class UnknownIssuer extends TransitionRefused {
  constructor(id: string) {
    super(`no issuer "${id.slice(0, 80)}" in this CA home`);
    this.name = 'UnknownIssuer';
  }
}

const ALLOWED_FROM: Record<IssuerAction, readonly IssuerState[]> = {
  activate: ['prepared'],
  retire: ['active'],
  taint: ['prepared', 'retired'],
  revoke: ['prepared', 'retired', 'tainted'],
};

const TARGET: Record<IssuerAction, IssuerState> = { activate: 'active', retire: 'retired', taint: 'tainted', revoke: 'revoked' };

const WHY_NOT: Partial<Record<`${IssuerAction}:${IssuerState}`, string>> = {
  'taint:active': 'it is the active issuer; activate a successor first ("keybroker ca prepare", then "keybroker ca activate")',
  'revoke:active': 'it is the active issuer; activate a successor first ("keybroker ca prepare", then "keybroker ca activate")',
  'activate:retired': 'a retired issuer never becomes active again; prepare a new one',
  'activate:tainted': 'a tainted issuer is no longer trusted; prepare a new one',
  'activate:revoked': 'a revoked issuer is no longer trusted; prepare a new one',
  'retire:prepared': 'it was never active; taint or revoke it instead',
};

/**
 * The state `issuer` moves to under `action`, or undefined when it is already there (repeating a step is a
 * no-op, so scripts can retry). Throws TransitionRefused for a step the state machine forbids.
 */
export function nextState(issuer: { id: string; state: IssuerState }, action: IssuerAction): IssuerState | undefined {
  const target = TARGET[action];
  if (issuer.state === target) return undefined;
  if (!ALLOWED_FROM[action].includes(issuer.state)) {
    const reason = WHY_NOT[`${action}:${issuer.state}`] ?? `the state machine allows "${action}" only from ${ALLOWED_FROM[action].join(' or ')}`;
    throw new TransitionRefused(`cannot ${action} issuer ${issuer.id} (${issuer.state}): ${reason}`);
  }
  return target;
}

/** The one active issuer; the CA home is broken without exactly one. */
export function activeIssuer<T extends { state: IssuerState }>(issuers: readonly T[]): T | undefined {
  const active = issuers.filter((issuer) => issuer.state === 'active');
  return active.length === 1 ? active[0] : undefined;
}

/** The prepared successor, if any (ca-operations keeps at most one). */
export function preparedIssuer<T extends { state: IssuerState }>(issuers: readonly T[]): T | undefined {
  return issuers.find((issuer) => issuer.state === 'prepared');
}

/** The instant at which `fraction` of the issuer's life (notBefore to notAfter) is gone. */
export function lifePoint(issuer: { notBefore: Date; notAfter: Date }, fraction: number): Date {
  const start = issuer.notBefore.getTime();
  return new Date(start + (issuer.notAfter.getTime() - start) * fraction);
}

export const PREPARE_AT = 1 / 2;
export const ACTIVATE_AT = 5 / 6;

export type RotationStep = 'prepare' | 'activate';

/**
 * The schedule: prepare a successor once half of the active issuer's life is gone, activate it once five sixths
 * are gone. Answers the next step due at `now`, or undefined when nothing is due.
 */
export function dueRotationStep(issuers: readonly IssuerStatus[], now: Date): RotationStep | undefined {
  const active = activeIssuer(issuers);
  if (!active) return undefined;
  const successor = preparedIssuer(issuers);
  if (!successor) return now >= lifePoint(active, PREPARE_AT) ? 'prepare' : undefined;
  return now >= lifePoint(active, ACTIVATE_AT) && successor.notBefore <= now ? 'activate' : undefined;
}

/** Issuers a client may need to trust (DESIGN.md): prepared, active, and retired ones not yet expired. */
export function isInTrustBundle(issuer: IssuerStatus, now: Date): boolean {
  return issuer.state === 'prepared' || issuer.state === 'active' || (issuer.state === 'retired' && issuer.notAfter > now);
}

/** Leaves of a tainted or revoked issuer are rejected; those of a retired one stay valid until they expire. */
export function acceptsLeaves(state: IssuerState): boolean {
  return state === 'active' || state === 'retired';
}

/** The status document of `GET /kbs/v1/admin/ca` and `keybroker ca status --json`, oldest issuer first. */
export function statusDocument(issuers: readonly IssuerStatus[]): { issuers: { id: string; state: IssuerState; not_before: string; not_after: string }[] } {
  const byAge = [...issuers].sort((a, b) => a.notBefore.getTime() - b.notBefore.getTime() || a.id.localeCompare(b.id));
  return {
    issuers: byAge.map((issuer) => ({ id: issuer.id, state: issuer.state, not_before: issuer.notBefore.toISOString(), not_after: issuer.notAfter.toISOString() })),
  };
}
