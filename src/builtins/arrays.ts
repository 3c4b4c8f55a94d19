// Arrays: array.concat, array.slice, array.reverse.

import { BigDec, type Value } from "../rego/value.ts";
import { BuiltinTypeError, T, expectArray, operandError, type Builtin } from "./registry.ts";

const anyArray = T.arrayOf(T.any);

function concat(args: Value[]): Value {
  const a = expectArray("array.concat", 1, args[0]);
  const b = expectArray("array.concat", 2, args[1]);
  if (b.length === 0) return a;
  if (a.length === 0) return b;
  return a.concat(b);
}

/** An index operand: OPA accepts only numbers that fit a machine integer. */
function indexOperand(pos: number, v: Value): number {
  if (typeof v === "number" && Number.isInteger(v)) return v;
  if (typeof v === "bigint" || typeof v === "number" || v instanceof BigDec) {
    if (typeof v === "bigint" && v >= -(2n ** 63n) && v < 2n ** 63n) return v < 0n ? -Infinity : Infinity;
    throw new BuiltinTypeError(`array.slice: operand ${pos} must be integer number but got floating-point number`);
  }
  throw operandError("array.slice", pos, "number", v);
}

function slice(args: Value[]): Value {
  const arr = expectArray("array.slice", 1, args[0]);
  let start = indexOperand(2, args[1]);
  let stop = indexOperand(3, args[2]);
  if (start < 0) start = 0;
  if (stop > arr.length) stop = arr.length;
  if (start >= stop) return [];
  if (start === 0 && stop === arr.length) return arr;
  return arr.slice(start, stop);
}

function reverse(args: Value[]): Value {
  const a = expectArray("array.reverse", 1, args[0]);
  const out = new Array<Value>(a.length);
  for (let i = 0, j = a.length - 1; j >= 0; i++, j--) out[i] = a[j];
  return out;
}

/** One level of nesting removed: [1, [2, [3]]] → [1, 2, [3]]. */
function flatten(args: Value[]): Value {
  const a = expectArray("array.flatten", 1, args[0]);
  const out: Value[] = [];
  for (const x of a) {
    if (Array.isArray(x)) for (const y of x) out.push(y);
    else out.push(x);
  }
  return out;
}

export const builtins: Builtin[] = [
  { name: "array.flatten", decl: T.fn([anyArray], anyArray), impl: flatten },
  { name: "array.concat", decl: T.fn([anyArray, anyArray], anyArray), impl: concat },
  { name: "array.slice", decl: T.fn([anyArray, T.number, T.number], anyArray), impl: slice },
  { name: "array.reverse", decl: T.fn([anyArray], anyArray), impl: reverse },
];
