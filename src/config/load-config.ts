import { resolve } from 'node:path';
import { readIdentityProviders, readRole } from './admin-config.js';
import type { Config } from './config.js';
import { ConfigDocument, type ConfigSection } from './config-document.js';
import { readConfigFile } from './config-file.js';
import {
  fromEnv,
  integerIn,
  oneOf,
  positiveInteger,
  readBoolean,
  readDnsName,
  readListenAddress,
  readPath,
} from './config-values.js';
import { readStoreSettings } from './store-settings.js';
import { readTdxSettings } from './tdx-settings.js';
import { readSnpSettings } from './verifier-settings.js';

import { ConfigError } from './config-error.js';

export { ConfigError } from './config-error.js';

/** The PKCS#11 user PIN, when no `[pkcs11] pin_file` is given. */
export const PKCS11_PIN_ENV = 'KEYBROKER_PKCS11_PIN';

export interface LoadConfigOptions {
  /** Home directory; default KEYBROKER_HOME, then the working directory. */
  home?: string;
  /** `--config FILE`; default KEYBROKER_CONFIG, then `<home>/keybroker.toml` when it exists. */
  configFile?: string;
  /** `serve --dev`. */
  dev: boolean;
  /** Default `process.env`. */
  env?: NodeJS.ProcessEnv;
}

const SECTIONS = ['server', 'ca', 'attestation', 'store', 'pkcs11', 'v0', 'admin'] as const;

const TLS_VERSIONS = { '1.2': 'TLSv1.2', '1.3': 'TLSv1.3' } as const;

/** `[pkcs11]`: read (and so validated) whenever present; required keys only when `[ca] key_storage = "pkcs11"`. */
function readPkcs11Section(section: ConfigSection, home: string, env: NodeJS.ProcessEnv, required: boolean): Config['pkcs11'] {
  const modulePath = section.optional('module', readPath);
  const tokenLabel = section.optional('token_label', readPath);
  const pinFile = section.optional('pin_file', readPath);
  const keyLabelPrefix = section.optional('key_label_prefix', readPath) ?? 'keybroker-issuer-';
  if (!required) return undefined;
  if (modulePath === undefined) throw new ConfigError('[pkcs11] module', 'is required when [ca] key_storage = "pkcs11"');
  if (tokenLabel === undefined) throw new ConfigError('[pkcs11] token_label', 'is required when [ca] key_storage = "pkcs11"');
  if (pinFile === undefined && fromEnv(env, PKCS11_PIN_ENV) === undefined) {
    throw new ConfigError('[pkcs11] pin_file', `or the environment variable ${PKCS11_PIN_ENV} is required when [ca] key_storage = "pkcs11"`);
  }
  return { modulePath: resolve(home, modulePath), tokenLabel, keyLabelPrefix, ...(pinFile !== undefined ? { pinFile: resolve(home, pinFile) } : {}) };
}

/**
 * The one configuration: defaults, then the TOML file, then the environment. Throws ConfigError (one line naming
 * the setting) for an unknown section or key, a wrong type or a value out of range.
 */
export function loadConfig(options: LoadConfigOptions): Config {
  const env = options.env ?? process.env;
  const home = resolve(options.home ?? fromEnv(env, 'KEYBROKER_HOME') ?? process.cwd());
  const document = new ConfigDocument(
    readConfigFile(options.configFile ?? fromEnv(env, 'KEYBROKER_CONFIG'), home),
    SECTIONS,
  );

  const server = document.section('server');
  const ca = document.section('ca');
  const attestation = document.section('attestation');
  const store = document.section('store');
  const keyStorage = ca.optional('key_storage', oneOf(['file', 'pkcs11'])) ?? 'file';
  const pkcs11 = readPkcs11Section(document.section('pkcs11'), home, env, keyStorage === 'pkcs11');
  const v0 = document.section('v0');
  const admin = document.section('admin');

  // The file's value is read (and so validated) even when the environment overrides it.
  const fileListen = server.optional('listen', readListenAddress);
  const envListen = fromEnv(env, 'KEYBROKER_LISTEN');
  const tlsMinVersion = server.optional('tls_min_version', oneOf(['1.2', '1.3'])) ?? '1.3';

  const storeSettings = readStoreSettings(store, env, home);
  const config: Config = {
    home,
    dev: options.dev,
    server: {
      listen:
        envListen !== undefined
          ? readListenAddress(envListen, 'KEYBROKER_LISTEN')
          : (fileListen ?? { host: '0.0.0.0', port: 8080 }),
      maxBodyBytes: server.optional('max_body_bytes', integerIn(1024, 1024 * 1024 * 1024)) ?? 2 * 1024 * 1024,
      tlsMinVersion: TLS_VERSIONS[tlsMinVersion],
    },
    ca: {
      dir: resolve(home, ca.optional('dir', readPath) ?? 'ca'),
      trustDomain: ca.optional('trust_domain', readDnsName) ?? 'keybroker.local',
      // A leaf certificate never lives longer than 24 hours (PROTOCOL.md 1.4).
      leafTtlSeconds: ca.optional('leaf_ttl_seconds', integerIn(1, 86400)) ?? 600,
      adminTtlSeconds: ca.optional('admin_ttl_seconds', integerIn(60, 31536000)) ?? 604800,
      issuerTtlSeconds: ca.optional('issuer_ttl_seconds', positiveInteger) ?? 31536000,
      rootTtlSeconds: ca.optional('root_ttl_seconds', positiveInteger) ?? 315360000,
      serverTtlSeconds: ca.optional('server_ttl_seconds', positiveInteger) ?? 7776000,
      autoRotate: ca.optional('auto_rotate', readBoolean) ?? true,
      checkIntervalMs: ca.optional('check_interval_ms', integerIn(100, 86_400_000)) ?? 10_000,
      crlValiditySeconds: ca.optional('crl_validity_seconds', integerIn(300, 30 * 86400)) ?? 86400,
      keyStorage,
    },
    ...(pkcs11 ? { pkcs11 } : {}),
    attestation: {
      nonceTtlSeconds: attestation.optional('nonce_ttl_seconds', integerIn(10, 3600)) ?? 300,
      enableSample: attestation.optional('enable_sample', readBoolean) ?? options.dev,
      collateralCacheDir: resolve(home, attestation.optional('collateral_cache_dir', readPath) ?? resolve(storeSettings.dataDir, 'collateral-cache')),
      snp: readSnpSettings(attestation, home),
      tdx: readTdxSettings(attestation, home),
    },
    v0: {
      // A token never outlives its session, so this is also the longest token lifetime.
      sessionTtlSeconds: v0.optional('session_ttl_seconds', integerIn(10, 3600)) ?? 300,
      allowRsa1_5: v0.optional('allow_rsa1_5', readBoolean) ?? false,
    },
    admin: {
      role: admin.optional('role', readRole) ?? 'admin',
      identityProviders: admin.optional('identity_provider', readIdentityProviders(home)) ?? [],
    },
    store: storeSettings,
  };
  document.rejectUnknownKeys();
  return config;
}
