import { expect } from 'chai';
import { isValidSegment, parseResourcePath } from '../../../src/domain/resource-path.js';
import { errorCodeOf } from '../pki/helpers.js';

describe('domain/resource-path', () => {
  describe('parseResourcePath', () => {
    const valid: [string, [string, string, string]][] = [
      ['a/b/c', ['a', 'b', 'c']],
      ['default/key/1', ['default', 'key', '1']],
      ['my-repo/key_type/tag.v1', ['my-repo', 'key_type', 'tag.v1']],
      ['_x/-y/0.z', ['_x', '-y', '0.z']],
      ['a.b/c./d.e.f', ['a.b', 'c.', 'd.e.f']],
      [`${'r'.repeat(128)}/t/g`, ['r'.repeat(128), 't', 'g']],
    ];
    for (const [text, [repository, type, tag]] of valid) {
      it(`accepts ${text.length > 40 ? `${text.slice(0, 20)}… (${text.length} chars)` : text}`, () => {
        expect(parseResourcePath(text)).to.deep.equal({ repository, type, tag, path: `${repository}/${type}/${tag}` });
      });
    }

    const invalid: [string, string][] = [
      ['empty', ''],
      ['two segments', 'a/b'],
      ['four segments', 'a/b/c/d'],
      ['an empty segment', 'a//c'],
      ['a leading slash', '/a/b/c'],
      ['a trailing slash', 'a/b/c/'],
      ['a 129-character segment', `${'r'.repeat(129)}/t/g`],
      ['a segment starting with a dot', '.hidden/t/g'],
      ['a segment that is ..', 'a/../c'],
      ['a segment containing ..', 'a/b..c/d'],
      ['a segment ending in ..', 'a/b/c..'],
      ['a percent-encoded slash', 'a/b/c%2Fd'],
      ['a percent-encoded dot-dot', 'a/%2e%2e/c'],
      ['a backslash', 'a/b\\c/d'],
      ['a space', 'a/b c/d'],
      ['a NUL byte', 'a/b/c\u0000'],
      ['a newline', 'a/b/c\n'],
      ['non-ASCII letters', 'a/bé/c'],
      ['a colon', 'a/b:c/d'],
      ['a star', 'a/*/c'],
    ];
    for (const [label, text] of invalid) {
      it(`refuses ${label} with bad-request`, async () => {
        expect(await errorCodeOf(() => parseResourcePath(text))).to.equal('bad-request');
      });
    }
  });

  describe('isValidSegment', () => {
    it('follows ^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}$ without ".."', () => {
      expect(isValidSegment('a')).to.equal(true);
      expect(isValidSegment('A-Z_0.9')).to.equal(true);
      expect(isValidSegment('x'.repeat(128))).to.equal(true);
      expect(isValidSegment('x'.repeat(129))).to.equal(false);
      expect(isValidSegment('')).to.equal(false);
      expect(isValidSegment('.')).to.equal(false);
      expect(isValidSegment('..')).to.equal(false);
      expect(isValidSegment('a..')).to.equal(false);
      expect(isValidSegment('a.b.c')).to.equal(true);
      expect(isValidSegment('a/b')).to.equal(false);
    });
  });
});
