/**
 * Polls `check` until it holds (a throw counts as "not yet"), at most `attempts` times `intervalMs` apart. For
 * conditions that become true asynchronously (a notification, a reconnect); the bound only keeps a failure from hanging.
 */
export async function eventually(check: () => Promise<boolean>, { attempts = 150, intervalMs = 100 } = {}): Promise<void> {
  for (let attempt = 0; attempt < attempts; attempt += 1) {
    if (await check().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  throw new Error(`condition not reached after ${attempts} attempts`);
}
