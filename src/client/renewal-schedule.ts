/** When to renew a certificate and how long to wait after a failed renewal. Pure, so tests need no clock. */
export interface RenewalOptions {
  /** Renew when this fraction of the certificate's remaining lifetime (from receipt) is gone; default 2/3. */
  at?: number;
  /** Renew up to this fraction of the lifetime earlier, at random, so replicas spread out; default 0.05. */
  jitter?: number;
  /** First wait after a failed renewal; default 1000 ms. Doubles per failure. */
  minBackoffMs?: number;
  /** Longest wait between renewal attempts; default 60000 ms. */
  maxBackoffMs?: number;
}

export type RenewalSettings = Required<RenewalOptions>;

export function renewalSettings(options: RenewalOptions = {}): RenewalSettings {
  const settings = { at: 2 / 3, jitter: 0.05, minBackoffMs: 1000, maxBackoffMs: 60_000, ...options };
  if (!(settings.at > 0 && settings.at < 1)) throw new RangeError('renew.at must be between 0 and 1');
  if (!(settings.jitter >= 0 && settings.jitter < settings.at)) throw new RangeError('renew.jitter must be at least 0 and below renew.at');
  if (!(settings.minBackoffMs > 0 && settings.maxBackoffMs >= settings.minBackoffMs)) {
    throw new RangeError('renew.minBackoffMs must be positive and at most renew.maxBackoffMs');
  }
  return settings;
}

/**
 * Milliseconds from receipt of a certificate until its renewal. The lifetime counts from receipt, not from
 * `notBefore`, which the broker back-dates by a minute for clock skew. `random` is in [0, 1).
 */
export function renewalDelayMs(receivedAt: number, notAfter: number, settings: RenewalSettings, random: number): number {
  const lifetime = Math.max(0, notAfter - receivedAt);
  return Math.floor(lifetime * (settings.at - settings.jitter * random));
}

/** Wait before renewal attempt `failures + 1` after `failures` consecutive failures (1, 2, ...): doubling, capped. */
export function backoffDelayMs(failures: number, settings: RenewalSettings): number {
  return Math.min(settings.maxBackoffMs, settings.minBackoffMs * 2 ** Math.max(0, failures - 1));
}
