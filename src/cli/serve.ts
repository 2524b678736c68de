import { join } from 'node:path';
import { createApp } from '../server/app.js';
import { composeBroker, reloadOrKeep } from '../server/compose.js';
import { listen, tlsOptions } from '../server/listen.js';
import { jsonLogger } from '../server/logger.js';
import { parseCommandArgs } from './args.js';
import { cliConfig } from './home.js';
import { tdxSettingWarnings } from '../config/tdx-settings.js';
import { snpSettingWarnings } from '../config/verifier-settings.js';
import { apiKeyFileWarnings } from '../config/api-key-file.js';

const SHUTDOWN_GRACE_MS = 5_000;

function displayHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/** `keybroker serve [--dev] [--config FILE]`: runs until SIGINT or SIGTERM; SIGHUP reloads the CA home. */
export async function serve(args: string[]): Promise<number> {
  const { values } = parseCommandArgs(args, { dev: { type: 'boolean' }, config: { type: 'string' } });
  const config = cliConfig({ dev: values.dev === true, configFile: values.config });
  const log = jsonLogger();
  const broker = await composeBroker(config, log);
  const app = createApp(broker.context, { maxBodyBytes: config.server.maxBodyBytes });
  const { server, address } = await listen(app, config, broker.context.ca());
  const bundle = join(config.ca.dir, 'bundle.pem');

  if (config.attestation.enableSample) {
    log.warn('the sample TEE is ENABLED: it proves nothing about hardware; never use it in production', { dev: config.dev });
  }
  for (const warning of tdxSettingWarnings(config.attestation.tdx)) log.warn(warning);
  for (const warning of snpSettingWarnings(config.attestation.snp)) log.warn(warning);
  for (const warning of apiKeyFileWarnings(config.verifiers)) log.warn(warning);
  process.stderr.write([
    `keybroker listening on https://${displayHost(address.address)}:${address.port}${config.dev ? ' (development mode)' : ''}`,
    `  trust bundle:      ${bundle}`,
    `  TEEs enabled:      ${broker.context.verifiers.enabledTees().join(', ') || 'none'}${config.attestation.enableSample ? ' (sample is ENABLED: development only)' : ''}`,
    `  admin certificate: npx keybroker ca issue-admin --name ops --out ./ops`,
    '',
  ].join('\n'));

  // The CA home is re-read every [ca] check_interval_ms and on SIGHUP; a new server certificate or trust bundle
  // replaces the TLS context for new connections while open ones carry on.
  broker.context.caLifecycle.onTlsChange((ca) => server.setSecureContext(tlsOptions(ca, config.server.tlsMinVersion)));
  broker.context.caLifecycle.start();
  process.on('SIGHUP', () => void reloadOrKeep(broker.reloadCa, log));
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      // Finish requests in flight; idle keep-alive connections close now, stragglers after a grace period.
      server.close(() => resolve());
      server.closeIdleConnections();
      setTimeout(() => server.closeAllConnections(), SHUTDOWN_GRACE_MS).unref();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await broker.close();
  return 0;
}
