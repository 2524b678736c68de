/**
 * `keybroker/client` as another project sees it: installed by path into a scratch project, imported by name
 * with its types, and listed in the packed tarball together with the `keybroker` command.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { makeTempDir, REPO_ROOT, removeTempDir } from './helpers/broker-process.js';
import { describeResult, runCommand } from './helpers/run-command.js';

const TSC = join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');

function typecheck(project: string, file: string): ReturnType<typeof runCommand> {
  return runCommand(process.execPath, [
    TSC, '--noEmit', '--strict', '--skipLibCheck', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022',
    '--types', 'node', '--typeRoots', join(REPO_ROOT, 'node_modules', '@types'), file,
  ], { cwd: project, timeoutMs: 60_000 });
}

describe('e2e: the keybroker/client package export', function () {
  let project: string;

  before(async function () {
    this.timeout(60_000);
    project = makeTempDir('keybroker-scratch-');
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'scratch', private: true, type: 'module' }));
    const installed = await runCommand('npm', ['install', '--offline', '--no-audit', '--no-fund', '--ignore-scripts', REPO_ROOT], { cwd: project, timeoutMs: 60_000 });
    expect(installed.code, describeResult(installed)).to.equal(0);
  });

  after(function () {
    if (project) removeTempDir(project);
  });

  it('resolves `import { attest } from \'keybroker/client\'` at run time', async function () {
    const result = await runCommand(process.execPath, ['--input-type=module', '-e',
      "const m = await import('keybroker/client'); console.log(typeof m.attest, typeof m.tsmAttester, typeof m.sampleAttester, typeof m.RenewalError, typeof m.KbsClientError)"], { cwd: project });
    expect(result.code, describeResult(result)).to.equal(0);
    expect(result.stdout.toString('utf8').trim()).to.equal('function function function function function');
  });

  it('resolves with types: a correct use compiles, a wrong one does not', async function () {
    this.timeout(60_000);
    writeFileSync(join(project, 'good.ts'), [
      "import { attest, type AttestOptions, type Session, type Attester } from 'keybroker/client';",
      "const options: AttestOptions = { url: 'https://kbs.example:8080', tee: 'sample', ca: '', keyType: 'ed25519', renew: { at: 0.5 } };",
      'const start: (options: AttestOptions) => Promise<Session> = attest;',
      'const fetchOne = async (session: Session): Promise<Uint8Array> => session.getResource(\'a/b/c\');',
      'const mine: Attester = async (reportData) => ({ report_data: Buffer.from(reportData).toString(\'base64\') });',
      'export { options, start, fetchOne, mine };',
    ].join('\n'));
    const good = await typecheck(project, 'good.ts');
    expect(good.code, describeResult(good)).to.equal(0);

    writeFileSync(join(project, 'bad.ts'), "import { attest } from 'keybroker/client';\nexport const session = attest({ url: 'https://kbs.example', tee: 'sample', keyType: 'rsa-1024' });\n");
    const bad = await typecheck(project, 'bad.ts');
    expect(bad.code).not.to.equal(0);
    const output = bad.stdout.toString('utf8');
    expect(output).to.match(/bad\.ts\(2,\d+\): error TS\d+/);
    expect(output).to.match(/'ca'|"rsa-1024"/);
  });

  it('keeps the keybroker command working from the installed package', async function () {
    const result = await runCommand(join(project, 'node_modules', '.bin', 'keybroker'), ['--help'], { cwd: project });
    expect(result.code, describeResult(result)).to.equal(0);
    expect(result.stdout.toString('utf8')).to.match(/client attest --url URL --tee T/);
  });

  it('the packed tarball carries the built client, its declarations and the command', async function () {
    const packed = await runCommand('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: REPO_ROOT, timeoutMs: 30_000 });
    expect(packed.code, describeResult(packed)).to.equal(0);
    const files = (JSON.parse(packed.stdout.toString('utf8')) as Array<{ files: Array<{ path: string }> }>)[0]!.files.map((file) => file.path);
    expect(files).to.include.members(['bin/keybroker.js', 'dist/src/client/index.js', 'dist/src/client/index.d.ts', 'dist/src/cli/main.js', 'package.json']);
    expect(files.some((file) => file.startsWith('dist/test/')), 'no tests in the package').to.equal(false);
  });

  it('the README shows the example workload exactly as it is in examples/', function () {
    const example = readFileSync(join(REPO_ROOT, 'examples', 'fetch-secret.mjs'), 'utf8');
    expect(readFileSync(join(REPO_ROOT, 'README.md'), 'utf8')).to.include(`\`\`\`js\n${example}\`\`\`\n`);
  });
});
