// Every way a policy is refused when it is set (400 bad-request, with the field and the position of the error).
import { expect } from 'chai';
import { compileAttestationPolicy } from '../../../src/policy/attestation-policy.js';
import { EXPRESSION_LIMITS } from '../../../src/policy/cel-expression.js';
import { compileResourcePolicy, MAX_RULES } from '../../../src/policy/resource-policy.js';
import { badRequestDetail, DEV } from './policy-fixtures.js';

const allowDetail = (allow: unknown) => badRequestDetail(() => compileAttestationPolicy({ allow }, DEV));
const ruleDetail = (rule: Record<string, unknown>) => badRequestDetail(() => compileResourcePolicy({ rules: [{ match: '*/*/*', allow: 'true' }, rule] }, DEV));

describe('policy: rejections at set time', () => {
  it('a syntax error names the field, the error and its line and column', () => {
    expect(allowDetail('claims.status == ')).to.equal('"allow": Unexpected token: EOF at line 1, column 18');
    expect(allowDetail('claims.status ==\n  == "x"')).to.match(/^"allow": .* at line 2, column 3$/);
  });

  it('a type error', () => {
    expect(allowDetail('tee + 1 == 2')).to.match(/^"allow": no such overload: string \+ int at line 1, column 1$/);
    expect(badRequestDetail(() => compileAttestationPolicy({ allow: 'true', id: 'tee == "x"' }, DEV))).to.equal('"id": expression has type bool; it must be string');
  });

  it('an expression that does not give a boolean', () => {
    expect(allowDetail('tee')).to.equal('"allow": expression has type string; it must be bool');
  });

  it('an unknown variable (resource is not a variable of the attestation policy)', () => {
    expect(allowDetail('resource.path == "a"')).to.equal('"allow": Unknown variable: resource at line 1, column 1');
    expect(ruleDetail({ match: 'a/b/c', allow: 'claims.tee == "snp" && tees == "x"' })).to.equal('"rules[1].allow": Unknown variable: tees at line 1, column 24');
  });

  it('too large: characters, syntax tree nodes, nesting depth, literal list size', () => {
    expect(allowDetail(`"${'a'.repeat(EXPRESSION_LIMITS.maxChars)}" == tee`)).to.match(/characters; at most 4096/);
    expect(allowDetail(Array.from({ length: 150 }, (_, i) => `tee == "${i}"`).join(' || '))).to.match(/maxAstNodes/);
    expect(allowDetail(`${'('.repeat(40)}true${')'.repeat(40)}`)).to.match(/maxDepth/);
    expect(allowDetail(`tee in [${Array.from({ length: 300 }, (_, i) => `"${i}"`).join(',')}]`)).to.match(/maxListElements|maxAstNodes/);
    const tooMany = Array.from({ length: MAX_RULES + 1 }, () => ({ match: '*/*/*', allow: 'true' }));
    expect(badRequestDetail(() => compileResourcePolicy({ rules: tooMany }, DEV))).to.match(/at most 256/);
  });

  it('features without a cost bound: regular expressions, cel.bind, nested comprehensions', () => {
    expect(allowDetail('tee.matches("(a+)+$")')).to.match(/"matches" .* not allowed/);
    expect(allowDetail('matches(tee, "a")')).to.match(/"matches" .* not allowed/);
    expect(allowDetail('cel.bind(x, tee, x + x == "")')).to.match(/"cel.bind" is not allowed/);
    expect(allowDetail('[1, 2].exists(x, [3, 4].all(y, y > x))')).to.match(/"all" inside another comprehension .* at line 1, column 18/);
    // Sequential comprehensions are linear and stay allowed.
    expect(() => compileAttestationPolicy({ allow: '[1, 2].map(x, x * 2).filter(y, y > 2).size() == 1' }, DEV)).not.to.throw();
  });

  it('a missing or empty expression, and documents of the wrong shape', () => {
    expect(allowDetail(undefined)).to.match(/"allow": a CEL expression/);
    expect(allowDetail('  ')).to.match(/"allow": a CEL expression/);
    expect(badRequestDetail(() => compileAttestationPolicy([], DEV))).to.match(/JSON object/);
    expect(badRequestDetail(() => compileResourcePolicy({ rules: {} }, DEV))).to.match(/"rules" must be an array/);
    expect(ruleDetail({ allow: 'true' })).to.match(/"rules\[1\]\.match"/);
  });

  it('match patterns other than three segments of path characters or `*`', () => {
    for (const match of ['prod/*', 'prod/*/*/*', 'prod/key/d*', 'prod/**/x', '../key/x', 'prod//x', 'a b/c/d']) {
      expect(ruleDetail({ match, allow: 'true' }), match).to.match(/"rules\[1\]\.match": .* is not "repository\/type\/tag"/);
    }
  });
});
