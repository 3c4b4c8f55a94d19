// Set operations: and (&), or (|), intersection, union, set_diff.

import { RSet, type Value } from "../rego/value.ts";
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

function unite(a: RSet, b: RSet): RSet {
  if (b.size === 0) return a;
  if (a.size === 0) return b;
  const out = new RSet();
  for (const [k, v] of a.map) out.map.set(k, v);
  for (const [k, v] of b.map) out.map.set(k, v);
  return out;
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
