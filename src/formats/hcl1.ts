/**
 * HCL 1 (`--parser hcl1`, `.hcl1`), decoded as HashiCorp's HCL v1 library
 * decodes into a generic value (conftest's shape):
 * - the file is an object; `key = value` sets a key (a repeated key: last wins);
 * - blocks and object values become lists of objects, one entry per block,
 *   nested one level per label:
 *   `resource "a" "b" { x = 1 }` → {resource: [{a: [{b: [{x: 1}]}]}]};
 * - an object directly inside a list stays an object;
 * - strings keep `${...}` as written; heredocs (`<<EOF`, `<<-EOF` trims
 *   every line's leading blanks); numbers: decimal, 0x hex, 0 octal, floats.
 */
import { ParseError, lineColAt, type InputParser } from './types.ts';
import { DEPTH_REASON, MAX_DEPTH } from './limits.ts';

type Val =
  | { t: 'lit'; v: unknown; pos: number }
  | { t: 'list'; items: Val[]; pos: number }
  | { t: 'obj'; items: Item[]; pos: number };
interface Item {
  keys: string[];
  value: Val;
  pos: number;
}

class Hcl1Error extends Error {
  constructor(message: string, public pos: number) {
    super(message);
  }
}

/** A number literal: sign, then hex digits, or digits with an optional fraction and exponent (matched from lastIndex). */
const NUMBER = /[-+]?(0[xX][0-9a-fA-F]+|[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?)/y;

/**
 * A number literal's value as Go's HCL decoder reads it: floats with strconv.ParseFloat, integers
 * with strconv.ParseInt(text, 0, 64) (0x hex, leading-0 octal), so a value beyond float64 or
 * int64 is an error rather than Infinity or a rounded number.
 */
function numberValue(t: string, pos: number): number {
  if (!/[xX]/.test(t) && /[.eE]/.test(t)) {
    const v = Number(t);
    if (!Number.isFinite(v)) throw new Hcl1Error(`strconv.ParseFloat: parsing ${JSON.stringify(t)}: value out of range`, pos);
    return v;
  }
  const neg = t[0] === '-';
  const body = t.replace(/^[-+]/, '');
  let v: bigint;
  if (/^0[xX]/.test(body)) v = BigInt(body);
  else if (body.length > 1 && body[0] === '0') {
    if (!/^[0-7]+$/.test(body)) throw new Hcl1Error(`strconv.ParseInt: parsing ${JSON.stringify(t)}: invalid syntax`, pos);
    v = BigInt('0o' + body);
  } else v = BigInt(body);
  if (neg) v = -v;
  if (v > 9223372036854775807n || v < -9223372036854775808n) throw new Hcl1Error(`strconv.ParseInt: parsing ${JSON.stringify(t)}: value out of range`, pos);
  const n = Number(v);
  return n === 0 ? 0 : n;
}

class Parser {
  pos = 0;
  /** nesting of objects and lists (limited to MAX_DEPTH) */
  private depth = 0;
  constructor(private s: string) {}

  private nested<T>(f: () => T): T {
    if (this.depth >= MAX_DEPTH) this.fail(DEPTH_REASON);
    this.depth++;
    try {
      return f();
    } finally {
      this.depth--;
    }
  }

  fail(msg: string, pos = this.pos): never {
    throw new Hcl1Error(msg, pos);
  }

  skip(): void {
    const s = this.s;
    for (;;) {
      const c = s[this.pos];
      if (c === ' ' || c === '\t' || c === '\n' || c === '\r') this.pos++;
      else if (c === '#' || (c === '/' && s[this.pos + 1] === '/')) {
        while (this.pos < s.length && s[this.pos] !== '\n') this.pos++;
      } else if (c === '/' && s[this.pos + 1] === '*') {
        const e = s.indexOf('*/', this.pos + 2);
        if (e < 0) this.fail('comment not terminated');
        this.pos = e + 2;
      } else return;
    }
  }

  parseList(close: string | null): Item[] {
    const items: Item[] = [];
    for (;;) {
      this.skip();
      const c = this.s[this.pos];
      if (c === undefined) {
        if (close) this.fail(`object expected closing RBRACE got: EOF`);
        return items;
      }
      if (close && c === close) return items;
      const start = this.pos;
      const keys: string[] = [];
      for (;;) {
        this.skip();
        const k = this.s[this.pos];
        if (k === '"') keys.push(this.string());
        else if (k !== undefined && /[A-Za-z_]/.test(k)) keys.push(this.ident());
        else break;
      }
      if (keys.length === 0) this.fail(`expected start of object ('{') or assignment ('=')`);
      this.skip();
      let value: Val;
      if (this.s[this.pos] === '=') {
        if (keys.length > 1) this.fail(`nested object expected: LBRACE got: ASSIGN`);
        this.pos++;
        this.skip();
        if (this.s[this.pos] === undefined || (close && this.s[this.pos] === close)) continue; // `a =` alone: ignored
        value = this.value();
      } else if (this.s[this.pos] === '{') {
        value = this.object();
      } else this.fail(`key '${keys.join(' ')}' expected start of object ('{') or assignment ('=')`);
      items.push({ keys, value, pos: start });
      this.skip();
      if (this.s[this.pos] === ',') this.pos++;
    }
  }

  ident(): string {
    const m = /^[A-Za-z_][A-Za-z0-9_\-.:]*/.exec(this.s.slice(this.pos, this.pos + 1000))!;
    this.pos += m[0].length;
    return m[0];
  }

  object(): Val {
    const pos = this.pos;
    this.pos++;
    const items = this.nested(() => this.parseList('}'));
    this.pos++;
    return { t: 'obj', items, pos };
  }

  value(): Val {
    this.skip();
    const s = this.s;
    const pos = this.pos;
    const c = s[this.pos];
    if (c === '{') return this.object();
    if (c === '[') {
      this.pos++;
      const items: Val[] = [];
      for (;;) {
        this.skip();
        if (s[this.pos] === ']') {
          this.pos++;
          break;
        }
        if (this.pos >= s.length) this.fail('list expected closing RBRACK got: EOF');
        items.push(this.nested(() => this.value()));
        this.skip();
        if (s[this.pos] === ',') this.pos++;
        else if (s[this.pos] !== ']') this.fail(`list expected comma or closing bracket`);
      }
      return { t: 'list', items, pos };
    }
    if (c === '"') return { t: 'lit', v: this.string(), pos };
    if (c === '<' && s[this.pos + 1] === '<') return { t: 'lit', v: this.heredoc(), pos };
    NUMBER.lastIndex = this.pos;
    const num = NUMBER.exec(s);
    if (num) {
      this.pos += num[0].length;
      return { t: 'lit', v: numberValue(num[0], pos), pos };
    }
    if (s.startsWith('true', this.pos) && !/[A-Za-z0-9_]/.test(s[this.pos + 4] ?? '')) {
      this.pos += 4;
      return { t: 'lit', v: true, pos };
    }
    if (s.startsWith('false', this.pos) && !/[A-Za-z0-9_]/.test(s[this.pos + 5] ?? '')) {
      this.pos += 5;
      return { t: 'lit', v: false, pos };
    }
    this.fail(`Unknown token: ${c === undefined ? 'EOF' : JSON.stringify(c)}`);
  }

  string(): string {
    const s = this.s;
    const start = this.pos;
    this.pos++;
    let out = '';
    let braces = 0;
    for (;;) {
      const c = s[this.pos];
      if (c === undefined || (c === '\n' && braces === 0)) this.fail('literal not terminated', start);
      if (c === '"' && braces === 0) {
        this.pos++;
        return out;
      }
      if (c === '$' && s[this.pos + 1] === '{') {
        braces++;
        out += '${';
        this.pos += 2;
        continue;
      }
      if (braces > 0) {
        if (c === '{') braces++;
        else if (c === '}') braces--;
      }
      if (c === '\\') {
        const e = s[this.pos + 1];
        const map: Record<string, string> = { n: '\n', t: '\t', r: '\r', '"': '"', '\\': '\\', a: '\x07', b: '\b', f: '\f', v: '\v' };
        if (e !== undefined && map[e] !== undefined) {
          out += map[e];
          this.pos += 2;
          continue;
        }
        if (e === 'u' || e === 'U') {
          const len = e === 'u' ? 4 : 8;
          const hex = s.slice(this.pos + 2, this.pos + 2 + len);
          if (!new RegExp(`^[0-9a-fA-F]{${len}}$`).test(hex)) this.fail('invalid unicode escape');
          const cp = parseInt(hex, 16);
          if (cp > 0x10ffff) this.fail('invalid unicode escape');
          out += String.fromCodePoint(cp);
          this.pos += 2 + len;
          continue;
        }
        if (braces > 0) {
          out += c;
          this.pos++;
          continue;
        }
        this.fail('unknown escape sequence');
      }
      out += c;
      this.pos++;
    }
  }

  heredoc(): string {
    const s = this.s;
    const m = /^<<(-?)([A-Za-z_][A-Za-z0-9_]*)\r?\n/.exec(s.slice(this.pos, this.pos + 300));
    if (!m) this.fail('heredoc expected a marker and a newline');
    const indent = m[1] === '-';
    this.pos += m[0].length;
    const lines: string[] = [];
    let markerIndent = '';
    for (;;) {
      if (this.pos >= s.length) this.fail(`heredoc not terminated`);
      let nl = s.indexOf('\n', this.pos);
      if (nl < 0) nl = s.length;
      const line = s.slice(this.pos, nl).replace(/\r$/, '');
      this.pos = Math.min(nl + 1, s.length);
      if ((indent ? line.trim() : line) === m[2]) {
        markerIndent = /^[ \t]*/.exec(line)![0];
        break;
      }
      lines.push(line);
    }
    // `<<-`: remove the closing marker's indentation when every line has it
    const strip = indent && markerIndent !== '' && lines.every((l) => l.startsWith(markerIndent));
    return lines.map((l) => (strip ? l.slice(markerIndent.length) : l) + '\n').join('');
  }
}

function setKey(o: Record<string, unknown>, k: string, v: unknown) {
  if (k === '__proto__') Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
  else o[k] = v;
}

/** Decode a value; objects inside a list stay objects, elsewhere they become a one-element list. */
function decode(v: Val, inList: boolean): unknown {
  if (v.t === 'lit') return v.v;
  if (v.t === 'list') return v.items.map((x) => decode(x, true));
  const m = decodeItems(v.items);
  return inList ? m : [m];
}

/** One entry of a key's list for an item whose keys start after the grouped key. */
function entry(keys: string[], value: Val): unknown {
  // built from the innermost key out: a long key chain needs no recursion
  let v: unknown = value.t === 'obj' ? decodeItems(value.items) : decode(value, false);
  for (let i = keys.length - 1; i >= 0; i--) {
    const o: Record<string, unknown> = {};
    setKey(o, keys[i]!, [v]);
    v = o;
  }
  return v;
}

function decodeItems(items: Item[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const groups = new Map<string, Item[]>();
  for (const it of items) {
    const k = it.keys[0]!;
    const g = groups.get(k);
    if (g) g.push(it);
    else groups.set(k, [it]);
  }
  for (const [k, g] of groups) {
    const objectish = g.filter((it) => it.keys.length > 1 || it.value.t === 'obj');
    if (objectish.length === 0) {
      setKey(out, k, decode(g[g.length - 1]!.value, false));
      continue;
    }
    if (objectish.length !== g.length) {
      const bad = g.find((it) => !(it.keys.length > 1 || it.value.t === 'obj'))!;
      throw new Hcl1Error(`root.${k}: unknown type for a key that is both a block and a value`, bad.pos);
    }
    setKey(out, k, g.map((it) => entry(it.keys.slice(1), it.value)));
  }
  return out;
}

function parse(content: string, file: string): unknown {
  const p = new Parser(content);
  try {
    const items = p.parseList(null);
    return decodeItems(items);
  } catch (e) {
    if (e instanceof Hcl1Error) {
      const { line, column } = lineColAt(content, e.pos);
      throw new ParseError(e.message, { file, parser: 'hcl1', line, column });
    }
    throw e;
  }
}

export const hcl1Parser: InputParser = { name: 'hcl1', parse };
