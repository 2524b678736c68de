import { expect } from 'chai';
import { generateKeyPairSync } from 'node:crypto';
import { SignJWT } from 'jose';
import { v0TokenSummary } from '../../../src/client/v0/trustee-client.js';

const signingKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
const sign = (claims: Record<string, unknown>) => new SignJWT(claims).setProtectedHeader({ alg: 'ES256' }).sign(signingKey);

describe('client/v0 token summary', () => {
  it('reads keybroker\'s token: subject, expiry, id and the claims the broker saw', async () => {
    const token = await sign({ sub: 'spiffe://keybroker.test/tee/sample/abc', exp: 1_900_000_000, jti: 'j-1', 'kbs-claims': { status: 'affirming' } });
    expect(v0TokenSummary(token)).to.deep.equal({ sub: 'spiffe://keybroker.test/tee/sample/abc', exp: 1_900_000_000, jti: 'j-1', kbsClaims: { status: 'affirming' } });
  });

  it('reads a trustee KBS token, its attestation service\'s EAR, which names no subject', async () => {
    const ear = await sign({
      eat_profile: 'tag:github.com,2024:confidential-containers/Trustee', iat: 1_899_999_700, exp: 1_900_000_000,
      'ear.verifier-id': { developer: 'https://confidentialcontainers.org', build: 'attestation-service 0.1.0' },
      submods: { cpu0: { 'ear.status': 'affirming' } },
    });
    expect(v0TokenSummary(ear)).to.deep.equal({ sub: '', exp: 1_900_000_000, jti: '', kbsClaims: {} });
  });

  it('refuses a token without an expiry, which no session could be renewed from', async () => {
    expect(() => v0TokenSummary('')).to.throw();
    const token = await sign({ sub: 'spiffe://keybroker.test/tee/sample/abc' });
    expect(() => v0TokenSummary(token)).to.throw(/no exp claim/);
  });
});
