import { listCertificates, revokeCertificate } from '../client/certificates.js';
import { deleteResource, listResources, setResource } from '../client/resources.js';
import { parseCommandArgs, requireOption } from './args.js';
import { usageError } from './cli-error.js';
import { readInput } from './client-commands.js';
import { tlsFromFiles } from './credential-files.js';

const COMMON = { url: { type: 'string' }, admin: { type: 'string' }, cacert: { type: 'string' }, json: { type: 'boolean' } } as const;

function onePath(positionals: string[]): string {
  if (positionals.length !== 1) throw usageError('give exactly one resource path: repository/type/tag');
  return positionals[0]!;
}

export async function adminCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  switch (sub) {
    case 'set-resource': {
      const { values, positionals } = parseCommandArgs(rest, { ...COMMON, file: { type: 'string' } }, true);
      const path = onePath(positionals);
      const tls = await tlsFromFiles({ cacert: values.cacert, credentialDir: requireOption(values.admin, '--admin') });
      const result = await setResource(requireOption(values.url, '--url'), path, await readInput(values.file), tls);
      process.stdout.write(values.json ? `${JSON.stringify(result)}\n` : `${result.created ? 'created' : 'replaced'} ${result.path} (version ${result.version}, ${result.size} bytes)\n`);
      return 0;
    }
    case 'delete-resource': {
      const { values, positionals } = parseCommandArgs(rest, COMMON, true);
      const path = onePath(positionals);
      await deleteResource(requireOption(values.url, '--url'), path, await tlsFromFiles({ cacert: values.cacert, credentialDir: requireOption(values.admin, '--admin') }));
      process.stdout.write(values.json ? `${JSON.stringify({ deleted: path })}\n` : `deleted ${path}\n`);
      return 0;
    }
    case 'list-resources': {
      const { values } = parseCommandArgs(rest, { ...COMMON, prefix: { type: 'string' } });
      const resources = await listResources(requireOption(values.url, '--url'), values.prefix, await tlsFromFiles({ cacert: values.cacert, credentialDir: requireOption(values.admin, '--admin') }));
      process.stdout.write(values.json ? `${JSON.stringify({ resources }, null, 2)}\n`
        : resources.map((resource) => `${resource.path}\t${resource.size}\tv${resource.version}\t${resource.updated_at}\n`).join(''));
      return 0;
    }
    case 'revoke': {
      const { values, positionals } = parseCommandArgs(rest, { ...COMMON, reason: { type: 'string' } }, true);
      if (positionals.length !== 1) throw usageError('give exactly one certificate serial (hex)');
      const tls = await tlsFromFiles({ cacert: values.cacert, credentialDir: requireOption(values.admin, '--admin') });
      const revocation = await revokeCertificate(requireOption(values.url, '--url'), positionals[0]!, values.reason, tls);
      process.stdout.write(values.json ? `${JSON.stringify(revocation)}\n`
        : `${revocation.newly_revoked ? 'revoked' : 'already revoked'} ${revocation.serial} (issuer ${revocation.issuer_id}, reason ${revocation.reason}, at ${revocation.revoked_at} by ${revocation.revoked_by})\n`);
      return 0;
    }
    case 'list-certificates': {
      const { values } = parseCommandArgs(rest, { ...COMMON, issuer: { type: 'string' }, status: { type: 'string' }, limit: { type: 'string' } });
      const limit = values.limit === undefined ? undefined : Number(values.limit);
      if (limit !== undefined && !Number.isInteger(limit)) throw usageError('--limit takes an integer');
      const tls = await tlsFromFiles({ cacert: values.cacert, credentialDir: requireOption(values.admin, '--admin') });
      const certificates = await listCertificates(requireOption(values.url, '--url'), { issuer: values.issuer, status: values.status, limit }, tls);
      process.stdout.write(values.json ? `${JSON.stringify({ certificates }, null, 2)}\n`
        : certificates.map((certificate) => `${certificate.serial}\t${certificate.status}\t${certificate.spiffe_id}\t${certificate.issuer_id}\t${certificate.not_after}\n`).join(''));
      return 0;
    }
    default: throw usageError(`unknown command "admin ${sub ?? ''}": use set-resource, delete-resource, list-resources, revoke or list-certificates`);
  }
}
