/** SPIFFE identities of keybroker's certificates. */
export function teeSpiffeId(trustDomain: string, tee: string, id: string): string {
  return `spiffe://${trustDomain}/tee/${tee}/${id}`;
}

export function adminSpiffeId(trustDomain: string, name: string): string {
  return `spiffe://${trustDomain}/admin/${name}`;
}

export type Principal =
  | { kind: 'tee'; spiffeId: string; tee: string; id: string }
  | { kind: 'admin'; spiffeId: string; name: string };

/** Reads a SPIFFE ID of this trust domain; undefined for anything else. */
export function parseSpiffeId(trustDomain: string, uri: string): Principal | undefined {
  const prefix = `spiffe://${trustDomain}/`;
  if (!uri.startsWith(prefix)) return undefined;
  const parts = uri.slice(prefix.length).split('/');
  if (parts[0] === 'tee' && parts.length === 3 && parts[1] && parts[2]) {
    return { kind: 'tee', spiffeId: uri, tee: parts[1], id: parts[2] };
  }
  if (parts[0] === 'admin' && parts.length === 2 && parts[1]) {
    return { kind: 'admin', spiffeId: uri, name: parts[1] };
  }
  return undefined;
}

/** Admin names and certificate id segments share one conservative alphabet. */
export const IDENTITY_SEGMENT = /^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,63}$/;
