// Values for the builtin fuzzer in a JSON-safe encoding, so that cases (and regression files) are
// plain JSON, compact even when the value is huge (a 100000-deep array is a recipe, not text).
//
//   string | number | boolean | null       itself
//   E[]                                     an array
//   {"$set": E[]}                           a set
//   {"$obj": [[E, E], ...]}                 an object (any keys, "__proto__" included)
//   {"$bigint": "123..."}                   an integer beyond 2^53
//   {"$num": "1e400"}                       a number from Rego number text (BigDec when needed)
//   {"$rep": "ab", "n": 1000, "pre"?, "suf"?}  pre + "ab" repeated n times + suf
//   {"$deep": "array"|"object"|"set", "n": 1000, "leaf": E}   nesting n levels deep
//   {"$wide": "array"|"set"|"object", "n": 1000, "elem"?: E}   n elements (distinct numbers, or elem)

import { RSet, makeObject, fromBigInt, numberFromText, emptyObject, type Value, BigDec, ObjMap, objectEntries } from "../../src/rego/value.ts";

export type Enc =
  | string
  | number
  | boolean
  | null
  | Enc[]
  | { $set: Enc[] }
  | { $obj: [Enc, Enc][] }
  | { $bigint: string }
  | { $num: string }
  | { $rep: string; n: number; pre?: string; suf?: string }
  | { $deep: "array" | "object" | "set"; n: number; leaf: Enc }
  | { $wide: "array" | "set" | "object"; n: number; elem?: Enc };

export function decode(e: Enc): Value {
  if (e === null || typeof e === "string" || typeof e === "boolean") return e;
  if (typeof e === "number") return e + 0;
  if (Array.isArray(e)) return e.map(decode);
  if ("$set" in e) return new RSet(e.$set.map(decode));
  if ("$obj" in e) return makeObject(e.$obj.map(([k, v]) => [decode(k), decode(v)] as [Value, Value]));
  if ("$bigint" in e) return fromBigInt(BigInt(e.$bigint));
  if ("$num" in e) return numberFromText(e.$num) ?? 0;
  if ("$rep" in e) return (e.pre ?? "") + e.$rep.repeat(e.n) + (e.suf ?? "");
  if ("$deep" in e) {
    let v = decode(e.leaf);
    for (let i = 0; i < e.n; i++) {
      if (e.$deep === "array") v = [v];
      else if (e.$deep === "set") v = new RSet([v]);
      else {
        const o = emptyObject();
        o.a = v;
        v = o;
      }
    }
    return v;
  }
  if ("$wide" in e) {
    const items: Value[] = [];
    const elem = e.elem === undefined ? undefined : decode(e.elem);
    for (let i = 0; i < e.n; i++) items.push(elem === undefined ? i : elem);
    if (e.$wide === "array") return items;
    if (e.$wide === "set") return new RSet(items);
    const o = emptyObject();
    for (let i = 0; i < items.length; i++) o["k" + i] = items[i];
    return o;
  }
  throw new Error("bad encoded value: " + JSON.stringify(e).slice(0, 100));
}

/** Encode a value (used for values that come from elsewhere, e.g. parsed fixtures). */
export function encode(v: Value): Enc {
  switch (typeof v) {
    case "string":
    case "boolean":
      return v;
    case "number":
      return v;
    case "bigint":
      return { $bigint: v.toString() };
  }
  if (v === null) return null;
  if (v instanceof BigDec) return { $num: v.d.toString() };
  if (Array.isArray(v)) return v.map(encode);
  if (v instanceof RSet) return { $set: v.sorted().map(encode) };
  if (v instanceof ObjMap || typeof v === "object") return { $obj: objectEntries(v).map(([k, x]) => [encode(k), encode(x)] as [Enc, Enc]) };
  throw new Error("cannot encode");
}

/** Rough size of an encoded value once decoded (elements + characters), for picking the smaller case. */
export function encSize(e: Enc): number {
  if (e === null || typeof e === "boolean" || typeof e === "number") return 1;
  if (typeof e === "string") return 1 + e.length;
  if (Array.isArray(e)) return 1 + e.reduce((s: number, x) => s + encSize(x), 0);
  if ("$set" in e) return 1 + e.$set.reduce((s: number, x) => s + encSize(x), 0);
  if ("$obj" in e) return 1 + e.$obj.reduce((s: number, [k, x]) => s + encSize(k) + encSize(x), 0);
  if ("$bigint" in e) return e.$bigint.length;
  if ("$num" in e) return e.$num.length;
  if ("$rep" in e) return (e.pre?.length ?? 0) + e.$rep.length * e.n + (e.suf?.length ?? 0);
  if ("$deep" in e) return e.n + encSize(e.leaf);
  if ("$wide" in e) return e.n * (e.elem === undefined ? 1 : encSize(e.elem));
  return 1;
}

// ---- Shared pieces of nasty text -------------------------------------------------------------

/** Characters that tend to break tokenizers, line counting, JSON output or UTF-8 handling. */
export const NASTY_CHARS: string[] = [
  "\u0000", "\u0001", "\u0007", "\b", "\t", "\n", "\v", "\f", "\r", "\r\n", "\u001b", "\u007f",
  "\u0085", "\u00a0", "\u00ad", "\u2028", "\u2029", "\u200b", "\u200d", "\u202e", "\u2066",
  "\ufeff", "\ufffd", "\ufffe", "\uffff", "\ud800", "\udbff", "\udc00", "\udfff", "\udc00\ud800",
  "\ud83d\ude00", "\ud83d", "\ude00", "\u0301", "e\u0301", "\u0130", "\u0131", "\u017f", "\u212a",
  "\u1e9e", "ß", "ﬃ", "Σ", "ς", "\u0660", "\uff10", "\u3000", "\\", "\"", "'", "`", "$", "{", "}",
  "[", "]", "(", ")", "<", ">", "&", "%", "#", ";", ":", ",", "=", "|", "*", "?", "!", "@", "^", "~",
];

/** Object keys that collide with JavaScript's object machinery. */
export const NASTY_KEYS: string[] = [
  "__proto__", "constructor", "prototype", "hasOwnProperty", "toString", "valueOf", "__defineGetter__",
  "__lookupGetter__", "isPrototypeOf", "propertyIsEnumerable", "toJSON", "then", "length", "0", "-1",
  "", " ", "NaN", "Infinity", "undefined", "null", "$ref", "#content", "-attr",
];

/** Number texts at the edges of doubles, integers and decimals. */
export const NUMBER_TEXTS: string[] = [
  "0", "-0", "1", "-1", "0.5", "-0.5", "0.1", "1e308", "-1e308", "1.7976931348623157e308", "1.8e308",
  "5e-324", "2e-324", "1e-400", "1e400", "-1e400", "1e4000", "1e-4000", "9007199254740991",
  "9007199254740992", "9007199254740993", "-9007199254740993", "18446744073709551615",
  "18446744073709551616", "123456789012345678901234567890", "0.30000000000000004",
  "3.14159265358979323846264338327950288419716939937510", "100000000000000000000000000000000000000000000",
  "4294967295", "4294967296", "2147483647", "2147483648", "-2147483649", "1e21", "1e-7", "1.5e300",
  "12345678901234567890.123456789", "0.000000000000000000000000000001",
];

/** Pick one nasty character. */
export function nastyChar(r: { pick<T>(xs: readonly T[]): T }): string {
  return r.pick(NASTY_CHARS);
}
