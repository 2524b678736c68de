import { KbsError } from '../domain/errors.js';
import type { CertificateAuthority, IssuerRecord } from '../pki/ca-home.js';
import { buildCrl } from '../pki/crl.js';
import type { RevocationList, RevocationRecord } from '../store/ports.js';

export interface IssuerCrl {
  issuerId: string;
  der: Buffer;
  thisUpdate: Date;
  nextUpdate: Date;
  crlNumber: bigint;
}

interface CachedCrl extends IssuerCrl {
  /** Which issuer certificate and which revocations the CRL was built from. */
  basis: string;
}

/** Issuers whose leaves may still be presented: every issuer with its key at hand that is neither revoked nor expired. */
function publishingIssuers(ca: CertificateAuthority, now: Date): (IssuerRecord & Required<Pick<IssuerRecord, 'signer'>>)[] {
  return ca.issuers.filter((issuer): issuer is IssuerRecord & Required<Pick<IssuerRecord, 'signer'>> =>
    issuer.signer !== undefined && issuer.state !== 'revoked' && issuer.certificate.notAfter > now);
}

/** A revoked certificate that has expired is refused for its expiry anyway; its entry leaves the CRL. */
function unexpired(revocations: RevocationRecord[], now: Date): RevocationRecord[] {
  return revocations.filter((revocation) => Date.parse(revocation.not_after) > now.getTime());
}

const wholeSeconds = (date: Date): Date => new Date(Math.floor(date.getTime() / 1000) * 1000);

/**
 * The current CRL of each issuing CA. A CRL is rebuilt when its issuer's revocations changed (also when another
 * replica recorded them), when the issuer certificate changes, and once half of its validity is gone, so a served CRL is always
 * at least half its validity away from `nextUpdate`. CRL numbers are milliseconds since the epoch of
 * `thisUpdate` (and always grow), which keeps them increasing across restarts without a counter in the store.
 */
export class CrlPublisher {
  private readonly cache = new Map<string, CachedCrl>();

  constructor(
    private readonly ca: () => CertificateAuthority,
    private readonly revocations: RevocationList,
    private readonly clock: () => Date,
    private readonly validitySeconds: number,
  ) {}

  /** The CRL of `issuerId`; 404 `not-found` for an issuer that publishes none. */
  async crlOf(issuerId: string): Promise<IssuerCrl> {
    const now = this.clock();
    const issuer = publishingIssuers(this.ca(), now).find((candidate) => candidate.id === issuerId);
    if (!issuer) throw new KbsError('not-found', `no CRL for issuer "${issuerId}"`);
    return this.current(issuer, unexpired(await this.revocations.list(issuer.id), now), now);
  }

  /** The active issuer's CRL. */
  activeCrl(): Promise<IssuerCrl> {
    return this.crlOf(this.ca().active.id);
  }

  /** One CRL per publishing issuer, in issuer id order. */
  async allCrls(): Promise<IssuerCrl[]> {
    const now = this.clock();
    const revocations = unexpired(await this.revocations.list(), now);
    return publishingIssuers(this.ca(), now).map((issuer) => this.current(issuer, revocations.filter((revocation) => revocation.issuer_id === issuer.id), now));
  }

  private current(issuer: IssuerRecord & Required<Pick<IssuerRecord, 'signer'>>, revocations: RevocationRecord[], now: Date): IssuerCrl {
    const basis = [issuer.certificate.serial, ...revocations.map((revocation) => revocation.serial).sort()].join(',');
    const cached = this.cache.get(issuer.id);
    const halfLife = cached ? cached.thisUpdate.getTime() + (cached.nextUpdate.getTime() - cached.thisUpdate.getTime()) / 2 : 0;
    if (cached && cached.basis === basis && now.getTime() < halfLife) return cached;
    const thisUpdate = wholeSeconds(now);
    const nextUpdate = new Date(thisUpdate.getTime() + this.validitySeconds * 1000);
    const crlNumber = cached && cached.crlNumber >= BigInt(thisUpdate.getTime()) ? cached.crlNumber + 1n : BigInt(thisUpdate.getTime());
    const der = buildCrl({
      issuer: { certificate: issuer.certificate, signer: issuer.signer },
      revoked: revocations.map((revocation) => ({ serial: revocation.serial, revokedAt: new Date(revocation.revoked_at), reason: revocation.reason })),
      thisUpdate, nextUpdate, crlNumber,
    });
    const built: CachedCrl = { issuerId: issuer.id, der, thisUpdate, nextUpdate, crlNumber, basis };
    this.cache.set(issuer.id, built);
    return built;
  }
}
