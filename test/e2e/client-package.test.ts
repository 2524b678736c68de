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
      "import { attest, type AttestOptions, type Session, type Attester, type V0AttestOptions, type V0Session } from 'keybroker/client';",
      "const options: AttestOptions = { url: 'https://kbs.example:8080', tee: 'sample', ca: '', keyType: 'ed25519', renew: { at: 0.5 } };",
      'const start: (options: AttestOptions) => Promise<Session> = attest;',
      'const fetchOne = async (session: Session): Promise<Uint8Array> => session.getResource(\'a/b/c\');',
      'const mine: Attester = async (reportData) => ({ report_data: Buffer.from(reportData).toString(\'base64\') });',
      "const v0Options: V0AttestOptions = { url: 'https://kbs.example:8080', tee: 'tdx', ca: '', protocol: 'v0', keyType: 'rsa-3072', attester: 'tsm' };",
      'const startV0: (options: V0AttestOptions) => Promise<V0Session> = attest;',
      'const fetchV0 = async (session: V0Session): Promise<[Uint8Array, string, Date]> => [await session.getResource(\'a/b/c\'), session.token, session.expiresAt];',
      'const either = async (options: AttestOptions | V0AttestOptions): Promise<string> => {',
      '  const session = await attest(options);',
      '  return session.protocol === \'v1\' ? session.certificate : session.token;',
      '};',
      'export { options, start, fetchOne, mine, v0Options, startV0, fetchV0, either };',
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

  it('v0 sessions have no certificate transports, and v1-only options do not type-check with protocol "v0"', async function () {
    this.timeout(60_000);
    const v0 = "{ url: 'https://kbs.example', tee: 'sample', ca: '', protocol: 'v0' as const }";
    writeFileSync(join(project, 'bad-v0.ts'), [
      "import { attest } from 'keybroker/client';",
      `export const agent = attest(${v0}).then((session) => session.agent);`,
      `export const certificate = attest(${v0}).then((session) => session.certificate);`,
      `export const edwards = attest({ ...${v0}, keyType: 'ed25519' });`,
      `export const verifier = attest({ ...${v0}, verifier: 'builtin' });`,
      '',
    ].join('\n'));
    const bad = await typecheck(project, 'bad-v0.ts');
    expect(bad.code).not.to.equal(0);
    const output = bad.stdout.toString('utf8');
    for (const line of [2, 3, 4, 5]) expect(output, output).to.match(new RegExp(`bad-v0\\.ts\\(${line},\\d+\\): error TS\\d+`));
    expect(output).to.match(/'agent' does not exist on type 'V0Session'/);
    expect(output).to.match(/'certificate' does not exist on type 'V0Session'/);
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

  it('the README shows the example workloads exactly as they are in examples/', function () {
    const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
    for (const file of ['fetch-secret.mjs', 'fetch-secret-v0.mjs']) {
      const example = readFileSync(join(REPO_ROOT, 'examples', file), 'utf8');
      expect(readme, file).to.include(`\`\`\`js\n${example}\`\`\`\n`);
    }
  });
});
