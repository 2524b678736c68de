/**
 * One broker with the default configuration, shared by every e2e test that needs nothing special. It starts
 * on first use; a root-level `after` hook (registered once, when this module is first imported by a spec file)
 * stops it and removes its home, also when tests failed.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Credential } from './https-client.js';
import { startBroker, type BrokerProcess } from './broker-process.js';
import { describeResult, runCli } from './run-command.js';

let broker: Promise<BrokerProcess> | undefined;
let admin: Promise<AdminCredential> | undefined;

export interface AdminCredential extends Credential {
  /** Directory with key.pem, cert.pem, chain.pem as written by `ca issue-admin`. */
  dir: string;
}

export function sharedBroker(): Promise<BrokerProcess> {
  broker ??= startBroker();
  return broker;
}

/** An admin credential issued once by `keybroker ca issue-admin --name ops` in the shared broker's home. */
export function sharedAdmin(): Promise<AdminCredential> {
  admin ??= sharedBroker().then((broker) => issueAdmin(broker.home, 'ops'));
  return admin;
}

/** An admin credential issued by `keybroker ca issue-admin --name NAME` in a broker's home. */
export async function issueAdmin(home: string, name: string): Promise<AdminCredential> {
  const work = join(home, 'work');
  mkdirSync(work, { recursive: true });
  const dir = join(work, `${name}-admin`);
  const result = await runCli(home, ['ca', 'issue-admin', '--name', name, '--out', dir], { cwd: work });
  if (result.code !== 0) throw new Error(`ca issue-admin failed: ${describeResult(result)}`);
  return { dir, cert: readFileSync(join(dir, 'cert.pem'), 'utf8'), key: readFileSync(join(dir, 'key.pem'), 'utf8') };
}

after(async function stopSharedBroker() {
  this.timeout(15_000);
  if (!broker) return;
  const started = broker;
  broker = undefined;
  admin = undefined;
  const process = await started.catch(() => undefined);
  await process?.stop();
});
