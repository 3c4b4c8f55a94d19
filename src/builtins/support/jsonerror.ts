// Where JSON text goes wrong, as Go's decoder reports it (shared by the json input parser and
// json.unmarshal/json.is_valid).
import { MAX_DEPTH, DEPTH_REASON } from './doclimits.ts';

/**
 * Offset and reason of the first syntax error in `text` (a strict JSON scan,
 * used only after JSON.parse failed, whose messages do not always say where).
 * Nesting deeper than MAX_DEPTH is an error at the bracket that goes too
 * deep, as in Go's decoder. The scan keeps its own stack of open brackets.
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
  /** open containers: '[' or '{' */
  const open: string[] = [];
  /** After a complete value: read `,` / closing brackets; returns true when a further value must follow. */
  const afterValue = (): boolean => {
    for (;;) {
      ws();
      const top = open[open.length - 1];
      if (top === undefined) return false;
      if (text[i] === ',') {
        i++;
        if (top === '{') {
          ws();
          if (text[i] !== '"') fail(`${describe()} looking for beginning of object key string`);
          key();
        }
        return true;
      }
      if (text[i] === (top === '[' ? ']' : '}')) {
        i++;
        open.pop();
        continue;
      }
      fail(`${describe()} after ${top === '[' ? 'array element' : 'object key:value pair'}`);
    }
  };
  const key = () => {
    string();
    ws();
    if (text[i] !== ':') fail(`${describe()} after object key`);
    i++;
  };
  try {
    for (;;) {
      // read one value; containers push and continue with their first member
      ws();
      const c = text[i];
      if (c === '{' || c === '[') {
        if (open.length >= MAX_DEPTH) fail(DEPTH_REASON);
        i++;
        ws();
        if (text[i] === (c === '[' ? ']' : '}')) {
          i++;
          if (!afterValue()) break;
          continue;
        }
        open.push(c);
        if (c === '{') {
          if (text[i] !== '"') fail(`${describe()} looking for beginning of object key string`);
          key();
        }
        continue;
      }
      if (c === '"') string();
      else if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) {
        const m = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?/.exec(text.slice(i, i + 400));
        if (!m || m[0] === '-') { i++; fail(`${describe()} in numeric literal`); }
        i += m![0].length;
      } else if (text.startsWith('true', i)) i += 4;
      else if (text.startsWith('false', i)) i += 5;
      else if (text.startsWith('null', i)) i += 4;
      else fail(`${describe()} looking for beginning of value`);
      if (!afterValue()) break;
    }
    ws();
    if (i < n) fail(`${describe()} after top-level value`);
  } catch (e) {
    if (e && typeof e === 'object' && 'pos' in e) return e as { pos: number; reason: string };
    throw e;
  }
  return undefined;
}
