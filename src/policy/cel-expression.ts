import { Environment, type ASTNode } from '@marcbachmann/cel-js';
import { KbsError } from '../domain/errors.js';

/**
 * Bounds on one policy expression. The library checks the structural ones while parsing; `maxChars` is checked
 * before. cel-js has no evaluation cost budget and evaluates synchronously, so evaluation is bounded by what
 * expressions may contain instead (see `checkBoundedCost`).
 */
export const EXPRESSION_LIMITS = {
  maxChars: 4096,
  maxAstNodes: 512,
  maxDepth: 32,
  maxListElements: 256,
  maxMapEntries: 64,
  maxCallArguments: 8,
} as const;

/** Facts about this broker that policies may read as `broker.dev_mode` and `broker.sample_enabled`. */
export interface BrokerFacts {
  devMode: boolean;
  sampleEnabled: boolean;
}

/** Options shared by every policy environment (and by the conformance tests, which run under the same rules). */
export const CEL_OPTIONS = {
  homogeneousAggregateLiterals: false,
  enableOptionalTypes: false,
  limits: {
    maxAstNodes: EXPRESSION_LIMITS.maxAstNodes,
    maxDepth: EXPRESSION_LIMITS.maxDepth,
    maxListElements: EXPRESSION_LIMITS.maxListElements,
    maxMapEntries: EXPRESSION_LIMITS.maxMapEntries,
    maxCallArguments: EXPRESSION_LIMITS.maxCallArguments,
  },
} as const;

/** An environment declaring exactly the given variables (all of them maps or strings) plus the `broker` constant. */
export function policyEnvironment(variables: Record<string, 'map' | 'string'>, facts: BrokerFacts): Environment {
  const environment = new Environment(CEL_OPTIONS);
  for (const [name, type] of Object.entries(variables)) environment.registerVariable(name, type);
  return environment.registerConstant('broker', 'map', { dev_mode: facts.devMode, sample_enabled: facts.sampleEnabled });
}

/** Comprehension macros: each iterates over a list or map. */
const COMPREHENSIONS = new Set(['all', 'exists', 'exists_one', 'existsOne', 'map', 'filter', 'transformList', 'transformMap', 'transformMapEntry']);

/**
 * Features whose cost does not grow linearly with the expression and its input are refused:
 * - `matches` runs a backtracking regular expression engine (a pattern like `(a+)+$` takes exponential time);
 * - `cel.bind` lets a value be used twice without being written twice (`x + x` nested doubles a string each level);
 * - a comprehension inside another's body multiplies iteration counts.
 * What remains evaluates in time proportional to (expression nodes) x (input size), and the input is bounded:
 * claims are at most 8 KiB (PROTOCOL.md 1.4), paths and identities are short.
 */
function checkBoundedCost(node: ASTNode, insideComprehension: boolean): void {
  switch (node.op) {
    case 'value':
    case 'id':
      return;
    case 'rcall': {
      const [name, receiver, args] = node.args;
      if (name === 'matches') throw refusal(node, '"matches" (regular expressions) is not allowed in policies; use startsWith, endsWith, contains or ==');
      if (name === 'bind' && receiver.op === 'id' && receiver.args === 'cel') throw refusal(node, '"cel.bind" is not allowed in policies');
      const comprehension = COMPREHENSIONS.has(name);
      if (comprehension && insideComprehension) throw refusal(node, `"${name}" inside another comprehension is not allowed (nested iteration)`);
      checkBoundedCost(receiver, insideComprehension);
      for (const arg of args) checkBoundedCost(arg, insideComprehension || comprehension);
      return;
    }
    case 'call': {
      const [name, args] = node.args;
      if (name === 'matches') throw refusal(node, '"matches" (regular expressions) is not allowed in policies; use startsWith, endsWith, contains or ==');
      for (const arg of args) checkBoundedCost(arg, insideComprehension);
      return;
    }
    case '.':
    case '.?':
      checkBoundedCost(node.args[0], insideComprehension);
      return;
    case 'map':
      for (const [key, value] of node.args) {
        checkBoundedCost(key, insideComprehension);
        checkBoundedCost(value, insideComprehension);
      }
      return;
    case '!_':
    case '-_':
      checkBoundedCost(node.args, insideComprehension);
      return;
    default:
      for (const child of node.args as ASTNode[]) checkBoundedCost(child, insideComprehension);
  }
}

class Refusal extends Error {
  constructor(readonly start: number, readonly summary: string) {
    super(summary);
  }
}

function refusal(node: ASTNode, summary: string): Refusal {
  return new Refusal(node.range?.start ?? node.pos, summary);
}

/** `line L, column C` (both from 1) of a character offset. */
export function positionOf(source: string, offset: number): string {
  const before = source.slice(0, Math.max(0, Math.min(offset, source.length)));
  const line = before.split('\n').length;
  const column = offset - before.lastIndexOf('\n');
  return `line ${line}, column ${column}`;
}

interface CelError {
  summary?: string;
  message: string;
  range?: { start: number };
}

function badExpression(field: string, source: string, error: CelError): KbsError {
  const summary = error.summary ?? error.message.split('\n')[0];
  const where = error.range ? ` at ${positionOf(source, error.range.start)}` : '';
  return new KbsError('bad-request', `${field}: ${summary}${where}`);
}

export type CompiledExpression = (activation: Record<string, unknown>) => unknown;

/**
 * Parses, bounds and type-checks one expression; throws KbsError `bad-request` naming the field and the
 * position of the first error. `resultTypes` lists the static types the expression may have (`dyn` is
 * accepted too, and checked at evaluation).
 */
export function compileExpression(environment: Environment, field: string, source: unknown, resultTypes: readonly string[]): CompiledExpression {
  if (typeof source !== 'string' || source.trim() === '') throw new KbsError('bad-request', `${field}: a CEL expression (non-empty string) is required`);
  if (source.length > EXPRESSION_LIMITS.maxChars) {
    throw new KbsError('bad-request', `${field}: expression is ${source.length} characters; at most ${EXPRESSION_LIMITS.maxChars} are allowed`);
  }
  let parsed: ReturnType<Environment['parse']>;
  try {
    parsed = environment.parse(source);
    checkBoundedCost(parsed.ast, false);
  } catch (error) {
    if (error instanceof Refusal) throw badExpression(field, source, { summary: error.summary, message: error.summary, range: { start: error.start } });
    throw badExpression(field, source, error as CelError);
  }
  const checked = parsed.check();
  if (!checked.valid) throw badExpression(field, source, checked.error ?? { message: 'type check failed' });
  if (checked.type !== 'dyn' && !resultTypes.includes(checked.type ?? '')) {
    throw new KbsError('bad-request', `${field}: expression has type ${checked.type}; it must be ${resultTypes.join(' or ')}`);
  }
  return parsed;
}

const celValues = new WeakMap<object, unknown>();

function toCel(value: unknown): unknown {
  if (typeof value === 'number') return Number.isInteger(value) ? BigInt(value) : value;
  if (Array.isArray(value)) return value.map(toCel);
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, toCel(inner)]));
  return value;
}

/**
 * JSON numbers as CEL sees them: integers become `int` (BigInt), so `claims.iat + 600` type-checks at run time.
 * Converted once per claims object: the certificate cache hands the same object to every request of a client.
 */
export function celClaims(claims: object): unknown {
  let converted = celValues.get(claims);
  if (converted === undefined) {
    converted = toCel(claims);
    celValues.set(claims, converted);
  }
  return converted;
}

/** Evaluation errors (a missing key, a failed conversion) deny; the message says why. */
export function evaluationFailure(error: unknown): string {
  const summary = (error as CelError | undefined)?.summary ?? (error instanceof Error ? error.message.split('\n')[0] : String(error));
  return `evaluation error: ${summary}`;
}
