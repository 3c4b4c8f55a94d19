/**
 * EDN (`.edn`), in conftest's shape: maps become objects and vectors/lists
 * become arrays; every other value becomes the string Go's fmt.Sprint gives
 * it (conftest's EDN reader stringifies leaves):
 * - numbers: `42` → "42", `100.0` → "100", `1e21` → "1e+21"
 * - keywords keep their colon (":kw"), symbols are bare, nil is "<nil>",
 *   booleans "true"/"false", characters their code point (`\c` → "99")
 * - sets: "map[a:true b:true]", tagged values "#tag value",
 *   `#inst` a Go time ("2020-01-01 10:00:00 +0000 UTC")
 * Map keys are stringified the same way. Only the first value of the file is read.
 */
import { ParseError, lineColAt, type InputParser } from './types.ts';
import { DEPTH_REASON, MAX_DEPTH } from './limits.ts';

class Keyword {
  constructor(public name: string) {}
}
class Sym {
  constructor(public name: string) {}
}
class Char {
  constructor(public code: number) {}
}
class EdnSet {
  constructor(public items: unknown[]) {}
}
class Tagged {
  constructor(public tag: string, public value: unknown) {}
}
class BigIntVal {
  constructor(public v: bigint) {}
}
class Decimal {
  constructor(public text: string) {}
}
class Float {
  constructor(public v: number) {}
}
class EdnMap {
  constructor(public entries: [unknown, unknown][]) {}
}
class EdnInst {
  constructor(public text: string) {}
}

class EdnError extends Error {
  constructor(message: string, public pos: number) {
    super(message);
  }
}

/** An invalid value found after reading (no position). */
class EdnValueError extends Error {}

const DELIM = /[\s,()[\]{}";]/;

class Reader {
  pos = 0;
  /** nesting of forms (collections, tagged values), limited to MAX_DEPTH */
  private depth = 0;
  constructor(private s: string) {}

  fail(msg: string): never {
    throw new EdnError(msg, this.pos);
  }

  ws(): void {
    const s = this.s;
    while (this.pos < s.length) {
      const c = s[this.pos]!;
      if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === ',' || c === '\f') this.pos++;
      else if (c === ';') {
        while (this.pos < s.length && s[this.pos] !== '\n') this.pos++;
      } else break;
    }
  }

  token(): string {
    const start = this.pos;
    while (this.pos < this.s.length && !DELIM.test(this.s[this.pos]!)) this.pos++;
    return this.s.slice(start, this.pos);
  }

  read(): unknown {
    if (this.depth >= MAX_DEPTH) this.fail(DEPTH_REASON);
    this.depth++;
    try {
      return this.readForm();
    } finally {
      this.depth--;
    }
  }

  private readForm(): unknown {
    this.ws();
    const s = this.s;
    let c = s[this.pos];
    // `#_ form` discards the form: a loop, so that long runs of discards need no stack
    while (c === '#' && s[this.pos + 1] === '_') {
      this.pos += 2;
      this.read();
      this.ws();
      c = s[this.pos];
    }
    if (c === undefined) this.fail('No more tokens to read');
    switch (c) {
      case '{': {
        this.pos++;
        const items = this.readSeq('}');
        if (items.length % 2) this.fail('Unexpected token');
        const entries: [unknown, unknown][] = [];
        for (let i = 0; i < items.length; i += 2) entries.push([items[i], items[i + 1]]);
        return new EdnMap(entries);
      }
      case '[':
        this.pos++;
        return this.readSeq(']');
      case '(':
        this.pos++;
        return this.readSeq(')');
      case '"':
        return this.readString();
      case '\\': {
        this.pos++;
        const t = this.token();
        const t2 = t === '' ? s[this.pos++] ?? '' : t;
        const named: Record<string, number> = { newline: 10, return: 13, space: 32, tab: 9, formfeed: 12, backspace: 8 };
        if (named[t2] !== undefined) return new Char(named[t2]!);
        if (/^u[0-9a-fA-F]{4}$/.test(t2)) return new Char(parseInt(t2.slice(1), 16));
        if ([...t2].length === 1) return new Char(t2.codePointAt(0)!);
        this.fail(`invalid character literal \\${t2}`);
      }
      // falls through
      case '#': {
        const n = s[this.pos + 1];
        if (n === '{') {
          this.pos += 2;
          return new EdnSet(this.readSeq('}'));
        }
        this.pos++;
        const tag = this.token();
        if (!tag) this.fail('Unexpected token');
        const v = this.read();
        if (tag === 'inst') {
          if (typeof v !== 'string') this.fail('#inst requires a string');
          return new EdnInst(v);
        }
        return new Tagged(tag, v);
      }
      case ')':
      case ']':
      case '}':
        this.fail('Unexpected token');
    }
    const t = this.token();
    if (t === '') this.fail('Unexpected token');
    if (t[0] === ':') return new Keyword(t.slice(1));
    if (t === 'nil') return null;
    if (t === 'true') return true;
    if (t === 'false') return false;
    if (/^[-+]?[0-9]/.test(t)) return this.number(t);
    return new Sym(t);
  }

  number(t: string): unknown {
    let m = /^([-+]?)([0-9]+)(N?)$/.exec(t);
    if (m) {
      const v = BigInt(m[1] === '-' ? '-' + m[2] : m[2]!);
      if (m[3] === 'N') return new BigIntVal(v);
      if (v > 9223372036854775807n || v < -9223372036854775808n) {
        this.fail(`strconv.ParseInt: parsing ${JSON.stringify(t)}: value out of range`);
      }
      return Number(v);
    }
    m = /^[-+]?[0-9]+(\.[0-9]*)?([eE][-+]?[0-9]+)?(M?)$/.exec(t);
    if (m) {
      if (m[3] === 'M') return new Decimal(t.slice(0, -1).replace(/^\+/, ''));
      return new Float(Number(t));
    }
    const bad = /^[-+]?[0-9]+/.exec(t)!;
    this.fail(`invalid character '${t[bad[0].length]}' - unexpected rune after legal integer`);
  }

  readSeq(close: string): unknown[] {
    const items: unknown[] = [];
    for (;;) {
      this.ws();
      if (this.pos >= this.s.length) this.fail('No more tokens to read');
      if (this.s[this.pos] === close) {
        this.pos++;
        return items;
      }
      items.push(this.read());
    }
  }

  readString(): string {
    const s = this.s;
    this.pos++;
    let out = '';
    for (;;) {
      const c = s[this.pos];
      if (c === undefined) this.fail('No more tokens to read');
      if (c === '"') {
        this.pos++;
        return out;
      }
      if (c === '\\') {
        const e = s[this.pos + 1];
        const map: Record<string, string> = { n: '\n', t: '\t', r: '\r', '"': '"', '\\': '\\', b: '\b', f: '\f', '/': '/' };
        if (e !== undefined && map[e] !== undefined) {
          out += map[e];
          this.pos += 2;
          continue;
        }
        if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(s.slice(this.pos + 2, this.pos + 6))) {
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
}

/** Go's %v for a float64 (strconv 'g', shortest). */
export function goFloat(f: number): string {
  if (Number.isNaN(f)) return 'NaN';
  if (!Number.isFinite(f)) return f > 0 ? '+Inf' : '-Inf';
  if (f === 0) return Object.is(f, -0) ? '-0' : '0';
  const [mant, expS] = f.toExponential().split('e') as [string, string];
  const exp = Number(expS);
  const digits = mant.replace('-', '').replace('.', '');
  const nd = digits.length;
  const dp = exp + 1;
  let eprec = 6;
  if (eprec > nd && nd >= dp) eprec = nd;
  const sign = f < 0 ? '-' : '';
  if (exp < -4 || exp >= eprec) {
    const m = digits.length > 1 ? digits[0] + '.' + digits.slice(1) : digits;
    const e = Math.abs(exp);
    return `${sign}${m}e${exp < 0 ? '-' : '+'}${e < 10 ? '0' + e : e}`;
  }
  if (dp <= 0) return `${sign}0.${'0'.repeat(-dp)}${digits}`;
  if (dp >= nd) return sign + digits + '0'.repeat(dp - nd);
  return `${sign}${digits.slice(0, dp)}.${digits.slice(dp)}`;
}

function goTimeString(text: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})$/.exec(text);
  if (!m) throw new EdnValueError(`invalid #inst ${JSON.stringify(text)}`);
  const frac = m[7] ? '.' + m[7].slice(0, 9).replace(/0+$/, '') : '';
  const f = frac === '.' ? '' : frac;
  const base = `${m[1]}-${m[2]}-${m[3]} ${m[4]}:${m[5]}:${m[6]}${f}`;
  if (m[8] === 'Z') return `${base} +0000 UTC`;
  const off = m[8]!.replace(':', '');
  return `${base} ${off} ${off}`;
}

/** fmt.Sprint of a decoded EDN value. */
function sprint(v: unknown): string {
  if (v === null) return '<nil>';
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean') return String(v);
  if (typeof v === 'number') return String(v);
  if (v instanceof Float) return goFloat(v.v);
  if (v instanceof Keyword) return ':' + v.name;
  if (v instanceof Sym) return v.name;
  if (v instanceof Char) return String(v.code);
  if (v instanceof BigIntVal) return `{${v.v < 0n ? 'true' : 'false'} [${(v.v < 0n ? -v.v : v.v).toString()}]}`;
  if (v instanceof Decimal) return v.text;
  if (v instanceof EdnInst) return goTimeString(v.text);
  if (v instanceof Tagged) return `#${v.tag} ${sprint(v.value)}`;
  if (Array.isArray(v)) return '[' + v.map(sprint).join(' ') + ']';
  if (v instanceof EdnSet) return 'map[' + sortedKeys(v.items).map((k) => `${sprint(k)}:true`).join(' ') + ']';
  if (v instanceof EdnMap) {
    const m = new Map<unknown, unknown>(v.entries);
    return 'map[' + sortedKeys([...m.keys()]).map((k) => `${sprint(k)}:${sprint(m.get(k))}`).join(' ') + ']';
  }
  return String(v);
}

/** Go's fmt map-key order, for keys of one kind. */
function sortedKeys(keys: unknown[]): unknown[] {
  const num = (k: unknown) => (typeof k === 'number' ? k : k instanceof Float ? k.v : undefined);
  const str = (k: unknown) => (typeof k === 'string' ? k : k instanceof Keyword || k instanceof Sym ? k.name : undefined);
  return [...keys].sort((a, b) => {
    const na = num(a), nb = num(b);
    if (na !== undefined && nb !== undefined) return na - nb;
    const sa = str(a), sb = str(b);
    if (sa !== undefined && sb !== undefined) return sa < sb ? -1 : sa > sb ? 1 : 0;
    const ta = typeof a === 'string' ? 0 : 1;
    const tb = typeof b === 'string' ? 0 : 1;
    return ta - tb;
  });
}

function toJson(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(toJson);
  if (v instanceof EdnMap) {
    const out: Record<string, unknown> = {};
    for (const [k, val] of v.entries) {
      const key = sprint(k);
      const cv = toJson(val);
      if (key === '__proto__') Object.defineProperty(out, key, { value: cv, enumerable: true, writable: true, configurable: true });
      else out[key] = cv;
    }
    return out;
  }
  return sprint(v);
}

function parse(content: string, file: string): unknown {
  try {
    return toJson(new Reader(content).read());
  } catch (e) {
    if (e instanceof EdnError) {
      const { line, column } = lineColAt(content, e.pos);
      throw new ParseError(e.message, { file, parser: 'edn', line, column });
    }
    if (e instanceof EdnValueError) throw new ParseError(e.message, { file, parser: 'edn' });
    throw e;
  }
}

export const ednParser: InputParser = { name: 'edn', parse };
