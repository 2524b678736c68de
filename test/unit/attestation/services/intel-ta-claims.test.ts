import { expect } from 'chai';
import { intelTaClaims } from '../../../../src/attestation/services/intel-ta-claims.js';
import { isKbsError } from '../../../../src/domain/errors.js';

const hex = (byte: number, bytes: number): string => byte.toString(16).padStart(2, '0').repeat(bytes);
const RUNTIME = { nonce: 'n-1', 'tee-pubkey': { kty: 'EC', crv: 'P-256', x: 'x', y: 'y' } };

/** A token body as Intel Trust Authority v2 issues it for a TD (claims nested under `tdx`). */
function v2Token(tdx: Record<string, unknown> = {}, top: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    tdx: {
      attester_advisory_ids: [],
      attester_runtime_data: RUNTIME,
      attester_tcb_date: '2025-11-12T00:00:00Z',
      attester_tcb_status: 'UpToDate',
      attester_type: 'TDX',
      dbgstat: 'disabled',
      pce_svn: 13,
      tdx_collateral: { qeidcerthash: hex(1, 32), quotehash: hex(2, 32) },
      tdx_is_debuggable: false,
      tdx_mrconfigid: hex(0x0c, 48),
      tdx_mrowner: hex(0, 48),
      tdx_mrseam: hex(0x11, 48),
      tdx_mrtd: hex(0x7d, 48),
      tdx_report_data: hex(0x42, 64),
      tdx_rtmr0: hex(0x10, 48),
      tdx_seamsvn: 3,
      tdx_td_attributes: '0000001000000000',
      tdx_td_attributes_debug: false,
      verifier_nonce: { val: 'dmFs', iat: 'aWF0', signature: 'c2ln' },
      ...tdx,
    },
    policy_ids_matched: [],
    policy_ids_unmatched: [],
    ver: '2.0.0',
    exp: 1764410300,
    iat: 1764410000,
    nbf: 1764410000,
    iss: 'Intel Trust Authority',
    jti: 'e3f6c3a4-2b7e-4d53-9c31-3f0c7e8a9b12',
    ...top,
  };
}

describe('intelTaClaims: Intel Trust Authority token to normalized claims', () => {
  it('maps an UpToDate, non-debug TD to affirming with MRTD as measurement and MRCONFIGID as init data', () => {
    const reading = intelTaClaims(v2Token(), 'tdx');
    expect(reading.claims).to.deep.include({
      status: 'affirming', tcb_status: 'UpToDate', measurement: hex(0x7d, 48),
      trust_vector: { hardware: 2, executables: 0, configuration: 0 },
    });
    expect(Buffer.from(reading.initData!).toString('hex')).to.equal(hex(0x0c, 48));
    expect(reading.runtimeData).to.deep.equal(RUNTIME);
  });

  it('keeps the TD\'s scalar claims under Intel\'s names and leaves out runtime data, nonce and collateral', () => {
    const teeClaims = intelTaClaims(v2Token(), 'tdx').claims.tee_claims;
    expect(teeClaims).to.include({ tdx_mrtd: hex(0x7d, 48), tdx_seamsvn: 3, attester_tcb_status: 'UpToDate', attester_type: 'TDX' });
    expect(teeClaims).to.have.property('attester_advisory_ids').that.deep.equals([]);
    for (const absent of ['attester_runtime_data', 'verifier_nonce', 'tdx_collateral', 'dbgstat']) expect(teeClaims).not.to.have.property(absent);
  });

  const statuses: [string, string, number][] = [
    ['SWHardeningNeeded', 'warning', 32],
    ['ConfigurationNeeded', 'warning', 32],
    ['OutOfDate', 'warning', 32],
    ['OutOfDateConfigurationNeeded', 'warning', 32],
    ['Revoked', 'contraindicated', 96],
  ];
  for (const [tcbStatus, status, tier] of statuses) {
    it(`maps attester_tcb_status ${tcbStatus} to ${status}`, () => {
      const { claims } = intelTaClaims(v2Token({ attester_tcb_status: tcbStatus }), 'tdx');
      expect(claims.status).to.equal(status);
      expect(claims.tcb_status).to.equal(tcbStatus);
      expect(claims.trust_vector.hardware).to.equal(tier);
    });
  }

  it('says none when the token has no TCB status, and warning for a debuggable TD', () => {
    expect(intelTaClaims(v2Token({ attester_tcb_status: undefined }), 'tdx').claims).to.include({ status: 'none', tcb_status: 'unknown' });
    const debug = intelTaClaims(v2Token({ tdx_is_debuggable: true }), 'tdx').claims;
    expect(debug.status).to.equal('warning');
    expect(debug.trust_vector.configuration).to.equal(32);
  });

  it('makes an unmatched appraisal policy contraindicated and a matched one affirming for executables', () => {
    const unmatched = intelTaClaims(v2Token({}, { policy_ids_unmatched: [{ id: 'p-1', version: 'v1' }] }), 'tdx').claims;
    expect(unmatched.status).to.equal('contraindicated');
    expect(unmatched.tee_claims.policy_ids_unmatched).to.deep.equal(['p-1']);
    const matched = intelTaClaims(v2Token({}, { policy_ids_matched: [{ id: 'p-2', version: 'v1' }] }), 'tdx').claims;
    expect(matched).to.deep.include({ status: 'affirming', trust_vector: { hardware: 2, executables: 2, configuration: 0 } });
  });

  it('reads v1 tokens, whose TDX claims are not nested', () => {
    const { tdx, ...rest } = v2Token();
    const reading = intelTaClaims({ ...rest, ...(tdx as Record<string, unknown>) }, 'tdx');
    expect(reading.claims).to.include({ status: 'affirming', measurement: hex(0x7d, 48) });
    expect(reading.runtimeData).to.deep.equal(RUNTIME);
  });

  it('reads SGX tokens: MRENCLAVE as measurement, no init data', () => {
    const reading = intelTaClaims({
      sgx: { attester_tcb_status: 'UpToDate', attester_type: 'SGX', attester_runtime_data: RUNTIME, sgx_mrenclave: hex(0xe1, 32), sgx_mrsigner: hex(0x51, 32), sgx_isvsvn: 1, sgx_is_debuggable: false },
      exp: 1764410300,
    }, 'sgx');
    expect(reading.claims).to.include({ status: 'affirming', measurement: hex(0xe1, 32) });
    expect(reading.claims.tee_claims).to.include({ sgx_mrsigner: hex(0x51, 32), sgx_isvsvn: 1 });
    expect(reading.initData).to.equal(undefined);
  });

  it('refuses a token without claims of the challenge\'s TEE (403 attestation-failed)', () => {
    for (const payload of [{ sgx: { attester_type: 'SGX' } }, { attester_type: 'SGX' }, {}]) {
      let caught: unknown;
      try {
        intelTaClaims(payload, 'tdx');
      } catch (error) {
        caught = error;
      }
      expect(isKbsError(caught) && caught.code).to.equal('attestation-failed');
    }
  });
});
