import { execFile } from 'node:child_process';
import { brokerEnv, CLI_PATH } from './broker-process.js';

export interface CommandResult {
  /** Exit code; null when killed by a signal (see `signal`). */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: string;
}

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Written to standard input, which is then closed. */
  input?: string | Buffer;
  /** Killed with SIGKILL after this long (default 15 s). */
  timeoutMs?: number;
}

/** Runs a program without a shell; resolves with its exit status and output whatever the exit code. */
export function runCommand(file: string, args: readonly string[], options: RunOptions = {}): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(file, [...args], {
      cwd: options.cwd,
      env: options.env ?? process.env,
      encoding: 'buffer',
      maxBuffer: 64 * 1024 * 1024,
      timeout: options.timeoutMs ?? 15_000,
      killSignal: 'SIGKILL',
    }, (error, stdout, stderr) => {
      const failure = error as (NodeJS.ErrnoException & { code?: number | string; signal?: NodeJS.Signals | null }) | null;
      if (failure && typeof failure.code === 'string') {
        reject(new Error(`cannot run ${file}: ${failure.message}`));
        return;
      }
      resolve({
        code: failure ? (typeof failure.code === 'number' ? failure.code : null) : 0,
        signal: failure?.signal ?? null,
        stdout,
        stderr: stderr.toString('utf8'),
      });
    });
    child.stdin?.on('error', () => { /* the program may exit before reading its input */ });
    child.stdin?.end(options.input ?? '');
  });
}

/** `node bin/keybroker.js ARGS` with KEYBROKER_HOME = home, run in `cwd` (default: the home). */
export function runCli(home: string, args: readonly string[], options: Omit<RunOptions, 'env'> = {}): Promise<CommandResult> {
  return runCommand(process.execPath, [CLI_PATH, ...args], { ...options, cwd: options.cwd ?? home, env: brokerEnv(home) });
}

/** The system `curl`. */
export function runCurl(args: readonly string[], options: RunOptions = {}): Promise<CommandResult> {
  return runCommand('curl', args, options);
}

/** The system `openssl`. */
export function runOpenssl(args: readonly string[], options: RunOptions = {}): Promise<CommandResult> {
  return runCommand('openssl', args, options);
}

/** A readable summary of a failed command for assertion messages. */
export function describeResult(result: CommandResult): string {
  return `exit ${result.code}${result.signal ? ` (${result.signal})` : ''}; stderr: ${result.stderr.trim()}; stdout: ${result.stdout.toString('utf8').slice(0, 500)}`;
}
