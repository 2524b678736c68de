import { expect } from 'chai';
import { KbsError } from '../../../../src/domain/errors.js';
import { recordingLogger } from '../../../helpers/recording-logger.js';
import { isConnectionError, StoreHealth } from '../../../../src/store/postgres/store-health.js';

function withCode(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}

describe('StoreHealth', () => {
  it('tells a lost database from a failed query', () => {
    for (const error of [
      withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED'),
      withCode('read ECONNRESET', 'ECONNRESET'),
      withCode('terminating connection due to administrator command', '57P01'),
      withCode('the database system is starting up', '57P03'),
      withCode('connection failure', '08006'),
      new Error('Connection terminated unexpectedly'),
      new Error('timeout exceeded when trying to connect'),
      new Error('Query read timeout'),
    ]) expect(isConnectionError(error), error.message).to.equal(true);
    for (const error of [
      withCode('duplicate key value violates unique constraint', '23505'),
      withCode('relation "x" does not exist', '42P01'),
      new Error('something else'),
      'not an error',
    ]) expect(isConnectionError(error), String(error)).to.equal(false);
  });

  it('maps a lost database to 503 unavailable, logging once per outage and once on recovery, without the password', async () => {
    const log = recordingLogger();
    const health = new StoreHealth(log, 'db:5432/kb', 'pa55word');
    const lost = () => Promise.reject(withCode('connect ECONNREFUSED db:5432 (user kb password pa55word)', 'ECONNREFUSED'));
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const error = await health.guard('read resource', lost).catch((caught: unknown) => caught);
      expect(error).to.be.instanceOf(KbsError);
      expect((error as KbsError).code).to.equal('unavailable');
      expect((error as KbsError).detail).not.to.include('db:5432');
    }
    expect(health.isAvailable).to.equal(false);
    expect(await health.guard('read resource', async () => 'answer')).to.equal('answer');
    expect(log.lines).to.have.length(2);
    expect(log.lines[0]).to.include('store unavailable').and.include('db:5432/kb').and.include('read resource').and.not.include('pa55word');
    expect(log.lines[1]).to.include('store available again');
  });

  it('passes other failures through untouched and stays available', async () => {
    const log = recordingLogger();
    const health = new StoreHealth(log, 'db:5432/kb', undefined);
    const bug = withCode('syntax error', '42601');
    expect(await health.guard('x', () => Promise.reject(bug)).catch((caught: unknown) => caught)).to.equal(bug);
    expect(health.isAvailable).to.equal(true);
    expect(log.lines).to.deep.equal([]);
  });
});
