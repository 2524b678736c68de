import { brokerUrl, httpsRequestBuffer, KbsClientError, postJson, type TlsIdentity } from './https-request.js';

export interface CertificateRevocation {
  serial: string;
  issuer_id: string;
  revoked_at: string;
  reason: string;
  revoked_by: string;
  not_after: string;
  status: 'revoked';
  newly_revoked: boolean;
}

export interface IssuedCertificate {
  serial: string;
  spiffe_id: string;
  issuer_id: string;
  not_before: string;
  not_after: string;
  tee: string;
  verifier: string;
  status: string;
  revocation?: { revoked_at: string; reason: string; revoked_by: string };
}

/** POST /kbs/v1/admin/certificates/{serial}/revoke; revoking an already revoked serial succeeds with `newly_revoked: false`. */
export function revokeCertificate(url: string, serial: string, reason: string | undefined, tls: TlsIdentity): Promise<CertificateRevocation> {
  return postJson(brokerUrl(url, `/kbs/v1/admin/certificates/${encodeURIComponent(serial)}/revoke`), reason === undefined ? {} : { reason }, tls);
}

/** GET /kbs/v1/admin/certificates with optional filters. */
export async function listCertificates(url: string, query: { issuer?: string; status?: string; limit?: number }, tls: TlsIdentity): Promise<IssuedCertificate[]> {
  const search = new URLSearchParams(Object.entries(query).flatMap(([key, value]) => (value === undefined ? [] : [[key, String(value)] as [string, string]]))).toString();
  const response = await httpsRequestBuffer(brokerUrl(url, `/kbs/v1/admin/certificates${search ? `?${search}` : ''}`), { ...tls, method: 'GET' });
  if (response.status !== 200) throw KbsClientError.fromResponse(response);
  return (JSON.parse(response.body.toString('utf8')) as { certificates: IssuedCertificate[] }).certificates;
}
