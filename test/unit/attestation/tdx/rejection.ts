import { KbsError } from '../../../../src/domain/errors.js';

/** The KbsError an action throws (or rejects with); anything else, or no error, fails the test. */
export async function rejection(action: () => unknown): Promise<KbsError> {
  try {
    await action();
  } catch (error) {
    if (error instanceof KbsError) return error;
    throw new Error(`expected a KbsError, got ${String(error)}`);
  }
  throw new Error('expected a KbsError, nothing was thrown');
}
