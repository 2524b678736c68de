import { expect } from 'chai';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { renewalSettings } from '../../../src/client/renewal-schedule.js';
import { RenewalError, type Renewal, type RenewalFailure } from '../../../src/client/renewing-session.js';
import { generateV0Key } from '../../../src/client/v0/trustee-client.js';
import { V0Session, type V0Credential } from '../../../src/client/v0/v0-session.js';
import { closedPort } from '../../helpers/closed-port.js';
import { rejection } from '../../helpers/rejection.js';
import { makeRoot } from '../pki/helpers.js';

function credential(jti: string, lifetimeMs: number): V0Credential {
  return { token: `token-${jti}`, privateKey: generateV0Key(), serial: jti, expiresAt: new Date(Date.now() + lifetimeMs), spiffeId: 'spiffe://keybroker.local/tee/sample/0000000000000000', claims: {} };
}

describe('client: v0 session renewal', () => {
  const CA = makeRoot().issued.pem;

  it('backs off like v1, names the token in errors, refuses an expired token without a request, and swaps in the renewed token', async () => {
    let outcome: () => Promise<V0Credential> = () => Promise.reject(new Error('broker down'));
    // First renewal after 1/1000 of the 1-second lifetime; back off from 10 ms to 40 ms.
    const session = new V0Session(`https://127.0.0.1:${await closedPort()}`, CA, credential('one', 1000), () => outcome(),
      renewalSettings({ at: 0.001, jitter: 0, minBackoffMs: 10, maxBackoffMs: 40 }));
    try {
      const failures: RenewalFailure[] = [];
      session.on('renewal-error', (failure: RenewalFailure) => failures.push(failure));
      await once(session, 'renewal-error');
      const failed = await rejection(session.getResource('a/b/c'));
      expect(failed).to.be.instanceOf(RenewalError);
      expect(failed.message).to.match(/ECONNREFUSED.*\(token renewal fails: broker down\)/);
      await sleep(Math.max(0, session.expiresAt.getTime() - Date.now() + 20));
      expect(failures.slice(0, 3).map((failure) => [failure.failures, failure.retryInMs])).to.deep.equal([[1, 10], [2, 20], [3, 40]]);
      const expired = await rejection(session.getResource('a/b/c'));
      expect(expired).to.be.instanceOf(RenewalError);
      expect(expired.message).to.equal('token expired and renewal fails: broker down');
      expect((expired as RenewalError).requestError, 'no request was sent').to.equal(undefined);

      const second = credential('two', 60_000);
      outcome = async () => second;
      const [renewal] = await once(session, 'renewed') as [Renewal];
      expect(renewal).to.deep.equal({ serial: 'two', expiresAt: second.expiresAt });
      expect(session.token).to.equal('token-two');
      expect(session.serial).to.equal('two');
    } finally {
      await session.close();
    }
  });
});
