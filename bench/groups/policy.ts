/** Resource policy evaluation per second (compiled CEL), against the same decision written as plain JavaScript. */
import type { Claims } from '../../src/domain/claims.js';
import type { ResourceRequest } from '../../src/policy/policy.js';
import { compileResourcePolicy } from '../../src/policy/resource-policy.js';
import type { BenchRow } from '../report.js';
import { measureSync, summarizeLatencies } from '../stats.js';

const GROUP = '6. policy evaluation (in-process)';
const MEASUREMENT = 'ab'.repeat(48);

export function benchPolicyEvaluation(seconds: number): BenchRow[] {
  const document = {
    rules: [
      { match: 'dev/*/*', allow: 'claims.tee == "sample"' },
      { match: 'prod/*/*', allow: `claims.tee == "snp" && claims.measurement == "${MEASUREMENT}" && claims.status == "affirming"` },
      { match: '*/*/*', allow: 'false' },
    ],
  };
  const { policy } = compileResourcePolicy(document, { devMode: false, sampleEnabled: false });
  const claims: Claims = {
    v: 1, tee: 'snp', verifier: 'builtin', status: 'affirming', tcb_status: 'UpToDate', measurement: MEASUREMENT,
    trust_vector: { hardware: 2, executables: 2, configuration: 2 }, tee_claims: {}, iat: 1,
  };
  const request: ResourceRequest = {
    claims,
    resource: { repository: 'prod', type: 'key', tag: 'db', path: 'prod/key/db' },
    client: { spiffe_id: 'spiffe://keybroker.local/tee/snp/0123456789abcdef', serial: '01', not_after: '2030-01-01T00:00:00Z' },
  };
  const handWritten = (input: ResourceRequest): boolean => {
    const [repository] = input.resource.path.split('/');
    if (repository === 'dev') return input.claims.tee === 'sample';
    if (repository === 'prod') return input.claims.tee === 'snp' && input.claims.measurement === MEASUREMENT && input.claims.status === 'affirming';
    return false;
  };
  if (!policy.evaluate(request).allow || !handWritten(request)) throw new Error('the benchmark request must be allowed by both');
  const native = measureSync(() => { handWritten(request); }, seconds);
  const compiled = measureSync(() => { policy.evaluate(request); }, seconds);
  return [
    { group: GROUP, name: 'the same rules as plain JavaScript (baseline)', per_second: native.per_second, ...summarizeLatencies(native.latencies_ms) },
    {
      group: GROUP, name: 'compiled CEL resource policy, second of three rules', per_second: compiled.per_second, ...summarizeLatencies(compiled.latencies_ms),
      baseline: { name: 'plain JavaScript', per_second: native.per_second }, ratio: compiled.per_second / native.per_second,
    },
  ];
}
