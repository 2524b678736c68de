// Resource policy semantics (PROTOCOL.md 1.7): ordered rules, first match wins, no match denies, `*` is one segment.
import { expect } from 'chai';
import { compileResourcePolicy, NO_RULE_MATCHED } from '../../../src/policy/resource-policy.js';
import { claimsFor, DEV, PRODUCTION, requestFor } from './policy-fixtures.js';

const compile = (rules: { match: string; allow: string }[], facts = DEV) => compileResourcePolicy({ rules }, facts).policy;

describe('policy/resource-policy', () => {
  it('the first matching rule decides, even when a later one would decide otherwise', () => {
    const policy = compile([
      { match: 'prod/key/db', allow: 'false' },
      { match: 'prod/*/*', allow: 'true' },
    ]);
    const denied = policy.evaluate(requestFor('prod/key/db'));
    expect(denied).to.deep.include({ allow: false, rule: '#1 prod/key/db' });
    expect(policy.evaluate(requestFor('prod/key/other'))).to.deep.include({ allow: true, rule: '#2 prod/*/*' });
  });

  it('no matching rule denies, and says so', () => {
    const policy = compile([{ match: 'prod/*/*', allow: 'true' }]);
    expect(policy.evaluate(requestFor('dev/key/db'))).to.deep.include({ allow: false, rule: NO_RULE_MATCHED });
    expect(compile([]).evaluate(requestFor('prod/key/db'))).to.deep.include({ allow: false, rule: NO_RULE_MATCHED });
  });

  it('`*` matches exactly one whole segment, never a part of one', () => {
    const policy = compile([{ match: '*/key/*', allow: 'true' }]);
    expect(policy.evaluate(requestFor('a/key/b')).allow).to.equal(true);
    expect(policy.evaluate(requestFor('a/keys/b')).allow).to.equal(false);
    expect(policy.evaluate(requestFor('a/xkey/b')).allow).to.equal(false);
  });

  it('rules read claims, resource and client', () => {
    const policy = compile([
      { match: 'prod/*/*', allow: 'claims.tee == "snp" && claims.measurement == "aa11" && resource.type == "key" && resource.path.startsWith("prod/") && client.spiffe_id.endsWith("/abc") && client.serial == "0a1b"' },
    ]);
    expect(policy.evaluate(requestFor('prod/key/db', claimsFor('snp', { measurement: 'aa11' }))).allow).to.equal(true);
    expect(policy.evaluate(requestFor('prod/key/db', claimsFor('snp', { measurement: 'bb22' }))).allow).to.equal(false);
    expect(policy.evaluate(requestFor('prod/cert/db', claimsFor('snp', { measurement: 'aa11' }))).allow).to.equal(false);
    expect(policy.evaluate(requestFor('prod/key/db', claimsFor('sample', { measurement: 'aa11' }))).allow).to.equal(false);
  });

  it('integer claims are CEL ints: arithmetic and comparisons with int literals work', () => {
    const policy = compile([{ match: '*/*/*', allow: 'claims.trust_vector.hardware >= 2 && claims.iat + 600 > 1764410000 && claims.v == 1' }]);
    expect(policy.evaluate(requestFor('a/b/c')).allow).to.equal(true);
  });

  it('lists, maps, `in` and macros over claims', () => {
    const policy = compile([{ match: '*/*/*', allow: 'claims.tee in ["snp", "tdx"] && "svn" in claims.tee_claims && claims.tee_claims.policy.debug == false && [claims.tcb_status].exists(s, s == "UpToDate") && ["a", "b"].all(x, size(x) == 1)' }]);
    expect(policy.evaluate(requestFor('a/b/c')).allow).to.equal(true);
    expect(policy.evaluate(requestFor('a/b/c', claimsFor('sgx'))).allow).to.equal(false);
  });

  it('an evaluation error (a missing claim) denies with the reason, and does not throw', () => {
    const policy = compile([{ match: '*/*/*', allow: 'claims.no_such_claim == "x"' }]);
    const decision = policy.evaluate(requestFor('a/b/c'));
    expect(decision.allow).to.equal(false);
    expect(decision.rule).to.equal('#1 */*/*');
    expect(decision.reason).to.match(/evaluation error: .*no_such_claim/);
  });

  it('a dyn expression that gives a non-boolean denies', () => {
    const decision = compile([{ match: '*/*/*', allow: 'claims.tee' }]).evaluate(requestFor('a/b/c'));
    expect(decision.allow).to.equal(false);
    expect(decision.reason).to.match(/boolean/);
  });

  it('`broker.dev_mode` reflects the broker', () => {
    const rules = [{ match: '*/*/*', allow: 'broker.dev_mode' }];
    expect(compile(rules, DEV).evaluate(requestFor('a/b/c')).allow).to.equal(true);
    expect(compile(rules, PRODUCTION).evaluate(requestFor('a/b/c')).allow).to.equal(false);
  });

  it('keeps the document as given (known fields only)', () => {
    const { document } = compileResourcePolicy({ rules: [{ match: 'a/*/*', allow: 'true', note: 'x' }], extra: 1 }, DEV);
    expect(document).to.deep.equal({ rules: [{ match: 'a/*/*', allow: 'true' }] });
  });
});
