/**
 * Varnish VCL (`.vcl`), in the shape conftest prints for the common
 * declarations (its go-vcl reader decodes only part of the language):
 * - `backend NAME { .host = "h"; .port = 8080; .connect_timeout = 5s; }`
 *   → {backend: {NAME: {host: "h", port: 8080, connect_timeout: 5}}}
 *   (strings unquoted, numbers with a unit lose the unit; a nested
 *   `.probe = { ... }` keeps its dot and its string values keep a leading quote);
 * - `acl NAME { "localhost"; "10.0.0.0"/8; }` → {acl: {NAME: ["localhost", "\"10.0.0.0\"/8"]}}
 *   (negated entries are dropped);
 * - `sub NAME { set a.b.X-Y = "v"; }` → {sub: {NAME: {Y: "v"}}}.
 * `vcl 4.x;`, `import`, `include` and `probe` declarations are left out.
 * Conditionals inside `sub` are not reproduced (see src/formats/README.md).
 */
import { ParseError, lineColAt, type InputParser } from './types.ts';

class VclError extends Error {
  constructor(message: string, public pos: number) {
    super(message);
  }
}

function stripComments(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '"') {
      const end = s.indexOf('"', i + 1);
      const j = end < 0 ? s.length : end + 1;
      out += s.slice(i, j);
      i = j - 1;
    } else if (c === '#' || (c === '/' && s[i + 1] === '/')) {
      while (i < s.length && s[i] !== '\n') {
        out += ' ';
        i++;
      }
      i--;
    } else if (c === '/' && s[i + 1] === '*') {
      const end = s.indexOf('*/', i + 2);
      const j = end < 0 ? s.length : end + 2;
      out += s.slice(i, j).replace(/[^\n]/g, ' ');
      i = j - 1;
    } else out += c;
  }
  return out;
}

function matchBrace(s: string, open: number): number {
  let depth = 0;
  for (let i = open; i < s.length; i++) {
    const c = s[i];
    if (c === '"') {
      const end = s.indexOf('"', i + 1);
      if (end < 0) throw new VclError('unterminated string', i);
      i = end;
    } else if (c === '{') depth++;
    else if (c === '}') {
      depth--;
      if (depth === 0) return i;
    }
  }
  throw new VclError('unbalanced braces: missing }', open);
}

function scalar(raw: string, nested: boolean): unknown {
  const v = raw.trim();
  if (v.startsWith('"')) {
    if (nested) return v.endsWith('"') ? v.slice(0, -1) : v;
    return v.replace(/^"|"$/g, '');
  }
  const m = /^(-?[0-9]+(?:\.[0-9]+)?)[a-z]*$/.exec(v);
  if (m) return Number(m[1]);
  return v;
}

function attributes(body: string, base: number, nested: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  let i = 0;
  while (i < body.length) {
    const m = /^\s*\.([A-Za-z_][\w-]*)\s*=\s*/.exec(body.slice(i));
    if (!m) {
      const rest = body.slice(i).trim();
      if (rest === '' || rest === ';') break;
      throw new VclError(`unexpected ${JSON.stringify(rest.slice(0, 20))} in block`, base + i);
    }
    i += m[0].length;
    if (body[i] === '{') {
      const end = matchBrace(body, i);
      out['.' + m[1]!] = attributes(body.slice(i + 1, end), base + i + 1, true);
      i = end + 1;
      while (body[i] === ';' || /\s/.test(body[i] ?? '')) i++;
      continue;
    }
    const semi = body.indexOf(';', i);
    if (semi < 0) throw new VclError(`missing ';' after .${m[1]}`, base + i);
    out[m[1]!] = scalar(body.slice(i, semi), nested);
    i = semi + 1;
  }
  return out;
}

function parse(content: string, file: string): unknown {
  const s = stripComments(content);
  const out: Record<string, Record<string, unknown>> = {};
  let i = 0;
  try {
    while (i < s.length) {
      const ws = /^\s*/.exec(s.slice(i))![0];
      i += ws.length;
      if (i >= s.length) break;
      const head = /^([A-Za-z_]\w*)\s*([^\s{;]*)\s*/.exec(s.slice(i));
      if (!head) throw new VclError('expected a declaration', i);
      const kind = head[1]!;
      const name = head[2]!;
      const after = i + head[0].length;
      if (s[after] === ';' || kind === 'vcl' || kind === 'import' || kind === 'include') {
        const semi = s.indexOf(';', i);
        if (semi < 0) throw new VclError(`missing ';' after ${kind}`, i);
        i = semi + 1;
        continue;
      }
      if (s[after] !== '{') throw new VclError(`expected '{' after ${kind} ${name}`, after);
      const end = matchBrace(s, after);
      const body = s.slice(after + 1, end);
      const bodyPos = after + 1;
      i = end + 1;
      const group = (out[kind] ??= {});
      if (kind === 'backend') group[name] = attributes(body, bodyPos, false);
      else if (kind === 'acl') {
        group[name] = body
          .split(';')
          .map((e) => e.trim())
          .filter((e) => e !== '' && !e.startsWith('!'))
          .map((e) => (/^"[^"]*"$/.test(e) ? e.slice(1, -1) : e));
      } else if (kind === 'sub') {
        const sets: Record<string, unknown> = {};
        const re = /\bset\s+([^\s=]+)\s*=\s*([^;]+);/g;
        let m: RegExpExecArray | null;
        while ((m = re.exec(body)) !== null) {
          const key = m[1]!.split(/[.-]/).pop()!;
          sets[key] = scalar(m[2]!, false);
        }
        group[name] = sets;
      } else if (Object.keys(group).length === 0) {
        // probe, director, ...: not decoded by conftest's reader
        delete out[kind];
      }
    }
  } catch (e) {
    if (e instanceof VclError) {
      const { line, column } = lineColAt(content, e.pos);
      throw new ParseError(e.message, { file, parser: 'vcl', line, column });
    }
    throw e;
  }
  return out;
}

export const vclParser: InputParser = { name: 'vcl', parse };
