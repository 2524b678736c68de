import type { Logger } from '../domain/logger.js';
import type { IssuerRegistry } from '../domain/issuer-registry.js';
import { issuerRegistry, issuerStatuses, loadCertificateAuthority, type CaParameters, type CertificateAuthority } from './ca-home.js';
import { CaBusy, withCaLock } from './ca-lock.js';
import { activateIssuer, markIssuer, prepareIssuer, runDueRotationStep, type TransitionResult } from './ca-operations.js';
import { statusDocument, TransitionRefused } from './issuer-states.js';
import { messageOf } from '../domain/errors.js';

export interface CaLifecycleOptions {
  dir: string;
  parameters: CaParameters;
  clock: () => Date;
  log: Logger;
  /** Run the rotation schedule (prepare at 1/2, activate at 5/6 of the active issuer's life) on each check. */
  autoRotate: boolean;
  /** How often the CA home is checked: rotation schedule, reload of changes made by the CLI or scripts. */
  checkIntervalMs: number;
}

/** What a TLS listener depends on: when it changes, the listener needs a new secure context. */
function tlsMaterial(ca: CertificateAuthority): string {
  return `${ca.server.certificatePem}${ca.bundlePem}`;
}

function describe(ca: CertificateAuthority): string {
  return ca.issuers.map((issuer) => `${issuer.id}:${issuer.state}`).join(',') + tlsMaterial(ca);
}

/**
 * The CA as the running server sees it: the loaded CA home, re-read on a timer (changes made by `keybroker ca`
 * or scripts arrive without a restart), the rotation schedule, and the admin API's transitions. Steps run one
 * at a time; listeners hear of a new server certificate or trust bundle so the TLS context can be swapped.
 */
export class CaLifecycle {
  private ca: CertificateAuthority;
  private readonly tlsListeners: ((ca: CertificateAuthority) => void)[] = [];
  private readonly changeListeners: ((previous: CertificateAuthority, loaded: CertificateAuthority) => Promise<void>)[] = [];
  private queue: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;

  constructor(initial: CertificateAuthority, private readonly options: CaLifecycleOptions) {
    this.ca = initial;
  }

  current(): CertificateAuthority {
    return this.ca;
  }

  /** Called with the new CA whenever the server certificate or the trust bundle changed. */
  onTlsChange(listener: (ca: CertificateAuthority) => void): void {
    this.tlsListeners.push(listener);
  }

  /** Called after a reload that changed anything: issuer states, the server certificate or the bundle. */
  onChange(listener: (previous: CertificateAuthority, loaded: CertificateAuthority) => Promise<void>): void {
    this.changeListeners.push(listener);
  }

  status(): ReturnType<typeof statusDocument> {
    return statusDocument(issuerStatuses(this.ca));
  }

  private serialized<T>(step: () => Promise<T>): Promise<T> {
    const run = this.queue.then(step, step);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async load(): Promise<CertificateAuthority> {
    const { dir, parameters, clock } = this.options;
    const loaded = await withCaLock(dir, () => loadCertificateAuthority(dir, parameters, clock()));
    const previous = this.ca;
    // The TLS context first: a leaf of a newly active issuer must never meet a listener that does not trust it yet.
    if (tlsMaterial(previous) !== tlsMaterial(loaded)) for (const listener of this.tlsListeners) listener(loaded);
    this.ca = loaded;
    if (describe(previous) !== describe(loaded)) {
      this.options.log.info('CA reloaded', { active_issuer: loaded.active.id, issuers: loaded.issuers.length });
      for (const listener of this.changeListeners) {
        await listener(previous, loaded).catch((error: unknown) => {
          this.options.log.error('CA change listener failed', { error: messageOf(error) });
        });
      }
    }
    return loaded;
  }

  /** Re-reads the CA home now (SIGHUP, or after a transition). */
  reload(): Promise<CertificateAuthority> {
    return this.serialized(() => this.load());
  }

  /** One check: the due rotation step, if any and enabled, then a reload. Failures are logged, never thrown. */
  check(): Promise<void> {
    return this.serialized(async () => {
      const { dir, parameters, clock, log } = this.options;
      try {
        if (this.options.autoRotate) {
          const result = await runDueRotationStep(dir, parameters, clock());
          if (result.step) log.info(`CA rotation: ${result.step === 'prepare' ? 'prepared' : 'activated'} issuer`, { issuer: result.id });
          if (result.blocked) log.warn(result.blocked, { active_issuer: this.ca.active.id });
        }
        await this.load();
      } catch (error) {
        const expected = error instanceof CaBusy || error instanceof TransitionRefused;
        log[expected ? 'info' : 'error']('CA check did not complete; keeping the CA in force', { error: messageOf(error) });
      }
    });
  }

  start(): void {
    if (this.timer) return;
    const tick = (): void => {
      this.timer = setTimeout(() => void this.check().finally(() => { if (this.timer) tick(); }), this.options.checkIntervalMs);
      this.timer.unref();
    };
    tick();
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private get registry(): IssuerRegistry {
    return issuerRegistry(this.options.dir, this.options.parameters);
  }

  private transition<T>(step: (now: Date) => Promise<T>): Promise<T> {
    return this.serialized(async () => {
      const result = await step(this.options.clock());
      await this.load();
      return result;
    });
  }

  prepare(): Promise<{ id: string }> {
    return this.transition((now) => prepareIssuer(this.options.dir, this.options.parameters, now));
  }

  activate(): Promise<TransitionResult> {
    return this.transition((now) => activateIssuer(this.options.dir, undefined, now, this.registry));
  }

  mark(id: string, action: 'taint' | 'revoke'): Promise<TransitionResult> {
    return this.transition((now) => markIssuer(this.options.dir, id, action, now, this.registry));
  }
}
