/**
 * A loopback stand-in for trustee's RESTful CoCo attestation service: `POST /attestation` takes
 * `{tee, evidence (base64url JSON), runtime_data: {structured}, runtime_data_hash_algorithm, policy_ids}`, checks
 * that the evidence's report data is the hash of the RFC 8785 form of the structured runtime data (zero-padded to 64
 * bytes), and answers the bare EAR token text: ES256, the signing key in the header `jwk`, and, when asked, an `x5c`
 * chain to a CA made at test time. Payloads have the shape of trustee's EAR tokens (see the shape test).
 *
 * Its pretend evidence is `{"report_data": "<hex>", "measurement": "<hex>", "init_data"?: "<hex>"}`.
 */
import 'reflect-metadata';
import { createHash, KeyObject, randomBytes, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import canonicalizeModule from 'canonicalize';
import { exportJWK, SignJWT, type JWK } from 'jose';
import { Agent, fetch } from 'undici';
import { startStandInService, type ServiceReply, type ServiceRequest, type StandInService } from './token-service-standin.js';

const canonicalize = canonicalizeModule as unknown as (input: unknown) => string;
x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const ECDSA = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
const TIERS = { affirming: 2, warning: 32, contraindicated: 96, none: 0 } as const;
export type EarStatus = keyof typeof TIERS;

const pem = (der: ArrayBuffer): string => `-----BEGIN CERTIFICATE-----\n${Buffer.from(der).toString('base64').replace(/.{64}/g, '$&\n').replace(/\n?$/, '\n')}-----END CERTIFICATE-----\n`;

function serial(): string {
  const bytes = randomBytes(16);
  bytes[0] = bytes[0]! & 0x7f;
  return bytes.toString('hex');
}

/** A test CA that certifies token-signing keys (the `trusted_certs` anchor). */
export interface SigningCa {
  keys: webcrypto.CryptoKeyPair;
  certificate: x509.X509Certificate;
  pem: string;
}

export async function makeSigningCa(name = 'CoCo AS test CA'): Promise<SigningCa> {
  const keys = await webcrypto.subtle.generateKey(ECDSA, true, ['sign', 'verify']);
  const now = Date.now();
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(), name: `CN=${name}`, notBefore: new Date(now - 3600_000), notAfter: new Date(now + 86400_000),
    keys: keys as never, signingAlgorithm: ECDSA,
    extensions: [new x509.BasicConstraintsExtension(true, 0, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign, true)],
  });
  return { keys, certificate, pem: pem(certificate.rawData) };
}

export interface EarSigningKey {
  kid: string;
  privateKey: KeyObject;
  publicJwk: JWK;
  /** `[leaf, ca]`, base64 DER, as the header `x5c`. */
  x5c: string[];
}

export async function makeEarSigningKey(ca: SigningCa): Promise<EarSigningKey> {
  const keys = await webcrypto.subtle.generateKey(ECDSA, true, ['sign', 'verify']);
  const now = Date.now();
  const leaf = await x509.X509CertificateGenerator.create({
    serialNumber: serial(), subject: 'CN=CoCo AS token signing (test)', issuer: ca.certificate.subject,
    notBefore: new Date(now - 3600_000), notAfter: new Date(now + 86400_000),
    publicKey: keys.publicKey, signingKey: ca.keys.privateKey, signingAlgorithm: ECDSA,
  });
  return {
    kid: randomBytes(8).toString('hex'),
    privateKey: KeyObject.from(keys.privateKey),
    publicJwk: await exportJWK(KeyObject.from(keys.publicKey)),
    x5c: [Buffer.from(leaf.rawData).toString('base64'), Buffer.from(ca.certificate.rawData).toString('base64')],
  };
}

/** How the stand-in appraises and signs; tests change it between calls. */
export interface CocoAsBehaviour {
  status: EarStatus;
  lifetimeSeconds: number;
  /** Put the `x5c` chain in the header (otherwise only `jwk`). */
  x5c: boolean;
  /** Put the key's `kid` in the header. */
  kid: boolean;
}

export interface CocoAsStandIn {
  service: StandInService;
  ca: SigningCa;
  signingKey: EarSigningKey;
  behaviour: CocoAsBehaviour;
  /** A new signing key under the same CA. */
  rotate(): Promise<EarSigningKey>;
  /** What a TEE does in passport mode: posts its evidence and runtime data to the service itself. */
  requestToken(tee: string, evidence: unknown, runtimeData: unknown): Promise<string>;
  close(): Promise<void>;
}

/** Trustee's defaults for the fields a real token carries but this stand-in has no hardware for. */
function earPayload(tee: string, evidence: Record<string, string>, runtimeData: unknown, policyId: string, behaviour: CocoAsBehaviour): Record<string, unknown> {
  const tier = TIERS[behaviour.status];
  const iat = Math.floor(Date.now() / 1000);
  return {
    eat_profile: 'tag:github.com,2024:confidential-containers/Trustee',
    iat,
    'ear.verifier-id': { developer: 'https://confidentialcontainers.org', build: 'attestation-service 0.1.0' },
    submods: {
      cpu0: {
        'ear.status': behaviour.status,
        'ear.trustworthiness-vector': {
          'instance-identity': 0, configuration: tier, executables: tier, 'file-system': 0, hardware: tier,
          'runtime-opaque': 0, 'storage-opaque': 0, 'sourced-data': 0,
        },
        'ear.appraisal-policy-id': policyId,
        'ear.veraison.annotated-evidence': {
          init_data: evidence.init_data ?? '00'.repeat(32),
          init_data_claims: null,
          report_data: evidence.report_data,
          runtime_data_claims: runtimeData,
          [tee]: { measurement: evidence.measurement, report_data: evidence.report_data, policy_debug_allowed: false, reported_tcb_snp: 24 },
        },
      },
    },
    exp: iat + behaviour.lifetimeSeconds,
  };
}

function refuse(status: number, error: string): ServiceReply {
  return { status, text: error };
}

const HEX = /^(?:[0-9a-f]{2})+$/;

export async function startCocoAsStandIn(): Promise<CocoAsStandIn> {
  const ca = await makeSigningCa();
  const standIn: Partial<CocoAsStandIn> & { behaviour: CocoAsBehaviour } = {
    ca,
    signingKey: await makeEarSigningKey(ca),
    behaviour: { status: 'affirming', lifetimeSeconds: 300, x5c: true, kid: false },
  };

  const attestation = async (request: ServiceRequest): Promise<ServiceReply> => {
    if (request.method !== 'POST' || request.path !== '/attestation') return refuse(404, 'not found');
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(request.body.toString('utf8')) as Record<string, unknown>;
    } catch {
      return refuse(400, 'body is not JSON');
    }
    const { tee, evidence, runtime_data: runtimeData, runtime_data_hash_algorithm: algorithm = 'sha384', policy_ids: policyIds = ['default'] } = body;
    if (typeof tee !== 'string' || typeof evidence !== 'string' || !/^[A-Za-z0-9_-]*$/.test(evidence)) return refuse(400, 'tee and base64url evidence are required');
    if (typeof algorithm !== 'string' || !['sha256', 'sha384', 'sha512'].includes(algorithm)) return refuse(400, 'unknown hash algorithm');
    const structured = (runtimeData as { structured?: unknown } | undefined)?.structured;
    if (typeof structured !== 'object' || structured === null) return refuse(400, 'runtime_data.structured is required here');
    let parsed: Record<string, string>;
    try {
      parsed = JSON.parse(Buffer.from(evidence, 'base64url').toString('utf8')) as Record<string, string>;
    } catch {
      return refuse(400, 'evidence is not JSON');
    }
    if (!HEX.test(parsed.report_data ?? '') || !HEX.test(parsed.measurement ?? '')) return refuse(400, 'evidence needs hex report_data and measurement');
    const expected = Buffer.alloc(64);
    createHash(algorithm).update(canonicalize(structured), 'utf8').digest().copy(expected);
    // The real service answers a verification failure with an error status and a message, never a token.
    if (parsed.report_data !== expected.toString('hex')) return refuse(400, 'runtime data binding does not match the report data');
    const policyId = Array.isArray(policyIds) && typeof policyIds[0] === 'string' ? policyIds[0] : 'default';
    const key = standIn.signingKey!;
    const header = { alg: 'ES256', typ: 'JWT', jwk: key.publicJwk, ...(standIn.behaviour.x5c ? { x5c: key.x5c } : {}), ...(standIn.behaviour.kid ? { kid: key.kid } : {}) };
    const token = await new SignJWT(earPayload(tee, parsed, structured, policyId, standIn.behaviour)).setProtectedHeader(header).sign(key.privateKey);
    return { text: token };
  };

  const service = await startStandInService(attestation);
  const client = new Agent({ connect: { ca: service.tlsCertificatePem } });
  standIn.service = service;
  standIn.rotate = async () => {
    standIn.signingKey = await makeEarSigningKey(ca);
    return standIn.signingKey;
  };
  standIn.requestToken = async (tee, evidence, runtimeData) => {
    const response = await fetch(`${service.url}/attestation`, {
      method: 'POST', dispatcher: client, headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ tee, evidence: Buffer.from(JSON.stringify(evidence)).toString('base64url'), runtime_data: { structured: runtimeData }, runtime_data_hash_algorithm: 'sha384' }),
    });
    const text = await response.text();
    if (response.status !== 200) throw new Error(`stand-in CoCo AS refused: ${response.status} ${text}`);
    return text;
  };
  standIn.close = async () => {
    await client.close();
    await service.close();
  };
  return standIn as CocoAsStandIn;
}

/** A TEE's evidence for the stand-in: report data = SHA-384 of the RFC 8785 runtime data, zero-padded to 64 bytes. */
export function cocoEvidence(runtimeData: unknown, measurement: Buffer): Record<string, string> {
  const reportData = Buffer.alloc(64);
  createHash('sha384').update(canonicalize(runtimeData), 'utf8').digest().copy(reportData);
  return { report_data: reportData.toString('hex'), measurement: measurement.toString('hex') };
}
