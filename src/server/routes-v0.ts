import type { Context } from 'koa';
import type { KbsError } from '../domain/errors.js';
import { bearerToken } from '../protocol/admin-bearer.js';
import type { BrokerContext } from '../protocol/broker-context.js';
import { attest } from '../protocol/v0/attest.js';
import { auth } from '../protocol/v0/auth.js';
import { readV0Resource } from '../protocol/v0/resource.js';
import { SESSION_COOKIE, sessionCookie } from '../protocol/v0/session.js';
import { trusteeErrorBody, type V0Area } from '../protocol/v0/trustee-errors.js';
import { deleteResource, putResource } from '../protocol/v1/admin.js';
import { setAttestationPolicyText, setResourcePolicyText } from '../protocol/policy-admin.js';
import { policyTextOf } from '../protocol/v0/policy.js';
import { JOSE_JSON } from '../protocol/resource-envelope.js';
import { readBody, readJsonBody } from './read-body.js';
import type { Handler, Router } from './router.js';

export const V0_PREFIX = '/kbs/v0/';

export interface V0RouteOptions {
  maxBodyBytes: number;
  /** The admin authentication of the v1 admin API (bearer JWT or admin certificate); answers the admin's name. */
  authenticateAdmin(ctx: Context): Promise<string>;
}

/** An admin route of v0: authenticated first, then the handler with the admin's name (for the audit log). */
export type V0AdminHandler = (ctx: Context, admin: string, params: { rest: string }) => Promise<void>;

export function v0AdminRoute(options: V0RouteOptions, handler: V0AdminHandler): Handler {
  return async (ctx, params) => handler(ctx, await options.authenticateAdmin(ctx), params);
}

function areaOf(ctx: Context): V0Area {
  const path = ctx.path;
  if (path === '/kbs/v0/auth' || path === '/kbs/v0/attest') return 'attestation';
  if (path.startsWith('/kbs/v0/resource/') && ctx.method !== 'GET' && ctx.method !== 'HEAD') return 'admin';
  if (path.endsWith('-policy')) return 'admin';
  return 'resource';
}

export function isV0Request(ctx: Context): boolean {
  return ctx.path.startsWith(V0_PREFIX);
}

/** v0 errors in trustee's shape (PROTOCOL.md 2), never problem+json; the status stays keybroker's. */
export function writeV0Error(ctx: Context, error: KbsError): void {
  ctx.status = error.status;
  ctx.type = 'application/json';
  ctx.body = JSON.stringify(trusteeErrorBody(error, areaOf(ctx)));
}

/** The trustee protocol 0.4.0 routes (PROTOCOL.md 2). */
export function addV0Routes(router: Router, broker: BrokerContext, options: V0RouteOptions): Router {
  const v0 = broker.v0;
  if (!v0) return router;
  return router
    .on('POST', '/kbs/v0/auth', async (ctx) => {
      const result = auth(broker, v0, await readJsonBody(ctx, options.maxBodyBytes));
      ctx.set('Set-Cookie', sessionCookie(result.cookie, v0.sessionTtlSeconds));
      ctx.body = result.body;
    })
    .on('POST', '/kbs/v0/attest', async (ctx) => {
      ctx.body = await attest(broker, v0, ctx.cookies.get(SESSION_COOKIE), await readJsonBody(ctx, options.maxBodyBytes));
    })
    .on('GET', '/kbs/v0/resource/*', async (ctx, { rest }) => {
      const bearer = bearerToken(ctx.get('Authorization') || undefined);
      const cookie = ctx.cookies.get(SESSION_COOKIE);
      const envelope = await readV0Resource(broker, v0, { ...(bearer ? { bearer } : {}), ...(cookie ? { cookie } : {}) }, rest);
      ctx.set('Cache-Control', 'no-store');
      ctx.type = JOSE_JSON;
      ctx.body = envelope;
    })
    .on('POST', '/kbs/v0/resource/*', v0AdminRoute(options, async (ctx, admin, { rest }) => {
      await putResource(broker, admin, rest, await readBody(ctx, options.maxBodyBytes));
      ctx.status = 200;
    }))
    .on('DELETE', '/kbs/v0/resource/*', v0AdminRoute(options, async (ctx, admin, { rest }) => {
      await deleteResource(broker, admin, rest);
      ctx.status = 204;
    }))
    .on('POST', '/kbs/v0/resource-policy', v0AdminRoute(options, async (ctx, admin) => {
      await setResourcePolicyText(broker, admin, policyTextOf(await readJsonBody(ctx, options.maxBodyBytes)));
      ctx.status = 200;
    }))
    .on('POST', '/kbs/v0/attestation-policy', v0AdminRoute(options, async (ctx, admin) => {
      await setAttestationPolicyText(broker, admin, policyTextOf(await readJsonBody(ctx, options.maxBodyBytes)));
      ctx.status = 200;
    }))
    .on('GET', '/kbs/v0/.well-known/jwks.json', async (ctx) => {
      ctx.set('Cache-Control', 'max-age=60');
      ctx.body = v0.tokenKeys().jwks;
    });
}
