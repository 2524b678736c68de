import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const CHECKOUT = fileURLToPath(new URL('../../../../', import.meta.url));
const read = (path: string): string => readFileSync(`${CHECKOUT}${path}`, 'utf8');

/** Sources of the COPY instructions of one stage (the `--from` stage's paths included), without flags. */
function copiedPaths(stage: string): string[] {
  return [...stage.matchAll(/^COPY\s+(.+)$/gim)].flatMap((match) => {
    const words = match[1]!.split(/\s+/).filter((word) => !word.startsWith('--'));
    return words.slice(0, -1).map((source) => source.replace(/^\/app\//, '').replace(/^\.\/|\/$/g, ''));
  });
}

/**
 * No image is built here (no container daemon), so the Dockerfile is checked against the package: the build stage
 * must hold every file `npm run build` reads, and the runtime stage every path package.json ships.
 */
describe('deploy/Dockerfile', () => {
  const dockerfile = read('deploy/Dockerfile');
  const stages = dockerfile.split(/^FROM\s/im).slice(1);
  const packageJson = JSON.parse(read('package.json')) as { files: string[]; scripts: { build: string } };

  it('has a build stage and a runtime stage', () => {
    expect(stages).to.have.length(2);
  });

  it('copies every TypeScript project `npm run build` compiles into the build stage', () => {
    const configs = packageJson.scripts.build.match(/tsconfig[\w.-]*\.json/g) ?? [];
    expect(configs).to.include.members(['tsconfig.json', 'tsconfig.client-types.json']);
    expect(copiedPaths(stages[0]!)).to.include.members([...configs, 'package.json', 'package-lock.json', 'src', 'bin']);
  });

  it('ships in the runtime stage what the package ships (but the CA home, which is mounted)', () => {
    const shipped = packageJson.files.map((path) => path.replace(/\/$/, '')).filter((path) => !path.startsWith('ca/'));
    expect(shipped).to.include('policies');
    expect(copiedPaths(stages[1]!)).to.include.members([...shipped, 'package.json', 'node_modules']);
  });
});
