// Comparison: equal (==), neq (!=), lt, lte, gt, gte — OPA's total order over all values.

import { compare, equal, type Value } from "../rego/value.ts";
import { T, type Builtin } from "./registry.ts";

const decl = T.fn([T.any, T.any], T.boolean);

/** Fast order for the common same-type primitive cases; compare() for everything else. */
function cmp(a: Value, b: Value): number {
  if (typeof a === "number" && typeof b === "number") return a < b ? -1 : a > b ? 1 : 0;
  return compare(a, b);
}

export const builtins: Builtin[] = [
  { name: "equal", decl, impl: (args) => equal(args[0], args[1]), infix: "==" },
  { name: "neq", decl, impl: (args) => !equal(args[0], args[1]), infix: "!=" },
  { name: "lt", decl, impl: (args) => cmp(args[0], args[1]) < 0, infix: "<" },
  { name: "lte", decl, impl: (args) => cmp(args[0], args[1]) <= 0, infix: "<=" },
  { name: "gt", decl, impl: (args) => cmp(args[0], args[1]) > 0, infix: ">" },
  { name: "gte", decl, impl: (args) => cmp(args[0], args[1]) >= 0, infix: ">=" },
];
