import type { Context } from 'koa';
import type { BrokerContext } from '../protocol/broker-context.js';
import { activateCaIssuer, caStatus, markCaIssuer, prepareCaIssuer } from '../protocol/v1/ca-admin.js';
import { readJsonBody } from './read-body.js';
import type { Router } from './router.js';

/** The CA lifecycle part of the admin API (PROTOCOL.md 1.8), on the application's router. */
export function addCaAdminRoutes(router: Router, broker: BrokerContext, maxBodyBytes: number, adminOf: (ctx: Context) => Promise<string>): Router {
  return router
    .on('GET', '/kbs/v1/admin/ca', async (ctx) => {
      await adminOf(ctx);
      ctx.body = caStatus(broker);
    })
    .on('POST', '/kbs/v1/admin/ca/prepare', async (ctx) => {
      ctx.body = await prepareCaIssuer(broker, await adminOf(ctx));
    })
    .on('POST', '/kbs/v1/admin/ca/activate', async (ctx) => {
      ctx.body = await activateCaIssuer(broker, await adminOf(ctx));
    })
    .on('POST', '/kbs/v1/admin/ca/taint', async (ctx) => {
      const admin = await adminOf(ctx);
      ctx.body = await markCaIssuer(broker, admin, 'taint', await readJsonBody(ctx, maxBodyBytes));
    })
    .on('POST', '/kbs/v1/admin/ca/revoke', async (ctx) => {
      const admin = await adminOf(ctx);
      ctx.body = await markCaIssuer(broker, admin, 'revoke', await readJsonBody(ctx, maxBodyBytes));
    });
}
