import type { Logger } from '../domain/logger.js';

/** JSON lines on stdout (info) and stderr (warn, error): one record per event, easy to ship and grep. */
export function jsonLogger(stream: { out: NodeJS.WritableStream; err: NodeJS.WritableStream } = { out: process.stdout, err: process.stderr }): Logger {
  const write = (target: NodeJS.WritableStream, level: string, message: string, fields?: Record<string, unknown>): void => {
    target.write(`${JSON.stringify({ time: new Date().toISOString(), level, msg: message, ...fields })}\n`);
  };
  return {
    info: (message, fields) => write(stream.out, 'info', message, fields),
    warn: (message, fields) => write(stream.err, 'warn', message, fields),
    error: (message, fields) => write(stream.err, 'error', message, fields),
  };
}
