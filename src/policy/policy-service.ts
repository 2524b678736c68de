import { performance } from 'node:perf_hooks';
import { KbsError, messageOf } from '../domain/errors.js';
import type { Logger } from '../domain/logger.js';
import type { BrokerMetrics } from '../domain/metrics.js';
import { POLICY_TOPIC, type ChangeFeed } from '../store/change-feed.js';
import type { PolicyStore, PolicyVersion } from '../store/ports.js';
import { compileAttestationPolicy } from './attestation-policy.js';
import type { BrokerFacts } from './cel-expression.js';
import type { AttestationPolicy, PolicyKind, ResourcePolicy } from './policy.js';
import { compileResourcePolicy } from './resource-policy.js';

export const POLICY_KINDS: readonly PolicyKind[] = ['attestation', 'resource'];

/** A policy as the admin API shows it (PROTOCOL.md 1.8): the document plus version, updated_at, updated_by. */
export type PolicyView = Record<string, unknown> & { version: number; updated_at: string; updated_by: string };

/** Who "set" the shipped defaults (version 0). */
export const DEFAULT_AUTHOR = 'default';

interface Compiled {
  document: object;
  evaluator: AttestationPolicy | ResourcePolicy;
}

interface InForce {
  compiled: Compiled;
  stored: PolicyVersion;
}

/**
 * The policies in force and their history. Every request reads the compiled policy in memory; `set` compiles
 * first (nothing changes when that fails), stores a new version, then swaps it in, so every request that starts
 * after `set` resolved sees the new policy, without a restart.
 */
export class PolicyService {
  readonly attestation: AttestationPolicy;
  readonly resource: ResourcePolicy;
  private readonly inForce: Record<PolicyKind, InForce>;
  private setting: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly store: PolicyStore,
    private readonly defaults: Record<PolicyKind, PolicyVersion>,
    private readonly facts: BrokerFacts,
    inForce: Record<PolicyKind, InForce>,
    metrics: BrokerMetrics,
  ) {
    this.inForce = inForce;
    // Each decision is a fresh object: stamping the version on it costs no allocation.
    this.attestation = {
      evaluate: (input) => {
        const started = performance.now();
        const { compiled, stored } = this.inForce.attestation;
        const decision = (compiled.evaluator as AttestationPolicy).evaluate(input);
        decision.policyVersion = stored.version;
        metrics.policyEvaluation('attestation', (performance.now() - started) / 1000);
        return decision;
      },
    };
    this.resource = {
      evaluate: (request) => {
        const started = performance.now();
        const { compiled, stored } = this.inForce.resource;
        const decision = (compiled.evaluator as ResourcePolicy).evaluate(request);
        decision.policyVersion = stored.version;
        metrics.policyEvaluation('resource', (performance.now() - started) / 1000);
        return decision;
      },
    };
  }

  /** Loads the newest stored version of each policy, or the default (version 0) when none was stored. */
  static async open(store: PolicyStore, defaultDocuments: Record<PolicyKind, unknown>, facts: BrokerFacts, metrics: BrokerMetrics, now: Date): Promise<PolicyService> {
    const defaults = {} as Record<PolicyKind, PolicyVersion>;
    const inForce = {} as Record<PolicyKind, InForce>;
    for (const kind of POLICY_KINDS) {
      const compiledDefault = compile(kind, defaultDocuments[kind], facts);
      defaults[kind] = { version: 0, text: JSON.stringify(compiledDefault.document), author: DEFAULT_AUTHOR, created_at: now.toISOString() };
      const stored = await store.latest(kind);
      inForce[kind] = stored ? { stored, compiled: compileStored(kind, stored, facts) } : { stored: defaults[kind], compiled: compiledDefault };
    }
    return new PolicyService(store, defaults, facts, inForce, metrics);
  }

  /**
   * Puts the newest stored version in force when another process stored it (replicas sharing a store call this
   * when notified of a change). A stored version that does not compile is reported, not used.
   */
  refresh(kind: PolicyKind): Promise<void> {
    const result = this.setting.then(async () => {
      const stored = await this.store.latest(kind);
      if (stored && stored.version > this.inForce[kind].stored.version) this.inForce[kind] = { stored, compiled: compileStored(kind, stored, this.facts) };
    });
    this.setting = result.catch(() => undefined);
    return result;
  }

  /**
   * Follows the policy topic of a shared store's change feed: a kind announced as changed is refreshed at once, and
   * every kind after the feed reconnected (notifications may have been lost). A refresh that fails (the database is
   * away) is retried every `retryMs` until it succeeds. Returns the function that stops following.
   */
  follow(feed: ChangeFeed, log: Logger, retryMs = 1_000): () => void {
    const retries = new Map<PolicyKind, NodeJS.Timeout>();
    let stopped = false;
    const refreshNow = (kind: PolicyKind): void => {
      clearTimeout(retries.get(kind));
      retries.delete(kind);
      this.refresh(kind).catch((error: unknown) => {
        log.error('policy refresh failed; keeping the policy in force and retrying', { kind, error: messageOf(error) });
        if (stopped || retries.has(kind)) return;
        const timer = setTimeout(() => refreshNow(kind), retryMs);
        timer.unref();
        retries.set(kind, timer);
      });
    };
    const unsubscribe = feed.subscribe(POLICY_TOPIC, {
      changed: (kind) => {
        const known = POLICY_KINDS.find((candidate) => candidate === kind);
        if (known) refreshNow(known);
      },
      resync: () => POLICY_KINDS.forEach(refreshNow),
    });
    return () => {
      stopped = true;
      unsubscribe();
      for (const timer of retries.values()) clearTimeout(timer);
    };
  }

  /** The version in force, or version `version` (404 `not-found` when there is none). */
  async get(kind: PolicyKind, version?: number): Promise<PolicyView> {
    if (version === undefined) return view(this.inForce[kind].stored);
    const stored = version === 0 ? this.defaults[kind] : await this.store.get(kind, version);
    if (!stored) throw new KbsError('not-found', `the ${kind} policy has no version ${version}`);
    return view(stored);
  }

  /** Compiles, stores and activates a new version; returns the policy before and after. */
  set(kind: PolicyKind, body: unknown, author: string, at: Date): Promise<{ before: PolicyView; after: PolicyView }> {
    const compiled = compile(kind, body, this.facts);
    // One set at a time, so the version in force is always the newest stored one.
    const result = this.setting.then(async () => {
      const before = this.inForce[kind].stored;
      const stored = await this.store.append(kind, JSON.stringify(compiled.document), author, at);
      this.inForce[kind] = { stored, compiled };
      return { before: view(before), after: view(stored) };
    });
    this.setting = result.catch(() => undefined);
    return result;
  }
}

function compile(kind: PolicyKind, body: unknown, facts: BrokerFacts): Compiled {
  const { document, policy } = kind === 'attestation' ? compileAttestationPolicy(body, facts) : compileResourcePolicy(body, facts);
  return { document, evaluator: policy };
}

function compileStored(kind: PolicyKind, stored: PolicyVersion, facts: BrokerFacts): Compiled {
  try {
    return compile(kind, JSON.parse(stored.text), facts);
  } catch (error) {
    const detail = error instanceof KbsError ? error.detail : (error as Error).message;
    throw new Error(`stored ${kind} policy version ${stored.version} does not compile: ${detail}`);
  }
}

function view(stored: PolicyVersion): PolicyView {
  return { ...(JSON.parse(stored.text) as Record<string, unknown>), version: stored.version, updated_at: stored.created_at, updated_by: stored.author };
}
