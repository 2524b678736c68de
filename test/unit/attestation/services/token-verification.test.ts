/** Service token checks (token-verification.ts, jwks-keys.ts, x5c-chain.ts, runtime-binding.ts) with keys made here. */
import { createPublicKey, generateKeyPairSync, X509Certificate, type KeyObject } from 'node:crypto';
import { expect } from 'chai';
import { exportJWK, SignJWT, type JWK } from 'jose';
import { JwksKeys } from '../../../../src/attestation/services/jwks-keys.js';
import { checkRuntimeData } from '../../../../src/attestation/services/runtime-binding.js';
import { ServiceHttp } from '../../../../src/attestation/services/service-http.js';
import { verifyServiceToken, type TokenRules } from '../../../../src/attestation/services/token-verification.js';
import { isKbsError } from '../../../../src/domain/errors.js';
import { makeEarSigningKey, makeSigningCa } from '../../../helpers/coco-as-standin.js';
import { startStandInService, type StandInService } from '../../../helpers/token-service-standin.js';

async function codeOf(action: () => Promise<unknown> | unknown): Promise<string | undefined> {
  try {
    await action();
  } catch (error) {
    return isKbsError(error) ? error.code : String(error);
  }
  return undefined;
}

const NOW = new Date();
const seconds = (offset: number): number => Math.floor(NOW.getTime() / 1000) + offset;

describe('service token verification', function () {
  this.timeout(20_000);
  let service: StandInService;
  let keySet: { keys: JWK[] };
  let signer: { kid: string; key: KeyObject };
  let http: ServiceHttp;

  async function newSigner(): Promise<void> {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    signer = { kid: `k${Math.random().toString(16).slice(2)}`, key: privateKey };
    keySet = { keys: [{ ...(await exportJWK(publicKey)), kid: signer.kid, alg: 'ES256' }] };
  }

  function sign(payload: Record<string, unknown>, header: Record<string, unknown> = {}, key = signer.key): Promise<string> {
    return new SignJWT(payload).setProtectedHeader({ alg: 'ES256', kid: signer.kid, ...header }).sign(key);
  }

  function rules(overrides: Partial<TokenRules> = {}): TokenRules {
    return { serviceName: 'svc', algorithms: ['ES256'], skewSeconds: 60, jwks: new JwksKeys(`${service.url}/certs`, http), trustedCerts: [], ...overrides };
  }

  const certsFetches = (): number => service.requests.filter((request) => request.path === '/certs').length;

  before(async () => {
    await newSigner();
    service = await startStandInService((request) => (request.path === '/certs' ? { json: keySet } : { status: 404 }));
    http = new ServiceHttp('svc', 2000, service.tlsCertificatePem);
  });

  after(async () => {
    await http.close();
    await service.close();
  });

  it('accepts a token within exp/nbf/iat and the skew, and checks iss and aud when configured', async () => {
    const token = await sign({ iat: seconds(30), nbf: seconds(30), exp: seconds(-30), iss: 'https://as', aud: 'kbs' });
    expect((await verifyServiceToken(token, rules({ issuer: 'https://as', audience: 'kbs' }), NOW)).iss).to.equal('https://as');
    expect(await codeOf(() => verifyServiceToken(token, rules({ issuer: 'https://other' }), NOW))).to.equal('attestation-failed');
    expect(await codeOf(() => verifyServiceToken(token, rules({ audience: 'other' }), NOW))).to.equal('attestation-failed');
    expect(await codeOf(() => verifyServiceToken(token, rules({ skewSeconds: 10 }), NOW))).to.equal('attestation-failed');
  });

  it('requires exp and refuses an iat beyond the skew in the future', async () => {
    expect(await codeOf(async () => verifyServiceToken(await sign({ iat: seconds(0) }), rules(), NOW))).to.equal('attestation-failed');
    expect(await codeOf(async () => verifyServiceToken(await sign({ iat: seconds(600), exp: seconds(900) }), rules(), NOW))).to.equal('attestation-failed');
  });

  it('refuses an algorithm outside the allow-list before looking for a key', async () => {
    const fetches = certsFetches();
    const token = await sign({ exp: seconds(60) });
    expect(await codeOf(() => verifyServiceToken(token, rules({ algorithms: ['PS384'] }), NOW))).to.equal('attestation-failed');
    expect(certsFetches()).to.equal(fetches);
  });

  it('reads the JWKS once, again once for an unknown kid (rotation), and not for every token', async () => {
    const jwks = new JwksKeys(`${service.url}/certs`, http);
    const fetches = certsFetches();
    await verifyServiceToken(await sign({ exp: seconds(60) }), rules({ jwks }), NOW);
    await verifyServiceToken(await sign({ exp: seconds(60) }), rules({ jwks }), NOW);
    expect(certsFetches()).to.equal(fetches + 1);
    await newSigner();
    await verifyServiceToken(await sign({ exp: seconds(60) }), rules({ jwks }), NOW);
    expect(certsFetches()).to.equal(fetches + 2);
    const stranger = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    expect(await codeOf(async () => verifyServiceToken(await sign({ exp: seconds(60) }, { kid: 'unknown' }, stranger), rules({ jwks }), NOW))).to.equal('attestation-failed');
    expect(certsFetches()).to.equal(fetches + 3);
  });

  it('follows a rotation for tokens without kid: one re-read when no cached key verifies, a retry only if the set changed', async () => {
    const jwks = new JwksKeys(`${service.url}/certs`, http);
    const kidless = (key = signer.key) => new SignJWT({ exp: seconds(60) }).setProtectedHeader({ alg: 'ES256' }).sign(key);
    await verifyServiceToken(await kidless(), rules({ jwks }), NOW);
    const fetches = certsFetches();
    await newSigner();
    await verifyServiceToken(await kidless(), rules({ jwks }), NOW);
    expect(certsFetches()).to.equal(fetches + 1);
    const stranger = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    expect(await codeOf(async () => verifyServiceToken(await kidless(stranger), rules({ jwks }), NOW))).to.equal('attestation-failed');
    expect(certsFetches()).to.equal(fetches + 2);
  });

  it('reads the set again once it is maxAgeMs old: a key the service withdrew is refused; a failed read keeps the set in hand', async () => {
    let clock = 0;
    const jwks = new JwksKeys(`${service.url}/certs`, http, 1000, () => clock);
    const withdrawn = await sign({ exp: seconds(60) });
    await verifyServiceToken(withdrawn, rules({ jwks }), NOW);
    const fetches = certsFetches();
    clock += 999;
    await verifyServiceToken(withdrawn, rules({ jwks }), NOW);
    expect(certsFetches()).to.equal(fetches);

    await newSigner();
    clock += 1;
    expect(await codeOf(() => verifyServiceToken(withdrawn, rules({ jwks }), NOW))).to.equal('attestation-failed');
    // The aged read, then the one an unmatched kid makes.
    expect(certsFetches()).to.equal(fetches + 2);

    const current = await sign({ exp: seconds(60) });
    await verifyServiceToken(current, rules({ jwks }), NOW);
    clock += 1000;
    service.failWith = 503;
    try {
      await verifyServiceToken(current, rules({ jwks }), NOW);
      expect(certsFetches()).to.equal(fetches + 3);
      clock += 500;
      await verifyServiceToken(current, rules({ jwks }), NOW);
      expect(certsFetches(), 'no read per token while the service is down').to.equal(fetches + 3);
    } finally {
      service.failWith = undefined;
    }
  });

  it('turns an unreachable JWKS into 502 and a slow one into 504', async () => {
    service.failWith = 503;
    try {
      expect(await codeOf(async () => verifyServiceToken(await sign({ exp: seconds(60) }), rules(), NOW))).to.equal('verifier-unavailable');
    } finally {
      service.failWith = undefined;
    }
    service.delayMs = 5_000;
    const impatient = new ServiceHttp('svc', 200, service.tlsCertificatePem);
    try {
      expect(await codeOf(async () => verifyServiceToken(await sign({ exp: seconds(60) }), rules({ jwks: new JwksKeys(`${service.url}/certs`, impatient) }), NOW))).to.equal('verifier-timeout');
    } finally {
      service.delayMs = 0;
      await impatient.close();
    }
  });

  it('trusts an x5c chain only to a configured certificate, within validity, and never a bare header jwk', async () => {
    const ca = await makeSigningCa();
    const signing = await makeEarSigningKey(ca);
    const token = await new SignJWT({ exp: seconds(60) }).setProtectedHeader({ alg: 'ES256', jwk: signing.publicJwk, x5c: signing.x5c }).sign(signing.privateKey);
    const anchors = [new X509Certificate(ca.pem)];
    expect(await verifyServiceToken(token, rules({ jwks: undefined, trustedCerts: anchors }), NOW)).to.have.property('exp');
    const otherCa = await makeSigningCa('another CA');
    expect(await codeOf(() => verifyServiceToken(token, rules({ jwks: undefined, trustedCerts: [new X509Certificate(otherCa.pem)] }), NOW))).to.equal('attestation-failed');
    expect(await codeOf(() => verifyServiceToken(token, rules({ jwks: undefined, trustedCerts: anchors }), new Date(NOW.getTime() + 7 * 86400_000)))).to.equal('attestation-failed');
    const bare = await new SignJWT({ exp: seconds(60) }).setProtectedHeader({ alg: 'ES256', jwk: signing.publicJwk }).sign(signing.privateKey);
    expect(await codeOf(() => verifyServiceToken(bare, rules({ jwks: undefined, trustedCerts: anchors }), NOW))).to.equal('attestation-failed');
  });
});

describe('runtime-data binding', () => {
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-384' });
  const jwk = publicKey.export({ format: 'jwk' }) as JWK;
  const binding = { nonce: 'abc_DEF-123', publicKey: jwk };

  it('accepts the object or its JSON text, with the key in any member order and with optional members', async () => {
    expect(await codeOf(() => checkRuntimeData({ nonce: binding.nonce, 'tee-pubkey': { y: jwk.y, x: jwk.x, crv: jwk.crv, kty: 'EC', alg: 'ECDH-ES+A256KW' } }, binding))).to.equal(undefined);
    expect(await codeOf(() => checkRuntimeData(JSON.stringify({ nonce: binding.nonce, 'tee-pubkey': jwk }), binding))).to.equal(undefined);
  });

  it('refuses another nonce (attestation-failed), another or no key (binding-mismatch), and no runtime data', async () => {
    const other = createPublicKey(generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey).export({ format: 'jwk' });
    expect(await codeOf(() => checkRuntimeData({ nonce: `${binding.nonce}x`, 'tee-pubkey': jwk }, binding))).to.equal('attestation-failed');
    expect(await codeOf(() => checkRuntimeData({ nonce: binding.nonce, 'tee-pubkey': other }, binding))).to.equal('binding-mismatch');
    expect(await codeOf(() => checkRuntimeData({ nonce: binding.nonce }, binding))).to.equal('binding-mismatch');
    expect(await codeOf(() => checkRuntimeData(null, binding))).to.equal('attestation-failed');
  });
});
