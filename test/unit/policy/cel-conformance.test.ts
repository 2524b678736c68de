/**
 * The CEL conformance data (cel-spec, as packaged by @bufbuild/cel-spec) run against the CEL library and options
 * the policies use (src/policy/cel-expression.ts), for the parts of the language policies are made of.
 *
 * Included (conformance file / section):
 *   basic (all), comparisons (all but eq_wrapper), logic (all), lists (all), macros (all),
 *   string (all but matches), fields (map_fields, map_has, in).
 * Excluded, and why:
 *   proto2, proto3, proto2_ext, wrappers, enums, dynamic, namespace, type_deductions, comparisons/eq_wrapper,
 *   fields/qualified_identifier_resolution: protobuf messages and containers; policies see JSON maps only.
 *   string/matches: regular expressions are refused in policies (unbounded backtracking).
 *   bindings_ext, block_ext: cel.bind and cel.block are refused or absent (cost bound).
 *   macros2: two-variable comprehensions, not implemented by the library; policies use the one-variable macros.
 *   optionals: optional types are disabled. timestamps: no time values in policy inputs.
 *   string_ext, encoders_ext, math_ext: extension libraries that are not enabled.
 *   integer_math, fp_math, conversions: arithmetic overflow and conversion edge cases; policies compare values.
 *   fields/quoted_map_fields: backquoted field names, a newer syntax the library does not parse.
 *   parse, plumbing, unknowns: parser stress, harness plumbing, partial evaluation.
 */
import { expect } from 'chai';
import { Environment } from '@marcbachmann/cel-js';
import { CEL_OPTIONS } from '../../../src/policy/cel-expression.js';

interface JsonValue {
  int64Value?: string;
  uint64Value?: string;
  doubleValue?: number | string;
  stringValue?: string;
  boolValue?: boolean;
  bytesValue?: string;
  nullValue?: null | string;
  listValue?: { values?: JsonValue[] };
  mapValue?: { entries?: { key: JsonValue; value: JsonValue }[] };
  [other: string]: unknown;
}

interface ConformanceTest {
  original: { name: string; expr: string; value?: JsonValue; evalError?: unknown; bindings?: Record<string, { value: JsonValue }>; disableCheck?: boolean; container?: string; typeEnv?: unknown[] };
}

interface Suite {
  name: string;
  suites?: Suite[];
  tests?: ConformanceTest[];
}

const INCLUDED: Record<string, readonly string[] | 'all'> = {
  basic: 'all',
  comparisons: ['eq_literal', 'ne_literal', 'lt_literal', 'gt_literal', 'lte_literal', 'gte_literal', 'in_list_literal', 'in_map_literal', 'bound'],
  logic: 'all',
  lists: 'all',
  macros: 'all',
  string: ['size', 'starts_with', 'ends_with', 'contains', 'concatenation', 'bytes_concat'],
  fields: ['map_fields', 'map_has', 'in'],
};

/**
 * Where the library departs from the specification, by test id, with the reason. Each is checked to still
 * depart, so this list shrinks when the library catches up. Where a departure makes an expression fail to
 * type-check, a policy using it is refused when it is set rather than evaluated differently.
 */
const DEVIATION_GROUPS: [reason: string, ids: string[]][] = [
  ['bytes literals with non-ASCII characters hold the code point, not its UTF-8 bytes', [
    'basic/self_eval_nonzeroish/self_eval_bytes_escape', 'comparisons/eq_literal/eq_bytes', 'comparisons/ne_literal/not_ne_bytes',
  ]],
  ['undeclared variables and functions are refused when checked (in policies: at set time), not errors at evaluation', [
    'basic/variables/unbound_is_runtime_error', 'basic/functions/unbound_is_runtime_error',
  ]],
  ['no heterogeneous numeric equality or membership (int, uint and double never compare equal)', [
    'comparisons/eq_literal/eq_list_mixed_type_numbers', 'comparisons/eq_literal/eq_map_mixed_type_numbers', 'comparisons/eq_literal/eq_mixed_types',
    'comparisons/eq_literal/eq_list_elem_mixed_types', 'comparisons/ne_literal/ne_mixed_types', 'comparisons/eq_literal/not_eq_list_length',
    'lists/in/uint_in_ints', 'lists/in/uint_in_doubles', 'lists/in/int_in_uints', 'lists/in/double_in_uints', 'lists/index/zero_based_uint',
  ]],
  ['int/double comparisons at the edge of the int64 range are done in floating point', [
    'comparisons/lt_literal/not_lt_dyn_int_big_lossy_double', 'comparisons/gt_literal/not_gt_dyn_big_double_int',
    'comparisons/lte_literal/lte_dyn_big_double_int', 'comparisons/gte_literal/gte_dyn_int_big_lossy_double',
  ]],
  ['bytes have no ordering operators', [
    'comparisons/lt_literal/lt_bytes', 'comparisons/lt_literal/not_lt_bytes_same', 'comparisons/lt_literal/not_lt_bytes_width',
    'comparisons/gt_literal/gt_bytes_one', 'comparisons/gt_literal/gt_bytes_one_to_empty', 'comparisons/gt_literal/not_gt_bytes_sorting',
    'comparisons/lte_literal/lte_bytes_empty', 'comparisons/lte_literal/not_lte_bytes_length', 'comparisons/gte_literal/gte_bytes_to_empty',
    'comparisons/gte_literal/not_gte_bytes_empty_to_nonempty', 'comparisons/gte_literal/gte_bytes_samelength', 'comparisons/bound/bytes_gt_left_false',
  ]],
  ['a double literal cannot start with "."', ['comparisons/gt_literal/not_gt_double']],
  ['the checker refuses non-boolean operands of && and || and mixed ternary branches even where evaluation would short-circuit', [
    'logic/conditional/mixed_type', 'logic/AND/short_circuit_type_left', 'logic/AND/short_circuit_type_right',
    'logic/OR/short_circuit_type_left', 'logic/OR/short_circuit_type_right',
  ]],
  ['comprehension variables over an empty list or a mixed map are typed too strictly', ['macros/all/list_empty', 'macros/exists_one/map_one']],
  ['has() on a map literal (has() on variables, as policies use it, works)', ['fields/map_has/has', 'fields/map_has/has_not', 'fields/map_has/has_empty']],
];

const KNOWN_DEVIATIONS: Record<string, string> = Object.fromEntries(DEVIATION_GROUPS.flatMap(([reason, ids]) => ids.map((id) => [id, reason])));

/** Tests that need protobuf messages even inside the included sections. */
function needsProtobuf(test: ConformanceTest): boolean {
  const { expr, container, typeEnv, value } = test.original;
  return container !== undefined || /\b(TestAllTypes|NestedTestAllTypes|google\.protobuf|cel\.expr)\b/.test(expr)
    || (typeEnv ?? []).some((declaration) => /proto|\./.test(JSON.stringify(declaration)))
    || (value !== undefined && ('objectValue' in value || 'typeValue' in value || 'enumValue' in value));
}

const probe = new Environment(CEL_OPTIONS);
const UnsignedInt = (probe.evaluate('0u') as object).constructor as new (value: bigint) => { valueOf(): bigint };

function toJs(value: JsonValue): unknown {
  if (value.int64Value !== undefined) return BigInt(value.int64Value);
  if (value.uint64Value !== undefined) return new UnsignedInt(BigInt(value.uint64Value));
  if (value.doubleValue !== undefined) return Number(value.doubleValue);
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.boolValue !== undefined) return value.boolValue;
  if (value.bytesValue !== undefined) return new Uint8Array(Buffer.from(value.bytesValue, 'base64'));
  if ('nullValue' in value) return null;
  if (value.listValue !== undefined) return (value.listValue.values ?? []).map(toJs);
  if (value.mapValue !== undefined) return new Map((value.mapValue.entries ?? []).map(({ key, value: inner }) => [toJs(key), toJs(inner)]));
  throw new Error(`no JS form for ${JSON.stringify(value)}`);
}

/** CEL equality of the expected value with what the library returned (maps may come back as Map or object). */
function sameValue(expected: unknown, actual: unknown): boolean {
  if (expected instanceof UnsignedInt) return actual instanceof UnsignedInt && actual.valueOf() === expected.valueOf();
  if (typeof expected === 'number') return typeof actual === 'number' && (Number.isNaN(expected) ? Number.isNaN(actual) : Object.is(expected, actual) || expected === actual);
  if (expected instanceof Uint8Array) return actual instanceof Uint8Array && Buffer.from(actual).equals(Buffer.from(expected));
  if (Array.isArray(expected)) return Array.isArray(actual) && actual.length === expected.length && expected.every((item, index) => sameValue(item, actual[index]));
  if (expected instanceof Map) {
    const entries = actual instanceof Map ? [...actual] : actual !== null && typeof actual === 'object' ? Object.entries(actual) : undefined;
    if (!entries || entries.length !== expected.size) return false;
    return [...expected].every(([key, value]) => entries.some(([otherKey, otherValue]) => String(otherKey) === String(key) && sameValue(value, otherValue)));
  }
  return expected === actual;
}

function run(test: ConformanceTest): { passed: boolean; outcome: string } {
  const { expr, value, evalError, bindings } = test.original;
  const environment = new Environment(CEL_OPTIONS);
  const activation: Record<string, unknown> = {};
  for (const [name, binding] of Object.entries(bindings ?? {})) {
    environment.registerVariable(name, 'dyn');
    activation[name] = toJs(binding.value);
  }
  let result: unknown;
  try {
    result = environment.evaluate(expr, activation);
  } catch (error) {
    const message = (error as Error).message.split('\n')[0];
    return { passed: evalError !== undefined, outcome: `error: ${message}` };
  }
  if (evalError !== undefined) return { passed: false, outcome: `no error, got ${String(result)}` };
  return { passed: sameValue(toJs(value ?? { boolValue: true }), result), outcome: `got ${String(result)}` };
}

describe('CEL conformance subset (cel-spec data via @bufbuild/cel-spec, against @marcbachmann/cel-js)', function () {
  let cases: { id: string; test: ConformanceTest }[] = [];

  before(async function () {
    const { tests } = (await import('@bufbuild/cel-spec/testdata/conformance.js')) as unknown as { tests: Suite };
    cases = [];
    for (const [file, sections] of Object.entries(INCLUDED)) {
      const suite = tests.suites?.find((candidate) => candidate.name === file);
      if (!suite) throw new Error(`conformance file ${file} is missing from @bufbuild/cel-spec`);
      for (const section of suite.suites ?? []) {
        if (sections !== 'all' && !sections.includes(section.name)) continue;
        for (const test of section.tests ?? []) {
          if (!needsProtobuf(test)) cases.push({ id: `${file}/${section.name}/${test.original.name}`, test });
        }
      }
    }
  });

  it('runs a substantial part of each included file, most of it passing', () => {
    expect(cases.length).to.be.greaterThan(300);
    expect(Object.keys(KNOWN_DEVIATIONS).length).to.be.lessThan(cases.length / 10);
    for (const file of Object.keys(INCLUDED)) expect(cases.filter((entry) => entry.id.startsWith(`${file}/`)).length, file).to.be.greaterThan(5);
  });

  it('passes every included test that is not a listed deviation', () => {
    const failures = cases.filter(({ id }) => !(id in KNOWN_DEVIATIONS)).map(({ id, test }) => ({ id, expr: test.original.expr, ...run(test) })).filter((result) => !result.passed);
    expect(failures.map((failure) => `${failure.id}: ${failure.expr} -> ${failure.outcome}`)).to.deep.equal([]);
  });

  it('each listed deviation still deviates (remove it from the list when the library is fixed)', () => {
    const ids = new Set(cases.map((entry) => entry.id));
    for (const id of Object.keys(KNOWN_DEVIATIONS)) expect(ids.has(id), `${id} is not an included test`).to.equal(true);
    const fixed = cases.filter(({ id }) => id in KNOWN_DEVIATIONS).filter(({ test }) => run(test).passed).map(({ id }) => id);
    expect(fixed).to.deep.equal([]);
  });
});
