/** Baseline servers for the network groups: a bare Node HTTPS server, and nginx where it is installed. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface RunningServer {
  /** What the baseline is, for the report. */
  readonly name: string;
  readonly url: string;
  readonly pid: number;
  stop(): Promise<void>;
}

export interface BaselineFiles {
  /** PEM server certificate chain and key (the broker's own, so both sides do the same handshake). */
  cert: string;
  key: string;
  /** PEM bundle trusted for client certificates. */
  ca: string;
  /** The bytes every GET answers. */
  bodyFile: string;
  /** The URL path nginx serves the bytes at. */
  path: string;
}

function waitForPort(child: ChildProcess, pattern: RegExp, what: string): Promise<number> {
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`${what} did not start: ${output}`)), 10_000);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString('utf8');
      const match = pattern.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (chunk: Buffer) => { output += chunk.toString('utf8'); });
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`${what} exited with ${code}: ${output}`)); });
  });
}

function stopper(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): () => Promise<void> {
  return () => new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill(signal);
  });
}

export async function startBareHttpsServer(files: BaselineFiles): Promise<RunningServer> {
  const script = fileURLToPath(new URL('./load/bare-https-server.js', import.meta.url));
  const child = spawn(process.execPath, [script, JSON.stringify(files)], { stdio: ['ignore', 'pipe', 'pipe'] });
  const port = await waitForPort(child, /listening (\d+)/, 'bare HTTPS server');
  return { name: 'bare node:https server', url: `https://127.0.0.1:${port}`, pid: child.pid!, stop: stopper(child) };
}

/** nginx's binary, installing Debian's nginx-light when it is missing and we may (root); undefined otherwise. */
export function findOrInstallNginx(): string | undefined {
  const candidates = ['/usr/sbin/nginx', '/usr/bin/nginx'];
  const present = candidates.find((path) => existsSync(path));
  if (present) return present;
  if (process.getuid?.() !== 0) return undefined;
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const installed = spawnSync('apt-get', ['install', '-y', '-qq', 'nginx-light'], { env, stdio: 'ignore' });
  if (installed.status !== 0) {
    spawnSync('apt-get', ['update', '-qq'], { env, stdio: 'ignore' });
    spawnSync('apt-get', ['install', '-y', '-qq', 'nginx-light'], { env, stdio: 'ignore' });
  }
  return candidates.find((path) => existsSync(path));
}

function freePort(): number {
  // nginx cannot report an ephemeral port back, so pick one in a range the kernel does not hand out by default.
  return 20_000 + Math.floor(Math.random() * 10_000);
}

/** nginx with one worker (the broker is one process), mutual TLS required, serving the same bytes. */
export async function startNginx(binary: string, files: BaselineFiles, workDir: string): Promise<RunningServer> {
  mkdirSync(join(workDir, 'logs'), { recursive: true });
  const port = freePort();
  const config = `
user root;
worker_processes 1;
daemon off;
pid ${join(workDir, 'nginx.pid')};
error_log ${join(workDir, 'logs', 'error.log')} warn;
events { worker_connections 4096; }
http {
  access_log ${join(workDir, 'logs', 'access.log')};
  client_body_temp_path ${join(workDir, 'body')};
  proxy_temp_path ${join(workDir, 'proxy')};
  fastcgi_temp_path ${join(workDir, 'fastcgi')};
  uwsgi_temp_path ${join(workDir, 'uwsgi')};
  scgi_temp_path ${join(workDir, 'scgi')};
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:${port} ssl;
    ssl_certificate ${files.cert};
    ssl_certificate_key ${files.key};
    ssl_client_certificate ${files.ca};
    ssl_verify_client on;
    ssl_verify_depth 3;
    ssl_protocols TLSv1.3;
    ssl_ecdh_curve X25519:prime256v1;
    location = ${files.path} {
      alias ${files.bodyFile};
      default_type application/octet-stream;
      add_header cache-control no-store;
    }
  }
}
`;
  const configFile = join(workDir, 'nginx.conf');
  writeFileSync(configFile, config);
  const child = spawn(binary, ['-p', workDir, '-c', configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    const started = Date.now();
    const probe = (): void => {
      if (child.exitCode !== null) return reject(new Error(`nginx exited with ${child.exitCode}`));
      const check = spawnSync('bash', ['-c', `exec 3<>/dev/tcp/127.0.0.1/${port}`], { stdio: 'ignore' });
      if (check.status === 0) return resolve();
      if (Date.now() - started > 10_000) return reject(new Error('nginx did not start listening'));
      setTimeout(probe, 100);
    };
    probe();
  });
  return { name: 'nginx (1 worker, ssl_verify_client on)', url: `https://127.0.0.1:${port}`, pid: child.pid!, stop: stopper(child, 'SIGQUIT') };
}
