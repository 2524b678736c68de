/** An attester turns the 64 bytes of report data into TEE evidence in the verifier's shape. */
export type Attester = (reportData: Uint8Array) => Promise<unknown>;

/**
 * The development `sample` attester: no hardware, just the report data (and an optional measurement), in the
 * shape trustee's sample attester uses.
 */
export function sampleAttester(options: { measurement?: string } = {}): Attester {
  return async (reportData) => ({
    svn: '1',
    report_data: Buffer.from(reportData).toString('base64'),
    ...(options.measurement ? { measurement: options.measurement } : {}),
  });
}
