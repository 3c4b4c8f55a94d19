/**
 * JSON and JSON-with-comments.
 *
 * json: Go's encoding/json semantics (duplicate keys: last wins; one value per file).
 * jsonc: `//` and `/* *\/` comments are removed (outside strings), then the
 * text is read as JSON; trailing commas stay errors, as in conftest.
 */
import { ParseError, lineColAt, type InputParser } from './types.ts';
import { findJsonError } from '../builtins/support/jsonerror.ts';
export { findJsonError };
import { DEPTH_REASON, MAX_DEPTH, setOwn } from './limits.ts';
import { mapTree, walkTree } from '../builtins/support/tree.ts';


/** Turn a JSON.parse failure into a ParseError with line and column. */
export function jsonError(e: unknown, text: string, file: string, parser: string): ParseError {
  const found = findJsonError(text);
  if (found) {
    const { line, column } = lineColAt(text, found.pos);
    return new ParseError(found.reason, { file, parser, line, column, cause: e });
  }
  const msg = e instanceof Error ? e.message : String(e);
  return new ParseError(msg, { file, parser, cause: e });
}

/** Go's decoder turns unpaired UTF-16 surrogate escapes into U+FFFD. */
export function wellFormed(v: unknown): unknown {
  const fix = (x: unknown) => (typeof x === 'string' ? (x as string & { toWellFormed(): string }).toWellFormed() : x);
  return mapTree(
    v,
    (src, kids) => {
      if (Array.isArray(src)) return kids;
      const out: Record<string, unknown> = {};
      Object.keys(src).forEach((k, i) => setOwn(out, fix(k) as string, kids[i]));
      return out;
    },
    fix,
  );
}

const SURROGATE_ESCAPE = /\\u[dD][89a-fA-F]/;
const HUGE_NUMBER = /\d{309}|[eE][+-]?\d{3}/;

/** Go cannot hold numbers beyond float64's range: such documents are errors. */
function checkFinite(v: unknown, file: string, parser: string): void {
  walkTree(v, (x) => {
    if (typeof x === 'number' && !Number.isFinite(x)) {
      throw new ParseError('json: cannot unmarshal number into Go value of type float64 (out of range)', { file, parser });
    }
  });
}

function parseJson(content: string, file: string): unknown {
  let v: unknown;
  try {
    v = JSON.parse(content);
  } catch (e) {
    throw jsonError(e, content, file, 'json');
  }
  if (HUGE_NUMBER.test(content)) checkFinite(v, file, 'json');
  return SURROGATE_ESCAPE.test(content) ? wellFormed(v) : v;
}

/** Replace comments by spaces (keeping offsets and line numbers) outside strings. */
export function stripJsonComments(text: string): string {
  if (text.indexOf('/') < 0) return text;
  let out = '';
  let last = 0;
  const n = text.length;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 34 /* " */) {
      i++;
      while (i < n) {
        const d = text.charCodeAt(i);
        if (d === 92) i += 2;
        else if (d === 34) { i++; break; }
        else i++;
      }
    } else if (c === 47 /* / */ && text.charCodeAt(i + 1) === 47) {
      let j = i + 2;
      while (j < n && text.charCodeAt(j) !== 10) j++;
      out += text.slice(last, i) + ' '.repeat(j - i);
      last = i = j;
    } else if (c === 47 && text.charCodeAt(i + 1) === 42 /* * */) {
      const end = text.indexOf('*/', i + 2);
      const j = end < 0 ? n : end + 2;
      out += text.slice(last, i) + text.slice(i, j).replace(/[^\n]/g, ' ');
      last = i = j;
    } else i++;
  }
  return out + text.slice(last);
}

function parseJsonc(content: string, file: string): unknown {
  const text = stripJsonComments(content);
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw jsonError(e, text, file, 'jsonc');
  }
  if (HUGE_NUMBER.test(text)) checkFinite(v, file, 'jsonc');
  return SURROGATE_ESCAPE.test(text) ? wellFormed(v) : v;
}

export const jsonParser: InputParser = { name: 'json', parse: parseJson };
export const jsoncParser: InputParser = { name: 'jsonc', parse: parseJsonc };
