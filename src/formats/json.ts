/**
 * JSON and JSON-with-comments.
 *
 * json: Go's encoding/json semantics (duplicate keys: last wins; one value per file).
 * jsonc: `//` and `/* *\/` comments are removed (outside strings), then the
 * text is read as JSON; trailing commas stay errors, as in conftest.
 */
import { ParseError, lineColAt, type InputParser } from './types.ts';

/**
 * Offset and reason of the first syntax error in `text` (a strict JSON scan,
 * used only after JSON.parse failed, whose messages do not always say where).
 */
export function findJsonError(text: string): { pos: number; reason: string } | undefined {
  let i = 0;
  const n = text.length;
  const ws = () => {
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 32 || c === 9 || c === 10 || c === 13) i++;
      else break;
    }
  };
  const fail = (reason: string): never => {
    throw { pos: i, reason };
  };
  const describe = () => (i >= n ? 'unexpected end of JSON input' : `invalid character ${JSON.stringify(text[i])}`);
  const value = (depth: number): void => {
    ws();
    if (depth > 10000) fail('exceeded max depth');
    const c = text[i];
    if (c === '{') {
      i++;
      ws();
      if (text[i] === '}') { i++; return; }
      for (;;) {
        ws();
        if (text[i] !== '"') fail(`${describe()} looking for beginning of object key string`);
        string();
        ws();
        if (text[i] !== ':') fail(`${describe()} after object key`);
        i++;
        value(depth + 1);
        ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === '}') { i++; return; }
        fail(`${describe()} after object key:value pair`);
      }
    } else if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') { i++; return; }
      for (;;) {
        value(depth + 1);
        ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === ']') { i++; return; }
        fail(`${describe()} after array element`);
      }
    } else if (c === '"') string();
    else if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) {
      const m = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?/.exec(text.slice(i, i + 400));
      if (!m || m[0] === '-') { i++; fail(`${describe()} in numeric literal`); }
      i += m![0].length;
    } else if (text.startsWith('true', i)) i += 4;
    else if (text.startsWith('false', i)) i += 5;
    else if (text.startsWith('null', i)) i += 4;
    else fail(`${describe()} looking for beginning of value`);
  };
  const string = () => {
    i++;
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 34) { i++; return; }
      if (c === 92) {
        const e = text[i + 1];
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) { i += 2; fail(`${describe()} in \\u hexadecimal character escape`); }
          i += 6;
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) i += 2;
        else { i++; fail(`${describe()} in string escape code`); }
      } else if (c < 32) fail(`invalid character ${JSON.stringify(text[i])} in string literal`);
      else i++;
    }
    fail('unexpected end of JSON input');
  };
  try {
    value(0);
    ws();
    if (i < n) fail(`${describe()} after top-level value`);
  } catch (e) {
    if (e && typeof e === 'object' && 'pos' in e) return e as { pos: number; reason: string };
    throw e;
  }
  return undefined;
}

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
  if (typeof v === 'string') return (v as string & { toWellFormed(): string }).toWellFormed();
  if (Array.isArray(v)) return v.map(wellFormed);
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[wellFormed(k) as string] = wellFormed(x);
    return out;
  }
  return v;
}

const SURROGATE_ESCAPE = /\\u[dD][89a-fA-F]/;
const HUGE_NUMBER = /\d{309}|[eE][+-]?\d{3}/;

/** Go cannot hold numbers beyond float64's range: such documents are errors. */
function checkFinite(v: unknown, file: string, parser: string): void {
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new ParseError('json: cannot unmarshal number into Go value of type float64 (out of range)', { file, parser });
  } else if (Array.isArray(v)) for (const x of v) checkFinite(x, file, parser);
  else if (v !== null && typeof v === 'object') for (const x of Object.values(v)) checkFinite(x, file, parser);
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
