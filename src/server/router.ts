import type { Context } from 'koa';
import { KbsError } from '../domain/errors.js';

export type Handler = (ctx: Context, params: { rest: string }) => Promise<void>;

interface Route {
  /** Exact path, or a prefix ending in "/" whose remainder is passed on as `rest`. */
  path: string;
  prefix: boolean;
  methods: Map<string, Handler>;
}

/**
 * A small table router: exact paths and path prefixes. An unknown path is 404 `not-found`; a known path
 * with another method is 405 `method-not-allowed` with an Allow header.
 */
export class Router {
  private readonly routes: Route[] = [];

  on(method: string, path: string, handler: Handler): this {
    const prefix = path.endsWith('/*');
    const key = prefix ? path.slice(0, -1) : path;
    let route = this.routes.find((candidate) => candidate.path === key && candidate.prefix === prefix);
    if (!route) {
      route = { path: key, prefix, methods: new Map() };
      this.routes.push(route);
    }
    route.methods.set(method, handler);
    if (method === 'GET') route.methods.set('HEAD', handler);
    return this;
  }

  async dispatch(ctx: Context): Promise<void> {
    const path = ctx.path;
    const route = this.routes.find((candidate) => (candidate.prefix ? path.startsWith(candidate.path) : path === candidate.path));
    if (!route) throw new KbsError('not-found', 'no such endpoint');
    const handler = route.methods.get(ctx.method);
    if (!handler) {
      ctx.set('Allow', [...route.methods.keys()].join(', '));
      throw new KbsError('method-not-allowed', `${ctx.method} is not allowed here`);
    }
    await handler(ctx, { rest: route.prefix ? path.slice(route.path.length) : '' });
  }
}
