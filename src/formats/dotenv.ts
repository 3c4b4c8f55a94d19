/**
 * dotenv (`.env`, `.env.*`, `*.env`): an object of strings, as conftest reads
 * it: `KEY=value`, `KEY: value`, optional `export`; unquoted values end at `#`
 * and are trimmed; 'single quotes' are literal; "double quotes" may span lines
 * and understand `\n`, `\r` and backslash escapes; `$KEY`/`${KEY}`
 * (upper-case names) expand from earlier keys, else the process environment.
 */
import { ParseError, type InputParser } from './types.ts';
import { MAX_EXPANSION, setOwn } from './limits.ts';

const LINE = /^\s*(?:export\s+)?([\w.]+)(?:\s*=\s*|:\s+?)('(?:\\'|[^'])*'|"(?:\\"|[^"])*"|[^#\n]+)?\s*(?:\s*#.*)?$/;
const VAR = /(\\)?(\$)(\{?([A-Z0-9_]+)?\}?)/g;

/** Thrown when variables expand beyond MAX_EXPANSION characters (each value may double the last). */
class ExpansionError extends Error {}

function expand(s: string, env: Record<string, string>, budget: { left: number }): string {
  return s.replace(VAR, (m, bs: string | undefined, _d: string, _w: string, name: string | undefined) => {
    if (bs === '\\') return m.slice(1);
    if (!name) return m;
    const v = Object.prototype.hasOwnProperty.call(env, name) ? env[name]! : (process.env[name] ?? '');
    budget.left -= v.length;
    if (budget.left < 0) throw new ExpansionError(`variable expansion produces more than ${MAX_EXPANSION} characters`);
    return v;
  });
}

function value(raw: string | undefined, env: Record<string, string>, budget: { left: number }): string {
  if (raw === undefined) return '';
  let v = raw.trim();
  if (v.length > 1) {
    const first = v[0]!;
    const last = v[v.length - 1];
    if (first === last && (first === '"' || first === "'")) {
      v = v.slice(1, -1);
      if (first === "'") return v;
      v = v.replace(/\\(.)/gs, (m, c: string) => (c === 'n' ? '\n' : c === 'r' ? '\r' : c === '$' ? m : c));
    }
  }
  return expand(v, env, budget);
}

function parse(content: string, file: string): Record<string, string> {
  const env: Record<string, string> = {};
  const budget = { left: MAX_EXPANSION };
  const lines = content.split(/\r\n|\n/);
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!;
    const startLine = i + 1;
    const t = line.trim();
    if (t === '' || t[0] === '#') continue;
    // a double-quoted value may continue on the following lines
    const open = /^[^=]*=\s*"/.exec(line);
    if (open) {
      const after = line.slice(open[0].length);
      if (!/(^|[^\\])"/.test(after)) {
        let closed = false;
        while (i + 1 < lines.length) {
          line += '\n' + lines[++i]!;
          if (/(^|[^\\])"/.test(lines[i]!)) {
            closed = true;
            break;
          }
        }
        if (!closed) throw new ParseError('missing quotes', { file, parser: 'dotenv', line: startLine });
      }
    } else if (/^[^=]*=\s*'/.test(line) && !/^[^=]*=\s*'[^']*'/.test(line)) {
      throw new ParseError('missing quotes', { file, parser: 'dotenv', line: startLine });
    }
    const m = LINE.exec(line);
    if (!m) throw new ParseError(`line \`${line}\` doesn't match format`, { file, parser: 'dotenv', line: startLine });
    try {
      setOwn(env, m[1]!, value(m[2], env, budget));
    } catch (e) {
      if (e instanceof ExpansionError) throw new ParseError(e.message, { file, parser: 'dotenv', line: startLine });
      throw e;
    }
  }
  return env;
}

export const dotenvParser: InputParser = { name: 'dotenv', parse };
