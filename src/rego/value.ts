// The Rego value model.
//
// Values are plain JavaScript wherever possible so that `input` (the result of JSON.parse or a
// YAML load) is used as it is, without a conversion pass:
//   null, boolean, string           as themselves
//   number                          JS number for safe integers and ordinary floats;
//                                   bigint for integers beyond ±2^53; BigDec for decimals that a
//                                   double cannot hold (OPA keeps arbitrary precision)
//   array                           JS Array
//   object with only string keys    a plain JS object (read with Object.hasOwn, never via the
//                                   prototype chain)
//   object with other keys          ObjMap
//   set                             RSet
// Every value has one canonical representation (an object whose keys are all strings is never an
// ObjMap, an integer within ±2^53 is never a bigint), so equality and hashing stay simple.
// Values are never mutated once built: collections may cache their sorted order.

import { Decimal } from "decimal.js";

export type Value =
  | null
  | boolean
  | number
  | bigint
  | string
  | BigDec
  | Value[]
  | PlainObject
  | ObjMap
  | RSet;

export interface PlainObject {
  [key: string]: Value;
}

// Non-integer arithmetic follows OPA's big.Float closely enough for policy arithmetic:
// 0.1 + 0.2 is 0.3, 1/3 has 20 significant digits.
export const Dec = Decimal.clone({ precision: 20, rounding: Decimal.ROUND_HALF_EVEN, toExpPos: 21, toExpNeg: -7 });
export type Dec = Decimal;

/** A number that neither a double nor a bigint holds exactly: a high-precision decimal. */
export class BigDec {
  readonly d: Decimal;
  constructor(d: Decimal) {
    this.d = d;
  }
  toString(): string {
    return this.d.toString();
  }
}

/** Set: a map from each element's hash key to the element; iteration is in OPA's sorted order. */
export class RSet {
  readonly map: Map<unknown, Value>;
  private sortedCache: Value[] | null = null;
  constructor(items?: Iterable<Value>) {
    this.map = new Map();
    if (items) for (const v of items) this.map.set(hashKey(v), v);
  }
  get size(): number {
    return this.map.size;
  }
  add(v: Value): void {
    this.map.set(hashKey(v), v);
    this.sortedCache = null;
  }
  has(v: Value): boolean {
    return this.map.has(hashKey(v));
  }
  /** Elements in OPA's order (sorted). */
  sorted(): Value[] {
    if (this.sortedCache === null || this.sortedCache.length !== this.map.size) {
      this.sortedCache = Array.from(this.map.values()).sort(compare);
    }
    return this.sortedCache;
  }
}

/** An object with at least one non-string key. */
export class ObjMap {
  readonly map: Map<unknown, [Value, Value]>;
  private sortedCache: [Value, Value][] | null = null;
  constructor() {
    this.map = new Map();
  }
  get size(): number {
    return this.map.size;
  }
  set(k: Value, v: Value): void {
    this.map.set(hashKey(k), [k, v]);
    this.sortedCache = null;
  }
  get(k: Value): Value | undefined {
    const e = this.map.get(hashKey(k));
    return e === undefined ? undefined : e[1];
  }
  sorted(): [Value, Value][] {
    if (this.sortedCache === null || this.sortedCache.length !== this.map.size) {
      this.sortedCache = Array.from(this.map.values()).sort((a, b) => compare(a[0], b[0]));
    }
    return this.sortedCache;
  }
}

// ---- Kinds -----------------------------------------------------------------------------------

export const enum Kind {
  Null = 0,
  Boolean = 1,
  Number = 2,
  String = 3,
  Array = 6,
  Object = 7,
  Set = 8,
}

export function kindOf(v: Value): Kind {
  switch (typeof v) {
    case "string":
      return Kind.String;
    case "number":
    case "bigint":
      return Kind.Number;
    case "boolean":
      return Kind.Boolean;
    case "object":
      if (v === null) return Kind.Null;
      if (Array.isArray(v)) return Kind.Array;
      if (v instanceof RSet) return Kind.Set;
      if (v instanceof BigDec) return Kind.Number;
      return Kind.Object;
  }
  throw new TypeError(`not a Rego value: ${typeof v}`);
}

export function isNumber(v: Value): v is number | bigint | BigDec {
  return typeof v === "number" || typeof v === "bigint" || v instanceof BigDec;
}
export function isObject(v: Value): v is PlainObject | ObjMap {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof RSet) && !(v instanceof BigDec);
}
export function isPlainObject(v: Value): v is PlainObject {
  return isObject(v) && !(v instanceof ObjMap);
}

/** OPA's type names, as `type_name` and error messages use them. */
export function typeName(v: Value): string {
  switch (kindOf(v)) {
    case Kind.Null:
      return "null";
    case Kind.Boolean:
      return "boolean";
    case Kind.Number:
      return "number";
    case Kind.String:
      return "string";
    case Kind.Array:
      return "array";
    case Kind.Object:
      return "object";
    case Kind.Set:
      return "set";
  }
}

// ---- Numbers ---------------------------------------------------------------------------------

const MAX_SAFE = Number.MAX_SAFE_INTEGER;

/** Canonical number from a bigint. */
export function fromBigInt(b: bigint): number | bigint {
  return b <= BigInt(MAX_SAFE) && b >= -BigInt(MAX_SAFE) ? Number(b) : b;
}

/** Canonical number from a Decimal. */
export function fromDecimal(d: Decimal): number | bigint | BigDec {
  if (d.isInteger()) {
    if (d.abs().lte(MAX_SAFE)) return d.toNumber() + 0; // + 0 folds -0
    return BigInt(d.toFixed(0));
  }
  const n = d.toNumber();
  if (Number.isFinite(n) && n !== 0 && new Dec(n).eq(d)) return n;
  return new BigDec(d);
}

/** Parse a number literal as written in Rego or JSON. Returns undefined for malformed text. */
export function numberFromText(text: string): number | bigint | BigDec | undefined {
  if (/^-?\d+$/.test(text)) {
    if (text.length < 16) return Number(text) + 0;
    return fromBigInt(BigInt(text));
  }
  let d: Decimal;
  try {
    d = new Dec(text);
  } catch {
    return undefined;
  }
  if (!d.isFinite()) return undefined;
  return fromDecimal(d);
}

export function toDecimal(v: number | bigint | BigDec): Decimal {
  if (typeof v === "number") return new Dec(v);
  if (typeof v === "bigint") return new Dec(v.toString());
  return v.d;
}

export function isInteger(v: Value): boolean {
  if (typeof v === "number") return Number.isInteger(v);
  return typeof v === "bigint";
}

/** A JS number for a Rego number (lossy for big values): for builtins that need one. */
export function toJsNumber(v: number | bigint | BigDec): number {
  if (typeof v === "number") return v;
  if (typeof v === "bigint") return Number(v);
  return v.d.toNumber();
}

/** The number as OPA prints it in JSON. */
export function numberText(v: number | bigint | BigDec): string {
  if (typeof v === "number") {
    if (Object.is(v, -0)) return "0";
    return String(v).replace("e+", "e+");
  }
  if (typeof v === "bigint") return v.toString();
  return v.d.toString();
}

function compareNumbers(a: number | bigint | BigDec, b: number | bigint | BigDec): number {
  if (typeof a === "number" && typeof b === "number") return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a !== "object" && typeof b !== "object") {
    // number vs bigint: compare exactly
    if (typeof a === "number" && !Number.isInteger(a)) {
      const fa = Math.floor(a);
      const c = compareNumbers(fa, b);
      return c === 0 ? 1 : c;
    }
    if (typeof b === "number" && !Number.isInteger(b)) return -compareNumbers(b, a);
    const ba = BigInt(a as number | bigint);
    const bb = BigInt(b as number | bigint);
    return ba < bb ? -1 : ba > bb ? 1 : 0;
  }
  return toDecimal(a).cmp(toDecimal(b));
}

// ---- Ordering and equality -------------------------------------------------------------------

/** Plain object keys in sorted order (cached per object: values are immutable). */
const sortedKeysCache = new WeakMap<object, string[]>();
export function sortedKeys(o: PlainObject): string[] {
  let ks = sortedKeysCache.get(o);
  if (ks === undefined) {
    ks = Object.keys(o);
    if (ks.length > 1) ks.sort(compareStrings);
    sortedKeysCache.set(o, ks);
  }
  return ks;
}

/** Strings compare by code point, as Go compares UTF-8 bytes. */
export function compareStrings(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const ca = a.charCodeAt(i);
    const cb = b.charCodeAt(i);
    if (ca !== cb) {
      // Surrogates (U+D800–U+DFFF) encode code points above U+FFFF, so they sort after U+E000–U+FFFF.
      const sa = ca >= 0xd800 && ca <= 0xdfff;
      const sb = cb >= 0xd800 && cb <= 0xdfff;
      if (sa !== sb && (ca >= 0xe000 || cb >= 0xe000)) return sa ? 1 : -1;
      return ca - cb;
    }
  }
  return a.length - b.length;
}

/** Object entries in sorted key order. */
export function objectEntries(o: PlainObject | ObjMap): [Value, Value][] {
  if (o instanceof ObjMap) return o.sorted();
  return sortedKeys(o).map((k) => [k, o[k]]);
}

export function objectSize(o: PlainObject | ObjMap): number {
  return o instanceof ObjMap ? o.size : sortedKeys(o).length;
}

/** Look up a key in an object; undefined when absent. */
export function objectGet(o: PlainObject | ObjMap, k: Value): Value | undefined {
  if (o instanceof ObjMap) return o.get(k);
  if (typeof k !== "string") return undefined;
  return Object.hasOwn(o, k) ? o[k] : undefined;
}

/** OPA's total order: null < boolean < number < string < array < object < set. */
export function compare(a: Value, b: Value): number {
  return cmp(a, b, 0);
}

// Values may nest arbitrarily deep (a policy may hold a literal thousands of levels deep, input
// may be any JSON), so the value functions below recurse natively only up to DEEP levels and
// continue with an explicit stack beyond: the JavaScript stack never limits the depth of a value.
const DEEP = 200;

function cmp(a: Value, b: Value, d: number): number {
  if (a === b) return 0;
  const ka = kindOf(a);
  const kb = kindOf(b);
  if (ka !== kb) return ka - kb;
  switch (ka) {
    case Kind.Null:
      return 0;
    case Kind.Boolean:
      return a === b ? 0 : a ? 1 : -1;
    case Kind.Number:
      return compareNumbers(a as number, b as number);
    case Kind.String:
      return compareStrings(a as string, b as string);
  }
  if (d >= DEEP) return compareDeep(a, b);
  switch (ka) {
    case Kind.Array: {
      const x = a as Value[];
      const y = b as Value[];
      const n = Math.min(x.length, y.length);
      for (let i = 0; i < n; i++) {
        const c = cmp(x[i], y[i], d + 1);
        if (c !== 0) return c;
      }
      return x.length - y.length;
    }
    case Kind.Object: {
      const x = objectEntries(a as PlainObject);
      const y = objectEntries(b as PlainObject);
      const n = Math.min(x.length, y.length);
      for (let i = 0; i < n; i++) {
        let c = cmp(x[i][0], y[i][0], d + 1);
        if (c !== 0) return c;
        c = cmp(x[i][1], y[i][1], d + 1);
        if (c !== 0) return c;
      }
      return x.length - y.length;
    }
    default: {
      const x = (a as RSet).sorted();
      const y = (b as RSet).sorted();
      const n = Math.min(x.length, y.length);
      for (let i = 0; i < n; i++) {
        const c = cmp(x[i], y[i], d + 1);
        if (c !== 0) return c;
      }
      return x.length - y.length;
    }
  }
}

/** compare without recursion: a stack of pending comparisons, taken in order. */
function compareDeep(a: Value, b: Value): number {
  // A task is a pair of values, or (as numbers) two lengths compared after the elements.
  const tasks: (Value | number)[] = [a, b];
  const lengths: boolean[] = [false];
  while (lengths.length > 0) {
    const isLen = lengths.pop()!;
    const y = tasks.pop() as Value;
    const x = tasks.pop() as Value;
    if (isLen) {
      if (x !== y) return (x as number) - (y as number);
      continue;
    }
    if (x === y) continue;
    const kx = kindOf(x);
    const ky = kindOf(y);
    if (kx !== ky) return kx - ky;
    let xs: Value[];
    let ys: Value[];
    if (kx === Kind.Array) {
      xs = x as Value[];
      ys = y as Value[];
    } else if (kx === Kind.Set) {
      xs = (x as RSet).sorted();
      ys = (y as RSet).sorted();
    } else if (kx === Kind.Object) {
      xs = objectEntries(x as PlainObject).flat();
      ys = objectEntries(y as PlainObject).flat();
    } else {
      const c = cmp(x, y, 0);
      if (c !== 0) return c;
      continue;
    }
    // Pushed in reverse: the length comparison comes last, the first elements first.
    tasks.push(xs.length, ys.length);
    lengths.push(true);
    for (let i = Math.min(xs.length, ys.length) - 1; i >= 0; i--) {
      tasks.push(xs[i], ys[i]);
      lengths.push(false);
    }
  }
  return 0;
}

/**
 * A post-order fold over a value without native recursion: `leaf` gives the result of a value
 * that needs no expansion (or undefined), `kids` the children of one that does, `combine` its
 * result from theirs (objects: key and value results alternate).
 */
export function foldValue<R>(root: Value, leaf: (v: Value) => R | undefined, kids: (v: Value) => Value[], combine: (v: Value, rs: R[], depth: number) => R): R {
  const r0 = leaf(root);
  if (r0 !== undefined) return r0;
  const stack: { v: Value; ks: Value[]; rs: R[] }[] = [{ v: root, ks: kids(root), rs: [] }];
  for (;;) {
    const top = stack[stack.length - 1];
    if (top.rs.length < top.ks.length) {
      const child = top.ks[top.rs.length];
      const r = leaf(child);
      if (r !== undefined) top.rs.push(r);
      else stack.push({ v: child, ks: kids(child), rs: [] });
      continue;
    }
    const res = combine(top.v, top.rs, stack.length - 1);
    stack.pop();
    if (stack.length === 0) return res;
    stack[stack.length - 1].rs.push(res);
  }
}

/** Children of a composite value for foldValue: elements, sorted set members, or keys and values alternating. */
export function valueKids(v: Value): Value[] {
  if (Array.isArray(v)) return v;
  if (v instanceof RSet) return v.sorted();
  return objectEntries(v as PlainObject).flat();
}

export function equal(a: Value, b: Value): boolean {
  if (a === b) return true;
  const ta = typeof a;
  if (ta === "string" || ta === "boolean" || typeof b === "string" || typeof b === "boolean") return false;
  if (ta === "number" && typeof b === "number") return false; // a === b failed (NaN never occurs)
  return compare(a, b) === 0;
}

// ---- Hashing ---------------------------------------------------------------------------------

/**
 * The key under which a value is stored in a Map: primitives are their own key (a Map keeps 1 and
 * "1" apart); composite and big values get a canonical string that starts with U+0000, and a
 * string that itself starts with U+0000 is escaped so the two never collide.
 */
export function hashKey(v: Value): unknown {
  switch (typeof v) {
    case "string":
      return v.length > 0 && v.charCodeAt(0) === 0 ? "\u0000s" + v : v;
    case "number":
      return v + 0;
    case "boolean":
    case "bigint":
      return v;
    default:
      if (v === null) return null;
      return "\u0000" + canonical(v);
  }
}

/**
 * A canonical text of a value: equal values, equal texts (among the values alive at a time:
 * long texts are shortened to ids, see intern).
 */
export function canonical(v: Value): string {
  return canon(v, 0);
}

// Canonical texts of sets and non-string-keyed objects, kept with the (immutable) value: a set
// nested in a set is hashed once, not again at every level above it.
const canonCache = new WeakMap<object, string>();

// A canonical text longer than LONG is replaced by a short id shared by every live value with
// that text, so that a value's text holds its elements' ids rather than their texts: otherwise
// the texts of sets nested n deep would add up to n² characters. The table forgets an id when
// no value holding it is left.
const LONG = 512;
class Interned {
  constructor(readonly id: string) {}
}
const interned = new Map<string, WeakRef<Interned>>();
const internedBy = new WeakMap<object, Interned>();
const forget = new FinalizationRegistry<string>((text) => {
  if (interned.get(text)?.deref() === undefined) interned.delete(text);
});
let internCount = 0;

function intern(v: object, text: string): string {
  if (text.length <= LONG) return text;
  let t = interned.get(text)?.deref();
  if (t === undefined) {
    t = new Interned("#" + (internCount++).toString(36));
    interned.set(text, new WeakRef(t));
    forget.register(t, text);
  }
  internedBy.set(v, t);
  return t.id;
}

function canonScalar(v: Value): string | undefined {
  switch (typeof v) {
    case "string":
      return JSON.stringify(v);
    case "number":
      return String(v + 0);
    case "bigint":
      return v.toString();
    case "boolean":
      return v ? "true" : "false";
  }
  if (v === null) return "null";
  if (v instanceof BigDec) return v.d.toString();
  if (v instanceof RSet || v instanceof ObjMap) return canonCache.get(v);
  // A long array or object hashed before has its id.
  return internedBy.get(v as object)?.id;
}

function canonCombine(v: Value, parts: string[]): string {
  let s: string;
  if (Array.isArray(v)) return intern(v, "[" + parts.join(",") + "]");
  if (v instanceof RSet) s = intern(v, "<" + parts.join(",") + ">");
  else {
    const kv: string[] = [];
    for (let i = 0; i < parts.length; i += 2) kv.push(parts[i] + ":" + parts[i + 1]);
    s = intern(v as object, "{" + kv.join(",") + "}");
    if (!(v instanceof ObjMap)) return s;
  }
  canonCache.set(v as object, s);
  return s;
}

function canon(v: Value, d: number): string {
  const s = canonScalar(v);
  if (s !== undefined) return s;
  if (d >= DEEP) return foldValue(v, canonScalar, valueKids, canonCombine);
  if (Array.isArray(v)) {
    let out = "[";
    for (let i = 0; i < v.length; i++) out += (i > 0 ? "," : "") + canon(v[i], d + 1);
    return intern(v, out + "]");
  }
  if (v instanceof RSet) return canonCombine(v, v.sorted().map((x) => canon(x, d + 1)));
  const parts: string[] = [];
  for (const [k, x] of objectEntries(v as PlainObject)) parts.push(canon(k, d + 1), canon(x, d + 1));
  return canonCombine(v, parts);
}

// ---- Building values -------------------------------------------------------------------------

/** Build an object from entries, choosing the canonical representation. Later keys win. */
export function makeObject(entries: Iterable<[Value, Value]>): PlainObject | ObjMap {
  let plain: PlainObject | null = Object.create(null) as PlainObject;
  let om: ObjMap | null = null;
  for (const [k, v] of entries) {
    if (plain !== null) {
      if (typeof k === "string") {
        plain[k] = v;
        continue;
      }
      om = new ObjMap();
      for (const kk of Object.keys(plain)) om.set(kk, plain[kk]);
      plain = null;
    }
    om!.set(k, v);
  }
  return plain ?? om!;
}

/** A fresh empty plain object (no prototype, so any key is safe). */
export function emptyObject(): PlainObject {
  return Object.create(null) as PlainObject;
}

// ---- Conversion to and from JSON -------------------------------------------------------------

/**
 * Bring a value from outside (JSON.parse, YAML, a caller's object) into the value model:
 * integers beyond ±2^53 become bigints; undefined members are dropped; Maps/Sets are converted.
 * Plain JSON input is returned as is when it needs no change (the common case), so this is cheap.
 */
export function fromJS(x: unknown): Value {
  return fromJSd(x, 0);
}

function fromJSd(x: unknown, d: number): Value {
  switch (typeof x) {
    case "string":
    case "boolean":
      return x;
    case "number":
      if (!Number.isFinite(x)) throw new TypeError(`cannot convert ${x} to a Rego number`);
      if (Number.isInteger(x) && !Number.isSafeInteger(x)) return BigInt(x);
      return x + 0;
    case "bigint":
      return fromBigInt(x);
    case "undefined":
      return null;
    case "object": {
      if (x === null) return null;
      if (x instanceof RSet || x instanceof ObjMap || x instanceof BigDec) return x;
      if (x instanceof Date) return x.toISOString();
      if (d >= DEEP) return fromJSDeep(x);
      if (Array.isArray(x)) {
        let out: Value[] | null = null;
        for (let i = 0; i < x.length; i++) {
          const e = x[i];
          const c = fromJSd(e, d + 1);
          if (c !== e && out === null) out = x.slice(0, i) as Value[];
          if (out !== null) out.push(c);
        }
        return out ?? (x as Value[]);
      }
      if (x instanceof Set) return new RSet(Array.from(x, (e) => fromJSd(e, d + 1)));
      if (x instanceof Map) return makeObject(Array.from(x, ([k, v]) => [fromJSd(k, d + 1), fromJSd(v, d + 1)] as [Value, Value]));
      const o = x as Record<string, unknown>;
      let out: PlainObject | null = null;
      const keys = Object.keys(o);
      for (let i = 0; i < keys.length; i++) {
        const k = keys[i];
        const e = o[k];
        if (e === undefined) {
          if (out === null) {
            out = emptyObject();
            for (let j = 0; j < i; j++) out[keys[j]] = o[keys[j]] as Value;
          }
          continue;
        }
        const c = fromJSd(e, d + 1);
        if (c !== e && out === null) {
          out = emptyObject();
          for (let j = 0; j < i; j++) if (o[keys[j]] !== undefined) out[keys[j]] = o[keys[j]] as Value;
        }
        if (out !== null) out[k] = c;
      }
      return out ?? (o as PlainObject);
    }
  }
  throw new TypeError(`cannot convert a ${typeof x} to a Rego value`);
}

/** fromJS for deeply nested input: the same conversion with an explicit stack. */
function fromJSDeep(root: object): Value {
  const MARK = Symbol();
  const leaf = (x: unknown): Value | typeof MARK => {
    if (typeof x !== "object" || x === null || x instanceof RSet || x instanceof ObjMap || x instanceof BigDec || x instanceof Date) return fromJSd(x, 0);
    return MARK;
  };
  type F = { x: object; kids: unknown[]; keys: string[] | null; rs: Value[] };
  const frame = (x: object): F => {
    if (Array.isArray(x)) return { x, kids: x, keys: null, rs: [] };
    if (x instanceof Set) return { x, kids: Array.from(x), keys: null, rs: [] };
    if (x instanceof Map) return { x, kids: Array.from(x).flat(), keys: null, rs: [] };
    const keys = Object.keys(x).filter((k) => (x as Record<string, unknown>)[k] !== undefined);
    return { x, kids: keys.map((k) => (x as Record<string, unknown>)[k]), keys, rs: [] };
  };
  const build = (f: F): Value => {
    const x = f.x;
    if (Array.isArray(x)) return f.rs.every((r, i) => r === x[i]) ? (x as Value[]) : f.rs;
    if (x instanceof Set) return new RSet(f.rs);
    if (x instanceof Map) {
      const pairs: [Value, Value][] = [];
      for (let i = 0; i < f.rs.length; i += 2) pairs.push([f.rs[i], f.rs[i + 1]]);
      return makeObject(pairs);
    }
    const o = x as Record<string, unknown>;
    const keys = f.keys!;
    if (keys.length === Object.keys(o).length && f.rs.every((r, i) => r === o[keys[i]])) return o as PlainObject;
    const out = emptyObject();
    keys.forEach((k, i) => (out[k] = f.rs[i]));
    return out;
  };
  const stack: F[] = [frame(root)];
  for (;;) {
    const top = stack[stack.length - 1];
    if (top.rs.length < top.kids.length) {
      const r = leaf(top.kids[top.rs.length]);
      if (r !== MARK) top.rs.push(r);
      else stack.push(frame(top.kids[top.rs.length] as object));
      continue;
    }
    const v = build(top);
    stack.pop();
    if (stack.length === 0) return v;
    stack[stack.length - 1].rs.push(v);
  }
}

/**
 * A value as plain JSON-compatible JavaScript: sets become sorted arrays, objects get sorted
 * keys, non-string object keys become their JSON text (as OPA prints them), big numbers become
 * JS numbers (use toJSONText for exact output).
 */
export function toJS(v: Value): unknown {
  return toJSd(v, 0);
}

function toJSScalar(v: Value): unknown {
  switch (typeof v) {
    case "string":
    case "boolean":
    case "number":
      return v;
    case "bigint":
      return Number(v);
  }
  if (v === null) return null;
  if (v instanceof BigDec) return v.d.toNumber();
  return undefined;
}

function toJSd(v: Value, d: number): unknown {
  if (typeof v !== "object" || v === null || v instanceof BigDec) return toJSScalar(v);
  if (d >= DEEP) {
    return foldValue<unknown>(v, toJSScalar, valueKids, (x, rs) => {
      if (Array.isArray(x) || x instanceof RSet) return rs;
      const out: Record<string, unknown> = {};
      const es = objectEntries(x as PlainObject);
      es.forEach(([k], i) => (out[typeof k === "string" ? k : toJSONText(k)] = rs[2 * i + 1]));
      return out;
    });
  }
  if (Array.isArray(v)) return v.map((x) => toJSd(x, d + 1));
  if (v instanceof RSet) return v.sorted().map((x) => toJSd(x, d + 1));
  const out: Record<string, unknown> = {};
  for (const [k, x] of objectEntries(v)) out[typeof k === "string" ? k : toJSONText(k)] = toJSd(x, d + 1);
  return out;
}

/** Exact JSON text of a value (numbers of any size as OPA prints them), optionally indented. */
export function toJSONText(v: Value, indent = "", level = ""): string {
  const s = jsonScalar(v);
  if (s !== undefined) return s;
  return foldValue(v, jsonScalar, valueKids, (x, parts, depth) => {
    const lv = depth === 0 ? level : level + indent.repeat(depth);
    const inner = lv + indent;
    const nl = indent ? "\n" : "";
    if (Array.isArray(x) || x instanceof RSet) {
      if (parts.length === 0) return "[]";
      return "[" + nl + parts.map((p) => inner + p).join("," + nl) + nl + lv + "]";
    }
    if (parts.length === 0) return "{}";
    const sep = indent ? ": " : ":";
    const es = objectEntries(x as PlainObject);
    const kv = es.map(([k], i) => inner + (typeof k === "string" ? parts[2 * i] : JSON.stringify(toJSONText(k))) + sep + parts[2 * i + 1]);
    return "{" + nl + kv.join("," + nl) + nl + lv + "}";
  });
}

function jsonScalar(v: Value): string | undefined {
  switch (typeof v) {
    case "string":
      return JSON.stringify(v);
    case "boolean":
      return v ? "true" : "false";
    case "number":
    case "bigint":
      return numberText(v);
  }
  if (v === null) return "null";
  if (v instanceof BigDec) return numberText(v);
  return undefined;
}

/** Truthiness in a body: everything except `false` (undefined never reaches here). */
export function isTruthy(v: Value): boolean {
  return v !== false;
}
