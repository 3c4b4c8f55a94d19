// Builtins that belong to the language itself: unification and assignment (handled by the
// compiler, registered here for their declarations), membership (`in`), `walk`, `print`,
// `trace` and `opa.runtime`.

import type { Builtin, BuiltinContext } from "./registry.ts";
import { T } from "./registry.ts";
import type { Value } from "../rego/value.ts";
import { RSet, ObjMap, equal, objectEntries, isObject, emptyObject } from "../rego/value.ts";
import { formatValue } from "../rego/print.ts";

function member(x: Value, coll: Value): boolean {
  if (Array.isArray(coll)) {
    for (let i = 0; i < coll.length; i++) if (equal(coll[i], x)) return true;
    return false;
  }
  if (coll instanceof RSet) return coll.has(x);
  if (isObject(coll)) {
    for (const [, v] of objectEntries(coll)) if (equal(v, x)) return true;
    return false;
  }
  return false;
}

function memberWithKey(key: Value, x: Value, coll: Value): boolean {
  if (Array.isArray(coll)) {
    if (typeof key !== "number" || !Number.isInteger(key) || key < 0 || key >= coll.length) return false;
    return equal(coll[key], x);
  }
  // A set's elements are their own keys (as `some k, v in s` enumerates them).
  if (coll instanceof RSet) return equal(key, x) && coll.has(x);
  if (coll instanceof ObjMap) {
    const v = coll.get(key);
    return v !== undefined && equal(v, x);
  }
  if (isObject(coll)) {
    if (typeof key !== "string" || !Object.hasOwn(coll, key)) return false;
    return equal((coll as Record<string, Value>)[key], x);
  }
  return false;
}

/** All [path, value] pairs of a document, parents before children, as OPA's walk yields them. */
/**
 * Every [path, value] pair of a document, in pre-order. Iterative (deep documents cannot
 * overflow the stack) and accounted: the paths of a deep document grow quadratically, so the
 * result is checked against the evaluation's size limit as it grows.
 */
function walk(root: Value, ctx: BuiltinContext): Value[] {
  const out: Value[] = [];
  const stack: [Value, Value[]][] = [[root, []]];
  let bytes = 0;
  while (stack.length > 0) {
    const [v, path] = stack.pop()!;
    out.push([path, v]);
    bytes += 48 + path.length * 8;
    if ((out.length & 0x3ff) === 0) {
      ctx.checkSize("walk", bytes);
      ctx.checkCancel();
    }
    const children: [Value, Value][] = Array.isArray(v) ? v.map((e, i) => [i, e]) : v instanceof RSet ? v.sorted().map((e) => [e, e]) : isObject(v) ? objectEntries(v) : [];
    for (let i = children.length - 1; i >= 0; i--) stack.push([children[i][1], [...path, children[i][0]]]);
  }
  ctx.checkSize("walk", bytes);
  return out;
}

export const builtins: Builtin[] = [
  { name: "eq", decl: T.fn([T.any, T.any], T.boolean), infix: "=", impl: ([a, b]) => equal(a, b) },
  { name: "assign", decl: T.fn([T.any, T.any], T.boolean), infix: ":=", impl: ([a, b]) => equal(a, b) },
  { name: "internal.member_2", decl: T.fn([T.any, T.any], T.boolean), infix: "in", impl: ([x, c]) => member(x, c) },
  {
    name: "internal.member_3",
    decl: T.fn([T.any, T.any, T.any], T.boolean),
    infix: "in",
    impl: ([k, x, c]) => memberWithKey(k, x, c),
  },
  {
    name: "walk",
    decl: T.fn([T.any], T.tuple(T.arrayOf(T.any), T.any)),
    relation: true,
    impl: ([v], ctx) => walk(v, ctx),
  },
  {
    name: "trace",
    decl: T.fn([T.string], T.boolean),
    impl: ([s]) => (typeof s === "string" ? true : undefined),
  },
  {
    name: "print",
    decl: { type: "function", variadic: T.any },
    impl: (args, ctx) => {
      ctx.print(args.map((a) => (typeof a === "string" ? a : formatValue(a))).join(" "));
      return true;
    },
  },
  {
    name: "internal.print",
    decl: T.fn([T.arrayOf(T.setOf(T.any))]),
    impl: () => true,
  },
  {
    name: "internal.test_case",
    decl: T.fn([T.arrayOf(T.any)]),
    impl: () => true,
  },
  {
    // $"Hello {name}!" is parsed into internal.template_string(["Hello ", {name}, "!"]): text parts
    // are strings, each expression part the set of its values (empty when undefined).
    name: "internal.template_string",
    decl: T.fn([T.arrayOf(T.any)], T.string),
    impl: ([parts]) => {
      if (!Array.isArray(parts)) return undefined;
      let out = "";
      for (const p of parts) {
        if (typeof p === "string") out += p;
        else if (p instanceof RSet) {
          const vs = p.sorted();
          if (vs.length === 0) out += "<undefined>";
          else out += vs.map((v) => (typeof v === "string" ? v : formatValue(v))).join(", ");
        } else out += typeof p === "string" ? p : formatValue(p);
      }
      return out;
    },
  },
  {
    name: "opa.runtime",
    decl: { type: "function", result: T.objectOf(T.string, T.any) },
    nondeterministic: true,
    impl: (_args, ctx) => ctx.runtime ?? emptyObject(),
  },
];
