import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { BrokerMetrics } from '../domain/metrics.js';

export interface IssuerExpiry {
  id: string;
  state: string;
  notAfter: Date;
}

/** Label children are looked up once per label value and kept: `labels()` hashes its arguments on every call. */
function memoize<T>(make: (key: string) => T): (key: string) => T {
  const children = new Map<string, T>();
  return (key) => {
    let child = children.get(key);
    if (child === undefined) {
      child = make(key);
      children.set(key, child);
    }
    return child;
  };
}

/** BrokerMetrics in Prometheus text format through prom-client; every name starts with `keybroker_`. */
export class PrometheusMetrics implements BrokerMetrics {
  readonly registry = new Registry();
  private readonly attestations = new Counter({ name: 'keybroker_attestations_total', help: 'Attestation attempts by TEE, verifier and outcome ("issued" or the error code)', labelNames: ['tee', 'verifier', 'outcome'], registers: [this.registry] });
  private readonly issued = new Counter({ name: 'keybroker_certificates_issued_total', help: 'Client certificates issued after a successful attestation', registers: [this.registry] });
  private readonly issuanceSeconds = new Histogram({ name: 'keybroker_issuance_duration_seconds', help: 'Time from receiving an attest request to the issued certificate', buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5], registers: [this.registry] });
  private readonly resourceRequests = new Counter({ name: 'keybroker_resource_requests_total', help: 'Resource requests by outcome ("released" or the error code)', labelNames: ['outcome'], registers: [this.registry] });
  private readonly policySeconds = new Histogram({ name: 'keybroker_policy_evaluation_duration_seconds', help: 'Time of one policy evaluation', labelNames: ['policy'], buckets: [0.000001, 0.0000025, 0.000005, 0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.001, 0.01], registers: [this.registry] });
  private readonly verifierSeconds = new Histogram({ name: 'keybroker_verifier_call_duration_seconds', help: 'Time of one evidence verification by a verifier', labelNames: ['verifier', 'tee'], buckets: [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10], registers: [this.registry] });

  private readonly outcomeCounter = memoize((outcome) => this.resourceRequests.labels(outcome));
  private readonly policyHistogram = memoize((kind) => this.policySeconds.labels(kind));

  constructor(issuers: () => readonly IssuerExpiry[]) {
    new Gauge({
      name: 'keybroker_ca_issuer_expiry_timestamp_seconds',
      help: 'notAfter of each issuing CA, seconds since the Unix epoch',
      labelNames: ['issuer', 'state'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const issuer of issuers()) this.labels(issuer.id, issuer.state).set(Math.floor(issuer.notAfter.getTime() / 1000));
      },
    });
    collectDefaultMetrics({ register: this.registry, prefix: 'keybroker_' });
  }

  attestation(tee: string, verifier: string, outcome: string): void {
    this.attestations.labels(tee, verifier, outcome).inc();
  }

  issuance(seconds: number): void {
    this.issued.inc();
    this.issuanceSeconds.observe(seconds);
  }

  resourceRequest(outcome: string): void {
    this.outcomeCounter(outcome).inc();
  }

  policyEvaluation(kind: string, seconds: number): void {
    this.policyHistogram(kind).observe(seconds);
  }

  verifierCall(verifier: string, tee: string, seconds: number): void {
    this.verifierSeconds.labels(verifier, tee).observe(seconds);
  }

  async exposition(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
