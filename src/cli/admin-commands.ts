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
    default: throw usageError(`unknown command "admin ${sub ?? ''}": use set-resource, delete-resource, list-resources, get-policy or set-policy`);
  }
}
