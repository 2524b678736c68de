import { listCertificates, revokeCertificate } from '../client/certificates.js';
import { getPolicy, setPolicy } from '../client/policies.js';
import { deleteResource, listResources, setResource } from '../client/resources.js';
import { parseCommandArgs, requireOption } from './args.js';
import { CliError, usageError } from './cli-error.js';
import { readInput } from './client-commands.js';
import { tlsFromFiles } from './credential-files.js';

const COMMON = { url: { type: 'string' }, admin: { type: 'string' }, cacert: { type: 'string' }, json: { type: 'boolean' } } as const;

function onePath(positionals: string[]): string {
  if (positionals.length !== 1) throw usageError('give exactly one resource path: repository/type/tag');
  return positionals[0]!;
}

function onePolicyKind(positionals: string[]): string {
  if (positionals.length !== 1 || (positionals[0] !== 'attestation' && positionals[0] !== 'resource')) throw usageError('give one policy: attestation or resource');
  return positionals[0];
}

/**
 * The document to send: JSON as given, or, for the attestation policy, a bare CEL expression (such as
 * policies/attestation.cel) as its `allow`.
 */
function policyDocument(kind: string, text: string): unknown {
  if (kind === 'attestation' && !text.trimStart().startsWith('{')) return { allow: text.trim() };
  try {
    return JSON.parse(text);
  } catch {
    throw new CliError(`the ${kind} policy is not JSON`);
  }
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
    case 'get-policy': {
      const { values, positionals } = parseCommandArgs(rest, { ...COMMON, version: { type: 'string' } }, true);
      const kind = onePolicyKind(positionals);
      if (values.version !== undefined && !/^\d{1,9}$/.test(values.version)) throw usageError('--version must be a non-negative integer');
      const tls = await tlsFromFiles({ cacert: values.cacert, credentialDir: requireOption(values.admin, '--admin') });
      const policy = await getPolicy(requireOption(values.url, '--url'), kind, values.version === undefined ? undefined : Number(values.version), tls);
      process.stdout.write(`${JSON.stringify(policy, null, 2)}\n`);
      return 0;
    }
    case 'set-policy': {
      const { values, positionals } = parseCommandArgs(rest, { ...COMMON, file: { type: 'string' } }, true);
      const kind = onePolicyKind(positionals);
      const tls = await tlsFromFiles({ cacert: values.cacert, credentialDir: requireOption(values.admin, '--admin') });
      const policy = await setPolicy(requireOption(values.url, '--url'), kind, policyDocument(kind, (await readInput(values.file)).toString('utf8')), tls);
      process.stdout.write(values.json ? `${JSON.stringify(policy)}\n` : `set ${kind} policy version ${policy.version} (by ${policy.updated_by} at ${policy.updated_at})\n`);
      return 0;
    }
    default: throw usageError(`unknown command "admin ${sub ?? ''}": use set-resource, delete-resource, list-resources, revoke, list-certificates, get-policy or set-policy`);
  }
}
