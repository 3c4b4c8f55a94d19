/**
 * INI (`.ini`), as conftest reads it: one object per section (keys before
 * any section and the DEFAULT section are left out). Values: a number when
 * Go's ParseFloat accepts them, else a boolean when Go's ParseBool does
 * (`true`, `TRUE`, `t`, `F`, ...), else the string. Inline `;`/`#` comments
 * are cut, surrounding quotes removed, `"""` values may span lines and a
 * trailing backslash continues a value.
 */
import { ParseError, type InputParser } from './types.ts';
import { goParseBool, goParseFloat } from './goparse.ts';
import { setOwn } from './limits.ts';

function hasSurroundedQuote(s: string, q: string): boolean {
  return s.length >= 2 && s[0] === q && s[s.length - 1] === q && s.split(q).length - 1 === 2;
}

export function iniValue(raw: string): unknown {
  const f = goParseFloat(raw);
  if (f !== undefined) return f;
  const b = goParseBool(raw);
  if (b !== undefined) return b;
  return raw;
}

function parse(content: string, file: string): Record<string, Record<string, unknown>> {
  const lines = content.split(/\r?\n|\r/);
  const out: Record<string, Record<string, unknown>> = {};
  let section: Record<string, unknown> | undefined; // undefined: DEFAULT (dropped)
  const autoIncrement = new Map<unknown, number>();
  const fail = (msg: string, i: number): never => {
    throw new ParseError(msg, { file, parser: 'ini', line: i + 1 });
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '' || line[0] === '#' || line[0] === ';') continue;
    if (line[0] === '[') {
      const close = line.lastIndexOf(']');
      if (close < 0) fail(`unclosed section: ${line}`, i);
      const name = line.slice(1, close);
      if (name === '') fail(`empty section name`, i);
      if (name === 'DEFAULT') section = undefined;
      else {
        if (!Object.prototype.hasOwnProperty.call(out, name)) setOwn(out, name, {});
        section = out[name];
      }
      continue;
    }
    // key
    let key: string;
    let rest: string;
    if (line[0] === '"' || line[0] === '`') {
      const q = line.startsWith('"""') ? '"""' : line[0]!;
      const end = line.indexOf(q, q.length);
      if (end < 0) fail(`no closing quote in key: ${line}`, i);
      key = line.slice(q.length, end);
      const after = line.slice(end + q.length).trimStart();
      if (after[0] !== '=' && after[0] !== ':') fail(`key-value delimiter not found: ${line}`, i);
      rest = after.slice(1);
    } else {
      const d = line.search(/[=:]/);
      if (d < 0) fail(`key-value delimiter not found: ${line}`, i);
      key = line.slice(0, d).trim();
      rest = line.slice(d + 1);
    }
    // value
    let value: string;
    let v = rest.replace(/^\s+/, '');
    if (v === '') value = '';
    else if (v.startsWith('"""') || v[0] === '`') {
      const q = v.startsWith('"""') ? '"""' : '`';
      const body = v.slice(q.length);
      const end = body.lastIndexOf(q);
      if (end >= 0) value = body.slice(0, end);
      else {
        // multi-line value
        let acc = body;
        let closed = false;
        while (++i < lines.length) {
          const l = lines[i]!;
          const e = l.indexOf(q);
          if (e >= 0) {
            acc += '\n' + l.slice(0, e);
            closed = true;
            break;
          }
          acc += '\n' + l;
        }
        if (!closed) fail('missing closing key quote from ' + q, i - 1);
        value = acc;
      }
    } else {
      v = v.trim();
      if (v.endsWith('\\')) {
        // continuation lines
        let acc = v.slice(0, -1);
        while (++i < lines.length) {
          const l = lines[i]!.trim();
          if (l.endsWith('\\')) acc += l.slice(0, -1);
          else {
            acc += l;
            break;
          }
        }
        value = acc; // continued values are taken as they are
      } else {
        const c = v.search(/[#;]/);
        if (c >= 0) v = v.slice(0, c);
        v = v.trim();
        if (hasSurroundedQuote(v, "'") || hasSurroundedQuote(v, '"')) v = v.slice(1, -1);
        value = v;
      }
    }
    if (key === '-') {
      // auto-increment key names: #1, #2, ... per section
      autoIncrement.set(section, (autoIncrement.get(section) ?? 0) + 1);
      key = '#' + autoIncrement.get(section);
    }
    if (section) setOwn(section, key, iniValue(value));
  }
  return out;
}

export const iniParser: InputParser = { name: 'ini', parse };
