import { expect } from 'chai';
import { backoffDelayMs, renewalDelayMs, renewalSettings } from '../../../src/client/renewal-schedule.js';

describe('client: renewal schedule', () => {
  const defaults = renewalSettings();

  it('renews at two thirds of the lifetime counted from receipt, earlier by up to the jitter', () => {
    const received = 1_000_000;
    const notAfter = received + 600_000;
    expect(renewalDelayMs(received, notAfter, defaults, 0)).to.equal(400_000);
    expect(renewalDelayMs(received, notAfter, defaults, 0.999999)).to.equal(Math.floor(600_000 * (2 / 3 - 0.05 * 0.999999)));
    const spread = new Set([0, 0.25, 0.5, 0.75].map((random) => renewalDelayMs(received, notAfter, defaults, random)));
    expect(spread.size, 'jitter spreads the renewal times').to.equal(4);
  });

  it('renews at once when the certificate is already past its end', () => {
    expect(renewalDelayMs(10_000, 5_000, defaults, 0.5)).to.equal(0);
  });

  it('backs off exponentially from minBackoffMs, capped at maxBackoffMs', () => {
    const settings = renewalSettings({ minBackoffMs: 100, maxBackoffMs: 1000 });
    expect([1, 2, 3, 4, 5, 6, 20].map((failures) => backoffDelayMs(failures, settings))).to.deep.equal([100, 200, 400, 800, 1000, 1000, 1000]);
    expect(backoffDelayMs(1, defaults)).to.equal(1000);
    expect(backoffDelayMs(30, defaults)).to.equal(60_000);
  });

  it('refuses settings that make no schedule', () => {
    expect(() => renewalSettings({ at: 1 })).to.throw(/renew\.at/);
    expect(() => renewalSettings({ at: 0.5, jitter: 0.5 })).to.throw(/renew\.jitter/);
    expect(() => renewalSettings({ minBackoffMs: 0 })).to.throw(/minBackoffMs/);
    expect(() => renewalSettings({ minBackoffMs: 2000, maxBackoffMs: 1000 })).to.throw(/maxBackoffMs/);
  });
});
