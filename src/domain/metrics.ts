/**
 * What the broker counts and times (names and labels of the Prometheus adapter in src/server/prometheus-metrics.ts).
 * Durations are seconds. Implementations must be cheap: these run on every request.
 */
export interface BrokerMetrics {
  attestation(tee: string, verifier: string, outcome: string): void;
  issuance(seconds: number): void;
  resourceRequest(outcome: string): void;
  policyEvaluation(kind: string, seconds: number): void;
  verifierCall(verifier: string, tee: string, seconds: number): void;
  /** The text served at `GET /metrics`. */
  exposition(): Promise<{ contentType: string; body: string }>;
}

export const noMetrics: BrokerMetrics = {
  attestation() {},
  issuance() {},
  resourceRequest() {},
  policyEvaluation() {},
  verifierCall() {},
  exposition: async () => ({ contentType: 'text/plain; version=0.0.4; charset=utf-8', body: '' }),
};
