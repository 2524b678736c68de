import { expect } from 'chai';
import { isKnownTee, TEE_NAMES } from '../../../src/domain/claims.js';
import { adminSpiffeId, IDENTITY_SEGMENT, parseSpiffeId, teeSpiffeId } from '../../../src/domain/identity.js';

describe('domain/identity', () => {
  it('builds SPIFFE ids of PROTOCOL.md 1.4 and 1.8', () => {
    expect(teeSpiffeId('keybroker.local', 'snp', '0123456789abcdef')).to.equal('spiffe://keybroker.local/tee/snp/0123456789abcdef');
    expect(adminSpiffeId('keybroker.local', 'alice')).to.equal('spiffe://keybroker.local/admin/alice');
  });

  it('parses TEE and admin ids of its own trust domain', () => {
    expect(parseSpiffeId('td.example', 'spiffe://td.example/tee/tdx/abc')).to.deep.equal({ kind: 'tee', spiffeId: 'spiffe://td.example/tee/tdx/abc', tee: 'tdx', id: 'abc' });
    expect(parseSpiffeId('td.example', 'spiffe://td.example/admin/bob')).to.deep.equal({ kind: 'admin', spiffeId: 'spiffe://td.example/admin/bob', name: 'bob' });
  });

  it('refuses ids of other trust domains and other shapes', () => {
    for (const uri of [
      'spiffe://other.example/tee/tdx/abc',
      'spiffe://td.example.evil/tee/tdx/abc',
      'spiffe://td.example/tee/tdx',
      'spiffe://td.example/tee/tdx/abc/def',
      'spiffe://td.example/tee//abc',
      'spiffe://td.example/admin/',
      'spiffe://td.example/admin/a/b',
      'spiffe://td.example/workload/x',
      'https://td.example/tee/tdx/abc',
    ]) {
      expect(parseSpiffeId('td.example', uri), uri).to.equal(undefined);
    }
  });

  it('keeps identity segments to a conservative alphabet', () => {
    expect(IDENTITY_SEGMENT.test('0123456789abcdef')).to.equal(true);
    expect(IDENTITY_SEGMENT.test('workload-7.v2')).to.equal(true);
    expect(IDENTITY_SEGMENT.test('x'.repeat(64))).to.equal(true);
    expect(IDENTITY_SEGMENT.test('x'.repeat(65))).to.equal(false);
    expect(IDENTITY_SEGMENT.test('.hidden')).to.equal(false);
    expect(IDENTITY_SEGMENT.test('a/b')).to.equal(false);
    expect(IDENTITY_SEGMENT.test('')).to.equal(false);
  });

  it('knows trustee TEE names', () => {
    for (const tee of ['sample', 'snp', 'tdx', 'sgx', 'az-snp-vtpm', 'az-tdx-vtpm', 'tpm', 'cca']) expect(isKnownTee(tee), tee).to.equal(true);
    expect(isKnownTee('quantum')).to.equal(false);
    expect(isKnownTee('SNP')).to.equal(false);
    expect(TEE_NAMES).to.include('sample');
  });
});
