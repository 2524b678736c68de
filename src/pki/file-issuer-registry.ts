import { mkdir, readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ISSUER_STATES, type IssuerEntry, type IssuerRegistry, type IssuerState } from '../domain/issuer-registry.js';
import { writeFileAtomic } from '../store/fs/atomic-write.js';
import { withCaLock } from './ca-lock.js';

/** Issuer ids are directory names: a strict shape keeps ids from the API or CLI out of other paths. */
export const ISSUER_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

const PUBLIC_MODE = 0o644;

/** `id` when it has the shape of an issuer id; throws otherwise. */
export function issuerId(id: string): string {
  if (!ISSUER_ID.test(id)) throw new Error(`not an issuer id: ${JSON.stringify(id).slice(0, 80)}`);
  return id;
}

export function issuerDir(dir: string, id: string): string {
  return join(dir, 'issuers', issuerId(id));
}

function parseState(text: string, path: string): { id: string; state: IssuerState; updatedAt: string } {
  const record = JSON.parse(text) as { id?: unknown; state?: unknown; updated_at?: unknown };
  if (typeof record.id !== 'string' || !ISSUER_STATES.includes(record.state as IssuerState)) throw new Error(`${path} is not an issuer state record`);
  return { id: record.id, state: record.state as IssuerState, updatedAt: typeof record.updated_at === 'string' ? record.updated_at : '' };
}

async function readEntry(dir: string, id: string): Promise<IssuerEntry | undefined> {
  const statePath = join(issuerDir(dir, id), 'state.json');
  const text = await readFile(statePath, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  if (text === undefined) return undefined;
  const { state, updatedAt } = parseState(text, statePath);
  return { id, state, updatedAt, certificatePem: await readFile(join(issuerDir(dir, id), 'cert.pem'), 'utf8') };
}

/**
 * The embedded registry: `issuers/<id>/state.json` beside each issuer's cert.pem in the CA home. state.json is
 * written last when an issuer is made, so its presence marks a complete issuer; a directory without it is an
 * issuer request waiting for the offline root's signature.
 */
export function fileIssuerRegistry(dir: string): IssuerRegistry {
  return {
    async list() {
      const ids = (await readdir(join(dir, 'issuers')).catch(() => [] as string[])).filter((id) => ISSUER_ID.test(id)).sort();
      const entries = await Promise.all(ids.map((id) => readEntry(dir, id)));
      return entries.filter((entry): entry is IssuerEntry => entry !== undefined);
    },
    async record(entries, at) {
      for (const { id, state, certificatePem } of entries) {
        await mkdir(issuerDir(dir, id), { recursive: true, mode: 0o700 });
        const certificatePath = join(issuerDir(dir, id), 'cert.pem');
        if (!(await stat(certificatePath).then(() => true, () => false))) await writeFileAtomic(certificatePath, certificatePem, PUBLIC_MODE);
        const record = { id, state, updated_at: at.toISOString() };
        await writeFileAtomic(join(issuerDir(dir, id), 'state.json'), `${JSON.stringify(record, null, 2)}\n`, PUBLIC_MODE);
      }
    },
    exclusive: (step) => withCaLock(dir, step),
  };
}
