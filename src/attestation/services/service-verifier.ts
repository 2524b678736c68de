import type { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { ServiceVerifierConfig } from '../../config/verifier-tables.js';
import { KbsError, messageOf } from '../../domain/errors.js';
import type { AppraisalRequest, BoundEvidence, ServiceVerifier } from '../verifier.js';
import { JwksKeys } from './jwks-keys.js';
import { checkRuntimeData } from './runtime-binding.js';
import type { ServiceAdapter, ServiceConnection } from './service-adapter.js';
import { ServiceHttp } from './service-http.js';
import { verifyServiceToken, type TokenRules } from './token-verification.js';
import { readTrustedCertificates } from './x5c-chain.js';

export interface ClosableServiceVerifier extends ServiceVerifier {
  close(): Promise<void>;
}

/** Reads an operator file at start; the message names the verifier and the key, never the file's content. */
async function readSetting(path: string, verifier: string, key: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new Error(`verifier "${verifier}": cannot read ${key} (${error instanceof Error && 'code' in error ? String(error.code) : 'unreadable'})`);
  }
}

/**
 * One configured external attestation service behind the verifier port: the framework around a ServiceAdapter.
 * Background-check sends the evidence and PROTOCOL.md 1.2's runtime data to the service; passport takes the TEE's
 * token. Either way the token is verified (token-verification.ts), read by the adapter, and bound (runtime-binding.ts).
 */
export async function createServiceVerifier(config: ServiceVerifierConfig, adapter: ServiceAdapter, clock: () => Date): Promise<ClosableServiceVerifier> {
  const caPem = config.tlsCaFile !== undefined ? await readSetting(config.tlsCaFile, config.name, 'tls_ca_file') : undefined;
  const http = new ServiceHttp(config.name, config.timeoutMs, caPem);
  const apiKey = config.apiKeyFile !== undefined ? (await readSetting(config.apiKeyFile, config.name, 'api_key_file')).trim() : undefined;
  let trustedCerts: X509Certificate[];
  try {
    trustedCerts = await readTrustedCertificates(config.trustedCerts);
  } catch (error) {
    throw new Error(`verifier "${config.name}": trusted_certs: ${messageOf(error)}`);
  }
  const jwksLocation = config.jwks ?? (config.url !== undefined && adapter.jwksPath !== undefined ? `${config.url}${adapter.jwksPath}` : undefined);
  if (jwksLocation === undefined && trustedCerts.length === 0) throw new Error(`verifier "${config.name}": needs jwks or trusted_certs to check token signatures`);
  const rules: TokenRules = {
    serviceName: config.name,
    algorithms: config.algorithms ?? adapter.algorithms,
    skewSeconds: config.skewSeconds,
    ...(config.issuer !== undefined ? { issuer: config.issuer } : {}),
    ...(config.audience !== undefined ? { audience: config.audience } : {}),
    ...(jwksLocation !== undefined ? { jwks: new JwksKeys(jwksLocation, http) } : {}),
    trustedCerts,
  };
  const connection: ServiceConnection | undefined = config.url !== undefined
    ? { config, url: config.url, http, ...(apiKey !== undefined ? { apiKey } : {}) }
    : undefined;
  const requireConnection = (what: string): ServiceConnection => {
    if (!connection) throw new KbsError('bad-request', `verifier "${config.name}" has no url: ${what}`);
    return connection;
  };

  const verifier: ClosableServiceVerifier = {
    name: config.name,
    tees: config.tees,
    async appraise({ tee, submission, binding }: AppraisalRequest): Promise<BoundEvidence> {
      const token = submission.mode === 'passport'
        ? submission.token
        : await adapter.requestToken(requireConnection('it takes passport tokens only'), {
          tee, evidence: submission.evidence, runtimeData: { nonce: binding.nonce, 'tee-pubkey': binding.publicKey },
        });
      const payload = await verifyServiceToken(token, rules, clock());
      const reading = adapter.readToken(payload, tee);
      checkRuntimeData(reading.runtimeData, binding);
      return {
        claims: { v: 1, tee, verifier: config.name, ...reading.claims },
        bindingChecked: true,
        ...(reading.initData ? { initData: reading.initData } : {}),
      };
    },
    close: () => http.close(),
  };
  const { fetchNonce } = adapter;
  if (fetchNonce) verifier.verifierNonce = (tee) => fetchNonce(requireConnection('it cannot fetch a verifier nonce'), tee);
  return verifier;
}
