/**
 * The common parts of the stand-ins for remote attestation services (Intel Trust Authority, Azure Attestation): a
 * real HTTPS server on 127.0.0.1 with a certificate made at test time, and the service's RSA token-signing keys with
 * their certificates, rotatable, published as a JWKS.
 */
import 'reflect-metadata';
import { createPublicKey, KeyObject, randomBytes, randomUUID, webcrypto } from 'node:crypto';
import { createServer, request as httpsRequest, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import * as x509 from '@peculiar/x509';
import { exportJWK, SignJWT, type JWK } from 'jose';
import type { TdxQuote } from '../../src/attestation/verifiers/tdx/tdx-quote.js';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const pem = (der: ArrayBuffer | Buffer, label: string): string =>
  `-----BEGIN ${label}-----\n${Buffer.from(der as ArrayBuffer).toString('base64').replace(/.{64}/g, '$&\n').replace(/\n?$/, '\n')}-----END ${label}-----\n`;

function serial(): string {
  const bytes = randomBytes(16);
  bytes[0] = bytes[0]! & 0x7f;
  return bytes.toString('hex');
}

async function selfSigned(keys: webcrypto.CryptoKeyPair, subject: string, algorithm: object, extensions: x509.Extension[] = []): Promise<x509.X509Certificate> {
  const now = Date.now();
  return x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(), name: subject, notBefore: new Date(now - 3600_000), notAfter: new Date(now + 86400_000),
    keys: keys as never, signingAlgorithm: algorithm, extensions,
  });
}

export interface ServiceRequest {
  method: string;
  /** The path without the query. */
  path: string;
  query: URLSearchParams;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export interface ServiceReply {
  status?: number;
  json?: unknown;
  /** A plain-text answer instead of JSON (trustee's attestation service answers the bare token). */
  text?: string;
}

export type ServiceRoute = (request: ServiceRequest) => ServiceReply | Promise<ServiceReply>;

export interface StandInService {
  /** `https://127.0.0.1:PORT` */
  url: string;
  /** PEM of the server's TLS certificate, for the broker's `tls_ca_file`. */
  tlsCertificatePem: string;
  requests: ServiceRequest[];
  /** Answers after this many milliseconds (a slow service); 0: at once. */
  delayMs: number;
  /** Answers every request with this status and an error body (an outage behind a gateway); undefined: normal. */
  failWith: number | undefined;
  close(): Promise<void>;
}

/** Starts an HTTPS service on 127.0.0.1; unknown paths are 404 from the route's own decision. */
export async function startStandInService(route: ServiceRoute): Promise<StandInService> {
  const keys = await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
  const certificate = await selfSigned(keys, 'CN=127.0.0.1', { name: 'ECDSA', hash: 'SHA-256' }, [
    new x509.SubjectAlternativeNameExtension([{ type: 'ip', value: '127.0.0.1' }]),
  ]);
  const keyPem = pem(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey), 'PRIVATE KEY');
  const tlsCertificatePem = pem(certificate.rawData, 'CERTIFICATE');
  const pending = new Set<NodeJS.Timeout>();
  const service: StandInService = {
    url: '',
    tlsCertificatePem,
    requests: [],
    delayMs: 0,
    failWith: undefined,
    close: () => new Promise((resolve) => {
      for (const timer of pending) clearTimeout(timer);
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
  const server: Server = createServer({ key: keyPem, cert: tlsCertificatePem }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'https://127.0.0.1');
      const request: ServiceRequest = { method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, headers: req.headers, body: Buffer.concat(chunks) };
      service.requests.push(request);
      const answer = async (): Promise<ServiceReply> => (service.failWith !== undefined
        ? { status: service.failWith, json: { error: 'service unavailable' } }
        : route(request));
      const send = (): void => {
        answer().then((reply) => {
          res.writeHead(reply.status ?? 200, { 'content-type': reply.text !== undefined ? 'text/plain' : 'application/json' });
          res.end(reply.text ?? JSON.stringify(reply.json ?? {}));
        }, (error: unknown) => {
          res.writeHead(500, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error: String(error) }));
        });
      };
      if (service.delayMs === 0) return send();
      const timer = setTimeout(() => { pending.delete(timer); send(); }, service.delayMs);
      pending.add(timer);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  service.url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return service;
}

export interface SigningKey {
  kid: string;
  privateKey: KeyObject;
  publicJwk: JWK;
  /** Base64 DER of the self-signed certificate of the key (an `x5c` entry). */
  certificate: string;
}

/** An RSA token-signing key with a certificate, as both services publish them. */
export async function makeSigningKey(): Promise<SigningKey> {
  const algorithm = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
  const keys = await webcrypto.subtle.generateKey({ ...algorithm, modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]) }, true, ['sign', 'verify']);
  const certificate = await selfSigned(keys, 'CN=Attestation token signing (test)', algorithm);
  const privateKey = KeyObject.from(keys.privateKey);
  const publicJwk = await exportJWK(KeyObject.from(keys.publicKey));
  return { kid: randomUUID(), privateKey, publicJwk, certificate: Buffer.from(certificate.rawData).toString('base64') };
}

/** A service's signing keys: the current one signs; `rotate` retires it from the JWKS and starts a new one. */
export class ServiceSigningKeys {
  private constructor(private keys: SigningKey[]) {}

  static async create(): Promise<ServiceSigningKeys> {
    return new ServiceSigningKeys([await makeSigningKey()]);
  }

  get current(): SigningKey {
    return this.keys[this.keys.length - 1]!;
  }

  async rotate(): Promise<SigningKey> {
    this.keys = [await makeSigningKey()];
    return this.current;
  }

  /** The published set; `withModulus` false leaves only `kty`, `kid` and `x5c`, as Azure Attestation does. */
  jwks(options: { withModulus: boolean; alg?: string }): { keys: JWK[] } {
    return {
      keys: this.keys.map((key) => ({
        ...(options.withModulus ? { n: key.publicJwk.n!, e: key.publicJwk.e! } : {}),
        ...(options.alg ? { alg: options.alg } : {}),
        kty: 'RSA', kid: key.kid, x5c: [key.certificate],
      })),
    };
  }
}

/** Signs `payload` as a JWT with the key's `kid`; `header` adds or overrides header fields. */
export function signToken(payload: Record<string, unknown>, key: SigningKey, alg: string, header: Record<string, unknown> = {}): Promise<string> {
  return new SignJWT(payload).setProtectedHeader({ alg, kid: key.kid, typ: 'JWT', ...header }).sign(key.privateKey);
}

/** A JWT with `alg: none` and no signature (RFC 7519 section 6), which no verifier may accept. */
export function unsecuredToken(payload: Record<string, unknown>): string {
  const part = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'none', typ: 'JWT' })}.${part(payload)}.`;
}

/** The payload of a JWT, unverified (tests that re-sign or tamper with a service's token). */
export function tokenPayload(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
}

/** What a TEE does in passport mode: calls the service itself over HTTPS, trusting the stand-in's certificate. */
export function callService(service: StandInService, path: string, options: { method?: string; headers?: Record<string, string>; json?: unknown } = {}): Promise<{ status: number; json: Record<string, unknown> }> {
  const body = options.json === undefined ? undefined : JSON.stringify(options.json);
  return new Promise((resolve, reject) => {
    const request = httpsRequest(`${service.url}${path}`, {
      method: options.method ?? (body === undefined ? 'GET' : 'POST'), ca: service.tlsCertificatePem, agent: false,
      headers: { accept: 'application/json', ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...options.headers },
    }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown> }));
    });
    request.on('error', reject);
    request.end(body);
  });
}

/** The runtime data of PROTOCOL.md 1.2 in RFC 8785 form, as a TEE computes it (sorted keys, no spaces). */
export function runtimeDataBytes(nonce: string, spki: Buffer): Buffer {
  const jwk = createPublicKey({ key: spki, format: 'der', type: 'spki' }).export({ format: 'jwk' }) as Record<string, string>;
  const sortedJwk = Object.fromEntries(Object.keys(jwk).sort().map((field) => [field, jwk[field]]));
  return Buffer.from(JSON.stringify({ nonce, 'tee-pubkey': sortedJwk }), 'utf8');
}

/**
 * The TD quote body as Intel Trust Authority and Azure Attestation both name it in their tokens (`tdx_*` claims,
 * measurements in hex); each service adds a few claims of its own.
 */
export function tdxQuoteBodyClaims(body: TdxQuote['body']): Record<string, unknown> {
  const hex = (bytes: Buffer): string => bytes.toString('hex');
  return {
    tdx_mrseam: hex(body.mrSeam),
    tdx_mrsignerseam: hex(body.mrSignerSeam),
    tdx_mrtd: hex(body.mrTd),
    tdx_mrconfigid: hex(body.mrConfigId),
    tdx_mrowner: hex(body.mrOwner),
    tdx_mrownerconfig: hex(body.mrOwnerConfig),
    tdx_rtmr0: hex(body.rtmrs[0]!),
    tdx_rtmr1: hex(body.rtmrs[1]!),
    tdx_rtmr2: hex(body.rtmrs[2]!),
    tdx_rtmr3: hex(body.rtmrs[3]!),
    tdx_report_data: hex(body.reportData),
    tdx_td_attributes: hex(body.tdAttributes),
    tdx_td_attributes_debug: (body.tdAttributes[0]! & 1) === 1,
    tdx_xfam: hex(body.xfam),
    tdx_tee_tcb_svn: hex(body.teeTcbSvn),
  };
}

