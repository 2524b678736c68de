import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The checkout root: this file runs from dist/test/e2e/helpers/. */
export const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
/** The `keybroker` command, run with `node`. */
export const CLI_PATH = join(REPO_ROOT, 'bin', 'keybroker.js');

const LISTENING = /keybroker listening on https:\/\/127\.0\.0\.1:(\d+)/;

export interface StartOptions {
  /** Text of `<home>/keybroker.toml`; no config file when absent. */
  toml?: string;
  /** Reuse this home instead of a fresh temporary one (it is then kept on stop unless removeHome is set). */
  home?: string;
  /** Remove the home directory on stop (default: true for a fresh home, false for a given one). */
  removeHome?: boolean;
  /** Port on 127.0.0.1 (default 0: any free port); a restart on a known port keeps clients' URLs valid. */
  port?: number;
  /** How long to wait for the listening line (default 15 s). */
  startTimeoutMs?: number;
  /** Pass `--dev` (default true); without it the home must already hold a CA. */
  dev?: boolean;
}

/** One `keybroker serve --dev` process in its own home directory. */
export interface BrokerProcess {
  readonly home: string;
  readonly port: number;
  /** `https://127.0.0.1:PORT` */
  readonly url: string;
  /** `<home>/ca/bundle.pem` */
  readonly bundlePath: string;
  /** Contents of the bundle file as it was right after the start. */
  readonly bundlePem: string;
  readonly pid: number;
  stdout(): string;
  stderr(): string;
  /** True while the process runs. */
  running(): boolean;
  /** SIGTERM (SIGKILL after a grace period), then removes the home when asked to; resolves with the exit code. */
  stop(): Promise<number | null>;
}

/** Every process and temporary home this module made and has not cleaned up yet, for the exit safety net. */
const live = new Set<ChildProcess>();
const homes = new Set<string>();
let safetyNetInstalled = false;

function installSafetyNet(): void {
  if (safetyNetInstalled) return;
  safetyNetInstalled = true;
  process.on('exit', () => {
    for (const child of live) {
      try { child.kill('SIGKILL'); } catch { /* already gone */ }
    }
    for (const home of homes) rmSync(home, { recursive: true, force: true });
  });
}

/** A fresh temporary directory that the exit safety net removes if the test does not. */
export function makeTempDir(prefix = 'keybroker-e2e-'): string {
  installSafetyNet();
  const dir = mkdtempSync(join(tmpdir(), prefix));
  homes.add(dir);
  return dir;
}

export function removeTempDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  homes.delete(dir);
}

/** The environment for a broker or CLI process of `home`: no inherited keybroker settings. */
export function brokerEnv(home: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of Object.keys(env)) if (name.startsWith('KEYBROKER_')) delete env[name];
  return { ...env, KEYBROKER_HOME: home, ...extra };
}

function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => { child.off('exit', onExit); resolve(false); }, timeoutMs);
    const onExit = (): void => { clearTimeout(timer); resolve(true); };
    child.once('exit', onExit);
  });
}

export async function startBroker(options: StartOptions = {}): Promise<BrokerProcess> {
  installSafetyNet();
  const fresh = options.home === undefined;
  const home = options.home ?? makeTempDir();
  const removeHome = options.removeHome ?? fresh;
  if (options.toml !== undefined) writeFileSync(join(home, 'keybroker.toml'), options.toml);

  const child = spawn(process.execPath, [CLI_PATH, 'serve', ...(options.dev === false ? [] : ['--dev'])], {
    cwd: home,
    env: brokerEnv(home, { KEYBROKER_LISTEN: `127.0.0.1:${options.port ?? 0}` }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => { stdout += chunk; });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk; });
  child.once('exit', () => live.delete(child));

  const cleanup = async (): Promise<number | null> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      if (!(await waitForExit(child, 5000))) {
        child.kill('SIGKILL');
        await waitForExit(child, 5000);
      }
    }
    live.delete(child);
    if (removeHome) removeTempDir(home);
    return child.exitCode;
  };

  let port: number;
  try {
    port = await new Promise<number>((resolve, reject) => {
      const timeoutMs = options.startTimeoutMs ?? 15_000;
      const timer = setTimeout(() => finish(new Error(`broker did not report listening within ${timeoutMs} ms; stderr:\n${stderr}`)), timeoutMs);
      const onData = (): void => {
        const match = LISTENING.exec(stderr);
        if (match) finish(undefined, Number(match[1]));
      };
      const onExit = (code: number | null, signal: string | null): void => {
        finish(new Error(`broker exited (code ${code}, signal ${signal}) before listening; stderr:\n${stderr}`));
      };
      function finish(error: Error | undefined, value?: number): void {
        clearTimeout(timer);
        child.stderr!.off('data', onData);
        child.off('exit', onExit);
        if (error) reject(error); else resolve(value!);
      }
      child.stderr!.on('data', onData);
      child.once('exit', onExit);
      onData();
    });
  } catch (error) {
    await cleanup();
    throw error;
  }

  const bundlePath = join(home, 'ca', 'bundle.pem');
  let stopped: Promise<number | null> | undefined;
  return {
    home,
    port,
    url: `https://127.0.0.1:${port}`,
    bundlePath,
    bundlePem: readFileSync(bundlePath, 'utf8'),
    pid: child.pid!,
    stdout: () => stdout,
    stderr: () => stderr,
    running: () => child.exitCode === null && child.signalCode === null,
    stop: () => (stopped ??= cleanup()),
  };
}
