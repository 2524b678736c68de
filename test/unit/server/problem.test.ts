import { expect } from 'chai';
import { KbsError } from '../../../src/domain/errors.js';
import type { Logger } from '../../../src/domain/logger.js';
import { PROBLEM_CONTENT_TYPE, toKbsError, writeProblem } from '../../../src/server/problem.js';
import { makeContext } from './koa-context.js';

describe('server/problem', () => {
  it('writes an RFC 9457 problem with type urn:keybroker:error:<code>, title, status and detail', () => {
    const { ctx } = makeContext();
    writeProblem(ctx, new KbsError('nonce-invalid', 'nonce has expired; request a new challenge'));
    expect(ctx.status).to.equal(401);
    expect(PROBLEM_CONTENT_TYPE).to.equal('application/problem+json');
    expect(ctx.response.get('Content-Type')).to.match(/^application\/problem\+json/);
    const body = JSON.parse(String(ctx.body)) as Record<string, unknown>;
    expect(body).to.deep.equal({ type: 'urn:keybroker:error:nonce-invalid', title: 'Nonce invalid', status: 401, detail: 'nonce has expired; request a new challenge' });
  });

  it('uses the status of the code for every code', () => {
    for (const [code, status] of [['bad-csr', 400], ['binding-mismatch', 403], ['method-not-allowed', 405], ['verifier-timeout', 504]] as const) {
      const { ctx } = makeContext();
      writeProblem(ctx, new KbsError(code, 'x'));
      expect(ctx.status, code).to.equal(status);
      expect((JSON.parse(String(ctx.body)) as { status: number }).status).to.equal(status);
    }
  });

  it('turns anything else into a bare internal-error, logging it on the server only', () => {
    const logged: unknown[] = [];
    const log: Logger = { info() {}, warn() {}, error(message, fields) { logged.push([message, fields]); } };
    const converted = toKbsError(new Error('open /var/lib/keybroker/ca/root/key.pem failed'), log);
    expect(converted.code).to.equal('internal-error');
    expect(converted.status).to.equal(500);
    expect(converted.detail).to.not.contain('/var/lib');
    expect(converted.detail).to.not.contain('key.pem');
    expect(logged).to.have.length(1);
    expect(JSON.stringify(logged)).to.contain('key.pem');
  });

  it('passes a KbsError through unchanged, without logging', () => {
    let logged = 0;
    const log: Logger = { info() {}, warn() {}, error() { logged++; } };
    const original = new KbsError('policy-denied', 'no');
    expect(toKbsError(original, log)).to.equal(original);
    expect(logged).to.equal(0);
  });
});
