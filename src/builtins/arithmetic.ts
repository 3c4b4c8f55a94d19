// Arithmetic: plus, minus (numbers and set difference), mul, div, rem, abs, round, ceil, floor,
// numbers.range, numbers.range_step, rand.intn.
//
// Integers are exact at any size (JS numbers while safe, bigint beyond). Other numbers follow
// OPA's 64-bit-mantissa big.Float arithmetic (see bigfloat.ts).

import { BigDec, RSet, fromBigInt, type Value } from "../rego/value.ts";
import { BuiltinError, BuiltinTypeError, T, operandError, type Builtin, type BuiltinContext } from "./registry.ts";
import {
  bfAbs,
  bfAdd,
  bfIsInt,
  bfTrunc,
  bfFromValue,
  bfMul,
  bfQuo,
  bfRound,
  bfSub,
  bfToValue,
} from "./bigfloat.ts";

export type Num = number | bigint | BigDec;

export function isNum(v: Value): v is Num {
  return typeof v === "number" || typeof v === "bigint" || v instanceof BigDec;
}

export function num(name: string, pos: number, v: Value): Num {
  if (typeof v === "number" || typeof v === "bigint" || v instanceof BigDec) return v;
  throw operandError(name, pos, "number", v);
}

/** Integer-valued (number or bigint). */
function isIntNum(v: Num): v is number | bigint {
  return typeof v === "bigint" || (typeof v === "number" && Number.isInteger(v));
}

function toBig(v: number | bigint): bigint {
  return typeof v === "bigint" ? v : BigInt(v);
}

// ---- Core operations (exported for aggregates) -----------------------------------------------

export function add(a: Num, b: Num): Num {
  if (typeof a === "number" && typeof b === "number" && Number.isInteger(a) && Number.isInteger(b)) {
    const r = a + b;
    if (Number.isSafeInteger(r)) return r + 0;
    return fromBigInt(BigInt(a) + BigInt(b));
  }
  if (isIntNum(a) && isIntNum(b)) return fromBigInt(toBig(a) + toBig(b));
  return bfToValue(bfAdd(bfFromValue(a), bfFromValue(b)));
}

export function sub(a: Num, b: Num): Num {
  if (typeof a === "number" && typeof b === "number" && Number.isInteger(a) && Number.isInteger(b)) {
    const r = a - b;
    if (Number.isSafeInteger(r)) return r + 0;
    return fromBigInt(BigInt(a) - BigInt(b));
  }
  if (isIntNum(a) && isIntNum(b)) return fromBigInt(toBig(a) - toBig(b));
  return bfToValue(bfSub(bfFromValue(a), bfFromValue(b)));
}

export function mul(a: Num, b: Num): Num {
  if (typeof a === "number" && typeof b === "number" && Number.isInteger(a) && Number.isInteger(b)) {
    const r = a * b;
    if (Number.isSafeInteger(r)) return r + 0;
    return fromBigInt(BigInt(a) * BigInt(b));
  }
  if (isIntNum(a) && isIntNum(b)) return fromBigInt(toBig(a) * toBig(b));
  return bfToValue(bfMul(bfFromValue(a), bfFromValue(b)));
}

function isZero(v: Num): boolean {
  if (typeof v === "number") return v === 0;
  if (typeof v === "bigint") return v === 0n;
  return v.d.isZero();
}

// ---- Builtins ----------------------------------------------------------------------------------

const nn = T.fn([T.number, T.number], T.number);
const n1 = T.fn([T.number], T.number);
const numOrSet = T.anyOf(T.number, T.setOf(T.any));

function plus(args: Value[]): Value {
  return add(num("plus", 1, args[0]), num("plus", 2, args[1]));
}

function minus(args: Value[]): Value {
  const a = args[0];
  const b = args[1];
  if (isNum(a)) return sub(a, num("minus", 2, b));
  if (a instanceof RSet) {
    if (!(b instanceof RSet)) throw operandError("minus", 2, "set", b);
    return setDiff(a, b);
  }
  throw operandError("minus", 1, "one of {number, set}", a);
}

export function setDiff(a: RSet, b: RSet): RSet {
  const out = new RSet();
  for (const [k, v] of a.map) if (!b.map.has(k)) out.map.set(k, v);
  return out;
}

function multiply(args: Value[]): Value {
  return mul(num("mul", 1, args[0]), num("mul", 2, args[1]));
}

function divide(args: Value[]): Value {
  const a = num("div", 1, args[0]);
  const b = num("div", 2, args[1]);
  if (isZero(b)) throw new BuiltinError("div: divide by zero");
  if (typeof a === "number" && typeof b === "number" && Number.isInteger(a) && Number.isInteger(b) && a % b === 0) {
    return a / b + 0;
  }
  return bfToValue(bfQuo(bfFromValue(a), bfFromValue(b)));
}

function remainder(args: Value[]): Value {
  const a = num("rem", 1, integral(args[0]));
  const b = num("rem", 2, integral(args[1]));
  if (!isIntNum(a) || !isIntNum(b)) throw new BuiltinError("rem: modulo on floating-point number");
  if (typeof a === "number" && typeof b === "number") {
    if (b === 0) throw new BuiltinError("rem: modulo by zero");
    return (a % b) + 0;
  }
  const bb = toBig(b);
  if (bb === 0n) throw new BuiltinError("rem: modulo by zero");
  return fromBigInt(toBig(a) % bb);
}

function abs(args: Value[]): Value {
  const a = num("abs", 1, args[0]);
  if (typeof a === "number") return Math.abs(a);
  return bfToValue(bfAbs(bfFromValue(a)));
}

function roundB(args: Value[]): Value {
  const a = num("round", 1, args[0]);
  if (typeof a === "number") {
    if (Number.isInteger(a)) return a;
    const r = a < 0 ? -Math.round(-a) : Math.round(a);
    return r + 0;
  }
  return fromBigInt(bfRound(bfFromValue(a)));
}

// OPA truncates toward zero and then steps away from zero only when that integer part is
// itself negative (floor) or non-negative (ceil): so floor(-0.5) is 0 and ceil(-0.5) is 1.
function ceil(args: Value[]): Value {
  const a = num("ceil", 1, args[0]);
  if (typeof a === "number") {
    if (Number.isInteger(a)) return a;
    const t = Math.trunc(a) + 0;
    return t >= 0 ? t + 1 : t;
  }
  const f = bfFromValue(a);
  if (bfIsInt(f)) return fromBigInt(bfTrunc(f));
  const t = bfTrunc(f);
  return fromBigInt(t >= 0n ? t + 1n : t);
}

function floor(args: Value[]): Value {
  const a = num("floor", 1, args[0]);
  if (typeof a === "number") {
    if (Number.isInteger(a)) return a;
    const t = Math.trunc(a) + 0;
    return t < 0 ? t - 1 : t;
  }
  const f = bfFromValue(a);
  if (bfIsInt(f)) return fromBigInt(bfTrunc(f));
  const t = bfTrunc(f);
  return fromBigInt(t < 0n ? t - 1n : t);
}

/** An integer operand: `must be integer but got T` / `must be integer number but got floating-point number`. */
/**
 * OPA's BigIntOperand/NumberToInt (numbers.range, range_step, rem, bits.*): any integral number,
 * whatever its text (`1.0`, `1e3`), where intOperand (OPA's IntOperand) takes only integer text.
 */
export function bigIntOperand(name: string, pos: number, v: Value): number | bigint {
  return intOperand(name, pos, integral(v));
}

/** An integral decimal (a number kept as text such as `1.0`, or a big one) as a plain integer. */
function integral(v: Value): Value {
  if (v instanceof BigDec && v.d.isFinite() && v.d.isInteger()) return fromBigInt(BigInt(v.d.toFixed(0)));
  return v;
}

export function intOperand(name: string, pos: number, v: Value): number | bigint {
  if (typeof v === "number") {
    if (Number.isInteger(v)) return v;
  } else if (typeof v === "bigint") {
    return v;
  } else if (!(v instanceof BigDec)) {
    throw operandError(name, pos, "integer", v);
  }
  throw new BuiltinTypeError(`${name}: operand ${pos} must be integer number but got floating-point number`);
}

/**
 * The elements of a range, within the evaluation's size limit (an array slot is 8 bytes; a
 * number outside the small-integer range is a 16-byte heap number more), observing the deadline
 * every 65,536 elements.
 */
function rangeOf(name: string, a: number | bigint, b: number | bigint, step: number | bigint, ctx: BuiltinContext): Value[] {
  if (typeof a === "number" && typeof b === "number" && typeof step === "number") {
    const len = Math.floor(Math.abs(b - a) / step) + 1;
    const small = Math.abs(a) < 2 ** 30 && Math.abs(b) < 2 ** 30;
    ctx.checkSize(name, len * (small ? 8 : 24));
    // Allocated once at its final length: growing by push would briefly hold twice as much.
    const out: Value[] = new Array(len);
    const dir = a <= b ? step : -step;
    for (let k = 0, i = a; k < len; k++, i += dir) {
      out[k] = i;
      if ((k & 0xffff) === 0xffff) ctx.checkCancel();
    }
    return out;
  }
  const out: Value[] = [];
  const x = toBig(a);
  const y = toBig(b);
  const s = toBig(step);
  const span = x <= y ? y - x : x - y;
  const len = span / s + 1n;
  ctx.checkSize(name, len > 2n ** 50n ? Infinity : Number(len) * 40);
  let n = 0;
  if (x <= y) {
    for (let i = x; i <= y; i += s) {
      out.push(fromBigInt(i));
      if ((++n & 0xffff) === 0) ctx.checkCancel();
    }
  } else {
    for (let i = x; i >= y; i -= s) {
      out.push(fromBigInt(i));
      if ((++n & 0xffff) === 0) ctx.checkCancel();
    }
  }
  return out;
}

function numbersRange(args: Value[], ctx: BuiltinContext): Value {
  const a = bigIntOperand("numbers.range", 1, args[0]);
  const b = bigIntOperand("numbers.range", 2, args[1]);
  return rangeOf("numbers.range", a, b, 1, ctx);
}

function numbersRangeStep(args: Value[], ctx: BuiltinContext): Value {
  const a = bigIntOperand("numbers.range_step", 1, args[0]);
  const b = bigIntOperand("numbers.range_step", 2, args[1]);
  const s = bigIntOperand("numbers.range_step", 3, args[2]);
  if (s <= 0) throw new BuiltinError("numbers.range_step: numbers.range_step: step must be a positive integer");
  return rangeOf("numbers.range_step", a, b, s, ctx);
}

function randomBig(n: bigint): bigint {
  // uniform in [0, n): rejection sampling over enough random bits
  const bits = n.toString(2).length;
  for (;;) {
    let r = 0n;
    for (let i = 0; i < bits; i += 30) r = (r << 30n) | BigInt(Math.floor(Math.random() * 0x40000000));
    r &= (1n << BigInt(bits)) - 1n;
    if (r < n) return r;
  }
}

function randIntn(args: Value[], ctx: BuiltinContext): Value {
  const str = args[0];
  if (typeof str !== "string") throw operandError("rand.intn", 1, "string", str);
  const nv = args[1];
  if (!isNum(nv)) throw operandError("rand.intn", 2, "number", nv);
  let n = intOperand("rand.intn", 2, nv);
  if (typeof n === "number") n = Math.abs(n);
  else n = n < 0n ? -n : n;
  const key = `rand.intn\u0000${str}\u0000${n}`;
  const cached = ctx.cache.get(key);
  if (cached !== undefined) return cached;
  let r: Value;
  if (typeof n === "number") r = n === 0 ? 0 : Math.floor(Math.random() * n);
  else r = fromBigInt(randomBig(n));
  ctx.cache.set(key, r);
  return r;
}

export const builtins: Builtin[] = [
  { name: "plus", decl: nn, impl: plus, infix: "+" },
  { name: "minus", decl: T.fn([numOrSet, numOrSet], numOrSet), impl: minus, infix: "-" },
  { name: "mul", decl: nn, impl: multiply, infix: "*" },
  { name: "div", decl: nn, impl: divide, infix: "/" },
  { name: "rem", decl: nn, impl: remainder, infix: "%" },
  { name: "abs", decl: n1, impl: abs },
  { name: "round", decl: n1, impl: roundB },
  { name: "ceil", decl: n1, impl: ceil },
  { name: "floor", decl: n1, impl: floor },
  { name: "numbers.range", decl: T.fn([T.number, T.number], T.arrayOf(T.number)), impl: numbersRange },
  {
    name: "numbers.range_step",
    decl: T.fn([T.number, T.number, T.number], T.arrayOf(T.number)),
    impl: numbersRangeStep,
  },
  { name: "rand.intn", decl: T.fn([T.string, T.number], T.number), impl: randIntn, nondeterministic: true },
];
