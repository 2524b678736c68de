import type { TokenSigningKeys } from '../../pki/token-signing-key.js';
import type { SealedBox } from '../sealed-box.js';

/** What the trustee protocol needs beyond the shared broker context (PROTOCOL.md 2). */
export interface V0Services {
  /** Lifetime of a session from /auth; tokens expire with their session. */
  sessionTtlSeconds: number;
  /** `[v0] allow_rsa1_5`: wrap resources for RSA keys that ask for RSA1_5. */
  allowRsa1_5: boolean;
  /** Seals sessions into their cookie (PROTOCOL.md 2: sessions work across replicas without shared state). */
  sessionBox: SealedBox;
  /** The token signing keys as currently loaded; a function so a reload is seen by the next request. */
  tokenKeys(): TokenSigningKeys;
}
