import { createPublicKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createLocalJWKSet, createRemoteJWKSet, customFetch, type FetchImplementation, type JSONWebKeySet } from 'jose';
import { Agent, fetch as undiciFetch } from 'undici';
import type { IdentityProviderConfig } from '../config/admin-config.js';
import type { IdentityProvider } from '../protocol/admin-bearer.js';
import { messageOf } from '../domain/errors.js';

/** A fetch that trusts only the given PEM CA bundle, for an identity provider behind a private CA. */
function fetchTrusting(ca: string): FetchImplementation {
  const dispatcher = new Agent({ connect: { ca } });
  return (async (url: string, options: Parameters<FetchImplementation>[1]) => undiciFetch(url, { ...options, dispatcher })) as unknown as FetchImplementation;
}

/** Reads the keys of each configured identity provider once at start; a JWKS URL is fetched (and cached) on use. */
export async function loadIdentityProviders(configs: readonly IdentityProviderConfig[]): Promise<IdentityProvider[]> {
  return Promise.all(configs.map(async (config) => {
    const { source } = config;
    let keys: IdentityProvider['keys'];
    try {
      if ('publicKeyFile' in source) keys = createPublicKey(await readFile(source.publicKeyFile, 'utf8'));
      else if ('jwksFile' in source) keys = createLocalJWKSet(JSON.parse(await readFile(source.jwksFile, 'utf8')) as JSONWebKeySet);
      else keys = createRemoteJWKSet(new URL(source.jwksUrl), source.caFile ? { [customFetch]: fetchTrusting(await readFile(source.caFile, 'utf8')) } : {});
    } catch (error) {
      throw new Error(`identity provider "${config.name}": cannot load its keys (${messageOf(error)})`);
    }
    return { name: config.name, keys, algorithms: config.algorithms, ...(config.issuer ? { issuer: config.issuer } : {}), ...(config.audience ? { audience: config.audience } : {}) };
  }));
}
