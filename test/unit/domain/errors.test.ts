import { expect } from 'chai';
import { ERROR_STATUS, isKbsError, KbsError, statusOf, type ErrorCode } from '../../../src/domain/errors.js';

/** The table of PROTOCOL.md section 0, transcribed. */
const PROTOCOL_TABLE: Record<string, number> = {
  'bad-request': 400, 'bad-csr': 400, 'bad-evidence-format': 400, 'unsupported-tee': 400,
  'no-client-certificate': 401, 'certificate-invalid': 401, 'certificate-revoked': 401, 'nonce-invalid': 401, 'token-invalid': 401, 'admin-auth-required': 401,
  'attestation-failed': 403, 'binding-mismatch': 403, 'policy-denied': 403, 'admin-forbidden': 403,
  'resource-not-found': 404, 'not-found': 404,
  'method-not-allowed': 405, 'not-allowed': 409, 'payload-too-large': 413, 'unsupported-media-type': 415, 'rate-limited': 429,
  'verifier-unavailable': 502, 'unavailable': 503, 'verifier-timeout': 504,
};

describe('domain/errors', () => {
  for (const [code, status] of Object.entries(PROTOCOL_TABLE)) {
    it(`maps ${code} to ${status}`, () => {
      expect(ERROR_STATUS).to.have.property(code);
      expect(statusOf(code as ErrorCode)).to.equal(status);
      expect(new KbsError(code as ErrorCode, 'x').status).to.equal(status);
    });
  }

  it('has no code outside the protocol table except internal-error (500)', () => {
    const extra = Object.keys(ERROR_STATUS).filter((code) => !(code in PROTOCOL_TABLE));
    expect(extra).to.deep.equal(['internal-error']);
    expect(statusOf('internal-error')).to.equal(500);
  });

  it('gives every code a non-empty title', () => {
    for (const code of Object.keys(ERROR_STATUS) as ErrorCode[]) {
      const title = new KbsError(code, 'detail').title;
      expect(title, code).to.be.a('string').and.not.equal('');
    }
  });

  it('is an Error carrying code, detail, status and cause', () => {
    const cause = new Error('root cause');
    const error = new KbsError('nonce-invalid', 'nonce has expired', { cause });
    expect(error).to.be.instanceOf(Error);
    expect(error.name).to.equal('KbsError');
    expect(error.code).to.equal('nonce-invalid');
    expect(error.detail).to.equal('nonce has expired');
    expect(error.message).to.contain('nonce-invalid');
    expect(error.status).to.equal(401);
    expect(error.cause).to.equal(cause);
  });

  it('recognises KbsErrors only', () => {
    expect(isKbsError(new KbsError('bad-request', 'x'))).to.equal(true);
    expect(isKbsError(new Error('bad-request'))).to.equal(false);
    expect(isKbsError({ code: 'bad-request', status: 400 })).to.equal(false);
    expect(isKbsError(undefined)).to.equal(false);
  });
});
