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
    default: throw usageError(`unknown command "admin ${sub ?? ''}": use set-resource, delete-resource or list-resources`);
  }
}
