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
 * - MAX_PROGRAM_STEPS: the work a program-like format (Jsonnet) may do while
 *   it is evaluated; jsonnet.ts also keeps go-jsonnet's limit of 500 stack
 *   frames.
 * - Alias expansion (YAML) is bounded by Go's rule, see yaml-aliases.ts.
 */
import { ParseError } from './types.ts';
import { MAX_DEPTH } from '../builtins/support/doclimits.ts';

export { MAX_DEPTH, DEPTH_REASON, DepthError, checkDepth, setOwn, getOwn, hasOwn, JS_YAML_MAX_DEPTH } from '../builtins/support/doclimits.ts';


export const MAX_INPUT_BYTES = 256 * 1024 * 1024;

/**
 * Formats that copy values by reference (HOCON substitutions, dotenv
 * variables) may produce at most this many values plus characters: a few
 * lines that double a value at each step otherwise take exponential time.
 */
export const MAX_EXPANSION = 50_000_000;

/**
 * Evaluation steps (an evaluated expression, an element a builtin builds or copies) a Jsonnet
 * file may take: about a second of work. Beyond that `parse`/`test` stop with a ParseError naming
 * the limit instead of running for minutes (comprehensions over comprehensions, std.range(1, 1e9),
 * arrays doubled in a loop).
 */
export const MAX_PROGRAM_STEPS = 2_000_000;



/** Human-readable size: "256 MiB". */
export function formatBytes(n: number): string {
  if (n % (1024 * 1024) === 0) return `${n / (1024 * 1024)} MiB`;
  return `${n} bytes`;
}

export function inputTooLarge(size: number, file: string, parser: string): ParseError {
  return new ParseError(`input is ${size} bytes, larger than the ${formatBytes(MAX_INPUT_BYTES)} input limit`, { file, parser });
}




