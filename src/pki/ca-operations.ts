import type { IssuerRegistry } from '../domain/issuer-registry.js';
import {
  createIssuer, importIssuerCertificate, issuerRegistry, issuerStatus, pendingIssuerRequests, readIssuers, refreshTrustBundle, requestIssuer,
  rootAuthority, type CaParameters, type IssuerRecord,
} from './ca-home.js';
import { withCaLock } from './ca-lock.js';
import type { IssuerKeyStorage } from './key-storage/issuer-key-storage.js';
import {
  activeIssuer, dueRotationStep, nextState, preparedIssuer, TransitionRefused, UnknownIssuer, type IssuerAction, type IssuerState, type RotationStep,
} from './issuer-states.js';
import { pemToDer } from './pem.js';
import { rotateTokenSigningKey, tokenSigningKeyExists } from './token-signing-key.js';

/**
 * The lifecycle steps applied to a CA home and its issuer registry (the home's state.json files, or the shared
 * store), each under the CA lock and the registry's exclusive section. Used alike by the CLI, the admin API and
 * the server's rotation timer. A step the state machine forbids throws TransitionRefused.
 */
export interface TransitionResult {
  id: string;
  from: IssuerState;
  to: IssuerState;
  /** False when the issuer was already in the target state. */
  changed: boolean;
  /** The issuer retired because this one became active. */
  retired?: string;
}

/** A change under the CA lock and the registry's exclusive section, after which bundle.pem matches the new states. */
function change<T>(dir: string, now: Date, registry: IssuerRegistry, step: () => Promise<T>): Promise<T> {
  return withCaLock(dir, () => registry.exclusive(async () => {
    const result = await step();
    await refreshTrustBundle(dir, now, registry);
    return result;
  }));
}

function find(issuers: IssuerRecord[], id: string): IssuerRecord {
  const issuer = issuers.find((candidate) => candidate.id === id);
  if (!issuer) throw new UnknownIssuer(id);
  return issuer;
}

/** Makes a successor in state `prepared`, signed by the root. Needs the root key in the CA home. */
export async function prepareIssuer(dir: string, parameters: CaParameters, now: Date): Promise<{ id: string }> {
  const registry = issuerRegistry(dir, parameters);
  return change(dir, now, registry, async () => {
    const existing = preparedIssuer(await readIssuers(dir, { withSigners: false, issuers: registry }));
    if (existing) throw new TransitionRefused(`issuer ${existing.id} is already prepared; activate it first`);
    const root = await rootAuthority(dir);
    if (!root) throw new TransitionRefused('the root key is offline: prepare with "keybroker ca request-issuer" and scripts/ca-rotate.sh');
    return { id: await createIssuer(dir, root, parameters, now, 'prepared') };
  });
}

/** The offline-root variant of prepare: a key and a CSR; reuses a request still waiting for its signature. */
export async function requestIssuerCertificate(
  dir: string, now: Date, keys?: IssuerKeyStorage, registry = issuerRegistry(dir),
): Promise<{ id: string; csrPem: string; created: boolean }> {
  return withCaLock(dir, async () => {
    const existing = preparedIssuer(await readIssuers(dir, { withSigners: false, issuers: registry }));
    if (existing) throw new TransitionRefused(`issuer ${existing.id} is already prepared; activate it first`);
    const [pending] = await pendingIssuerRequests(dir, registry);
    if (pending) return { ...pending, created: false };
    return { ...(await requestIssuer(dir, now, keys)), created: true };
  });
}

/** Stores a certificate the offline root signed for a pending request as the prepared issuer; repeating it is a no-op. */
export async function importIssuer(dir: string, certificatePem: string, now: Date, registry = issuerRegistry(dir)): Promise<{ id: string; imported: boolean }> {
  return change(dir, now, registry, async () => {
    const existing = preparedIssuer(await readIssuers(dir, { withSigners: false, issuers: registry }));
    const der = pemToDer(certificatePem, 'CERTIFICATE');
    if (existing && !(der && existing.certificate.der.equals(der))) throw new TransitionRefused(`issuer ${existing.id} is already prepared; activate it first`);
    return importIssuerCertificate(dir, certificatePem, now, registry);
  });
}

/**
 * Makes the prepared issuer (or `id`) active and retires the one active before. The successor's state is
 * recorded first, then the predecessor's (in one transaction where the registry has them), so no reader sees a
 * CA without an active issuer.
 */
export async function activateIssuer(dir: string, id: string | undefined, now: Date, registry = issuerRegistry(dir)): Promise<TransitionResult> {
  return change(dir, now, registry, async () => {
    const issuers = await readIssuers(dir, { withSigners: false, issuers: registry });
    const successor = id === undefined ? preparedIssuer(issuers) : find(issuers, id);
    if (!successor) throw new TransitionRefused('no prepared issuer to activate; run "keybroker ca prepare" first');
    return activate(dir, registry, issuers, successor, now);
  });
}

async function activate(dir: string, registry: IssuerRegistry, issuers: IssuerRecord[], successor: IssuerRecord, now: Date): Promise<TransitionResult> {
  if (nextState(successor, 'activate') === undefined) return { id: successor.id, from: successor.state, to: successor.state, changed: false };
  if (successor.certificate.notAfter <= now || successor.certificate.notBefore > now) {
    throw new TransitionRefused(`cannot activate issuer ${successor.id}: its certificate is not within its validity period`);
  }
  const predecessor = activeIssuer(issuers);
  const entry = (issuer: IssuerRecord, state: IssuerState) => ({ id: issuer.id, state, certificatePem: issuer.certificate.pem });
  await registry.record([entry(successor, 'active'), ...(predecessor ? [entry(predecessor, 'retired')] : [])], now);
  // The v0 token key rotates with the CA; the previous key stays published, so tokens in flight stay valid.
  if (await tokenSigningKeyExists(dir)) await rotateTokenSigningKey(dir);
  return { id: successor.id, from: successor.state, to: 'active', changed: true, ...(predecessor ? { retired: predecessor.id } : {}) };
}

/** Retires the active issuer (or `id`, which must be the active one) by activating its prepared successor. */
export async function retireIssuer(dir: string, id: string | undefined, now: Date, registry = issuerRegistry(dir)): Promise<TransitionResult> {
  return change(dir, now, registry, async () => {
    const issuers = await readIssuers(dir, { withSigners: false, issuers: registry });
    const target = id === undefined ? activeIssuer(issuers) : find(issuers, id);
    if (!target) throw new TransitionRefused('this CA home has no active issuer');
    if (nextState(target, 'retire') === undefined) return { id: target.id, from: target.state, to: target.state, changed: false };
    const successor = preparedIssuer(issuers);
    if (!successor) throw new TransitionRefused(`cannot retire issuer ${target.id}: exactly one issuer must stay active and none is prepared; run "keybroker ca prepare" first`);
    await activate(dir, registry, issuers, successor, now);
    return { id: target.id, from: 'active', to: 'retired', changed: true };
  });
}

/** Taint or revoke: an issuer other than the active one stops being trusted at once. */
export async function markIssuer(
  dir: string, id: string, action: Extract<IssuerAction, 'taint' | 'revoke'>, now: Date, registry = issuerRegistry(dir),
): Promise<TransitionResult> {
  return change(dir, now, registry, async () => {
    const issuer = find(await readIssuers(dir, { withSigners: false, issuers: registry }), id);
    const target = nextState(issuer, action);
    if (target === undefined) return { id, from: issuer.state, to: issuer.state, changed: false };
    await registry.record([{ id, state: target, certificatePem: issuer.certificate.pem }], now);
    return { id, from: issuer.state, to: target, changed: true };
  });
}

/**
 * One step of the rotation schedule if one is due: prepare (when the root key is here) or activate. Answers
 * what was done, or why nothing could be done.
 */
export async function runDueRotationStep(dir: string, parameters: CaParameters, now: Date): Promise<{ step?: RotationStep; id?: string; blocked?: string }> {
  const registry = issuerRegistry(dir, parameters);
  const due = dueRotationStep((await readIssuers(dir, { withSigners: false, issuers: registry })).map(issuerStatus), now);
  if (due === 'prepare') {
    if (!(await rootAuthority(dir))) return { blocked: 'a successor issuer is due but the root key is offline: run scripts/ca-rotate.sh' };
    return { step: 'prepare', ...(await prepareIssuer(dir, parameters, now)) };
  }
  if (due === 'activate') return { step: 'activate', id: (await activateIssuer(dir, undefined, now, registry)).id };
  return {};
}
