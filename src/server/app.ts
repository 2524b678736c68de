import Koa, { type Context } from 'koa';
import type { TLSSocket } from 'node:tls';
import { isKbsError, KbsError } from '../domain/errors.js';
import type { BrokerMetrics } from '../domain/metrics.js';
import type { BrokerContext } from '../protocol/broker-context.js';
import { AdminTokenVerifier, bearerToken } from '../protocol/admin-bearer.js';
import { authenticateClient, requireNotRevoked, type ClientIdentity } from '../protocol/client-identity.js';
import { deleteResource, listResources, putResource, requireAdmin } from '../protocol/v1/admin.js';
import { attest } from '../protocol/v1/attest.js';
import { listCertificates, revokeCertificate } from '../protocol/v1/certificates.js';
import { createChallenge } from '../protocol/v1/challenge.js';
import { readResource } from '../protocol/v1/resource.js';
import { parsePolicyKind, parsePolicyVersion, setPolicy } from '../protocol/policy-admin.js';
import { encryptToClientKey, JOSE_JSON } from '../protocol/resource-envelope.js';
import { derToPem } from '../pki/pem.js';
import { addCaAdminRoutes } from './ca-admin-routes.js';
import { toKbsError, writeProblem } from './problem.js';
import { readBody, readJsonBody } from './read-body.js';
import { Router, type Handler } from './router.js';
import { addV0Routes, isV0Request, writeV0Error } from './routes-v0.js';

export interface AppOptions {
  maxBodyBytes: number;
}

function peerOf(ctx: Context): { certificate: ReturnType<TLSSocket['getPeerX509Certificate']>; authorized: boolean; authorizationError?: string } {
  const socket = ctx.req.socket as TLSSocket;
  const certificate = typeof socket.getPeerX509Certificate === 'function' ? socket.getPeerX509Certificate() : undefined;
  const error = socket.authorizationError;
  return { certificate, authorized: socket.authorized === true, ...(error ? { authorizationError: String(error) } : {}) };
}

function clientOf(broker: BrokerContext, ctx: Context): Promise<ClientIdentity> {
  return requireNotRevoked(authenticateClient(peerOf(ctx), broker.ca(), broker.trustDomain, broker.clock()), broker.stores.revocations);
}

/**
 * Admin routes: a bearer JWT of a configured identity provider, or an admin certificate. No certificate at all
 * is `admin-auth-required`, not `no-client-certificate`.
 */
async function adminOf(broker: BrokerContext, ctx: Context): Promise<string> {
  const bearer = bearerToken(ctx.get('Authorization') || undefined);
  if (bearer !== undefined) return (broker.adminTokens ?? new AdminTokenVerifier([], 'admin')).authenticate(bearer, broker.clock());
  const peer = peerOf(ctx);
  return requireAdmin(peer.certificate ? await clientOf(broker, ctx) : undefined);
}

const PEM_FILE = 'application/x-pem-file';
const PKIX_CRL = 'application/pkix-crl';

const PEM_CHAIN = 'application/pem-certificate-chain';

/** Counts every resource request by outcome: "released", or the error code it ended with. */
function countedByOutcome(metrics: BrokerMetrics, handler: Handler): Handler {
  return async (ctx, params) => {
    try {
      await handler(ctx, params);
      metrics.resourceRequest('released');
    } catch (error) {
      metrics.resourceRequest(isKbsError(error) ? error.code : 'internal-error');
      throw error;
    }
  };
}

export function buildRouter(broker: BrokerContext, options: AppOptions): Router {
  const router = new Router()
    .on('GET', '/healthz', async (ctx) => {
      ctx.body = { status: 'ok' };
    })
    .on('GET', '/readyz', async (ctx) => {
      if (!(await broker.stores.ready())) throw new KbsError('unavailable', 'the store is not ready');
      ctx.body = { status: 'ready' };
    })
    .on('POST', '/kbs/v1/challenge', async (ctx) => {
      ctx.body = createChallenge(broker, await readJsonBody(ctx, options.maxBodyBytes));
    })
    .on('POST', '/kbs/v1/attest', async (ctx) => {
      const result = await attest(broker, await readJsonBody(ctx, options.maxBodyBytes));
      ctx.status = 201;
      if (ctx.accepts('application/json', PEM_CHAIN) === PEM_CHAIN) {
        ctx.type = PEM_CHAIN;
        ctx.body = result.certificate + result.chain;
      } else {
        ctx.body = result;
      }
    })
    .on('GET', '/metrics', async (ctx) => {
      const { contentType, body } = await broker.metrics.exposition();
      ctx.type = contentType;
      ctx.body = body;
    })
    .on('GET', '/kbs/v1/resource/*', countedByOutcome(broker.metrics, async (ctx, { rest }) => {
      const client = await clientOf(broker, ctx);
      const value = await readResource(broker, client, rest);
      ctx.set('Cache-Control', 'no-store');
      ctx.vary('Accept');
      if (ctx.accepts('application/octet-stream', JOSE_JSON) === JOSE_JSON) {
        ctx.type = JOSE_JSON;
        ctx.body = await encryptToClientKey(value, client.certificate.publicKey);
      } else {
        ctx.type = 'application/octet-stream';
        ctx.body = Buffer.from(value);
      }
    }))
    .on('GET', '/kbs/v1/ca/bundle', async (ctx) => {
      ctx.type = PEM_CHAIN;
      ctx.body = broker.ca().bundlePem;
    })
    .on('PUT', '/kbs/v1/admin/resource/*', async (ctx, { rest }) => {
      const admin = await adminOf(broker, ctx);
      const value = await readBody(ctx, options.maxBodyBytes);
      const result = await putResource(broker, admin, rest, value);
      ctx.status = result.created ? 201 : 200;
      ctx.body = result.meta;
    })
    .on('DELETE', '/kbs/v1/admin/resource/*', async (ctx, { rest }) => {
      await deleteResource(broker, await adminOf(broker, ctx), rest);
      ctx.status = 204;
    })
    .on('GET', '/kbs/v1/admin/resources', async (ctx) => {
      await adminOf(broker, ctx);
      const prefix = typeof ctx.query.prefix === 'string' ? ctx.query.prefix : undefined;
      ctx.body = await listResources(broker, prefix);
    })
    .on('GET', '/kbs/v1/ca/crl', async (ctx) => {
      // DER holds one CRL: the active issuer's, or ?issuer=ID's. PEM without ?issuer= concatenates every issuer's.
      const issuer = typeof ctx.query.issuer === 'string' ? ctx.query.issuer : undefined;
      ctx.vary('Accept');
      ctx.set('Cache-Control', 'no-cache');
      if (ctx.accepts(PKIX_CRL, PEM_FILE) === PEM_FILE) {
        const crls = issuer !== undefined ? [await broker.crls.crlOf(issuer)] : await broker.crls.allCrls();
        ctx.type = PEM_FILE;
        ctx.body = crls.map((crl) => derToPem(crl.der, 'X509 CRL')).join('');
      } else {
        ctx.type = PKIX_CRL;
        ctx.body = (issuer !== undefined ? await broker.crls.crlOf(issuer) : await broker.crls.activeCrl()).der;
      }
    })
    .on('POST', '/kbs/v1/admin/certificates/*', async (ctx, { rest }) => {
      const admin = await adminOf(broker, ctx);
      const match = /^([^/]+)\/revoke$/.exec(rest);
      if (!match) throw new KbsError('not-found', 'no such route');
      // The body ({"reason": ...}) is optional: a bare POST revokes with reason "unspecified".
      const hasBody = (ctx.request.length ?? 0) > 0 || ctx.get('Transfer-Encoding') !== '';
      ctx.body = await revokeCertificate(broker, admin, match[1]!, hasBody ? await readJsonBody(ctx, options.maxBodyBytes) : undefined);
    })
    .on('GET', '/kbs/v1/admin/certificates', async (ctx) => {
      await adminOf(broker, ctx);
      const text = (name: string): string | undefined => (typeof ctx.query[name] === 'string' ? ctx.query[name] : undefined);
      ctx.body = await listCertificates(broker, { issuer: text('issuer'), status: text('status'), limit: text('limit') });
    })
    .on('GET', '/kbs/v1/admin/policy/*', async (ctx, { rest }) => {
      await adminOf(broker, ctx);
      ctx.body = await broker.policies.get(parsePolicyKind(rest), parsePolicyVersion(ctx.query.version));
    })
    .on('PUT', '/kbs/v1/admin/policy/*', async (ctx, { rest }) => {
      const admin = await adminOf(broker, ctx);
      const kind = parsePolicyKind(rest);
      ctx.body = await setPolicy(broker, admin, kind, await readJsonBody(ctx, options.maxBodyBytes));
    });
  return addV0Routes(router, broker, { maxBodyBytes: options.maxBodyBytes, authenticateAdmin: (ctx) => adminOf(broker, ctx) });
}

/** The Koa application: one error boundary, an access log line per request, then the router. */
export function createApp(broker: BrokerContext, options: AppOptions): Koa {
  const router = addCaAdminRoutes(buildRouter(broker, options), broker, options.maxBodyBytes, (ctx) => adminOf(broker, ctx));
  const app = new Koa();
  app.silent = true;
  app.use(async (ctx) => {
    const started = process.hrtime.bigint();
    try {
      await router.dispatch(ctx);
    } catch (error) {
      const failure = toKbsError(error, broker.log);
      if (isV0Request(ctx)) writeV0Error(ctx, failure); else writeProblem(ctx, failure);
      if (failure.code === 'payload-too-large') ctx.set('Connection', 'close');
    }
    const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
    broker.log.info('request', { method: ctx.method, path: ctx.path, status: ctx.status, ms: Math.round(elapsedMs * 100) / 100 });
  });
  return app;
}
