import type { Logger } from '../../src/domain/logger.js';

/** A logger that keeps each record as one JSON line, for tests to search. */
export function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const record = (level: string) => (message: string, fields?: Record<string, unknown>) => void lines.push(JSON.stringify({ level, message, ...fields }));
  return { lines, info: record('info'), warn: record('warn'), error: record('error') };
}
