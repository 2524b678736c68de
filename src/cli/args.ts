import { parseArgs, type ParseArgsConfig } from 'node:util';
import { usageError } from './cli-error.js';
import { messageOf } from '../domain/errors.js';

type Options = NonNullable<ParseArgsConfig['options']>;

/** parseArgs with usage errors turned into exit code 2. */
export function parseCommandArgs<T extends Options>(args: string[], options: T, allowPositionals = false) {
  try {
    return parseArgs({ args, options, allowPositionals, strict: true });
  } catch (error) {
    throw usageError(messageOf(error));
  }
}

export function requireOption(value: string | boolean | (string | boolean)[] | undefined, flag: string): string {
  if (typeof value !== 'string' || value === '') throw usageError(`${flag} is required`);
  return value;
}
