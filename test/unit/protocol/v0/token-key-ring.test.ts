import { expect } from 'chai';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK } from 'jose';
import type { Claims } from '../../../../src/domain/claims.js';
import { silentLogger } from '../../../../src/domain/logger.js';
import { loadTokenSigningKeys, rotateTokenSigningKey } from '../../../../src/pki/token-signing-key.js';
import { issueV0Token, tokenIssuer, verifyV0Token } from '../../../../src/protocol/v0/token.js';
import { TOKEN_KEY_PURPOSE, TokenKeyRing } from '../../../../src/protocol/v0/token-key-ring.js';
import type { Stores } from '../../../../src/store/ports.js';
import { openPgStores } from '../../../../src/store/postgres/pg-stores.js';
import { eventually } from '../../../helpers/eventually.js';
import { useTestDatabase } from '../../../helpers/pg-test-database.js';

const TRUST_DOMAIN = 'keybroker.test';
const CLAIMS = { v: 1, tee: 'sample', verifier: 'builtin', status: 'affirming', tee_claims: {}, iat: 0 } as unknown as Claims;

/** Two replicas whose CA homes hold different token keys (a rotated home rolling out), on one real PostgreSQL. */
describe('protocol/v0 TokenKeyRing: token keys published through the shared store', function () {
  this.timeout(20_000);
  const database = useTestDatabase();
  const homes: string[] = [];
  const opened: Stores[] = [];

  async function replica(): Promise<{ stores: Stores; ring: TokenKeyRing; stop: () => void }> {
    const home = await mkdtemp(join(tmpdir(), 'keybroker-token-ring-'));
    homes.push(home);
    await rotateTokenSigningKey(home);
    const stores = await openPgStores({ url: database().url(), log: silentLogger, cacheMaxAgeMs: 1000 });
    opened.push(stores);
    const ring = await TokenKeyRing.open(await loadTokenSigningKeys(home), stores.keyDirectory, new Date());
    return { stores, ring, stop: ring.follow(stores.changes!, silentLogger) };
  }

  after(async () => {
    for (const stores of opened.splice(0)) await stores.close();
    for (const home of homes.splice(0)) await rm(home, { recursive: true, force: true });
  });

  async function tokenOf(ring: TokenKeyRing): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    return issueV0Token(ring.current(), {
      iss: tokenIssuer(TRUST_DOMAIN), sub: `spiffe://${TRUST_DOMAIN}/tee/sample/abc`, iat: now, exp: now + 300, tee: 'sample',
      'tee-pubkey': { kty: 'EC', crv: 'P-256', x: 'x', y: 'y' }, 'kbs-claims': CLAIMS,
    });
  }
  const verifies = (token: string, ring: TokenKeyRing) => verifyV0Token(token, ring.current(), TRUST_DOMAIN, new Date()).then(() => true, () => false);

  it('verifies on every replica a token signed with another replica\'s key, and publishes it in each JWKS', async () => {
    const first = await replica();
    const older = await tokenOf(first.ring);
    const second = await replica();
    expect(second.ring.current().current.kid).to.not.equal(first.ring.current().current.kid);
    // The second one read the directory when it opened; the first one hears of the second's key on the change feed.
    expect(await verifies(older, second.ring)).to.equal(true);
    await eventually(async () => verifies(await tokenOf(second.ring), first.ring));
    for (const { ring } of [first, second]) {
      expect(ring.current().jwks.keys.map((key) => key.kid)).to.include.members([first.ring.current().current.kid, second.ring.current().current.kid]);
    }
    // Signing stays with each replica's own key.
    expect(first.ring.current().current.kid).to.not.equal(second.ring.current().current.kid);
    first.stop();
    second.stop();
  });

  it('ignores a published entry that cannot be a token signing key of keybroker (a private key, another curve)', async () => {
    const { stores, ring, stop } = await replica();
    const p384 = { ...(await exportJWK(generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey)), kid: 'A'.repeat(43) };
    const withPrivate = { ...(await exportJWK(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey)), kid: 'B'.repeat(43) };
    await stores.keyDirectory!.publish([p384, withPrivate].map((jwk) => ({ purpose: TOKEN_KEY_PURPOSE, kid: jwk.kid, publicJwk: jwk })), new Date());
    await ring.refresh();
    const kids = ring.current().jwks.keys.map((key) => key.kid);
    expect(kids).to.not.include.members(['A'.repeat(43)]);
    expect(kids).to.not.include.members(['B'.repeat(43)]);
    expect(kids).to.include(ring.current().current.kid);
    stop();
  });

  it('without a shared store serves exactly the CA home\'s keys', async () => {
    const home = await mkdtemp(join(tmpdir(), 'keybroker-token-ring-'));
    homes.push(home);
    await rotateTokenSigningKey(home);
    await rotateTokenSigningKey(home);
    const local = await loadTokenSigningKeys(home);
    const ring = await TokenKeyRing.open(local, undefined, new Date());
    expect(ring.current()).to.equal(local);
    expect(ring.current().jwks.keys).to.have.length(2);
  });
});
