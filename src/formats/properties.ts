/**
 * Java properties (`.properties`): an object of strings. `#`/`!` comment
 * lines, `=`, `:` or whitespace separators, backslash line continuation
 * (leading blanks of the next line dropped), `\uXXXX` and `\t \n \r \f`
 * escapes, escaped separators in keys. `${...}` is not expanded (as conftest).
 */
import { ParseError, type InputParser } from './types.ts';
import { setOwn } from './limits.ts';

function unescape(s: string, file: string, line: number): string {
  if (s.indexOf('\\') < 0) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c !== '\\') {
      out += c;
      continue;
    }
    const e = s[++i];
    if (e === undefined) break;
    if (e === 'u') {
      const hex = s.slice(i + 1, i + 5);
      if (!/^[0-9a-fA-F]{4}$/.test(hex)) throw new ParseError(`invalid unicode literal \\u${hex}`, { file, parser: 'properties', line });
      out += String.fromCharCode(parseInt(hex, 16));
      i += 4;
    } else if (e === 't') out += '\t';
    else if (e === 'n') out += '\n';
    else if (e === 'r') out += '\r';
    else if (e === 'f') out += '\f';
    else out += e;
  }
  return out;
}

/** Whether a line ends with an odd number of backslashes (it continues on the next line). */
function continues(line: string): boolean {
  let n = 0;
  for (let j = line.length - 1; j >= 0 && line.charCodeAt(j) === 92; j--) n++;
  return n % 2 === 1;
}

function parse(content: string, file: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = content.split(/\r\n|\n|\r/);
  for (let i = 0; i < lines.length; i++) {
    const startLine = i + 1;
    let line = lines[i]!.replace(/^[ \t\f]+/, '');
    if (line === '' || line[0] === '#' || line[0] === '!') continue;
    // join continuation lines (odd number of trailing backslashes); only the
    // newest part is examined, so that long chains stay linear
    // (the pieces are joined once: slicing the growing line would copy it each time)
    const pieces = [line];
    while (continues(pieces[pieces.length - 1]!) && i + 1 < lines.length) {
      pieces[pieces.length - 1] = pieces[pieces.length - 1]!.slice(0, -1);
      pieces.push(lines[++i]!.replace(/^[ \t\f]+/, ''));
    }
    if (continues(pieces[pieces.length - 1]!)) pieces[pieces.length - 1] = pieces[pieces.length - 1]!.slice(0, -1);
    line = pieces.join('');
    // key ends at an unescaped '=', ':' or whitespace
    let k = 0;
    while (k < line.length) {
      const c = line[k]!;
      if (c === '\\') {
        k += 2;
        continue;
      }
      if (c === '=' || c === ':' || c === ' ' || c === '\t' || c === '\f') break;
      k++;
    }
    const key = line.slice(0, Math.min(k, line.length));
    let rest = line.slice(Math.min(k, line.length));
    rest = rest.replace(/^[ \t\f]*/, '');
    if (rest[0] === '=' || rest[0] === ':') rest = rest.slice(1).replace(/^[ \t\f]*/, '');
    if (key === '') throw new ParseError(`properties: Line ${startLine}: ${JSON.stringify(unescape(rest, file, startLine))}`, { file, parser: 'properties', line: startLine });
    setOwn(out, unescape(key, file, startLine), unescape(rest, file, startLine));
  }
  return out;
}

export const propertiesParser: InputParser = { name: 'properties', parse };
