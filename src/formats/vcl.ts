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
import { DEPTH_REASON, MAX_DEPTH, hasOwn, setOwn } from './limits.ts';

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

/**
 * Where the block opened at `open` closes; on the way, the closing brace of
 * every `{` inside it is noted in `braces`, so that nested blocks are not
 * scanned again (which made deep nesting quadratic). Strings are skipped.
 */
function matchBrace(s: string, open: number, braces: Map<number, number>): number {
  const known = braces.get(open);
  if (known !== undefined) return known;
  const stack: number[] = [];
  for (let i = open; i < s.length; i++) {
    const c = s[i];
    if (c === '"') {
      const end = s.indexOf('"', i + 1);
      if (end < 0) throw new VclError('unterminated string', i);
      i = end;
    } else if (c === '{') stack.push(i);
    else if (c === '}') {
      braces.set(stack.pop()!, i);
      if (stack.length === 0) return i;
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

const ATTRIBUTE = /\s*\.([A-Za-z_][\w-]*)\s*=\s*/y;

/** The attributes of the block body s[start, end) (offsets into the whole text, braces precomputed). */
function attributes(s: string, start: number, end: number, braces: Map<number, number>, nested: boolean, depth: number): Record<string, unknown> {
  if (depth > MAX_DEPTH) throw new VclError(DEPTH_REASON, start);
  const body = s.slice(0, end);
  const out: Record<string, unknown> = {};
  let i = start;
  while (i < end) {
    ATTRIBUTE.lastIndex = i;
    const m = ATTRIBUTE.exec(body);
    if (!m) {
      const rest = body.slice(i).trim();
      if (rest === '' || rest === ';') break;
      throw new VclError(`unexpected ${JSON.stringify(rest.slice(0, 20))} in block`, i);
    }
    i += m[0].length;
    if (body[i] === '{') {
      const close = matchBrace(s, i, braces);
      if (close >= end) throw new VclError('unbalanced braces: missing }', i);
      setOwn(out, '.' + m[1]!, attributes(s, i + 1, close, braces, true, depth + 1));
      i = close + 1;
      while (body[i] === ';' || /\s/.test(body[i] ?? '')) i++;
      continue;
    }
    const semi = body.indexOf(';', i);
    if (semi < 0) throw new VclError(`missing ';' after .${m[1]}`, i);
    setOwn(out, m[1]!, scalar(body.slice(i, semi), nested));
    i = semi + 1;
  }
  return out;
}

function parse(content: string, file: string): unknown {
  const s = stripComments(content);
  const braces = new Map<number, number>();
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
      const end = matchBrace(s, after, braces);
      const body = s.slice(after + 1, end);
      const bodyPos = after + 1;
      i = end + 1;
      if (!hasOwn(out, kind)) setOwn(out, kind, {});
      const group = out[kind]!;
      if (kind === 'backend') setOwn(group, name, attributes(s, bodyPos, end, braces, false, 2));
      else if (kind === 'acl') {
        setOwn(group, name, body
          .split(';')
          .map((e) => e.trim())
          .filter((e) => e !== '' && !e.startsWith('!'))
          .map((e) => (/^"[^"]*"$/.test(e) ? e.slice(1, -1) : e)));
      } else if (kind === 'sub') {
        const sets: Record<string, unknown> = {};
        const re = /\bset\s+([^\s=]+)\s*=\s*([^;]+);/g;
        let m: RegExpExecArray | null;
        while ((m = re.exec(body)) !== null) {
          const key = m[1]!.split(/[.-]/).pop()!;
          setOwn(sets, key, scalar(m[2]!, false));
        }
        setOwn(group, name, sets);
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
