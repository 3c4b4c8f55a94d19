/**
 * Resource limits every input parser honours, in one place.
 *
 * - MAX_DEPTH: the deepest nesting of arrays/objects a parser builds (10,000,
 *   the limit Go's YAML reader and encoding/json apply). Deeper input is a
 *   ParseError "exceeded max depth of 10000" in every format. Parsers check
 *   it while reading (so a hostile file cannot exhaust the stack before the
 *   check), and `runParser` checks the finished value again (aliases, dotted
 *   keys and the like can nest a value deeper than its text).
 * - MAX_INPUT_BYTES: the largest file `parse`/`test` read (256 MiB); larger
 *   input is a ParseError before it is read into memory.
 * - MAX_EXPANSION: what HOCON substitutions and dotenv variables may produce.
 * - Alias expansion (YAML) is bounded by Go's rule, see yaml-aliases.ts.
 */
import { ParseError } from './types.ts';

export const MAX_DEPTH = 10_000;

export const MAX_INPUT_BYTES = 256 * 1024 * 1024;

/**
 * Formats that copy values by reference (HOCON substitutions, dotenv
 * variables) may produce at most this many values plus characters: a few
 * lines that double a value at each step otherwise take exponential time.
 */
export const MAX_EXPANSION = 50_000_000;

/** The reason text of a too-deep document, the same for every format. */
export const DEPTH_REASON = `exceeded max depth of ${MAX_DEPTH}`;

/** Thrown inside parsers that track their nesting; the parser turns it into a located ParseError. */
export class DepthError extends Error {
  constructor(public pos?: number) {
    super(DEPTH_REASON);
    this.name = 'DepthError';
  }
}

/** Human-readable size: "256 MiB". */
export function formatBytes(n: number): string {
  if (n % (1024 * 1024) === 0) return `${n / (1024 * 1024)} MiB`;
  return `${n} bytes`;
}

export function inputTooLarge(size: number, file: string, parser: string): ParseError {
  return new ParseError(`input is ${size} bytes, larger than the ${formatBytes(MAX_INPUT_BYTES)} input limit`, { file, parser });
}

/**
 * Whether a parsed value nests arrays/objects deeper than `limit` (a scalar
 * is depth 0, `[]` 1, `[[1]]` 2), found without recursion. Returns "deep",
 * "cycle" (the value contains itself: a parser fault) or "ok". Shared
 * sub-values (YAML aliases) are walked once per reference; checkAliases
 * (yaml-aliases.ts) has bounded how often that can be.
 */
export function checkDepth(root: unknown, limit = MAX_DEPTH): 'ok' | 'deep' | 'cycle' {
  if (root === null || typeof root !== 'object') return 'ok';
  const path: object[] = [];
  const pending: unknown[][] = [];
  const idx: number[] = [];
  const enter = (o: object) => {
    path.push(o);
    pending.push(Array.isArray(o) ? o : Object.values(o));
    idx.push(0);
  };
  enter(root as object);
  while (path.length) {
    const top = path.length - 1;
    const kids = pending[top]!;
    if (idx[top]! >= kids.length) {
      path.pop();
      pending.pop();
      idx.pop();
      continue;
    }
    const c = kids[idx[top]!++];
    if (c === null || typeof c !== 'object') continue;
    if (path.length >= limit) return new Set(path).size < path.length || path.includes(c) ? 'cycle' : 'deep';
    enter(c);
  }
  return 'ok';
}

/** Set an own, enumerable property, also for keys such as `__proto__` that plain assignment would not create. */
export function setOwn(o: Record<string, unknown>, k: string, v: unknown): void {
  if (k === '__proto__') Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
  else o[k] = v;
}

/** The own property `k` of `o` (never one inherited from Object.prototype such as `constructor`). */
export function getOwn(o: object, k: string): unknown {
  return Object.prototype.hasOwnProperty.call(o, k) ? (o as Record<string, unknown>)[k] : undefined;
}

export function hasOwn(o: object, k: string): boolean {
  return Object.prototype.hasOwnProperty.call(o, k);
}
