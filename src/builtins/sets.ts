// Set operations: and (&), or (|), intersection, union, set_diff.

import { RSet, hashKey, type Value } from "../rego/value.ts";
import { T, operandError, type Builtin } from "./registry.ts";
import { setDiff } from "./arithmetic.ts";

const anySet = T.setOf(T.any);
const setOfSets = T.setOf(T.setOf(T.any));

function setOperand(name: string, pos: number, v: Value): RSet {
  if (!(v instanceof RSet)) throw operandError(name, pos, "set", v);
  return v;
}

function intersect(a: RSet, b: RSet): RSet {
  if (a.size > b.size) [a, b] = [b, a];
  const out = new RSet();
  for (const [k, v] of a.map) if (b.map.has(k)) out.map.set(k, v);
  return out;
}

/**
 * The result of a union, sharing its elements with the union it was made from.
 *
 * A chain `s1 | s2 | s3 | …` would copy the growing set at every step (quadratic). Instead,
 * unions made from one another share an append-only log of elements: each is the first `count`
 * entries of the log. Extending the newest one appends to the log; the older ones keep their
 * prefix, so no set a rule already holds changes. A set's own Map is built (once, O(size)) only
 * when something reads it; from then on it is an ordinary set and no longer extends the log.
 */
class SharedUnion extends RSet {
  private own: Map<unknown, Value> | null = null;
  constructor(
    private readonly log: Map<unknown, Value>,
    private readonly count: number,
  ) {
    super();
    // Not a list of a few elements (RSet's small form): every RSet method reads the elements
    // through `map`, which the accessor below serves.
    this.few = null;
  }
  /** The newest set of its log, never read as a Map: a union may extend the log in place. */
  extensible(): boolean {
    return this.own === null && this.count === this.log.size;
  }
  get size(): number {
    return this.own === null ? this.count : this.own.size;
  }
  has(v: Value): boolean {
    if (this.own === null && this.count === this.log.size) return this.log.has(hashKey(v));
    return this.map.has(hashKey(v));
  }
  /** A union with `more`, appended to this set's log (only for an extensible set). */
  extend(more: RSet): SharedUnion {
    for (const [k, v] of more.map) if (!this.log.has(k)) this.log.set(k, v);
    return new SharedUnion(this.log, this.log.size);
  }
  materialize(): Map<unknown, Value> {
    if (this.own === null) {
      const own = new Map<unknown, Value>();
      if (this.count === this.log.size) for (const [k, v] of this.log) own.set(k, v);
      else {
        let i = 0;
        for (const [k, v] of this.log) {
          if (i++ === this.count) break;
          own.set(k, v);
        }
      }
      this.own = own;
    }
    return this.own;
  }
}
Object.defineProperty(SharedUnion.prototype, "map", {
  get(this: SharedUnion) {
    return this.materialize();
  },
  configurable: true,
});

/** Below this many elements a union is an ordinary copy. */
const SHARE_FROM = 64;

function unite(a: RSet, b: RSet): RSet {
  if (b.size === 0) return a;
  if (a.size === 0) return b;
  // union is commutative: extend whichever operand is the newest set of a shared log
  if (a instanceof SharedUnion && a.extensible()) return a.extend(b);
  if (b instanceof SharedUnion && b.extensible()) return b.extend(a);
  if (a.size + b.size < SHARE_FROM) {
    const out = new RSet();
    for (const [k, v] of a.map) out.map.set(k, v);
    // an element of both stays as `a` has it (equal numbers may differ in text: 1.0 and 1)
    for (const [k, v] of b.map) if (!out.map.has(k)) out.map.set(k, v);
    return out;
  }
  const log = new Map<unknown, Value>(a.map);
  for (const [k, v] of b.map) if (!log.has(k)) log.set(k, v);
  return new SharedUnion(log, log.size);
}

function and(args: Value[]): Value {
  return intersect(setOperand("and", 1, args[0]), setOperand("and", 2, args[1]));
}

function or(args: Value[]): Value {
  return unite(setOperand("or", 1, args[0]), setOperand("or", 2, args[1]));
}

function intersection(args: Value[]): Value {
  const sets = setOperand("intersection", 1, args[0]);
  let acc: RSet | null = null;
  for (const s of sets.map.values()) {
    const x = setOperand("intersection", 1, s);
    acc = acc === null ? x : intersect(acc, x);
  }
  return acc ?? new RSet();
}

function union(args: Value[]): Value {
  const sets = setOperand("union", 1, args[0]);
  const out = new RSet();
  for (const s of sets.map.values()) {
    const x = setOperand("union", 1, s);
    for (const [k, v] of x.map) out.map.set(k, v);
  }
  return out;
}

function setDiffB(args: Value[]): Value {
  return setDiff(setOperand("set_diff", 1, args[0]), setOperand("set_diff", 2, args[1]));
}

export const builtins: Builtin[] = [
  { name: "and", decl: T.fn([anySet, anySet], anySet), impl: and, infix: "&" },
  { name: "or", decl: T.fn([anySet, anySet], anySet), impl: or, infix: "|" },
  { name: "intersection", decl: T.fn([setOfSets], anySet), impl: intersection },
  { name: "union", decl: T.fn([setOfSets], anySet), impl: union },
  { name: "set_diff", decl: T.fn([anySet, anySet], anySet), impl: setDiffB, deprecated: true },
];
