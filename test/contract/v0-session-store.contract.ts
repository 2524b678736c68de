import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import type { OpenReplicas, OpenStores } from './store-contract.js';

const inMinutes = (minutes: number) => new Date(Date.now() + minutes * 60_000);
const sessionId = (): string => randomBytes(16).toString('hex');

/** V0SessionStore: the first token of a session wins, across handles and restarts, until the session expires. */
export function v0SessionStoreContract(open: OpenStores, replicas: OpenReplicas): void {
  describe('V0SessionStore', () => {
    it('answers the token of an attested session until it expires, and none for others', async () => {
      const { v0Sessions } = await open();
      const id = sessionId();
      expect(await v0Sessions.token(id, new Date())).to.equal(undefined);
      expect(await v0Sessions.attest(id, 'token-1', inMinutes(5))).to.equal('token-1');
      expect(await v0Sessions.token(id, new Date())).to.equal('token-1');
      expect(await v0Sessions.token(id, inMinutes(6))).to.equal(undefined);
      expect(await v0Sessions.token(sessionId(), new Date())).to.equal(undefined);
    });

    it('keeps the first token when many attest one session at once, across handles', async () => {
      const handles = await replicas(2);
      const id = sessionId();
      const answers = await Promise.all(Array.from({ length: 10 }, (_, index) => handles[index % 2]!.v0Sessions.attest(id, `token-${index}`, inMinutes(5))));
      expect(new Set(answers).size).to.equal(1);
      expect(await handles[1]!.v0Sessions.token(id, new Date())).to.equal(answers[0]);
    });

    it('remembers a token after the store is reopened', async () => {
      const first = await open();
      const id = sessionId();
      await first.v0Sessions.attest(id, 'durable', inMinutes(5));
      await first.close();
      expect(await (await open()).v0Sessions.token(id, new Date())).to.equal('durable');
    });
  });
}
