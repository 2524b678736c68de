/**
 * The conformance client: written from the text of PROTOCOL.md alone, with node:https, node:crypto and the
 * real `openssl` for keys and CSRs. It shares nothing with src/ or the other e2e helpers but the process
 * and command runners, so a drift between the server and the text shows up here.
 */
import { createHash, createPublicKey } from 'node:crypto';
import { request } from 'node:https';
import { connect } from 'node:tls';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { runOpenssl } from '../helpers/run-command.js';

export interface Endpoint {
  port: number;
  bundlePem: string;
}

export interface TlsIdentity {
  cert: string;
  key: string;
}

export interface Exchange {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export interface Call {
  method?: string;
  /** Sent byte for byte: no normalization of `..` or percent-escapes. */
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  identity?: TlsIdentity;
}

/** One request on its own TLS connection, trusting only the broker's bundle. */
export function call(endpoint: Endpoint, { method = 'GET', path, headers = {}, body, identity }: Call): Promise<Exchange> {
  const payload = body === undefined ? undefined : Buffer.from(body);
  return new Promise((resolve, reject) => {
    const outgoing = request({
      host: '127.0.0.1', port: endpoint.port, method, path, agent: false, ca: endpoint.bundlePem,
      headers: payload ? { 'content-length': String(payload.length), ...headers } : headers,
      ...(identity ?? {}),
    }, (incoming) => {
      const parts: Buffer[] = [];
      incoming.on('data', (part: Buffer) => parts.push(part));
      incoming.on('error', reject);
      incoming.on('end', () => resolve({ status: incoming.statusCode ?? 0, headers: incoming.headers, body: Buffer.concat(parts) }));
    });
    outgoing.on('error', reject);
    outgoing.end(payload);
  });
}

/**
 * Writes `text` as is on a fresh TLS connection and collects what comes back until the server closes the
 * connection or a complete problem body has arrived; for requests node:https will not send.
 */
export function rawExchange(endpoint: Endpoint, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port: endpoint.port, ca: endpoint.bundlePem, servername: 'localhost' }, () => socket.write(text));
    let received = '';
    socket.setEncoding('utf8');
    socket.on('data', (part: string) => {
      received += part;
      if (received.includes('\r\n\r\n') && received.trimEnd().endsWith('}')) socket.destroy();
    });
    socket.on('error', reject);
    socket.on('close', () => resolve(received));
  });
}

export function callJson(endpoint: Endpoint, path: string, value: unknown, extra: Omit<Call, 'path' | 'body'> = {}): Promise<Exchange> {
  return call(endpoint, { method: 'POST', ...extra, path, body: JSON.stringify(value), headers: { 'content-type': 'application/json', ...extra.headers } });
}

export function jsonOf<T = Record<string, unknown>>(exchange: Exchange): T {
  return JSON.parse(exchange.body.toString('utf8')) as T;
}

export function describe1(exchange: Exchange): string {
  return `${exchange.status} ${String(exchange.headers['content-type'])} ${exchange.body.toString('utf8').slice(0, 300)}`;
}

/**
 * Section 0: `application/problem+json` with exactly `type` = urn:keybroker:error:<code>, `title`, `status`
 * (= the HTTP status) and `detail`, the detail free of stack traces and file paths.
 */
export function assertProblem(exchange: Exchange, status: number, code: string): void {
  const context = describe1(exchange);
  expect(exchange.status, context).to.equal(status);
  expect(String(exchange.headers['content-type']), context).to.match(/^application\/problem\+json\b/);
  const problem = jsonOf(exchange);
  expect(problem, context).to.have.all.keys('type', 'title', 'status', 'detail');
  expect(problem.type, context).to.equal(`urn:keybroker:error:${code}`);
  expect(problem.status, context).to.equal(status);
  expect(problem.title, context).to.be.a('string').that.is.not.empty;
  expect(problem.detail, context).to.be.a('string');
  expect(problem.detail as string, context).not.to.match(/\n\s+at |\.(js|ts):\d+|(^|[\s"'(])\/[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+/);
}

/** A scratch directory for keys and CSRs, removed by `release`. */
export class Scratch {
  readonly dir = mkdtempSync(join(tmpdir(), 'keybroker-conformance-'));
  private count = 0;

  file(name: string): string {
    return join(this.dir, `${this.count++}-${name}`);
  }

  release(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Key types of 1.2, as `openssl genpkey` arguments. */
export const KEY_ARGS = {
  'P-256': ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'],
  'P-384': ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-384'],
  'P-521': ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-521'],
  Ed25519: ['-algorithm', 'ED25519'],
  Ed448: ['-algorithm', 'ED448'],
  'RSA-4096': ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:4096'],
} as const;

export interface TeeKeyFiles {
  keyPath: string;
  keyPem: string;
  csrPem: string;
  /** DER SubjectPublicKeyInfo of the CSR's key. */
  spki: Buffer;
}

async function openssl(args: string[]): Promise<void> {
  const result = await runOpenssl(args);
  if (result.code !== 0) throw new Error(`openssl ${args.join(' ')}: ${result.stderr}`);
}

/** A key made by `openssl genpkey` and a CSR signed by it (`openssl req -new`). */
export async function makeTeeKey(scratch: Scratch, type: keyof typeof KEY_ARGS = 'P-256'): Promise<TeeKeyFiles> {
  const keyPath = scratch.file('tee.key');
  const csrPath = scratch.file('tee.csr');
  await openssl(['genpkey', ...KEY_ARGS[type], '-out', keyPath]);
  await openssl(['req', '-new', '-key', keyPath, '-subj', '/CN=conformance', '-out', csrPath]);
  const keyPem = readFileSync(keyPath, 'utf8');
  const spki = createPublicKey(keyPem).export({ type: 'spki', format: 'der' });
  return { keyPath, keyPem, csrPem: readFileSync(csrPath, 'utf8'), spki };
}

/** 1.2: SHA-512("keybroker-v1-bind" || 0x00 || nonce || 0x00 || SPKI). */
export function bindingOf(nonce: string, spki: Buffer): Buffer {
  return createHash('sha512').update('keybroker-v1-bind').update(Buffer.of(0)).update(nonce, 'ascii').update(Buffer.of(0)).update(spki).digest();
}

/** 1.2: the `sample` evidence, report_data in standard padded base64. */
export function sampleEvidenceFor(nonce: string, spki: Buffer): { svn: string; report_data: string } {
  return { svn: '1', report_data: bindingOf(nonce, spki).toString('base64') };
}

export async function newNonce(endpoint: Endpoint, tee = 'sample'): Promise<string> {
  const exchange = await callJson(endpoint, '/kbs/v1/challenge', { tee });
  expect(exchange.status, describe1(exchange)).to.equal(200);
  return jsonOf<{ nonce: string }>(exchange).nonce;
}

export interface Attested {
  tee: TeeKeyFiles;
  body: { certificate: string; chain: string; spiffe_id: string; serial: string; expires_at: string; claims: Record<string, unknown> };
  identity: TlsIdentity;
}

/** Challenge, key, CSR, sample evidence and attest; fails unless 201. */
export async function attestSample(endpoint: Endpoint, scratch: Scratch, type: keyof typeof KEY_ARGS = 'P-256'): Promise<Attested> {
  const tee = await makeTeeKey(scratch, type);
  const nonce = await newNonce(endpoint);
  const exchange = await callJson(endpoint, '/kbs/v1/attest', { nonce, csr: tee.csrPem, evidence: sampleEvidenceFor(nonce, tee.spki) });
  expect(exchange.status, describe1(exchange)).to.equal(201);
  const body = jsonOf<Attested['body']>(exchange);
  return { tee, body, identity: { cert: body.certificate, key: tee.keyPem } };
}

/** The PEM certificates of a text, in order. */
export function certificatesIn(pem: string): string[] {
  return pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g) ?? [];
}
