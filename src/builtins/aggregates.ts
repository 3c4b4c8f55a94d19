// Aggregates: count, sum, product, max, min, sort, all, any.

import { BigDec, ObjMap, RSet, compare, fromBigInt, isObject, typeName, type Value } from "../rego/value.ts";
import { BuiltinTypeError, T, operandError, type Builtin } from "./registry.ts";
import { bfAdd, bfFromValue, bfMul, bfToValue, type BF } from "./bigfloat.ts";

const collection = T.anyOf(T.arrayOf(T.any), T.setOf(T.any));
const numbers = T.anyOf(T.arrayOf(T.number), T.setOf(T.number));

/** Elements of an array or set (sets in sorted order), or null when it is neither. */
function items(v: Value): Value[] | null {
  if (Array.isArray(v)) return v;
  if (v instanceof RSet) return v.sorted();
  return null;
}

/** Count code points, as Go's utf8.RuneCountInString does. */
function runeCount(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n--;
        i++;
      }
    }
  }
  return n;
}

function count(args: Value[]): Value {
  const v = args[0];
  if (typeof v === "string") return runeCount(v);
  if (Array.isArray(v)) return v.length;
  if (v instanceof RSet) return v.size;
  if (v instanceof ObjMap) return v.size;
  if (isObject(v)) return Object.keys(v).length;
  throw operandError("count", 1, "one of {array, object, set, string}", v);
}

function numberItems(name: string, v: Value): Value[] {
  const xs = items(v);
  if (xs === null) throw operandError(name, 1, "one of {set, array}", v);
  return xs;
}

function notNumber(name: string, coll: Value, x: Value): BuiltinTypeError {
  const kind = Array.isArray(coll) ? "array" : "set";
  return new BuiltinTypeError(`${name}: operand 1 must be ${kind} of numbers but got ${kind} containing ${typeName(x)}`);
}

/** Every element an integer (then OPA's result is exact); throws on a non-number. */
function allInts(name: string, coll: Value, xs: Value[]): boolean {
  let ints = true;
  for (const x of xs) {
    if (typeof x === "number") {
      if (ints && !Number.isInteger(x)) ints = false;
    } else if (typeof x === "bigint") continue;
    else if (x instanceof BigDec) ints = false;
    else throw notNumber(name, coll, x);
  }
  return ints;
}

function sum(args: Value[]): Value {
  const coll = args[0];
  const xs = numberItems("sum", coll);
  if (allInts("sum", coll, xs)) {
    // exact: JS numbers while safe, then bigint
    let acc = 0;
    let i = 0;
    for (; i < xs.length; i++) {
      const x = xs[i];
      if (typeof x !== "number") break;
      const r = acc + x;
      if (!Number.isSafeInteger(r)) break;
      acc = r;
    }
    if (i === xs.length) return acc + 0;
    let big = BigInt(acc);
    for (; i < xs.length; i++) big += BigInt(xs[i] as number | bigint);
    return fromBigInt(big);
  }
  // any non-integer: OPA adds everything as 64-bit big floats
  let f: BF = bfFromValue(0);
  for (const x of xs) f = bfAdd(f, bfFromValue(x as number | bigint | BigDec));
  return bfToValue(f);
}

function product(args: Value[]): Value {
  const coll = args[0];
  const xs = numberItems("product", coll);
  if (allInts("product", coll, xs)) {
    let acc = 1;
    let i = 0;
    for (; i < xs.length; i++) {
      const x = xs[i];
      if (typeof x !== "number") break;
      const r = acc * x;
      if (!Number.isSafeInteger(r)) break;
      acc = r;
    }
    if (i === xs.length) return acc + 0;
    let big = BigInt(acc);
    for (; i < xs.length; i++) big *= BigInt(xs[i] as number | bigint);
    return fromBigInt(big);
  }
  let f: BF = bfFromValue(1);
  for (const x of xs) f = bfMul(f, bfFromValue(x as number | bigint | BigDec));
  return bfToValue(f);
}

function max(args: Value[]): Value | undefined {
  const v = args[0];
  if (v instanceof RSet) {
    if (v.size === 0) return undefined;
    const s = v.sorted();
    return s[s.length - 1];
  }
  if (!Array.isArray(v)) throw operandError("max", 1, "one of {set, array}", v);
  if (v.length === 0) return undefined;
  let m = v[0];
  // the last of equal elements, as in OPA (equal numbers may differ in text: 1.0 and 1)
  for (let i = 1; i < v.length; i++) if (compare(v[i], m) >= 0) m = v[i];
  return m;
}

function min(args: Value[]): Value | undefined {
  const v = args[0];
  if (v instanceof RSet) {
    if (v.size === 0) return undefined;
    // OPA skips null elements of a set unless null is all there is.
    const s = v.sorted();
    return s[0] === null && s.length > 1 ? s[1] : s[0];
  }
  if (!Array.isArray(v)) throw operandError("min", 1, "one of {set, array}", v);
  if (v.length === 0) return undefined;
  let m = v[0];
  for (let i = 1; i < v.length; i++) if (compare(v[i], m) <= 0) m = v[i];
  return m;
}

function sort(args: Value[]): Value {
  const v = args[0];
  if (v instanceof RSet) return v.sorted(); // values are immutable: the cached order can be shared
  if (!Array.isArray(v)) throw operandError("sort", 1, "one of {set, array}", v);
  return v.slice().sort(compare);
}

function all(args: Value[]): Value {
  const xs = items(args[0]);
  if (xs === null) throw operandError("all", 1, "one of {array, set}", args[0]);
  for (const x of xs) if (x !== true) return false;
  return true;
}

function any(args: Value[]): Value {
  const v = args[0];
  if (v instanceof RSet) return v.has(true);
  if (!Array.isArray(v)) throw operandError("any", 1, "one of {array, set}", v);
  for (const x of v) if (x === true) return true;
  return false;
}

export const builtins: Builtin[] = [
  {
    name: "count",
    decl: T.fn([T.anyOf(T.string, T.arrayOf(T.any), T.objectOf(T.any, T.any), T.setOf(T.any))], T.number),
    impl: count,
  },
  { name: "sum", decl: T.fn([numbers], T.number), impl: sum },
  { name: "product", decl: T.fn([numbers], T.number), impl: product },
  { name: "max", decl: T.fn([collection], T.any), impl: max },
  { name: "min", decl: T.fn([collection], T.any), impl: min },
  { name: "sort", decl: T.fn([collection], T.arrayOf(T.any)), impl: sort },
  { name: "all", decl: T.fn([collection], T.boolean), impl: all, deprecated: true },
  { name: "any", decl: T.fn([collection], T.boolean), impl: any, deprecated: true },
];
