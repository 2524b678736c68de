import { expect } from 'chai';
import type { Context } from 'koa';
import { Router } from '../../../src/server/router.js';
import { errorCodeOf } from '../pki/helpers.js';
import { makeContext } from './koa-context.js';

describe('server/router', () => {
  const calls: string[] = [];
  const handler = (name: string) => async (_ctx: Context, params: { rest: string }): Promise<void> => { calls.push(`${name}:${params.rest}`); };
  const router = new Router()
    .on('GET', '/healthz', handler('health'))
    .on('POST', '/kbs/v1/challenge', handler('challenge'))
    .on('GET', '/kbs/v1/resource/*', handler('resource'))
    .on('PUT', '/kbs/v1/admin/resource/*', handler('put'))
    .on('DELETE', '/kbs/v1/admin/resource/*', handler('delete'));

  beforeEach(() => {
    calls.length = 0;
  });

  const dispatch = async (method: string, url: string): Promise<Context> => {
    const { ctx } = makeContext({ method, url });
    await router.dispatch(ctx);
    return ctx;
  };

  it('dispatches exact paths to their handler', async () => {
    await dispatch('GET', '/healthz');
    await dispatch('POST', '/kbs/v1/challenge');
    expect(calls).to.deep.equal(['health:', 'challenge:']);
  });

  it('passes the remainder of a prefix route as rest, query excluded', async () => {
    await dispatch('GET', '/kbs/v1/resource/repo/key/tag?x=1');
    await dispatch('PUT', '/kbs/v1/admin/resource/a/b/c');
    await dispatch('DELETE', '/kbs/v1/admin/resource/a/b/c');
    expect(calls).to.deep.equal(['resource:repo/key/tag', 'put:a/b/c', 'delete:a/b/c']);
  });

  it('answers HEAD with the GET handler', async () => {
    await dispatch('HEAD', '/healthz');
    expect(calls).to.deep.equal(['health:']);
  });

  it('answers 404 not-found for an unknown path', async () => {
    for (const url of ['/', '/nope', '/healthz/extra', '/kbs/v1/challengex', '/kbs/v1/resource']) {
      const { ctx } = makeContext({ method: 'GET', url });
      expect(await errorCodeOf(() => router.dispatch(ctx)), url).to.equal('not-found');
    }
    expect(calls).to.deep.equal([]);
  });

  it('answers 405 method-not-allowed with an Allow header listing the methods of a known path', async () => {
    const { ctx } = makeContext({ method: 'GET', url: '/kbs/v1/challenge' });
    expect(await errorCodeOf(() => router.dispatch(ctx))).to.equal('method-not-allowed');
    expect(ctx.response.get('Allow')).to.equal('POST');

    const health = makeContext({ method: 'DELETE', url: '/healthz' }).ctx;
    expect(await errorCodeOf(() => router.dispatch(health))).to.equal('method-not-allowed');
    expect(health.response.get('Allow').split(', ').sort()).to.deep.equal(['GET', 'HEAD']);

    const admin = makeContext({ method: 'POST', url: '/kbs/v1/admin/resource/a/b/c' }).ctx;
    expect(await errorCodeOf(() => router.dispatch(admin))).to.equal('method-not-allowed');
    expect(admin.response.get('Allow').split(', ').sort()).to.deep.equal(['DELETE', 'PUT']);
    expect(calls).to.deep.equal([]);
  });
});
