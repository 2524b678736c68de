// Checks deploy/: every Kubernetes manifest against the API schemas shipped in the npm package kubernetes-models
// (types, required fields, enums and formats; unknown fields are not detected), the properties the README promises, and deploy/Dockerfile with
// dockerfile-utils' linter plus the project's own rules. Run through scripts/check-deploy.sh, which installs both.
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { validate as lintDockerfile } from 'dockerfile-utils';

const root = process.argv[2];
const manifestsDir = join(root, 'deploy', 'kubernetes');
const problems = [];
const problem = (where, text) => problems.push(`${where}: ${text}`);

const kustomization = parseAllDocuments(readFileSync(join(manifestsDir, 'kustomization.yaml'), 'utf8'))[0].toJS();
const objects = [];
for (const file of kustomization.resources) {
  if (!existsSync(join(manifestsDir, file))) { problem('kustomization.yaml', `${file} does not exist`); continue; }
  for (const document of parseAllDocuments(readFileSync(join(manifestsDir, file), 'utf8'))) {
    if (document.errors.length > 0) { problem(file, `YAML: ${document.errors[0].message}`); continue; }
    const object = document.toJS();
    const module = await import(`kubernetes-models/${object.apiVersion}`).catch(() => undefined);
    const Model = module?.[object.kind];
    if (!Model) { problem(file, `no schema for ${object.apiVersion} ${object.kind}`); continue; }
    try {
      new Model(object).validate();
    } catch (error) {
      problem(file, `${object.kind}: ${error.message}`);
    }
    objects.push({ file, object });
  }
}

// What the README promises of the deployment.
const byKind = (kind) => objects.find(({ object }) => object.kind === kind)?.object;
const deployment = byKind('Deployment');
const service = byKind('Service');
const configMap = byKind('ConfigMap');
const container = deployment?.spec.template.spec.containers[0];
if (deployment?.spec.replicas !== 3) problem('deployment.yaml', 'replicas must be 3');
for (const [probe, path] of [['readinessProbe', '/readyz'], ['livenessProbe', '/healthz']]) {
  const get = container?.[probe]?.httpGet;
  if (get?.path !== path || get?.scheme !== 'HTTPS') problem('deployment.yaml', `${probe} must be GET ${path} over HTTPS`);
}
if (!container?.env?.some((variable) => variable.name === 'KEYBROKER_DATABASE_URL' && variable.valueFrom?.secretKeyRef)) {
  problem('deployment.yaml', 'KEYBROKER_DATABASE_URL must come from a Secret');
}
const security = { ...deployment?.spec.template.spec.securityContext, ...container?.securityContext };
if (security.runAsNonRoot !== true || security.allowPrivilegeEscalation !== false) problem('deployment.yaml', 'must run as non-root without privilege escalation');
if (service?.spec.ports.some((port) => port.protocol !== 'TCP')) problem('service.yaml', 'every port must be plain TCP (TLS passes through)');
if (!/backend = "postgres"/.test(configMap?.data?.['keybroker.toml'] ?? '')) problem('configmap.yaml', 'keybroker.toml must select the postgres backend');

// The Dockerfile: dockerfile-utils' diagnostics, then the project's rules.
const dockerfile = readFileSync(join(root, 'deploy', 'Dockerfile'), 'utf8');
for (const diagnostic of lintDockerfile(dockerfile)) problem('Dockerfile', `line ${diagnostic.range.start.line + 1}: ${diagnostic.message}`);
const stages = dockerfile.split('\n').filter((line) => /^FROM\s/i.test(line));
if (!stages.every((line) => /^FROM node:20[-\w.]*(\s+AS\s+\w+)?$/i.test(line.trim()))) problem('Dockerfile', 'every stage must be based on node:20');
if (!/\bnpm ci\b/.test(dockerfile)) problem('Dockerfile', 'dependencies must be installed with npm ci');
const users = [...dockerfile.matchAll(/^USER\s+(\S+)/gim)].map((match) => match[1]);
if (users.length === 0 || ['root', '0'].includes(users.at(-1))) problem('Dockerfile', 'the final USER must not be root');

for (const line of problems) console.error(`deploy check: ${line}`);
console.log(`deploy check: ${objects.length} manifests against the Kubernetes schemas, the Dockerfile linted: ${problems.length} problems`);
process.exitCode = problems.length === 0 ? 0 : 1;
