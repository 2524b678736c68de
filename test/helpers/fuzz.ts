/** fast-check helpers shared by the verifiers' property tests. */
import fc from 'fast-check';
import { KbsError } from '../../src/domain/errors.js';

/** Runs the action; anything thrown (or rejected with) other than a KbsError fails the property. */
export async function onlyKbsErrors(action: () => unknown): Promise<void> {
  try {
    await action();
  } catch (error) {
    if (!(error instanceof KbsError)) throw error;
  }
}

/** A byte-level mutation of a buffer: overwrite, insert, delete or truncate at a position. */
export const mutation = fc.record({
  kind: fc.constantFrom('overwrite', 'insert', 'delete', 'truncate'),
  at: fc.nat(),
  bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }),
});

export function mutate(input: Buffer, { kind, at, bytes }: { kind: string; at: number; bytes: Uint8Array }): Buffer {
  const position = input.length === 0 ? 0 : at % input.length;
  if (kind === 'truncate') return input.subarray(0, position);
  if (kind === 'delete') return Buffer.concat([input.subarray(0, position), input.subarray(position + bytes.length)]);
  if (kind === 'insert') return Buffer.concat([input.subarray(0, position), bytes, input.subarray(position)]);
  const copy = Buffer.from(input);
  Buffer.from(bytes).copy(copy, position);
  return copy;
}
