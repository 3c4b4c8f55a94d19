// Bitwise operations on integers of any size: bits.and/or/xor/negate/lsh/rsh.
// Negative numbers behave as infinite two's complement, as Go's big.Int does (and bigint does).

import { fromBigInt, type Value } from "../rego/value.ts";
import { BuiltinError, BuiltinTypeError, T, type Builtin } from "./registry.ts";
import { bigIntOperand } from "./arithmetic.ts";

const nn = T.fn([T.number, T.number], T.number);

/** Both operands fit in int32: JS bit operators are exact. */
function small(a: number | bigint, b: number | bigint): boolean {
  return typeof a === "number" && typeof b === "number" && (a | 0) === a && (b | 0) === b;
}

function big(v: number | bigint): bigint {
  return typeof v === "bigint" ? v : BigInt(v);
}

function binary(name: string, op32: (a: number, b: number) => number, opBig: (a: bigint, b: bigint) => bigint) {
  return (args: Value[]): Value => {
    const a = bigIntOperand(name, 1, args[0]);
    const b = bigIntOperand(name, 2, args[1]);
    if (small(a, b)) return op32(a as number, b as number);
    return fromBigInt(opBig(big(a), big(b)));
  };
}

// The largest shift of bits.lsh/rsh: 2^22 bits. A result of that size is ~1.26 million decimal
// digits, which V8 prints in ~0.2–0.5 s; the fuzzer's bits.lsh(19, 14777299) (4.4 million digits)
// took 2–3 s of CPU here and in OPA 1.19, which has no limit (docs/LIMITS.md).
export const MAX_SHIFT = 1 << 22;

function shiftAmount(name: string, v: Value): number {
  const s = bigIntOperand(name, 2, v);
  if (s < 0) throw new BuiltinTypeError(`${name}: operand 2 must be an unsigned integer number but got a negative integer`);
  if (typeof s === "bigint" || s > MAX_SHIFT) throw new BuiltinError(`${name}: shift amount too large`);
  return s;
}

function lsh(args: Value[]): Value {
  const a = bigIntOperand("bits.lsh", 1, args[0]);
  const s = shiftAmount("bits.lsh", args[1]);
  if (typeof a === "number" && s < 31 && (a | 0) === a) {
    const r = a * 2 ** s;
    if (Number.isSafeInteger(r)) return r;
  }
  return fromBigInt(big(a) << BigInt(s));
}

function rsh(args: Value[]): Value {
  const a = bigIntOperand("bits.rsh", 1, args[0]);
  const s = shiftAmount("bits.rsh", args[1]);
  if (typeof a === "number" && (a | 0) === a) return s > 31 ? (a < 0 ? -1 : 0) : a >> s;
  return fromBigInt(big(a) >> BigInt(s));
}

function negate(args: Value[]): Value {
  const a = bigIntOperand("bits.negate", 1, args[0]);
  if (typeof a === "number" && (a | 0) === a) return ~a;
  return fromBigInt(~big(a));
}

export const builtins: Builtin[] = [
  { name: "bits.and", decl: nn, impl: binary("bits.and", (a, b) => a & b, (a, b) => a & b) },
  { name: "bits.or", decl: nn, impl: binary("bits.or", (a, b) => a | b, (a, b) => a | b) },
  { name: "bits.xor", decl: nn, impl: binary("bits.xor", (a, b) => a ^ b, (a, b) => a ^ b) },
  { name: "bits.negate", decl: T.fn([T.number], T.number), impl: negate },
  { name: "bits.lsh", decl: nn, impl: lsh },
  { name: "bits.rsh", decl: nn, impl: rsh },
];
