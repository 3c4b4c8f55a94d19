// String builtins: concat, contains, sprintf, substring, trim*, strings.* …
//
// Indexes and lengths count code points (Go runes), not UTF-16 units.

import type { Builtin, BuiltinImpl, BuiltinContext } from "./registry.ts";
import { BuiltinError, BuiltinTypeError, T, operandError } from "./registry.ts";
import type { Value } from "../rego/value.ts";
import { BigDec, ObjMap, RSet, TextNumber, isObject, numberText, objectEntries, typeName } from "../rego/value.ts";
import { GoFloat, GoMap, GoNumber, goQuote, goSprintf, type GoVal } from "../gotext/fmt.ts";
import { jsonSyntaxError, renderTemplate } from "./gotemplate.ts";

// ---- helpers ---------------------------------------------------------------------------------

/**
 * A verb with a width or a precision (`%5d`, `%.3f`, `%-08.2f`) somewhere in a format: a `%`,
 * flags (`-+# 0`), then a digit or a `.` (the text /%[-+# 0]*[\d.]/ matches, found without a
 * regular expression: sprintf asks on every call).
 */
function hasWidth(format: string): boolean {
  const n = format.length;
  for (let i = format.indexOf("%"); i >= 0; i = format.indexOf("%", i + 1)) {
    let j = i + 1;
    let c = j < n ? format.charCodeAt(j) : -1;
    // flags - + # space; a 0 (a flag, but also a digit) decides at once
    while (c === 0x2d || c === 0x2b || c === 0x23 || c === 0x20) c = ++j < n ? format.charCodeAt(j) : -1;
    if ((c >= 0x30 && c <= 0x39) || c === 0x2e) return true;
  }
  return false;
}
const SURROGATE = /[\uD800-\uDFFF]/;

function str(name: string, pos: number, v: Value): string {
  if (typeof v !== "string") throw operandError(name, pos, "string", v);
  return v;
}

/** An integer operand as OPA's IntOperand reads it (int range, no fractions). */
function intOperand(name: string, pos: number, v: Value): number {
  if (typeof v === "number") {
    if (Number.isInteger(v)) return v;
  } else if (typeof v === "bigint") {
    if (v >= -(1n << 63n) && v < 1n << 63n) return Number(v);
  } else if (!(v instanceof BigDec)) {
    throw operandError(name, pos, "number", v);
  }
  throw new BuiltinTypeError(`${name}: operand ${pos} must be integer number but got floating-point number`);
}

/** Code-point index of UTF-16 index `u` in s. */
function cpIndex(s: string, u: number): number {
  let n = u;
  for (let i = 0; i < u; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < u) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n--;
        i++;
      }
    }
  }
  return n;
}

/** UTF-16 index of the code point with index cp (s.length when past the end). */
function unitIndex(s: string, cp: number): number {
  let i = 0;
  while (cp > 0 && i < s.length) {
    const c = s.charCodeAt(i);
    i += c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00 ? 2 : 1;
    cp--;
  }
  return i;
}

/** Code points of s as strings (lone surrogates count as one). */
function runes(s: string): string[] {
  return Array.from(s);
}

function runeLen(s: string): number {
  return SURROGATE.test(s) ? runes(s).length : s.length;
}

/** The strings of a string / array of strings / set of strings operand. */
function stringsOperand(name: string, pos: number, v: Value): string[] {
  if (typeof v === "string") return [v];
  if (Array.isArray(v)) {
    for (const x of v) {
      if (typeof x !== "string")
        throw new BuiltinTypeError(`${name}: operand ${pos} must be array of strings but got array containing ${typeName(x)}`);
    }
    return v as string[];
  }
  if (v instanceof RSet) {
    const out = v.sorted();
    for (const x of out) {
      if (typeof x !== "string")
        throw new BuiltinTypeError(`${name}: operand ${pos} must be set of strings but got set containing ${typeName(x)}`);
    }
    return out as string[];
  }
  throw operandError(name, pos, "one of {string, set, array}", v);
}

// ---- Unicode case mapping as Go does it (per rune, simple mappings only) ---------------------

const caseCache = new Map<string, string>();

// Case pairs added in Unicode 16, which the JS engine knows and Go (Unicode 15) does not.
const UNICODE16_CASED = new Set<number>([0x19b, 0x264, 0x1c89, 0x1c8a, 0xa7cb, 0xa7cc, 0xa7cd, 0xa7ce, 0xa7cf, 0xa7d2, 0xa7d3, 0xa7d4, 0xa7d5, 0xa7da, 0xa7db, 0xa7dc]);
function newerCase(cp: number): boolean {
  return UNICODE16_CASED.has(cp) || (cp >= 0x10d50 && cp <= 0x10d85) || (cp >= 0x16ea0 && cp <= 0x16ed3);
}

function mapRune(ch: string, upper: boolean): string {
  const key = (upper ? "U" : "L") + ch;
  let r = caseCache.get(key);
  if (r !== undefined) return r;
  const cp = ch.codePointAt(0)!;
  r = upper ? ch.toUpperCase() : ch.toLowerCase();
  if (upper) {
    // Greek letters with ypogegrammeni: simple uppercase is the titlecase letter.
    if ((cp >= 0x1f80 && cp <= 0x1f87) || (cp >= 0x1f90 && cp <= 0x1f97) || (cp >= 0x1fa0 && cp <= 0x1fa7))
      r = String.fromCodePoint(cp + 8);
    else if (cp === 0x1fb3 || cp === 0x1fc3 || cp === 0x1ff3) r = String.fromCodePoint(cp + 9);
  } else if (cp === 0x130) r = "i";
  // A mapping to several code points has no simple equivalent: Go keeps the rune.
  if (r.length > 2 || (r.length === 2 && r.codePointAt(0)! <= 0xffff) || newerCase(cp)) r = ch;
  if (caseCache.size < 8192) caseCache.set(key, r);
  return r;
}

const NON_ASCII = /[^\x00-\x7f]/;

function mapCase(s: string, upper: boolean): string {
  if (!NON_ASCII.test(s)) return upper ? s.toUpperCase() : s.toLowerCase();
  let out = "";
  for (const ch of s) {
    const c = ch.charCodeAt(0);
    if (c < 0x80) out += upper ? ch.toUpperCase() : ch.toLowerCase();
    else out += mapRune(ch, upper);
  }
  return out;
}

// ---- Go's unicode.IsSpace --------------------------------------------------------------------

function isGoSpace(c: number): boolean {
  if (c <= 0xff) return c === 0x20 || (c >= 0x09 && c <= 0x0d) || c === 0x85 || c === 0xa0;
  return (
    c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000
  );
}

function trimSpace(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && isGoSpace(s.charCodeAt(a))) a++;
  while (b > a && isGoSpace(s.charCodeAt(b - 1))) b--;
  return a === 0 && b === s.length ? s : s.slice(a, b);
}

// ---- trim with a cutset ----------------------------------------------------------------------

function cutsetTest(cutset: string): (s: string, i: number) => number {
  // returns the UTF-16 width of the rune at i if it is in the cutset, else 0
  if (cutset.length === 1) {
    const c = cutset.charCodeAt(0);
    return (s, i) => (s.charCodeAt(i) === c ? 1 : 0);
  }
  const set = new Set(runes(cutset));
  return (s, i) => {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const pair = s.slice(i, i + 2);
      return set.has(pair) ? 2 : 0;
    }
    return set.has(s[i]) ? 1 : 0;
  };
}

function trimLeft(s: string, cutset: string): string {
  if (cutset === "" || s === "") return s;
  const test = cutsetTest(cutset);
  let i = 0;
  while (i < s.length) {
    const w = test(s, i);
    if (w === 0) break;
    i += w;
  }
  return i === 0 ? s : s.slice(i);
}

function trimRight(s: string, cutset: string): string {
  if (cutset === "" || s === "") return s;
  const test = cutsetTest(cutset);
  let j = s.length;
  while (j > 0) {
    let i = j - 1;
    const c = s.charCodeAt(i);
    if (c >= 0xdc00 && c <= 0xdfff && i > 0) {
      const h = s.charCodeAt(i - 1);
      if (h >= 0xd800 && h <= 0xdbff) i--;
    }
    if (test(s, i) === 0) break;
    j = i;
  }
  return j === s.length ? s : s.slice(0, j);
}

// ---- replacing (Go's strings.Replacer) -------------------------------------------------------

const utf8 = new TextEncoder();

/** A rune that Go would split byte by byte: one U+FFFD per byte, `sep` between them. */
function splitBytes(ch: string, sep: string): string {
  const n = utf8.encode(ch).length;
  if (n === 1) return ch;
  let out = "\ufffd";
  for (let k = 1; k < n; k++) out += sep + "\ufffd";
  return out;
}

/** Called as a result grows: throws once it passes the evaluation's size limit. */
type Grow = (chars: number) => void;
const NO_LIMIT: Grow = () => {};

/** A Grow for one call: the size limit and the deadline (checked every 4,096 steps). */
function grower(name: string, ctx: BuiltinContext): Grow {
  let n = 0;
  return (chars) => {
    ctx.checkSize(name, chars * 2);
    if ((++n & 0xfff) === 0) ctx.checkCancel();
  };
}

/**
 * A string built by `+=` is a rope in V8 (a tree of its pieces: 100 replacements in a 200-byte
 * result hold ~2.9 KB); reading a character flattens it into one sequential string (~220 bytes),
 * its pieces left to the collector. Results that may be kept (a comprehension of replace results)
 * are flattened before they are returned, so that memory matches the size that was accounted.
 */
function flat(s: string): string {
  // (V8 builds short results flat: a rope is at least 13 characters.)
  if (s.length > 64) s.charCodeAt(0);
  return s;
}

function replaceAll(s: string, old: string, neu: string, grow: Grow = NO_LIMIT): string {
  if (old === "") return replaceEmpty(s, neu, [], grow);
  let i = s.indexOf(old);
  if (i < 0) return s;
  let out = "";
  let last = 0;
  while (i >= 0) {
    out += s.slice(last, i) + neu;
    grow(out.length);
    last = i + old.length;
    i = s.indexOf(old, last);
  }
  return flat(out + s.slice(last));
}

/**
 * Go's generic Replacer where the empty string is the first (so highest-priority) pattern:
 * `neu` goes before every byte and at the end; the other pairs replace where they match.
 */
function replaceEmpty(s: string, neu: string, pairs: [string, string][], grow: Grow = NO_LIMIT): string {
  let out = "";
  let i = 0;
  outer: while (i < s.length) {
    out += neu;
    grow(out.length);
    for (const [o, n] of pairs) {
      if (s.startsWith(o, i)) {
        out += n;
        i += o.length;
        continue outer;
      }
    }
    const c = s.charCodeAt(i);
    const w = c >= 0xd800 && c <= 0xdbff && i + 1 < s.length ? 2 : 1;
    const ch = s.slice(i, i + w);
    out += c < 0x80 ? ch : splitBytes(ch, neu);
    i += w;
  }
  return flat(out + neu);
}

/** Go's strings.NewReplacer(pairs…).Replace(s): earlier pairs win at a position. */
function replaceMany(s: string, pairs: [string, string][], grow: Grow = NO_LIMIT): string {
  if (pairs.length === 0) return s;
  if (pairs[0][0] === "") return replaceEmpty(s, pairs[0][1], pairs.slice(1), grow);
  if (pairs.length === 1) return replaceAll(s, pairs[0][0], pairs[0][1], grow);
  let out = "";
  let last = 0;
  let i = 0;
  outer: while (i < s.length) {
    for (const [o, n] of pairs) {
      if (s.charCodeAt(i) === o.charCodeAt(0) && s.startsWith(o, i)) {
        out += s.slice(last, i) + n;
        grow(out.length);
        i += o.length;
        last = i;
        continue outer;
      }
    }
    i++;
  }
  return last === 0 ? s : flat(out + s.slice(last));
}

// ---- sprintf ---------------------------------------------------------------------------------

/** OPA's text for a term (what `%v` shows for composites): Rego syntax, strings Go-quoted. */
export function regoText(v: Value): string {
  const leaf = leafText(v);
  if (leaf !== undefined) return leaf;
  // Composites are written with an explicit stack (values nest deeper than the JS stack goes):
  // each entry is a value still to write or a piece of text.
  const out: string[] = [];
  const todo: (Value | { text: string })[] = [v];
  while (todo.length) {
    const x = todo.pop()!;
    if (x !== null && typeof x === "object" && "text" in x && !Array.isArray(x) && Object.getPrototypeOf(x) === TEXT) {
      out.push((x as { text: string }).text);
      continue;
    }
    const val = x as Value;
    const t = leafText(val);
    if (t !== undefined) {
      out.push(t);
      continue;
    }
    // pushed in reverse: the last pushed is written first
    if (Array.isArray(val)) {
      todo.push(text("]"));
      for (let i = val.length - 1; i >= 0; i--) {
        todo.push(val[i]);
        if (i > 0) todo.push(text(", "));
      }
      out.push("[");
    } else if (val instanceof RSet) {
      if (val.size === 0) {
        out.push("set()");
        continue;
      }
      const items = val.sorted();
      todo.push(text("}"));
      for (let i = items.length - 1; i >= 0; i--) {
        todo.push(items[i]);
        if (i > 0) todo.push(text(", "));
      }
      out.push("{");
    } else if (isObject(val)) {
      const entries = objectEntries(val);
      todo.push(text("}"));
      for (let i = entries.length - 1; i >= 0; i--) {
        todo.push(entries[i][1], text(": "), entries[i][0]);
        if (i > 0) todo.push(text(", "));
      }
      out.push("{");
    }
  }
  return out.join("");
}

/** Marks the text pieces of regoText's stack (never a Rego value: those have other prototypes). */
const TEXT = Object.create(null) as object;

function text(t: string): { text: string } {
  const o = Object.create(TEXT) as { text: string };
  o.text = t;
  return o;
}

/** The text of a scalar, or undefined for a composite. */
function leafText(v: Value): string | undefined {
  switch (typeof v) {
    case "string":
      return goQuote(v);
    case "number":
    case "bigint":
      return numberText(v);
    case "boolean":
      return v ? "true" : "false";
  }
  if (v === null) return "null";
  if (v instanceof BigDec) return numberText(v);
  return undefined;
}

/** The Go value OPA's sprintf passes for a Rego value. */
function sprintfArg(v: Value): GoVal {
  switch (typeof v) {
    case "string":
    case "bigint":
      return v;
    case "number":
      return Number.isInteger(v) && !Number.isSafeInteger(v) ? BigInt(v) : v;
  }
  if (v instanceof TextNumber && !v.goFloat) return textNumberArg(v.text);
  if (v instanceof BigDec) {
    const n = v.d.toNumber();
    return Number.isFinite(n) ? (Number.isInteger(n) ? new GoFloat(n) : n) : v.d.toString();
  }
  return regoText(v);
}

const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;

/**
 * OPA's sprintf argument for a number kept as text (json.Number): an integer text that fits an
 * int64 is an int; a text with a `.` is a float64 (so `%d` of `1.0` is `%!d(float64=1)`), or the
 * text itself when a float64 cannot hold it; any other text (`1e3`, `2e308`) is a big integer if
 * it is one, else the text itself (`%v` of `2e308` is `2e308`, `%d` of `1e3` is `%!d(string=1e3)`).
 */
function textNumberArg(text: string): GoVal {
  if (/^[+-]?\d+$/.test(text)) {
    const b = BigInt(text);
    if (b >= INT64_MIN && b <= INT64_MAX) return Number.isSafeInteger(Number(b)) ? Number(b) : b;
    return b; // big.Int
  }
  if (text.indexOf(".") >= 0) {
    const f = Number(text);
    if (!Number.isFinite(f)) return text;
    return Number.isInteger(f) ? new GoFloat(f) : f;
  }
  return text;
}

function sprintf(format: string, args: Value[]): string {
  const n = args.length;
  if (n === 0 && format.indexOf("%") < 0) return format;
  const a: GoVal[] = new Array(n);
  for (let i = 0; i < n; i++) a[i] = sprintfArg(args[i]);
  return goSprintf(format, a);
}

// ---- format_int ------------------------------------------------------------------------------

function formatInt(v: Value, base: Value): string {
  if (typeof v !== "number" && typeof v !== "bigint" && !(v instanceof BigDec)) throw operandError("format_int", 1, "number", v);
  if (typeof base !== "number" && typeof base !== "bigint" && !(base instanceof BigDec))
    throw operandError("format_int", 2, "number", base);
  const b = typeof base === "number" ? base : -1;
  if (b !== 2 && b !== 8 && b !== 10 && b !== 16)
    throw new BuiltinTypeError("format_int: operand 2 must be one of {2, 8, 10, 16}");
  if (typeof v === "number") {
    const t = Math.trunc(v) + 0;
    if (Number.isSafeInteger(t)) return t.toString(b);
    return BigInt(t).toString(b);
  }
  if (typeof v === "bigint") return v.toString(b);
  return BigInt(v.d.trunc().toFixed(0)).toString(b);
}

// ---- template --------------------------------------------------------------------------------

/** Whether OPA's JSON round trip of the template data surely succeeds (no sets, no non-string
 * keys, no strings that Go quotes with escapes JSON lacks). */
const JSON_UNSAFE = /[\x00-\x07\x0b\x0e-\x1f\x7f]|[\uD800-\uDFFF]/;
function jsonSafe(v: Value): boolean {
  if (typeof v === "string") return !JSON_UNSAFE.test(v);
  if (v === null || typeof v !== "object" || v instanceof BigDec) return true;
  if (Array.isArray(v)) return v.every(jsonSafe);
  if (v instanceof RSet || v instanceof ObjMap) return false;
  for (const k of Object.keys(v)) if (!jsonSafe(k) || !jsonSafe(v[k])) return false;
  return true;
}

function toGo(v: Value): GoVal {
  switch (typeof v) {
    case "string":
    case "boolean":
      return v;
    case "number":
    case "bigint":
      return new GoNumber(numberText(v));
  }
  if (v === null) return null;
  if (v instanceof BigDec) return new GoNumber(numberText(v));
  if (Array.isArray(v)) return v.map(toGo);
  if (v instanceof RSet) return v.sorted().map(toGo);
  const entries: [string, GoVal][] = [];
  for (const [k, x] of objectEntries(v)) entries.push([typeof k === "string" ? k : regoText(k), toGo(x)]);
  entries.sort((p, q) => (p[0] < q[0] ? -1 : p[0] > q[0] ? 1 : 0));
  return new GoMap(entries);
}

// ---- declarations ----------------------------------------------------------------------------

const S = T.string;
const strsAny = T.anyOf(T.string, T.arrayOf(T.string), T.setOf(T.string));

function b(name: string, args: typeof S[], result: typeof S, impl: BuiltinImpl): Builtin {
  return { name, decl: T.fn(args, result), impl };
}

export const builtins: Builtin[] = [
  b("concat", [S, T.anyOf(T.arrayOf(S), T.setOf(S))], S, ([d, c], ctx) => {
    const delim = str("concat", 1, d);
    let items: Value[];
    if (Array.isArray(c)) {
      items = c;
      for (const x of items)
        if (typeof x !== "string")
          throw new BuiltinTypeError(`concat: operand 2 must be array of strings but got array containing ${typeName(x)}`);
    } else if (c instanceof RSet) {
      items = c.sorted();
      for (const x of items)
        if (typeof x !== "string")
          throw new BuiltinTypeError(`concat: operand 2 must be set of strings but got set containing ${typeName(x)}`);
    } else throw operandError("concat", 2, "one of {set, array}", c);
    let chars = delim.length * Math.max(0, items.length - 1);
    for (const x of items) chars += (x as string).length;
    ctx.checkSize("concat", chars * 2);
    return (items as string[]).join(delim);
  }),
  b("contains", [S, S], T.boolean, ([s, t]) => str("contains", 1, s).includes(str("contains", 2, t))),
  b("startswith", [S, S], T.boolean, ([s, t]) => str("startswith", 1, s).startsWith(str("startswith", 2, t))),
  b("endswith", [S, S], T.boolean, ([s, t]) => str("endswith", 1, s).endsWith(str("endswith", 2, t))),
  b("format_int", [T.number, T.number], S, ([v, base]) => formatInt(v, base)),
  b("indexof", [S, S], T.number, ([s0, t0]) => {
    const s = str("indexof", 1, s0);
    const t = str("indexof", 2, t0);
    if (t === "") throw new BuiltinError("indexof: empty search character");
    const i = s.indexOf(t);
    return i <= 0 ? i : cpIndex(s, i);
  }),
  b("indexof_n", [S, S], T.arrayOf(T.number), ([s0, t0]) => {
    const s = str("indexof_n", 1, s0);
    const t = str("indexof_n", 2, t0);
    if (t === "") throw new BuiltinError("indexof_n: empty search character");
    const out: Value[] = [];
    const sur = SURROGATE.test(s);
    let i = s.indexOf(t);
    while (i >= 0) {
      out.push(sur ? cpIndex(s, i) : i);
      const c = s.charCodeAt(i);
      i = s.indexOf(t, i + (c >= 0xd800 && c <= 0xdbff ? 2 : 1));
    }
    return out;
  }),
  b("lower", [S], S, ([s]) => mapCase(str("lower", 1, s), false)),
  b("upper", [S], S, ([s]) => mapCase(str("upper", 1, s), true)),
  b("replace", [S, S, S], S, ([s, o, n], ctx) => replaceAll(str("replace", 1, s), str("replace", 2, o), str("replace", 3, n), grower("replace", ctx))),
  b("split", [S, S], T.arrayOf(S), ([s0, d0]) => {
    const s = str("split", 1, s0);
    const d = str("split", 2, d0);
    return d === "" ? runes(s) : s.split(d);
  }),
  b("sprintf", [S, T.arrayOf(T.any)], S, ([f, a], ctx) => {
    const format = str("sprintf", 1, f);
    if (!Array.isArray(a)) throw operandError("sprintf", 2, "array", a);
    // A width or precision of millions (`%999999999d`) would pad a string past the size limit.
    // (Formats without any, nearly all, are not scanned for them: their verbs size nothing.)
    if (hasWidth(format)) {
      for (const m of format.matchAll(/%[-+# 0]*(\d*)(?:\.(\d+))?/g)) ctx.checkSize("sprintf", 2 * Math.max(Number(m[1] || 0), Number(m[2] || 0)));
    }
    return sprintf(format, a);
  }),
  b("substring", [S, T.number, T.number], S, ([s0, st, ln]) => {
    const s = str("substring", 1, s0);
    const start = intOperand("substring", 2, st);
    const length = intOperand("substring", 3, ln);
    if (start < 0) throw new BuiltinError("substring: negative offset");
    if (!SURROGATE.test(s)) {
      if (start >= s.length) return "";
      if (length < 0 || start + length > s.length) return s.slice(start);
      return s.slice(start, start + length);
    }
    const i = unitIndex(s, start);
    if (i >= s.length) return "";
    if (length < 0) return s.slice(i);
    return s.slice(i, i + unitIndex(s.slice(i), length));
  }),
  b("trim", [S, S], S, ([s, c]) => {
    const cut = str("trim", 2, c);
    return trimRight(trimLeft(str("trim", 1, s), cut), cut);
  }),
  b("trim_left", [S, S], S, ([s, c]) => trimLeft(str("trim_left", 1, s), str("trim_left", 2, c))),
  b("trim_right", [S, S], S, ([s, c]) => trimRight(str("trim_right", 1, s), str("trim_right", 2, c))),
  b("trim_prefix", [S, S], S, ([s0, p0]) => {
    const s = str("trim_prefix", 1, s0);
    const p = str("trim_prefix", 2, p0);
    return p !== "" && s.startsWith(p) ? s.slice(p.length) : s;
  }),
  b("trim_suffix", [S, S], S, ([s0, p0]) => {
    const s = str("trim_suffix", 1, s0);
    const p = str("trim_suffix", 2, p0);
    return p !== "" && s.endsWith(p) ? s.slice(0, s.length - p.length) : s;
  }),
  b("trim_space", [S], S, ([s]) => trimSpace(str("trim_space", 1, s))),
  b("strings.any_prefix_match", [strsAny, strsAny], T.boolean, ([a, p]) => {
    const ss = stringsOperand("strings.any_prefix_match", 1, a);
    const ps = stringsOperand("strings.any_prefix_match", 2, p);
    for (const s of ss) for (const x of ps) if (s.startsWith(x)) return true;
    return false;
  }),
  b("strings.any_suffix_match", [strsAny, strsAny], T.boolean, ([a, p]) => {
    const ss = stringsOperand("strings.any_suffix_match", 1, a);
    const ps = stringsOperand("strings.any_suffix_match", 2, p);
    for (const s of ss) for (const x of ps) if (s.endsWith(x)) return true;
    return false;
  }),
  b("strings.count", [S, S], T.number, ([s0, t0]) => {
    const s = str("strings.count", 1, s0);
    const t = str("strings.count", 2, t0);
    if (t === "") return runeLen(s) + 1;
    let n = 0;
    let i = s.indexOf(t);
    while (i >= 0) {
      n++;
      i = s.indexOf(t, i + t.length);
    }
    return n;
  }),
  b("strings.replace_n", [T.objectOf(S, S), S], S, ([p, s0], ctx) => {
    if (!isObject(p)) throw operandError("strings.replace_n", 1, "object", p);
    const s = str("strings.replace_n", 2, s0);
    const pairs: [string, string][] = [];
    for (const [k, v] of objectEntries(p)) {
      if (typeof k !== "string")
        throw new BuiltinTypeError("strings.replace_n: operand 1 non-string key found in pattern object");
      if (typeof v !== "string")
        throw new BuiltinTypeError("strings.replace_n: operand 1 non-string value found in pattern object");
      pairs.push([k, v]);
    }
    return replaceMany(s, pairs, grower("strings.replace_n", ctx));
  }),
  b("strings.reverse", [S], S, ([s0]) => {
    const s = str("strings.reverse", 1, s0);
    if (!SURROGATE.test(s)) {
      let out = "";
      for (let i = s.length - 1; i >= 0; i--) out += s[i];
      return out;
    }
    return runes(s).reverse().join("");
  }),
  b("strings.split_n", [S, S, T.number], T.arrayOf(S), ([s0, d0, n0]) => {
    const s = str("strings.split_n", 1, s0);
    const d = str("strings.split_n", 2, d0);
    const n = intOperand("strings.split_n", 3, n0);
    const parts = d === "" ? runes(s) : s.split(d);
    if (n >= 0) return n >= parts.length ? parts : parts.slice(0, n);
    return -n >= parts.length ? parts : parts.slice(parts.length + n);
  }),
  b("strings.render_template", [S, T.objectOf(S, T.any)], S, ([t, vars]) => {
    const tmpl = str("strings.render_template", 1, t);
    if (!isObject(vars)) throw operandError("strings.render_template", 2, "object", vars);
    if (!jsonSafe(vars)) {
      const err = jsonSyntaxError(regoText(vars));
      if (err !== null) throw new BuiltinError(`strings.render_template: ${err}`);
    }
    return renderTemplate(tmpl, toGo(vars));
  }),
];

