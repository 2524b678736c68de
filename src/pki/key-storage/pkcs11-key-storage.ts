import { createHash } from 'node:crypto';
import {
  KeyGenMechanism, KeyType, Module, ObjectClass, SessionFlag, type Key, type PrivateKey, type PublicKey, type Session,
} from 'graphene-pk11';
import { bitString, objectIdentifier, sequence } from '../der.js';
import type { CertificateSigner } from '../signer.js';
import { rawEcdsaToDer } from './ecdsa-signature.js';
import type { IssuerKeyStorage } from './issuer-key-storage.js';

export interface Pkcs11Options {
  /** Path of the PKCS#11 module, e.g. /usr/lib/softhsm/libsofthsm2.so. */
  modulePath: string;
  /** CKA_LABEL of the token (as `softhsm2-util --init-token --label` set it). */
  tokenLabel: string;
  /** The user PIN; never logged. */
  pin: string;
  /** An issuer's key pair is labelled `<prefix><issuer id>`. */
  keyLabelPrefix: string;
}

const P256_OID = '1.2.840.10045.3.1.7';
const EC_PUBLIC_KEY_OID = '1.2.840.10045.2.1';
const ECDSA_WITH_SHA256 = sequence(objectIdentifier('1.2.840.10045.4.3.2'));
const P256_POINT_BYTES = 65;

/** CKA_EC_POINT is a DER OCTET STRING around the uncompressed point (some tokens give the bare point). */
function uncompressedPoint(ecPoint: Buffer): Buffer {
  if (ecPoint.length === P256_POINT_BYTES && ecPoint[0] === 0x04) return ecPoint;
  if (ecPoint.length === P256_POINT_BYTES + 2 && ecPoint[0] === 0x04 && ecPoint[1] === P256_POINT_BYTES) return ecPoint.subarray(2);
  throw new Error('the token returned an EC point that is not an uncompressed P-256 point');
}

function p256Spki(point: Buffer): Buffer {
  return sequence(sequence(objectIdentifier(EC_PUBLIC_KEY_OID), objectIdentifier(P256_OID)), bitString(point));
}

/**
 * C_Sign runs synchronously, so signing keeps CertificateSigner's synchronous shape. The digest is computed here
 * and the token signs it with plain CKM_ECDSA, which every token supports (not all offer CKM_ECDSA_SHA256).
 */
function tokenSigner(session: Session, privateKey: PrivateKey, publicKey: PublicKey): CertificateSigner {
  const ecPoint = publicKey.getAttribute({ pointEC: null }).pointEC;
  if (!ecPoint) throw new Error('the token returned no EC point for the public key');
  return {
    algorithmIdentifier: ECDSA_WITH_SHA256,
    publicKeySpki: p256Spki(uncompressedPoint(ecPoint)),
    sign: (toBeSigned) => rawEcdsaToDer(session.createSign('ECDSA', privateKey).once(createHash('sha256').update(toBeSigned).digest())),
  };
}

/** One loaded and initialized module per library path per process: C_Initialize may run only once. */
const modules = new Map<string, { module: Module; users: number }>();

function acquireModule(path: string): Module {
  const loaded = modules.get(path);
  if (loaded) {
    loaded.users += 1;
    return loaded.module;
  }
  const module = Module.load(path);
  module.initialize();
  modules.set(path, { module, users: 1 });
  return module;
}

function releaseModule(path: string): void {
  const loaded = modules.get(path);
  if (!loaded) return;
  loaded.users -= 1;
  if (loaded.users === 0) {
    modules.delete(path);
    loaded.module.finalize();
  }
}

function openUserSession(module: Module, options: Pkcs11Options): Session {
  const slots = module.getSlots(true);
  for (let index = 0; index < slots.length; index++) {
    const slot = slots.items(index);
    if (slot.getToken().label.trim() !== options.tokenLabel) continue;
    const session = slot.open(SessionFlag.SERIAL_SESSION | SessionFlag.RW_SESSION);
    try {
      session.login(options.pin);
    } catch (error) {
      // Login state belongs to the application, not the session: a second storage on the same token is already in.
      if (error instanceof Error && error.message.includes('CKR_USER_ALREADY_LOGGED_IN')) return session;
      session.close();
      throw new Error(`PKCS#11: login to token "${options.tokenLabel}" failed (${error instanceof Error ? error.message.split('\n')[0] : 'unknown error'})`);
    }
    return session;
  }
  throw new Error(`PKCS#11: no token labelled "${options.tokenLabel}" in ${options.modulePath}`);
}

function findKey<T extends Key>(session: Session, objectClass: ObjectClass, label: string): T | undefined {
  const found = session.find({ class: objectClass, label });
  if (found.length > 1) throw new Error(`PKCS#11: ${found.length} objects are labelled "${label}"; expected one`);
  return found.length === 1 ? (found.items(0).toType<T>()) : undefined;
}

/**
 * Issuer keys in a PKCS#11 token: generated inside the token as sensitive, non-extractable ECDSA P-256 keys
 * (CKA_TOKEN, CKA_SENSITIVE, CKA_EXTRACTABLE false) and used there to sign certificates and CRLs.
 */
export function openPkcs11KeyStorage(options: Pkcs11Options): IssuerKeyStorage {
  const module = acquireModule(options.modulePath);
  let session: Session;
  try {
    session = openUserSession(module, options);
  } catch (error) {
    releaseModule(options.modulePath);
    throw error;
  }
  const labelOf = (issuerId: string): string => `${options.keyLabelPrefix}${issuerId}`;
  return {
    kind: 'pkcs11',
    async generate(issuerId) {
      const label = labelOf(issuerId);
      if (findKey(session, ObjectClass.PRIVATE_KEY, label)) throw new Error(`PKCS#11: a key labelled "${label}" already exists`);
      const id = createHash('sha256').update(label).digest().subarray(0, 16);
      const common = { keyType: KeyType.EC, token: true, label, id };
      const keys = session.generateKeyPair(KeyGenMechanism.EC,
        { ...common, class: ObjectClass.PUBLIC_KEY, verify: true, paramsEC: objectIdentifier(P256_OID) },
        { ...common, class: ObjectClass.PRIVATE_KEY, sign: true, private: true, sensitive: true, extractable: false, derive: false });
      return tokenSigner(session, keys.privateKey, keys.publicKey);
    },
    async load(issuerId) {
      const label = labelOf(issuerId);
      const privateKey = findKey<PrivateKey>(session, ObjectClass.PRIVATE_KEY, label);
      if (!privateKey) return undefined;
      const publicKey = findKey<PublicKey>(session, ObjectClass.PUBLIC_KEY, label);
      if (!publicKey) throw new Error(`PKCS#11: the key "${label}" has no public key object in the token`);
      return tokenSigner(session, privateKey, publicKey);
    },
    async close() {
      // No C_Logout: another storage may share the login; C_Finalize with the last user ends it.
      try {
        session.close();
      } finally {
        releaseModule(options.modulePath);
      }
    },
  };
}
