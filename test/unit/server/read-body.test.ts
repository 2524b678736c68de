import { expect } from 'chai';
import { readBody, readJsonBody } from '../../../src/server/read-body.js';
import { errorCodeOf } from '../pki/helpers.js';
import { makeContext } from './koa-context.js';

const json = (text: string): Buffer => Buffer.from(text, 'utf8');

describe('server/read-body', () => {
  describe('readBody', () => {
    it('reads a body in several chunks', async () => {
      const { ctx } = makeContext({ method: 'POST', body: [json('ab'), json('cd'), json('e')] });
      expect((await readBody(ctx, 100)).toString()).to.equal('abcde');
    });

    it('reads a body of exactly the limit', async () => {
      const { ctx } = makeContext({ method: 'POST', headers: { 'content-length': '10' }, body: [Buffer.alloc(10, 1)] });
      expect((await readBody(ctx, 10)).length).to.equal(10);
    });

    it('refuses a declared length over the limit before reading anything (413)', async () => {
      const { ctx, reads } = makeContext({ method: 'POST', headers: { 'content-length': '11' }, body: [Buffer.alloc(1)] });
      expect(await errorCodeOf(() => readBody(ctx, 10))).to.equal('payload-too-large');
      expect(reads()).to.equal(0);
    });

    it('refuses a streamed body as soon as it grows past the limit, without reading it whole', async () => {
      let served = 0;
      // an endless body: only stopping early lets this test finish
      const { ctx } = makeContext({ method: 'POST', body: () => { served++; return Buffer.alloc(1024, 0x61); } });
      expect(await errorCodeOf(() => readBody(ctx, 4096))).to.equal('payload-too-large');
      expect(served).to.be.lessThan(64);
    });

    it('reads an empty body', async () => {
      const { ctx } = makeContext({ method: 'POST', body: [] });
      expect((await readBody(ctx, 10)).length).to.equal(0);
    });
  });

  describe('readJsonBody', () => {
    it('parses application/json, with or without a charset parameter', async () => {
      for (const type of ['application/json', 'application/json; charset=utf-8']) {
        const { ctx } = makeContext({ method: 'POST', headers: { 'content-type': type }, body: [json('{"tee":"sample","n":[1,2]}')] });
        expect(await readJsonBody(ctx, 1024)).to.deep.equal({ tee: 'sample', n: [1, 2] });
      }
    });

    it('parses UTF-8 text', async () => {
      const { ctx } = makeContext({ method: 'POST', headers: { 'content-type': 'application/json' }, body: [json('{"name":"ünï ✓"}')] });
      expect(await readJsonBody(ctx, 1024)).to.deep.equal({ name: 'ünï ✓' });
    });

    it('refuses another declared media type with 415 unsupported-media-type', async () => {
      for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'application/octet-stream']) {
        const { ctx } = makeContext({ method: 'POST', headers: { 'content-type': type }, body: [json('{}')] });
        expect(await errorCodeOf(() => readJsonBody(ctx, 1024)), type).to.equal('unsupported-media-type');
      }
    });

    it('answers an empty body declared as JSON with bad-request, not 415', async () => {
      const { ctx } = makeContext({ method: 'POST', headers: { 'content-type': 'application/json', 'content-length': '0' }, body: [] });
      expect(await errorCodeOf(() => readJsonBody(ctx, 1024))).to.equal('bad-request');
    });

    it('reads a body without a content type as JSON', async () => {
      const { ctx } = makeContext({ method: 'POST', body: [json('{"tee":"sample"}')] });
      expect(await readJsonBody(ctx, 1024)).to.deep.equal({ tee: 'sample' });
    });

    it('refuses malformed JSON with bad-request', async () => {
      for (const text of ['{', '', '{"a":1}x', "{'a':1}"]) {
        const { ctx } = makeContext({ method: 'POST', headers: { 'content-type': 'application/json' }, body: [json(text)] });
        expect(await errorCodeOf(() => readJsonBody(ctx, 1024)), JSON.stringify(text)).to.equal('bad-request');
      }
    });

    it('refuses invalid UTF-8 with bad-request', async () => {
      const { ctx } = makeContext({ method: 'POST', headers: { 'content-type': 'application/json' }, body: [Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d])] });
      expect(await errorCodeOf(() => readJsonBody(ctx, 1024))).to.equal('bad-request');
    });

    it('refuses a JSON body over the limit with payload-too-large', async () => {
      const text = JSON.stringify({ pad: 'x'.repeat(2000) });
      const { ctx } = makeContext({ method: 'POST', headers: { 'content-type': 'application/json', 'content-length': String(text.length) }, body: [json(text)] });
      expect(await errorCodeOf(() => readJsonBody(ctx, 1024))).to.equal('payload-too-large');
    });
  });
});
