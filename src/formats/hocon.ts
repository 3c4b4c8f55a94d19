/**
 * HOCON (`.hocon`), in conftest's shape (go-akka's configuration reader):
 * - the top level must hold objects only (conftest crashes otherwise; here
 *   that is a ParseError); objects nest as JSON objects, dotted keys nest,
 *   repeated object keys merge, repeated simple keys: last wins;
 * - every simple value is rendered as text first (a value holding a space
 *   or tab is wrapped in double quotes, null and "" become `""`), then turned
 *   into a number when Go's ParseFloat accepts it, a boolean when Go's
 *   ParseBool does, else kept as that text;
 * - arrays are rendered as text too: `[1,2,3]`, objects inside them as
 *   `{\r\n    a : 1\r\n  }`;
 * - `${path}` / `${?path}` substitutions are resolved; `+=` on an existing
 *   key is ignored (as go-akka does).
 */
import { ParseError, lineColAt, type InputParser } from './types.ts';
import { DEPTH_REASON, MAX_DEPTH, MAX_EXPANSION, setOwn } from './limits.ts';
import { goParseBool, goParseFloat } from './goparse.ts';

type HVal =
  | { t: 'str'; v: string } // simple value (quoted or not), null is ''
  | { t: 'obj'; fields: Map<string, HVal> }
  | { t: 'arr'; items: HVal[] }
  | { t: 'concat'; parts: (HVal | { t: 'sub'; path: string[]; optional: boolean; pos: number } | { t: 'ws'; v: string })[]; pos: number; fallback?: HVal }
  | { t: 'unknown' }; // an optional substitution that resolved to nothing

type Part = Extract<HVal, { t: 'concat' }>['parts'][number];

class HoconError extends Error {
  constructor(message: string, public pos: number) {
    super(message);
  }
}

const FORBIDDEN = new Set(['$', '"', '{', '}', '[', ']', ':', '=', ',', '+', '#', '`', '^', '?', '!', '@', '*', '&', '\\']);

class Parser {
  pos = 0;
  constructor(private s: string) {}

  fail(msg: string, pos = this.pos): never {
    throw new HoconError(msg, pos);
  }

  /** Skip blanks and comments; newlines too when `nl`. Returns true if a newline was skipped. */
  ws(nl: boolean): boolean {
    const s = this.s;
    let sawNl = false;
    for (;;) {
      const c = s[this.pos];
      if (c === ' ' || c === '\t' || c === '\r' || c === '\ufeff') this.pos++;
      else if (c === '\n') {
        if (!nl) return sawNl;
        sawNl = true;
        this.pos++;
      } else if (c === '#' || (c === '/' && s[this.pos + 1] === '/')) {
        while (this.pos < s.length && s[this.pos] !== '\n') this.pos++;
      } else return sawNl;
    }
  }

  parseRoot(): HVal & { t: 'obj' } {
    this.ws(true);
    if (this.s[this.pos] === '{') {
      this.pos++;
      const o = this.parseFields('}', 1);
      this.pos++;
      this.ws(true);
      if (this.pos < this.s.length) this.fail('unexpected content after the root object');
      return o;
    }
    return this.parseFields(null, 1);
  }

  /**
   * The fields of an object at nesting depth `level`. A field `a.b.c = {...}`
   * nests its value level + 3 deep: levels beyond MAX_DEPTH are an error.
   */
  parseFields(close: string | null, level: number): HVal & { t: 'obj' } {
    const obj: HVal & { t: 'obj' } = { t: 'obj', fields: new Map() };
    for (;;) {
      this.ws(true);
      const c = this.s[this.pos];
      if (c === undefined) {
        if (close) this.fail(`expected '${close}' before the end of the input`);
        return obj;
      }
      if (c === close) return obj;
      if (c === ',') {
        this.pos++;
        continue;
      }
      if (this.s.startsWith('include', this.pos) && /\s/.test(this.s[this.pos + 7] ?? '')) {
        this.fail('include is not supported');
      }
      const keyPos = this.pos;
      const path = this.parseKey();
      this.ws(false);
      let append = false;
      const d = this.s[this.pos];
      if (d === '=' || d === ':') this.pos++;
      else if (d === '+' && this.s[this.pos + 1] === '=') {
        this.pos += 2;
        append = true;
      } else if (d !== '{') this.fail(`expected '=', ':' or '{' after key '${path.join('.')}'`);
      this.ws(false);
      if (level + path.length - 1 > MAX_DEPTH) this.fail(DEPTH_REASON, keyPos);
      const value = this.parseValue(level + path.length);
      this.assign(obj, path, value, append, keyPos);
    }
  }

  assign(obj: HVal & { t: 'obj' }, path: string[], value: HVal, append: boolean, pos: number): void {
    let cur = obj;
    for (let i = 0; i < path.length - 1; i++) {
      const k = path[i]!;
      let next = cur.fields.get(k);
      if (!next || next.t !== 'obj') {
        next = { t: 'obj', fields: new Map() };
        cur.fields.set(k, next);
      }
      cur = next;
    }
    const last = path[path.length - 1]!;
    const prev = cur.fields.get(last);
    if (append) {
      // go-akka ignores `+=` on an existing key
      if (!prev) cur.fields.set(last, { t: 'arr', items: [value] });
    } else if (prev && prev.t === 'obj' && value.t === 'obj') {
      cur.fields.set(last, mergeObj(prev, value));
    } else if (value.t === 'concat' && value.parts.length === 1 && value.parts[0]!.t === 'sub' && value.parts[0]!.optional) {
      // `a = ${?X}`: when X is undefined the earlier value of a stays
      cur.fields.set(last, { ...value, fallback: prev });
    } else cur.fields.set(last, value);
    void pos;
  }

  parseKey(): string[] {
    const path: string[] = [];
    let seg = '';
    let any = false;
    const s = this.s;
    for (;;) {
      const c = s[this.pos];
      if (c === '"') {
        seg += this.quoted();
        any = true;
        continue;
      }
      if (c === '.') {
        path.push(seg);
        seg = '';
        this.pos++;
        continue;
      }
      if (c === undefined || c === '\n' || c === '=' || c === ':' || c === '{' || (c === '+' && s[this.pos + 1] === '=')) break;
      if (c === ' ' || c === '\t') {
        // whitespace inside a key only when followed by more key text
        const save = this.pos;
        this.ws(false);
        const n = s[this.pos];
        if (n === undefined || n === '=' || n === ':' || n === '{' || n === '\n' || (n === '+' && s[this.pos + 1] === '=')) break;
        seg += s.slice(save, this.pos);
        continue;
      }
      if (FORBIDDEN.has(c)) this.fail(`invalid character '${c}' in key`);
      seg += c;
      any = true;
      this.pos++;
    }
    if (!any && seg === '' && path.length === 0) this.fail('expected a key');
    path.push(seg.trim() === seg ? seg : seg.trim());
    return path;
  }

  quoted(): string {
    const s = this.s;
    if (s.startsWith('"""', this.pos)) {
      const end = s.indexOf('"""', this.pos + 3);
      if (end < 0) this.fail('unterminated """ string');
      let e = end;
      while (s[e + 3] === '"') e++;
      const v = s.slice(this.pos + 3, e);
      this.pos = e + 3;
      return v;
    }
    const start = this.pos;
    this.pos++;
    let out = '';
    for (;;) {
      const c = s[this.pos];
      if (c === undefined || c === '\n') this.fail('unterminated string', start);
      if (c === '"') {
        this.pos++;
        return out;
      }
      if (c === '\\') {
        const e = s[this.pos + 1];
        const map: Record<string, string> = { n: '\n', t: '\t', r: '\r', b: '\b', f: '\f', '"': '"', '\\': '\\', '/': '/' };
        if (e !== undefined && map[e] !== undefined) {
          out += map[e];
          this.pos += 2;
          continue;
        }
        if (e === 'u') {
          out += String.fromCharCode(parseInt(s.slice(this.pos + 2, this.pos + 6), 16));
          this.pos += 6;
          continue;
        }
        this.fail('invalid escape in string');
      }
      out += c;
      this.pos++;
    }
  }

  /** A value; a container it opens is at nesting depth `level`. */
  parseValue(level: number): HVal {
    const parts: Part[] = [];
    const start = this.pos;
    const s = this.s;
    for (;;) {
      const c = s[this.pos];
      if (c === undefined || c === '\n' || c === ',' || c === '}' || c === ']' || c === '#' || (c === '/' && s[this.pos + 1] === '/')) break;
      if (c === ' ' || c === '\t' || c === '\r') {
        const save = this.pos;
        while (s[this.pos] === ' ' || s[this.pos] === '\t' || s[this.pos] === '\r') this.pos++;
        parts.push({ t: 'ws', v: s.slice(save, this.pos) });
        continue;
      }
      if ((c === '{' || c === '[') && level > MAX_DEPTH) this.fail(DEPTH_REASON);
      if (c === '{') {
        this.pos++;
        const o = this.parseFields('}', level);
        this.pos++;
        parts.push(o);
        continue;
      }
      if (c === '[') {
        this.pos++;
        const items: HVal[] = [];
        for (;;) {
          this.ws(true);
          if (s[this.pos] === ']') {
            this.pos++;
            break;
          }
          if (s[this.pos] === ',') {
            this.pos++;
            continue;
          }
          if (this.pos >= s.length) this.fail("expected ']' before the end of the input");
          items.push(this.parseValue(level + 1));
        }
        parts.push({ t: 'arr', items });
        continue;
      }
      if (c === '"') {
        parts.push({ t: 'str', v: this.quoted() });
        continue;
      }
      if (c === '$' && s[this.pos + 1] === '{') {
        const p = this.pos;
        const end = s.indexOf('}', this.pos);
        if (end < 0) this.fail('unterminated substitution');
        let inner = s.slice(this.pos + 2, end).trim();
        const optional = inner.startsWith('?');
        if (optional) inner = inner.slice(1).trim();
        parts.push({ t: 'sub', path: splitPath(inner), optional, pos: p });
        this.pos = end + 1;
        continue;
      }
      // unquoted text
      const st = this.pos;
      while (this.pos < s.length) {
        const d = s[this.pos]!;
        if (d === '\n' || d === ' ' || d === '\t' || d === '\r' || d === ',' || d === '}' || d === ']' || d === '#' || d === '{' || d === '[' || d === '"') break;
        if (d === '/' && s[this.pos + 1] === '/') break;
        if (d === '$' && s[this.pos + 1] === '{') break;
        this.pos++;
      }
      if (this.pos === st) this.fail(`unexpected character '${c}'`);
      const word = s.slice(st, this.pos);
      parts.push({ t: 'str', v: word === 'null' ? '' : word });
    }
    // trim surrounding whitespace pieces
    while (parts.length && parts[0]!.t === 'ws') parts.shift();
    while (parts.length && parts[parts.length - 1]!.t === 'ws') parts.pop();
    if (parts.length === 0) this.fail('expected a value', start);
    if (parts.length === 1 && parts[0]!.t !== 'sub' && parts[0]!.t !== 'ws') return parts[0] as HVal;
    return { t: 'concat', parts, pos: start };
  }
}

function splitPath(p: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < p.length; i++) {
    const c = p[i]!;
    if (c === '"') {
      const end = p.indexOf('"', i + 1);
      cur += p.slice(i + 1, end < 0 ? p.length : end);
      i = end < 0 ? p.length : end;
    } else if (c === '.') {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur.trim());
  return out;
}

function mergeObj(a: HVal & { t: 'obj' }, b: HVal & { t: 'obj' }): HVal & { t: 'obj' } {
  const fields = new Map(a.fields);
  for (const [k, v] of b.fields) {
    const prev = fields.get(k);
    fields.set(k, prev && prev.t === 'obj' && v.t === 'obj' ? mergeObj(prev, v) : v);
  }
  return { t: 'obj', fields };
}

class Resolver {
  private depth = 0;
  /** values produced and characters rendered so far: substitutions can copy a value many times over */
  private work = 0;
  constructor(private root: HVal & { t: 'obj' }) {}

  private charge(n: number, pos = 0): void {
    this.work += n;
    if (this.work > MAX_EXPANSION) throw new HoconError(`substitutions expand the document beyond ${MAX_EXPANSION} values and characters`, pos);
  }

  lookup(path: string[]): HVal | undefined {
    let cur: HVal | undefined = this.root;
    for (const k of path) {
      cur = this.resolve(cur!);
      if (!cur || cur.t !== 'obj') return undefined;
      cur = cur.fields.get(k);
      if (!cur) return undefined;
    }
    return cur;
  }

  resolve(v: HVal): HVal {
    if (v.t !== 'concat') return v;
    if (++this.depth > 100) throw new HoconError('substitution cycle', v.pos);
    try {
      if (v.parts.length === 1 && v.parts[0]!.t === 'sub' && v.parts[0]!.optional && !this.lookup(v.parts[0]!.path)) {
        return v.fallback ? this.resolve(v.fallback) : { t: 'unknown' };
      }
      const vals: (HVal | { t: 'ws'; v: string })[] = [];
      for (const p of v.parts) {
        if (p.t === 'sub') {
          const target = this.lookup(p.path);
          if (!target) {
            if (p.optional) continue;
            throw new HoconError(`unresolved substitution \${${p.path.join('.')}}`, p.pos);
          }
          const r = this.resolve(target);
          if (r.t === 'unknown') return r;
          vals.push(r);
        } else if (p.t === 'concat') vals.push(this.resolve(p));
        else vals.push(p);
      }
      const real = vals.filter((x) => x.t !== 'ws') as HVal[];
      if (real.length === 1 && real[0]!.t !== 'str') return real[0]!;
      if (real.length > 0 && real.every((x) => x.t === 'obj')) {
        return (real as (HVal & { t: 'obj' })[]).reduce((a, b) => mergeObj(a, b));
      }
      if (real.length > 0 && real.every((x) => x.t === 'arr')) {
        return { t: 'arr', items: real.flatMap((x) => (x as HVal & { t: 'arr' }).items) };
      }
      let text = '';
      for (const x of vals) text += x.t === 'ws' ? x.v : x.t === 'str' ? x.v : this.render(x, 0);
      this.charge(text.length, v.pos);
      return { t: 'str', v: text };
    } finally {
      this.depth--;
    }
  }

  /** go-akka's HoconValue.ToString(indent). */
  render(v: HVal, indent: number): string {
    this.charge(1);
    const r = this.resolve(v);
    if (r.t === 'str') return quoteIfNeeded(r.v);
    if (r.t === 'arr') {
      const text = '[' + r.items.map((x) => this.render(x, indent + 1)).join(',') + ']';
      this.charge(text.length);
      return text;
    }
    if (r.t === 'obj') {
      let body = '';
      for (const [k, fv] of r.fields) body += '  '.repeat(indent + 1) + k + ' : ' + this.render(fv, indent + 1) + '\r\n';
      this.charge(body.length);
      return '{\r\n' + body + '  '.repeat(indent) + '}';
    }
    return '<<unknown value>>';
  }

  toJson(v: HVal): unknown {
    this.charge(1);
    const r = this.resolve(v);
    if (r.t === 'obj') {
      const out: Record<string, unknown> = {};
      for (const [k, fv] of r.fields) {
        const cv = this.toJson(fv);
        if (k === '__proto__') Object.defineProperty(out, k, { value: cv, enumerable: true, writable: true, configurable: true });
        else out[k] = cv;
      }
      return out;
    }
    const text = this.render(r, 0);
    const f = goParseFloat(text);
    if (f !== undefined) return f;
    const b = goParseBool(text);
    if (b !== undefined) return b;
    return text;
  }
}

function quoteIfNeeded(text: string): string {
  if (text.includes(' ') || text.includes('\t')) return '"' + text + '"';
  if (text === '') return '""';
  return text;
}

function parse(content: string, file: string): unknown {
  try {
    const root = new Parser(content).parseRoot();
    const res = new Resolver(root);
    const out: Record<string, unknown> = {};
    for (const [k, v] of root.fields) {
      const r = res.resolve(v);
      if (r.t !== 'obj') {
        throw new ParseError(`top-level key "${k}" must hold an object (conftest's HOCON reader accepts objects only at the top level)`, {
          file,
          parser: 'hocon',
        });
      }
      setOwn(out, k, res.toJson(r));
    }
    return out;
  } catch (e) {
    if (e instanceof HoconError) {
      const { line, column } = lineColAt(content, e.pos);
      throw new ParseError(e.message, { file, parser: 'hocon', line, column });
    }
    throw e;
  }
}

export const hoconParser: InputParser = { name: 'hocon', parse };
