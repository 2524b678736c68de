import { createPrivateKey } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sampleAttester } from '../client/attesters.js';
import { generateV0Key, v0Attest, v0Auth, v0GetResource, v0TokenSummary, type V0KeyType } from '../client/v0/trustee-client.js';
import { writeFileAtomic } from '../store/fs/atomic-write.js';
import { CliError, usageError } from './cli-error.js';
import { tlsFromFiles } from './credential-files.js';

const V0_KEY_TYPES: V0KeyType[] = ['ec-p256', 'ec-p384', 'rsa-3072'];
/** What `client attest --protocol v0` writes into `--out DIR` and `client get --protocol v0 --cert-dir DIR` reads. */
const TOKEN_FILE = 'token.jwt';
const KEY_FILE = 'key.pem';

export interface V0AttestArgs {
  url: string;
  tee: string;
  out: string;
  cacert?: string | undefined;
  keyType?: string | undefined;
  measurement?: string | undefined;
  json: boolean;
}

/** `client attest --protocol v0`: auth, sample evidence bound to a new TEE key, attest; writes token.jwt and key.pem (0600). */
export async function attestV0Command(args: V0AttestArgs): Promise<number> {
  const keyType = (args.keyType ?? 'ec-p256') as V0KeyType;
  if (!V0_KEY_TYPES.includes(keyType)) throw usageError(`--key-type with --protocol v0 must be one of ${V0_KEY_TYPES.join(', ')}`);
  const tls = await tlsFromFiles({ cacert: args.cacert });
  const session = await v0Auth(args.url, args.tee, tls);
  const attestation = await v0Attest(session, sampleAttester(args.measurement ? { measurement: args.measurement } : {}), generateV0Key(keyType));
  await mkdir(args.out, { recursive: true, mode: 0o700 });
  await writeFileAtomic(join(args.out, KEY_FILE), attestation.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), 0o600);
  await writeFileAtomic(join(args.out, TOKEN_FILE), `${attestation.token}\n`, 0o600);
  const claims = v0TokenSummary(attestation.token);
  const summary = { sub: claims.sub, expires_at: new Date(claims.exp * 1000).toISOString(), dir: args.out };
  process.stdout.write(args.json ? `${JSON.stringify(summary, null, 2)}\n` : `wrote ${join(args.out, TOKEN_FILE)} and ${KEY_FILE}${summary.sub ? ` for ${summary.sub}` : ''} (expires ${summary.expires_at})\n`);
  return 0;
}

/** `client get --protocol v0`: the resource with the token as bearer, decrypted with the TEE key. */
export async function getV0Resource(args: { url: string; certDir: string; cacert?: string | undefined; path: string }): Promise<Buffer> {
  const read = (name: string): Promise<string> => readFile(join(args.certDir, name), 'utf8').catch(() => {
    throw new CliError(`cannot read ${join(args.certDir, name)}: run "keybroker client attest --protocol v0 --out ${args.certDir}" first`);
  });
  const token = (await read(TOKEN_FILE)).trim();
  const privateKey = createPrivateKey(await read(KEY_FILE));
  return v0GetResource(args.url, args.path, { token, privateKey }, await tlsFromFiles({ cacert: args.cacert }));
}
