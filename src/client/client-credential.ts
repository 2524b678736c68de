/** The PEM certificate (leaf then issuing CAs) and private key a session presents in mutual TLS. */
export interface TlsCredential {
  /** Leaf certificate followed by its chain, PEM. */
  cert: string;
  /** PKCS#8 PEM private key. */
  key: string;
}
