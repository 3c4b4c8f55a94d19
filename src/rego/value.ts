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
import { writeJSON, type JSONContainer } from "./jsonwriter.ts";
import { foldTree } from "./stack.ts";

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

/**
 * A number that keeps the text it was read with, as OPA's json.Number does: a Rego literal, a
 * JSON input or data number, `json.unmarshal` or `to_number` whose text is not the number's
 * canonical text (`1.0`, `1e3`, `0.50`, `2e308`, `-0`; see `numberLiteral`). Conftest's inputs
 * hold Go float64s, which OPA prints with Go's shortest `%g` text (`1e+06` for 1000000), so
 * `portcullis test` marks those too (src/conftest/numbers.ts). It is the number `n` everywhere
 * (order, equality, hashing, arithmetic, whose results are plain canonical numbers again, as
 * OPA's are); only `numberText` (sprintf, json.marshal, JSON output, print) shows `text`. As a
 * BigDec it is not an integer to builtins that need one, as json.Number("1.0") is not in OPA.
 * Canonical texts never make one, so the hot path (plain JS numbers) is unchanged.
 */
export class TextNumber extends BigDec {
  readonly n: number | bigint | BigDec;
  readonly text: string;
  /** A Go float64 (conftest's inputs), which sprintf passes as a float64 rather than by its text. */
  readonly goFloat: boolean;
  constructor(n: number | bigint | BigDec, text: string, goFloat = false) {
    super(toDecimal(n));
    this.n = n;
    this.text = text;
    this.goFloat = goFloat;
  }
}

/**
 * Set: a map from each element's hash key to the element; iteration is in OPA's sorted order.
 * A set of up to SMALL_SET elements keeps them in a list instead and finds an element by
 * comparing (no hashing: most sets a policy builds — a rule's violations, a few names — stay
 * that small, and hashing a composite element walks all of it). The map is made the first time
 * it is asked for (the `map` property, which builtins use directly) or the set grows past that
 * size; from then on the map holds the elements. Elements keep their insertion order either way.
 */
export class RSet {
  /** The elements while the set keeps a list; null once the map holds them. */
  protected few: Value[] | null = [];
  private hashed: Map<unknown, Value> | null = null;
  private sortedCache: Value[] | null = null;
  constructor(items?: Iterable<Value>) {
    if (items) for (const v of items) this.add(v);
  }
  /** The elements by hash key (made on first use; the set uses it from then on). */
  get map(): Map<unknown, Value> {
    let m = this.hashed;
    if (m === null) {
      m = new Map();
      if (this.few !== null) for (const v of this.few) m.set(hashKey(v), v);
      this.hashed = m;
      this.few = null;
    }
    return m;
  }
  get size(): number {
    return this.few !== null ? this.few.length : this.map.size;
  }
  add(v: Value): void {
    const few = this.few;
    if (few !== null) {
      const i = indexInFew(few, v);
      if (i >= 0) {
        // Equal numbers may differ in text (1 and 1.0): the first one added stays, as in OPA;
        // any other equal element replaces the one there, as Map.set does below.
        if (typeof v !== "string" && isNumber(v)) return;
        few[i] = v;
        this.sortedCache = null;
        return;
      }
      if (few.length < SMALL_SET) {
        few.push(v);
        this.sortedCache = null;
        return;
      }
    }
    const m = this.map;
    const k = hashKey(v);
    if (typeof v !== "string" && isNumber(v) && m.has(k)) return;
    m.set(k, v);
    this.sortedCache = null;
  }
  has(v: Value): boolean {
    return this.few !== null ? indexInFew(this.few, v) >= 0 : this.map.has(hashKey(v));
  }
  /** The elements in insertion order (a fresh array). */
  toArray(): Value[] {
    return this.few !== null ? this.few.slice() : Array.from(this.map.values());
  }
  /** Elements in OPA's order (sorted). */
  sorted(): Value[] {
    if (this.sortedCache === null || this.sortedCache.length !== this.size) {
      this.sortedCache = this.toArray().sort(compare);
    }
    return this.sortedCache;
  }
}

/** Elements a set keeps in a list before it hashes them (RSet). */
const SMALL_SET = 8;

/** Where an element equal to v is in a set's list, or -1. */
function indexInFew(few: Value[], v: Value): number {
  // A string or boolean equals only itself.
  if (typeof v === "string" || typeof v === "boolean") return few.indexOf(v);
  for (let i = 0; i < few.length; i++) if (sameValue(few[i], v, 0)) return i;
  return -1;
}

/**
 * equal(a, b), comparing arrays and plain objects member by member without ordering their keys
 * (equal orders them, and caches each object's sorted keys); other kinds, and levels below 32,
 * go to equal.
 */
function sameValue(a: Value, b: Value, d: number): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null || d >= 32) return equal(a, b);
  const aa = Array.isArray(a);
  const ab = Array.isArray(b);
  if (aa && ab) {
    if (a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameValue(a[i], b[i], d + 1)) return false;
    return true;
  }
  // An array equals no value of another kind.
  if (aa || ab) return false;
  if (a instanceof RSet || a instanceof ObjMap || a instanceof BigDec || b instanceof RSet || b instanceof ObjMap || b instanceof BigDec) return equal(a, b);
  // Two plain objects: the same keys with equal values.
  const pa = a as PlainObject;
  const pb = b as PlainObject;
  let n = 0;
  for (const k in pa) {
    if (!Object.hasOwn(pb, k) || !sameValue(pa[k], pb[k], d + 1)) return false;
    n++;
  }
  for (const _ in pb) n--;
  return n === 0;
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

/**
 * A number read from text that OPA keeps as written (a Rego literal, JSON, `to_number`): the
 * canonical number when the text is its canonical text, else a TextNumber holding the text.
 * `text` must be a JSON number (optionally with Rego's leading `-`). Undefined for malformed text.
 */
export function numberLiteral(text: string): number | bigint | BigDec | undefined {
  const v = numberFromText(text);
  if (v === undefined) return undefined;
  return numberText(v) === text ? v : new TextNumber(v, text);
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
  if (v instanceof TextNumber) return v.text;
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

/**
 * Plain object keys in sorted order (read only: the array may be shared). Cached per object
 * (values are immutable) when it has more than SMALL_KEYS keys, or fewer keys that are out of
 * order. A small object whose keys are already in order (object literals are built so: see
 * compiler.ts, constKeyObject) has them listed again on each call: entering an object into a
 * WeakMap costs several times more than listing a few keys, and most objects an evaluation
 * builds (findings, results) are compared a few times only (sorting a set of five 4-key
 * objects: 9 µs with the cache, under 2 µs without).
 */
const sortedKeysCache = new WeakMap<object, string[]>();
const SMALL_KEYS = 8;
export function sortedKeys(o: PlainObject): string[] {
  const ks = Object.keys(o);
  if (ks.length <= SMALL_KEYS) {
    for (let i = 1; i < ks.length; i++) {
      if (compareStrings(ks[i - 1], ks[i]) > 0) {
        // Keys out of order (an input object, as JSON lists them: enumerated again by every
        // rule that iterates it) are sorted once and cached; objects whose keys are created in
        // order (object literals: see compiler.ts, constKeyObject) never enter the cache.
        const cached = sortedKeysCache.get(o);
        if (cached !== undefined) return cached;
        ks.sort(compareStrings);
        sortedKeysCache.set(o, ks);
        return ks;
      }
    }
    return ks;
  }
  const cached = sortedKeysCache.get(o);
  if (cached !== undefined) return cached;
  ks.sort(compareStrings);
  sortedKeysCache.set(o, ks);
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
  if (o instanceof ObjMap) return o.size;
  // (own enumerable string keys: what sortedKeys lists, without sorting or caching them)
  let n = 0;
  for (const _ in o) n++;
  return n;
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
      if (!(a instanceof ObjMap) && !(b instanceof ObjMap)) {
        // Two plain objects: their sorted keys (cached) and values, without lists of entries.
        const pa = a as PlainObject;
        const pb = b as PlainObject;
        const ka = sortedKeys(pa);
        const kb = sortedKeys(pb);
        const n = Math.min(ka.length, kb.length);
        for (let i = 0; i < n; i++) {
          let c = compareStrings(ka[i], kb[i]);
          if (c !== 0) return c;
          c = cmp(pa[ka[i]], pb[kb[i]], d + 1);
          if (c !== 0) return c;
        }
        return ka.length - kb.length;
      }
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
  return foldTree(root, leaf, kids, combine);
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
      if (v instanceof TextNumber) return hashKey(v.n);
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
  if (v instanceof TextNumber) return canonScalar(v.n);
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
  if (!(v instanceof ObjMap)) {
    // A plain object: the text canonCombine makes, without the lists of parts.
    // (Its keys sorted here, not through sortedKeys's cache: the objects hashed are mostly
    // fresh ones, a rule's results, that a cache entry would only outlive.)
    const o = v as PlainObject;
    const ks = Object.keys(o);
    if (ks.length > 1) ks.sort(compareStrings);
    let out = "{";
    for (let i = 0; i < ks.length; i++) out += (i > 0 ? "," : "") + JSON.stringify(ks[i]) + ":" + canon(o[ks[i]], d + 1);
    return intern(o, out + "}");
  }
  const parts: string[] = [];
  for (const [k, x] of objectEntries(v)) parts.push(canon(k, d + 1), canon(x, d + 1));
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
 * The deepest value Portcullis accepts (OPA's, from Go's JSON decoder): a document nested
 * deeper is refused with "exceeded max depth of 10000" rather than risking the stack.
 */
export const MAX_VALUE_DEPTH = 10000;

export class ValueDepthError extends Error {
  constructor(max = MAX_VALUE_DEPTH) {
    super(`exceeded max depth of ${max}`);
    this.name = "ValueDepthError";
  }
}

/** The nesting depth of a plain JS document (iterative; stops counting past `limit`). */
export function nestingDepth(x: unknown, limit = MAX_VALUE_DEPTH): number {
  if (x === null || typeof x !== "object") return 0;
  let max = 0;
  const stack: [unknown, number][] = [[x, 1]];
  while (stack.length) {
    const [v, d] = stack.pop()!;
    if (d > max) max = d;
    if (max > limit) return max;
    const children = Array.isArray(v) ? v : v instanceof Set ? Array.from(v) : v instanceof Map ? Array.from(v).flat() : v instanceof RSet || v instanceof ObjMap || v instanceof BigDec || v instanceof Date ? [] : Object.values(v as object);
    for (const c of children) if (c !== null && typeof c === "object") stack.push([c, d + 1]);
  }
  return max;
}

function scalarFromJS(x: unknown): Value {
  if (x === null) return null;
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
  }
  throw new TypeError(`cannot convert a ${typeof x} to a Rego value`);
}

/** One composite being converted by fromJS: its source, its converted children so far. */
interface ConvFrame {
  src: unknown;
  kind: 0 | 1 | 2 | 3; // array, object, Set, Map
  items: unknown[]; // the children to convert (object: values; Map: k0, v0, k1, v1, …)
  keys: string[] | null;
  i: number;
  out: unknown[] | PlainObject | null; // copy made once a child differs (array/object)
}

/**
 * A JavaScript value as a Rego value. Plain JSON (arrays, objects, strings, numbers that fit)
 * is used as it is, without copying; only what differs (undefined members, unsafe integers,
 * Sets, Maps, Dates) is converted. Iterative, so deep documents cannot overflow the stack;
 * deeper than MAX_VALUE_DEPTH is a ValueDepthError.
 */
export function fromJS(x: unknown): Value {
  if (x === null || typeof x !== "object") return scalarFromJS(x);
  if (x instanceof RSet || x instanceof ObjMap || x instanceof BigDec) return x;
  if (x instanceof Date) return x.toISOString();
  // Most documents (JSON.parse's, YAML's) are values already: checked without copying or
  // allocating, and used as they are.
  if (isPlainValue(x, 0)) return x as Value;
  const stack: ConvFrame[] = [frameOf(x)];
  let result: Value = null;
  while (stack.length > 0) {
    const fr = stack[stack.length - 1];
    if (fr.i < fr.items.length) {
      const child = fr.items[fr.i];
      if (child !== null && typeof child === "object" && !(child instanceof RSet || child instanceof ObjMap || child instanceof BigDec || child instanceof Date)) {
        if (stack.length >= MAX_VALUE_DEPTH) throw new ValueDepthError();
        stack.push(frameOf(child));
        continue;
      }
      put(fr, child === null || typeof child !== "object" ? scalarFromJS(child) : child instanceof Date ? child.toISOString() : (child as Value));
      continue;
    }
    stack.pop();
    const done = finish(fr);
    if (stack.length === 0) result = done;
    else put(stack[stack.length - 1], done);
  }
  return result;
}

/** Levels isPlainValue checks before it leaves a document to fromJS's general path. */
const PLAIN_DEPTH = 64;

/**
 * Would fromJS return x itself? Arrays and objects with Object's (or no) prototype, whose
 * members are strings, booleans, null, finite numbers that are safe integers or not integers
 * at all, and such values again, down to PLAIN_DEPTH levels (false below: fromJS then converts
 * it frame by frame, which has no depth limit of its own).
 */
function isPlainValue(x: object, d: number): boolean {
  if (d >= PLAIN_DEPTH) return false;
  if (Array.isArray(x)) {
    for (let i = 0; i < x.length; i++) {
      const v: unknown = x[i];
      if (typeof v === "string" || typeof v === "boolean" || v === null) continue;
      if (typeof v === "number") {
        if (!plainNumber(v)) return false;
        continue;
      }
      if (typeof v !== "object" || !isPlainValue(v, d + 1)) return false;
    }
    return true;
  }
  const proto = Object.getPrototypeOf(x);
  if (proto !== Object.prototype && proto !== null) return false;
  // (for-in: the own keys of an object with Object's prototype, without allocating their list)
  for (const k in x) {
    const v: unknown = (x as Record<string, unknown>)[k];
    if (typeof v === "string" || typeof v === "boolean" || v === null) continue;
    if (typeof v === "number") {
      if (!plainNumber(v)) return false;
      continue;
    }
    if (typeof v !== "object" || !isPlainValue(v, d + 1)) return false;
  }
  return true;
}

/** A number scalarFromJS keeps as it is (not -0, which it turns into 0; not an unsafe integer or a non-finite number). */
function plainNumber(v: number): boolean {
  return Number.isFinite(v) && !Object.is(v, -0) && (Number.isSafeInteger(v) || !Number.isInteger(v));
}

function frameOf(x: object): ConvFrame {
  if (Array.isArray(x)) return { src: x, kind: 0, items: x, keys: null, i: 0, out: null };
  if (x instanceof Set) return { src: x, kind: 2, items: Array.from(x), keys: null, i: 0, out: [] };
  if (x instanceof Map) return { src: x, kind: 3, items: Array.from(x).flat(), keys: null, i: 0, out: [] };
  const keys = Object.keys(x);
  return { src: x, kind: 1, items: keys.map((k) => (x as Record<string, unknown>)[k]), keys, i: 0, out: null };
}

/** Record the converted i-th child of a frame (copying the source only once a child differs). */
function put(fr: ConvFrame, c: Value): void {
  const i = fr.i++;
  const e = fr.items[i];
  if (fr.kind === 0) {
    if (c !== e && fr.out === null) fr.out = (fr.src as unknown[]).slice(0, i);
    if (fr.out !== null) (fr.out as unknown[]).push(c);
  } else if (fr.kind === 1) {
    const keys = fr.keys!;
    if (e === undefined || c !== e) {
      if (fr.out === null) {
        const out = emptyObject();
        for (let j = 0; j < i; j++) if (fr.items[j] !== undefined) out[keys[j]] = fr.items[j] as Value;
        fr.out = out;
      }
      if (e === undefined) return;
    }
    if (fr.out !== null) (fr.out as PlainObject)[keys[i]] = c;
  } else {
    (fr.out as unknown[]).push(c);
  }
}

function finish(fr: ConvFrame): Value {
  switch (fr.kind) {
    case 0:
      return (fr.out ?? fr.src) as Value[];
    case 1:
      return (fr.out ?? fr.src) as PlainObject;
    case 2:
      return new RSet(fr.out as Value[]);
    default: {
      const flat = fr.out as Value[];
      const entries: [Value, Value][] = [];
      for (let j = 0; j < flat.length; j += 2) entries.push([flat[j], flat[j + 1]]);
      return makeObject(entries);
    }
  }
}

/**
 * A value as plain JSON-compatible JavaScript: sets become sorted arrays, objects get sorted
 * keys, non-string object keys become their JSON text (as OPA prints them).
 *
 * Numbers: with `exact` (what `Engine.query` returns), an integer beyond ±2^53 is a `bigint` —
 * never a rounded double or `Infinity` — and a decimal is the nearest double (as `JSON.parse`
 * reads OPA's output; a decimal beyond the double range is an integer, so it never becomes
 * `Infinity`). Without `exact`, big numbers become the nearest JS number (lossy; for callers that print JSON
 * with `JSON.stringify`, which cannot print a bigint). Use toJSONText for exact JSON text.
 */
export function toJS(v: Value, exact = false, guard?: ConversionGuard): unknown {
  return toJSd(v, 0, exact ? toJSExactScalar : toJSScalar, guard);
}

/**
 * A check run every 4,096 composite values a conversion makes (`toJS`'s third argument): a large
 * result takes time to convert after its evaluation ended (1,962 paths of `walk` over a value
 * 1,961 levels deep are ~2 million objects), and the caller's deadline still holds. It throws to
 * stop the conversion.
 */
export interface ConversionGuard {
  n: number;
  check: () => void;
}

function guarded(g: ConversionGuard | undefined): void {
  if (g !== undefined && (++g.n & 0xfff) === 0) g.check();
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

function toJSExactScalar(v: Value): unknown {
  if (typeof v === "bigint") return v >= -MAX_SAFE_BIG && v <= MAX_SAFE_BIG ? Number(v) : v;
  if (v instanceof TextNumber && typeof v.n !== "object") return toJSExactScalar(v.n);
  if (v instanceof BigDec) {
    const d = v.d;
    if (!d.isInteger()) return d.toNumber();
    const n = d.toNumber();
    return Number.isSafeInteger(n) ? n : BigInt(d.toFixed());
  }
  return toJSScalar(v);
}

const MAX_SAFE_BIG = BigInt(Number.MAX_SAFE_INTEGER);

function toJSd(v: Value, d: number, scalar: (v: Value) => unknown, guard: ConversionGuard | undefined): unknown {
  if (typeof v !== "object" || v === null || v instanceof BigDec) return scalar(v);
  guarded(guard);
  // An array of strings, numbers, booleans and nulls is its own JavaScript form: a copy (one
  // memcpy) instead of a call per element (24.6 million numbers: 0.05 s instead of 1.3 s).
  if (Array.isArray(v) && plainScalars(v)) return v.slice();
  if (d >= DEEP) {
    return foldValue<unknown>(v, scalar, valueKids, (x, rs) => {
      guarded(guard);
      if (Array.isArray(x) || x instanceof RSet) return rs;
      const out: Record<string, unknown> = {};
      const es = objectEntries(x as PlainObject);
      es.forEach(([k], i) => putKey(out, typeof k === "string" ? k : toJSONText(k), rs[2 * i + 1]));
      return out;
    });
  }
  if (Array.isArray(v)) return v.map((x) => toJSd(x, d + 1, scalar, guard));
  if (v instanceof RSet) return v.sorted().map((x) => toJSd(x, d + 1, scalar, guard));
  const out: Record<string, unknown> = {};
  if (v instanceof ObjMap) {
    for (const [k, x] of v.sorted()) putKey(out, typeof k === "string" ? k : toJSONText(k), toJSd(x, d + 1, scalar, guard));
    return out;
  }
  // A plain object: its keys in order, without caching them for an object mostly made by this
  // evaluation (a result) or listing its entries.
  const o = v as PlainObject;
  let ks = sortedKeysCache.get(o);
  if (ks === undefined) {
    ks = Object.keys(o);
    if (ks.length > 1) ks.sort(compareStrings);
  }
  for (let i = 0; i < ks.length; i++) {
    const k = ks[i];
    if (k === "__proto__") putKey(out, k, toJSd(o[k], d + 1, scalar, guard));
    else out[k] = toJSd(o[k], d + 1, scalar, guard);
  }
  return out;
}

/**
 * Set a key of a JavaScript result object: `__proto__` as an own property (an assignment would
 * set the object's prototype, or be ignored, and the key would be lost from the answer).
 */
function putKey(out: Record<string, unknown>, k: string, v: unknown): void {
  if (k === "__proto__") Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
  else out[k] = v;
}

function plainScalars(xs: Value[]): boolean {
  for (let i = 0; i < xs.length; i++) {
    const x = xs[i];
    const t = typeof x;
    if (t !== "number" && t !== "string" && t !== "boolean" && x !== null) return false;
  }
  return true;
}

/**
 * The size of a value written out in full, as `toJS` and JSON output expand it. Values share
 * structure (`walk` of a deep set holds each nested set once, in every path that passes it), so
 * the expanded form can be far larger than the value in memory: 231 nested sets walked are a few
 * kilobytes in the engine and 1.5 GB of JSON. Computed without recursion in time proportional to
 * the distinct composite values (each is measured once, `memo`), so that a caller can refuse a
 * result before expanding it.
 */
export interface ExpandedSize {
  /** Values (scalars and composites) in the expanded form. */
  nodes: number;
  /** Of these, arrays, sets and objects. */
  composites: number;
  /** Characters of compact JSON text (string and number lengths are estimated without escapes). */
  chars: number;
  /** Line breaks of indented JSON text (one per member and one per closing bracket). */
  lines: number;
  /** Indentation units of indented JSON text, with the value at level 0. */
  indents: number;
  /** Characters of the strings (keys included). */
  strings: number;
}

function scalarChars(v: Value): number {
  switch (typeof v) {
    case "string":
      return v.length + 2;
    case "boolean":
      return v ? 4 : 5;
    case "number":
      if ((v | 0) === v) return v < 0 ? 1 + intDigits(-v) : intDigits(v);
      return numberText(v).length;
    case "bigint":
      return numberText(v).length;
  }
  if (v === null) return 4;
  if (v instanceof BigDec) return numberText(v).length;
  return -1;
}

function intDigits(a: number): number {
  if (a < 100000) return a < 10 ? 1 : a < 100 ? 2 : a < 1000 ? 3 : a < 10000 ? 4 : 5;
  return a < 1000000 ? 6 : a < 10000000 ? 7 : a < 100000000 ? 8 : a < 1000000000 ? 9 : 10;
}

function sizeKids(v: Value): Value[] {
  if (Array.isArray(v)) return v;
  if (v instanceof RSet) return v.toArray();
  if (v instanceof ObjMap) return Array.from(v.map.values()).flat();
  const o = v as PlainObject;
  const out: Value[] = [];
  for (const k of Object.keys(o)) out.push(k, o[k]);
  return out;
}

type SizeFrame = { v: Value; kids: Value[]; i: number; out: ExpandedSize; keys: boolean; objMap: boolean };

/** expandedSize's frame for a composite (a module-level function: no closure made per call). */
function openSizeFrame(v: Value): SizeFrame {
  const kids = sizeKids(v);
  const keys = !Array.isArray(v) && !(v instanceof RSet);
  const members = keys ? kids.length / 2 : kids.length;
  // "[" "]" and commas; each member on its own line, one level in; the closing bracket's line.
  const out = { nodes: 1, composites: 1, chars: 2 + Math.max(0, members - 1), strings: 0, lines: members > 0 ? members + 1 : 0, indents: members };
  return { v, kids, i: 0, out, keys, objMap: v instanceof ObjMap };
}

/** The expanded size of `root` (see ExpandedSize); `memo` carries measured composites across calls. */
export function expandedSize(root: Value, memo: Map<object, ExpandedSize> = new Map()): ExpandedSize {
  const c0 = scalarChars(root);
  if (c0 >= 0) return { nodes: 1, composites: 0, chars: c0, strings: typeof root === "string" ? root.length : 0, lines: 0, indents: 0 };
  // Post-order without recursion; scalar members are added where they stand (no allocation).
  const open = openSizeFrame;
  const stack: SizeFrame[] = [open(root)];
  let done: ExpandedSize | null = null;
  for (;;) {
    const f = stack[stack.length - 1];
    if (done !== null) {
      // A composite member finished: `done` is its size, the member at f.i - 1.
      const r = done;
      done = null;
      const isKey = f.keys && (f.i - 1) % 2 === 0;
      f.out.chars += r.chars + (isKey ? 3 : 0);
      f.out.strings += r.strings;
      if (!isKey) {
        f.out.nodes += r.nodes;
        f.out.composites += r.composites;
        f.out.lines += r.lines;
        f.out.indents += r.indents + r.lines;
      }
    }
    if (f.i === f.kids.length) {
      memo.set(f.v as object, f.out);
      stack.pop();
      if (stack.length === 0) return f.out;
      done = f.out;
      continue;
    }
    if (!f.keys) {
      // A run of scalar elements, in one tight loop.
      const kids = f.kids;
      let i = f.i;
      let chars = 0;
      let strings = 0;
      for (; i < kids.length; i++) {
        const k = kids[i];
        const c = scalarChars(k);
        if (c < 0) break;
        chars += c;
        if (typeof k === "string") strings += k.length;
      }
      f.out.chars += chars;
      f.out.strings += strings;
      f.out.nodes += i - f.i;
      f.i = i;
      if (i === kids.length) continue;
    }
    const k = f.kids[f.i++];
    const isKey = f.keys && (f.i - 1) % 2 === 0;
    const c = scalarChars(k);
    if (c >= 0) {
      // A key is followed by ":"; a non-string key of an ObjMap is written as quoted JSON text.
      f.out.chars += c + (isKey ? (typeof k === "string" ? 1 : 3) : 0);
      if (typeof k === "string") f.out.strings += k.length;
      if (!isKey) f.out.nodes++;
      continue;
    }
    const m = memo.get(k as object);
    if (m !== undefined) {
      done = m;
      continue;
    }
    stack.push(open(k));
  }
}

/** Characters of `size` written as JSON indented by `indent` characters per level, starting at `level`. */
export function indentedChars(size: ExpandedSize, indent: number, level = 0): number {
  if (indent === 0) return size.chars;
  // A line break, its indentation, and the space after each key's ":" (bounded by the lines).
  return size.chars + size.lines * (1 + level * indent) + size.indents * indent + size.lines;
}

/** Exact JSON text of a value (numbers of any size as OPA prints them), optionally indented. */
export function toJSONText(v: Value, indent = "", level = ""): string {
  return writeJSON(v, describeValue, indent, level);
}

function describeValue(x: unknown): string | JSONContainer {
  const v = x as Value;
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
  if (Array.isArray(v)) return { array: true, items: v.map((e) => [null, e]) };
  if (v instanceof RSet) return { array: true, items: v.sorted().map((e) => [null, e]) };
  if (v instanceof ObjMap) {
    // Non-string keys become their JSON text, and Go's encoder sorts the keys as strings.
    const items: [string, Value][] = v.sorted().map(([k, e]) => [typeof k === "string" ? k : toJSONText(k), e]);
    items.sort((a, b) => compareStrings(a[0], b[0]));
    return { array: false, items: items.map(([k, e]) => [JSON.stringify(k), e]) };
  }
  return { array: false, items: objectEntries(v).map(([k, e]) => [JSON.stringify(k as string), e]) };
}

/** Truthiness in a body: everything except `false` (undefined never reaches here). */
export function isTruthy(v: Value): boolean {
  return v !== false;
}
