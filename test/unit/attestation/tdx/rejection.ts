import { KbsError } from '../../../../src/domain/errors.js';
import { rejection as anyRejection } from '../../../helpers/rejection.js';

/** The KbsError an action throws (or rejects with); anything else, or no error, fails the test. */
export async function rejection(action: () => unknown): Promise<KbsError> {
  const error = await anyRejection((async () => action())());
  if (!(error instanceof KbsError)) throw new Error(`expected a KbsError, got ${String(error)}`);
  return error;
}
