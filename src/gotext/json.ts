// JSON text in and out the way OPA (Go's encoding/json) does it.
//
// Reading keeps numbers exact (big integers as bigint, long decimals as BigDec), replaces lone
// surrogate escapes with U+FFFD, and reports syntax errors with Go's wording. The common case
// (no long numbers, exponents or surrogate escapes) goes through JSON.parse.
// Writing sorts object keys, turns sets into arrays and escapes like Go (HTML-safe).

import {
  BigDec,
  ObjMap,
  compareStrings,
  RSet,
  emptyObject,
  fromJS,
  numberLiteral,
  numberText,
  objectEntries,
  sortedKeys,
  toJSONText,
  ValueDepthError,
  type PlainObject,
  type Value,
} from "../rego/value.ts";

export class JSONSyntaxError extends Error {}

/** Go's strconv.Quote (one implementation, in gofmt.ts). */
import { goQuote } from "./fmt.ts";
export { goQuote };

/** How Go's JSON scanner names a byte in an error: the UTF-8 lead byte, read as a Latin-1 rune. */
function quoteChar(s: string, i: number): string {
  const c = s.charCodeAt(i);
  let b: number;
  if (c < 0x80) b = c;
  else if (c < 0x800) b = 0xc0 | (c >> 6);
  else if (c >= 0xd800 && c <= 0xdbff) b = 0xf0 | (s.codePointAt(i)! >> 18);
  else b = 0xe0 | (c >> 12);
  if (b === 0x27) return "'\\''";
  if (b === 0x22) return "'\"'";
  const q = goQuote(String.fromCharCode(b));
  return "'" + q.slice(1, -1) + "'";
}

/** Go's encoding/json reads arrays and objects nested at most this deep. */
export const GO_MAX_DEPTH = 10000;

const WS = (c: number) => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;

class Reader {
  i = 0;
  constructor(readonly s: string) {}

  fail(msg: string): never {
    throw new JSONSyntaxError(msg);
  }
  eof(): never {
    this.fail("unexpected EOF");
  }
  bad(context: string): never {
    this.fail(`invalid character ${quoteChar(this.s, this.i)} ${context}`);
  }
  skipWS(): void {
    const s = this.s;
    while (this.i < s.length && WS(s.charCodeAt(this.i))) this.i++;
  }

  /**
   * One JSON value. Containers are read with an explicit stack (no recursion): like Go's scanner,
   * nesting beyond GO_MAX_DEPTH is "invalid character '[' exceeded max depth".
   */
  value(): Value {
    const s = this.s;
    const stack: { arr: Value[] | null; obj: PlainObject | null; key: string }[] = [];
    for (;;) {
      this.skipWS();
      if (this.i >= s.length) this.eof();
      const c = s.charCodeAt(this.i);
      let v: Value;
      if (c === 0x7b || c === 0x5b) {
        if (stack.length >= GO_MAX_DEPTH) this.bad("exceeded max depth");
        this.i++;
        this.skipWS();
        if (this.i >= s.length) this.eof();
        if (c === 0x7b) {
          const obj: PlainObject = emptyObject();
          if (s.charCodeAt(this.i) !== 0x7d) {
            stack.push({ arr: null, obj, key: this.key() });
            continue;
          }
          this.i++;
          v = obj;
        } else {
          const arr: Value[] = [];
          if (s.charCodeAt(this.i) !== 0x5d) {
            stack.push({ arr, obj: null, key: "" });
            continue;
          }
          this.i++;
          v = arr;
        }
      } else v = this.scalar(c);
      // a complete value: into its container, closing the containers that end here
      for (;;) {
        const f = stack[stack.length - 1];
        if (f === undefined) return v;
        if (f.arr !== null) f.arr.push(v);
        else f.obj![f.key] = v;
        this.skipWS();
        if (this.i >= s.length) this.eof();
        const d = s.charCodeAt(this.i);
        if (d === 0x2c) {
          this.i++;
          if (f.obj !== null) f.key = this.key();
          break;
        }
        if (d === (f.obj !== null ? 0x7d : 0x5d)) {
          this.i++;
          stack.pop();
          v = f.arr ?? f.obj!;
          continue;
        }
        this.bad(f.obj !== null ? "after object key:value pair" : "after array element");
      }
    }
  }

  /** An object key and its colon. */
  key(): string {
    const s = this.s;
    this.skipWS();
    if (this.i >= s.length) this.eof();
    if (s.charCodeAt(this.i) !== 0x22) this.bad("looking for beginning of object key string");
    const k = this.string();
    this.skipWS();
    if (this.i >= s.length) this.eof();
    if (s.charCodeAt(this.i) !== 0x3a) this.bad("after object key");
    this.i++;
    return k;
  }

  scalar(c: number): Value {
    switch (c) {
      case 0x22: // "
        return this.string();
      case 0x74:
        return this.literal("true", true);
      case 0x66:
        return this.literal("false", false);
      case 0x6e:
        return this.literal("null", null);
    }
    if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return this.number();
    this.bad("looking for beginning of value");
  }

  literal(word: string, v: Value): Value {
    const s = this.s;
    this.i++;
    for (let k = 1; k < word.length; k++, this.i++) {
      if (this.i >= s.length) this.eof();
      if (s[this.i] !== word[k]) this.bad(`in literal ${word} (expecting '${word[k]}')`);
    }
    return v;
  }

  hex4(): number {
    const s = this.s;
    let v = 0;
    for (let k = 0; k < 4; k++, this.i++) {
      if (this.i >= s.length) this.eof();
      const c = s.charCodeAt(this.i);
      let d: number;
      if (c >= 0x30 && c <= 0x39) d = c - 0x30;
      else if (c >= 0x61 && c <= 0x66) d = c - 0x57;
      else if (c >= 0x41 && c <= 0x46) d = c - 0x37;
      else this.bad("in \\u hexadecimal character escape");
      v = v * 16 + d;
    }
    return v;
  }

  string(): string {
    const s = this.s;
    this.i++;
    let out = "";
    let start = this.i;
    for (;;) {
      if (this.i >= s.length) this.eof();
      const c = s.charCodeAt(this.i);
      if (c === 0x22) {
        out += s.slice(start, this.i);
        this.i++;
        return out;
      }
      if (c < 0x20) this.bad("in string literal");
      if (c >= 0xd800 && c <= 0xdfff) {
        // a lone surrogate in the input is not valid UTF-8: Go reads U+FFFD
        const pair =
          c <= 0xdbff && this.i + 1 < s.length && s.charCodeAt(this.i + 1) >= 0xdc00 && s.charCodeAt(this.i + 1) <= 0xdfff;
        if (pair) {
          this.i += 2;
          continue;
        }
        out += s.slice(start, this.i) + "\ufffd";
        this.i++;
        start = this.i;
        continue;
      }
      if (c !== 0x5c) {
        this.i++;
        continue;
      }
      out += s.slice(start, this.i);
      this.i++;
      if (this.i >= s.length) this.eof();
      const e = s[this.i];
      this.i++;
      switch (e) {
        case '"':
        case "\\":
        case "/":
          out += e;
          break;
        case "b":
          out += "\b";
          break;
        case "f":
          out += "\f";
          break;
        case "n":
          out += "\n";
          break;
        case "r":
          out += "\r";
          break;
        case "t":
          out += "\t";
          break;
        case "u": {
          const u = this.hex4();
          if (u >= 0xd800 && u <= 0xdbff) {
            // a high surrogate must be followed by an escaped low surrogate
            if (s[this.i] === "\\" && s[this.i + 1] === "u") {
              const save = this.i;
              this.i += 2;
              const lo = this.hex4();
              if (lo >= 0xdc00 && lo <= 0xdfff) {
                out += String.fromCharCode(u, lo);
                break;
              }
              this.i = save;
            }
            out += "\ufffd";
          } else if (u >= 0xdc00 && u <= 0xdfff) out += "\ufffd";
          else out += String.fromCharCode(u);
          break;
        }
        default:
          this.i--;
          this.bad("in string escape code");
      }
      start = this.i;
    }
  }

  number(): Value {
    const s = this.s;
    const start = this.i;
    const digit = () => {
      const c = s.charCodeAt(this.i);
      return c >= 0x30 && c <= 0x39;
    };
    if (s.charCodeAt(this.i) === 0x2d) {
      this.i++;
      if (this.i >= s.length) this.eof();
      if (!digit()) this.bad("in numeric literal");
    }
    if (s.charCodeAt(this.i) === 0x30) this.i++;
    else while (this.i < s.length && digit()) this.i++;
    if (this.i < s.length && s.charCodeAt(this.i) === 0x2e) {
      this.i++;
      if (this.i >= s.length) this.eof();
      if (!digit()) this.bad("after decimal point in numeric literal");
      while (this.i < s.length && digit()) this.i++;
    }
    if (this.i < s.length && (s[this.i] === "e" || s[this.i] === "E")) {
      this.i++;
      if (this.i >= s.length) this.eof();
      if (s[this.i] === "+" || s[this.i] === "-") {
        this.i++;
        if (this.i >= s.length) this.eof();
      }
      if (!digit()) this.bad("in exponent of numeric literal");
      while (this.i < s.length && digit()) this.i++;
    }
    const text = s.slice(start, this.i);
    return numberValue(text);
  }
}

/** A number from JSON number text, exact, keeping its text when that is not canonical (`1.0`, `1e3`), as OPA's json.Number does. */
export function numberValue(text: string): number | bigint | BigDec {
  if (text.length <= 15) {
    const n = Number(text);
    if (String(n) === text) return n;
  }
  return numberLiteral(text)!;
}

/**
 * Texts that JSON.parse would read wrongly: long digit runs (beyond a double), exponents and
 * fractions ending in 0 (whose text OPA keeps), `-0`, lone surrogate escapes.
 */
export const RISKY = /\d{16}|\d[eE]|\\u[dD][89a-fA-F]|(?:^|[:,[])\s*(?:-?\d+\.\d*0|-0)\s*(?:[,\]}]|$)/;

/**
 * json.unmarshal: the first JSON value in `s`, as OPA reads it (it then rejects a second value,
 * with Go's odd messages, except that a trailing `null` is ignored). Throws JSONSyntaxError.
 */
export function parseJSON(s: string): Value {
  if (!RISKY.test(s)) {
    let x: unknown;
    let ok = true;
    try {
      x = JSON.parse(s);
    } catch {
      ok = false;
    }
    if (ok) {
      try {
        return fromJS(x);
      } catch (e) {
        // deeper than Rego values go: the reader below gives Go's error
        if (!(e instanceof ValueDepthError)) throw e;
      }
    }
  }
  const r = new Reader(s);
  r.skipWS();
  if (r.i >= s.length) r.fail("EOF");
  const v = r.value();
  // What follows the value: Go's decoder reads one more token.
  r.skipWS();
  if (r.i >= s.length) return v;
  const c = s[r.i];
  if (c === "{" || c === "[") r.fail(`error: invalid character '${c}' after top-level value`);
  if (c === '"') r.fail(`error: invalid character '${r.string()}' after top-level value`);
  if (c === "t" || c === "f") r.fail(`error: invalid character '%!s(bool=${r.value()})' after top-level value`);
  if (c === "n") {
    r.value(); // a trailing null reads as "no more tokens"
    return v;
  }
  if (c === "-" || (c >= "0" && c <= "9")) {
    const start = r.i;
    r.number();
    r.fail(`error: invalid character '${s.slice(start, r.i)}' after top-level value`);
  }
  return r.bad("looking for beginning of value");
}

/** json.is_valid: exactly one JSON value, nothing else. */
export function isValidJSON(s: string): boolean {
  try {
    JSON.parse(s);
  } catch {
    return false;
  }
  return nesting(s) <= GO_MAX_DEPTH;
}

/** The deepest nesting of arrays and objects in valid JSON text. */
function nesting(s: string): number {
  let depth = 0;
  let max = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x22) {
      for (i++; i < s.length && s.charCodeAt(i) !== 0x22; i++) if (s.charCodeAt(i) === 0x5c) i++;
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) max = depth;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return max;
}

// ---- Writing ---------------------------------------------------------------------------------

const HEX = "0123456789abcdef";

/**
 * A JSON string literal as Go's encoding/json writes it: HTML-safe escaping of `<`, `>`, `&` by
 * default, as json.Marshal; `escapeHTML` false is an Encoder with SetEscapeHTML(false).
 */
export function goJSONString(s: string, escapeHTML = true): string {
  let out = '"';
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let rep: string | null = null;
    if (c < 0x20) {
      if (c === 0x0a) rep = "\\n";
      else if (c === 0x0d) rep = "\\r";
      else if (c === 0x09) rep = "\\t";
      else if (c === 0x08) rep = "\\b";
      else if (c === 0x0c) rep = "\\f";
      else rep = "\\u00" + HEX[c >> 4] + HEX[c & 15];
    } else if (c === 0x22) rep = '\\"';
    else if (c === 0x5c) rep = "\\\\";
    else if (escapeHTML && c === 0x3c) rep = "\\u003c";
    else if (escapeHTML && c === 0x3e) rep = "\\u003e";
    else if (escapeHTML && c === 0x26) rep = "\\u0026";
    else if (c === 0x2028) rep = "\\u2028";
    else if (c === 0x2029) rep = "\\u2029";
    else if (c >= 0xd800 && c <= 0xdfff) {
      const pair =
        c <= 0xdbff && i + 1 < s.length && s.charCodeAt(i + 1) >= 0xdc00 && s.charCodeAt(i + 1) <= 0xdfff;
      if (pair) {
        i++;
        continue;
      }
      rep = "\\ufffd";
    }
    if (rep !== null) {
      out += s.slice(start, i) + rep;
      start = i + 1;
    }
  }
  return out + s.slice(start) + '"';
}

function keyText(k: Value): string {
  return typeof k === "string" ? k : toJSONText(k);
}

/** The JSON text of a scalar, or null for a collection. */
function scalarJSON(v: Value): string | null {
  switch (typeof v) {
    case "string":
      return goJSONString(v);
    case "boolean":
      return v ? "true" : "false";
    case "number":
    case "bigint":
      return numberText(v);
  }
  if (v === null) return "null";
  if (v instanceof BigDec) return numberText(v);
  return null;
}

/** A collection's members in Go's order: keys (JSON text of object keys, sorted) or null, values. */
function members(v: Value, indented: boolean): { keys: string[] | null; items: Value[] } {
  if (Array.isArray(v)) return { keys: null, items: v };
  if (v instanceof RSet) return { keys: null, items: v.sorted() };
  let entries: [string, Value][];
  if (v instanceof ObjMap) {
    // keys as their JSON text, then sorted as strings (Go sorts the map keys)
    entries = v.sorted().map(([k, x]) => [keyText(k), x] as [string, Value]);
    entries.sort((a, b) => compareStrings(a[0], b[0]));
  } else if (indented) entries = objectEntries(v as PlainObject) as [string, Value][];
  else entries = sortedKeys(v as PlainObject).map((k) => [k, (v as PlainObject)[k]] as [string, Value]);
  return { keys: entries.map((e) => e[0]), items: entries.map((e) => e[1]) };
}

/**
 * JSON text as Go's json.Marshal (indent === null) or json.MarshalIndent writes it. Collections
 * are walked with an explicit stack: values nest as deep as Rego allows (10,000 levels).
 */
function writeJSON(v: Value, prefix: string, indent: string | null, level0: number): string {
  const top = scalarJSON(v);
  if (top !== null) return top;
  let out = "";
  const stack: { keys: string[] | null; items: Value[]; i: number; close: string }[] = [];
  const open = (x: Value) => {
    const m = members(x, indent !== null);
    const close = m.keys === null ? "]" : "}";
    if (indent !== null && m.items.length === 0) {
      out += (m.keys === null ? "[" : "{") + close;
      return;
    }
    out += m.keys === null ? "[" : "{";
    stack.push({ keys: m.keys, items: m.items, i: 0, close });
  };
  open(v);
  while (stack.length > 0) {
    const f = stack[stack.length - 1]!;
    const level = level0 + stack.length - 1;
    if (f.i === f.items.length) {
      if (indent !== null) out += "\n" + prefix + indent.repeat(level);
      out += f.close;
      stack.pop();
      continue;
    }
    if (f.i > 0) out += ",";
    if (indent !== null) out += "\n" + prefix + indent.repeat(level + 1);
    if (f.keys !== null) out += goJSONString(f.keys[f.i]!) + (indent !== null ? ": " : ":");
    const x = f.items[f.i++]!;
    const sc = scalarJSON(x);
    if (sc !== null) out += sc;
    else open(x);
  }
  return out;
}

/** Compact JSON as json.marshal produces it. */
export function marshalJSON(v: Value): string {
  return writeJSON(v, "", null, 0);
}

/** Indented JSON as Go's json.MarshalIndent(v, prefix, indent) writes it. */
export function marshalJSONIndent(v: Value, prefix: string, indent: string, level = 0): string {
  return writeJSON(v, prefix, indent, level);
}

/**
 * The first JSON value of `s`, as Go's json.Decoder reads it (servers decoding a request body):
 * whatever follows that value is not read; an empty or blank text is `undefined` (io.EOF).
 * Syntax errors are JSONSyntaxError with Go's messages.
 */
export function decodeFirstJSON(s: string): Value | undefined {
  const r = new Reader(s);
  r.skipWS();
  if (r.i >= s.length) return undefined;
  return r.value();
}
