import { brokerUrl, httpsRequestBuffer, KbsClientError, type TlsIdentity } from './https-request.js';

export type PolicyView = Record<string, unknown> & { version: number; updated_at: string; updated_by: string };

function policyUrl(base: string, kind: string, version?: number): string {
  return brokerUrl(base, `/kbs/v1/admin/policy/${encodeURIComponent(kind)}${version === undefined ? '' : `?version=${version}`}`);
}

/** GET /kbs/v1/admin/policy/{kind}[?version=N]: the policy in force, or an older version. */
export async function getPolicy(url: string, kind: string, version: number | undefined, tls: TlsIdentity): Promise<PolicyView> {
  const response = await httpsRequestBuffer(policyUrl(url, kind, version), { ...tls, method: 'GET', headers: { accept: 'application/json' } });
  if (response.status !== 200) throw KbsClientError.fromResponse(response);
  return JSON.parse(response.body.toString('utf8')) as PolicyView;
}

/** PUT /kbs/v1/admin/policy/{kind} with the policy document; answers the new version. */
export async function setPolicy(url: string, kind: string, document: unknown, tls: TlsIdentity): Promise<PolicyView> {
  const response = await httpsRequestBuffer(policyUrl(url, kind), { ...tls, method: 'PUT', body: JSON.stringify(document), headers: { 'content-type': 'application/json', accept: 'application/json' } });
  if (response.status !== 200) throw KbsClientError.fromResponse(response);
  return JSON.parse(response.body.toString('utf8')) as PolicyView;
}
