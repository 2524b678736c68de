import { brokerUrl, httpsRequestBuffer, KbsClientError, type TlsIdentity, type Transport } from './https-request.js';

/** GET /kbs/v1/resource/{path} over mutual TLS; resolves to the raw bytes. */
export async function getResource(url: string, path: string, transport: Transport): Promise<Buffer> {
  const response = await httpsRequestBuffer(brokerUrl(url, '/kbs/v1/resource/', path), { ...transport, method: 'GET' });
  if (response.status !== 200) throw KbsClientError.fromResponse(response);
  return response.body;
}

export interface ResourceMetadata {
  path: string;
  size: number;
  version: number;
  updated_at: string;
}

export async function setResource(url: string, path: string, value: Buffer, tls: TlsIdentity): Promise<ResourceMetadata & { created: boolean }> {
  const response = await httpsRequestBuffer(brokerUrl(url, '/kbs/v1/admin/resource/', path), { ...tls, method: 'PUT', body: value, headers: { 'content-type': 'application/octet-stream' } });
  if (response.status !== 200 && response.status !== 201) throw KbsClientError.fromResponse(response);
  return { ...(JSON.parse(response.body.toString('utf8')) as ResourceMetadata), created: response.status === 201 };
}

export async function deleteResource(url: string, path: string, tls: TlsIdentity): Promise<void> {
  const response = await httpsRequestBuffer(brokerUrl(url, '/kbs/v1/admin/resource/', path), { ...tls, method: 'DELETE' });
  if (response.status !== 204) throw KbsClientError.fromResponse(response);
}

export async function listResources(url: string, prefix: string | undefined, tls: TlsIdentity): Promise<ResourceMetadata[]> {
  const query = prefix ? `?prefix=${encodeURIComponent(prefix)}` : '';
  const response = await httpsRequestBuffer(brokerUrl(url, `/kbs/v1/admin/resources${query}`), { ...tls, method: 'GET' });
  if (response.status !== 200) throw KbsClientError.fromResponse(response);
  return (JSON.parse(response.body.toString('utf8')) as { resources: ResourceMetadata[] }).resources;
}
