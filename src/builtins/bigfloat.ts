// Binary floating point with a 64-bit mantissa, rounded to nearest-even after every operation.
//
// OPA does non-integer arithmetic with Go's big.Float at its default precision (64 bits) and
// turns each result back into a number by printing the shortest decimal that reads back as the
// same 64-bit value (so 1/3 is 0.33333333333333333334 and 0.1 + 0.2 is 0.3). This module
// reproduces that: values are exact (sign, mantissa, binary exponent) triples, operations are
// exact bigint arithmetic followed by one rounding step.

import { BigDec, fromBigInt, numberFromText } from "../rego/value.ts";

export const PREC = 64;

/** value = (neg ? -1 : 1) * m * 2^e; m === 0n means zero. m has at most PREC bits. */
export interface BF {
  neg: boolean;
  m: bigint;
  e: number;
}

const ZERO: BF = { neg: false, m: 0n, e: 0 };

export function bitLength(m: bigint): number {
  if (m === 0n) return 0;
  if (m < 0x20000000000000n) return 64 - clz64small(Number(m));
  const s = m.toString(16);
  return (s.length - 1) * 4 + (32 - Math.clz32(parseInt(s[0], 16)));
}

function clz64small(n: number): number {
  // n < 2^53, > 0
  const hi = Math.floor(n / 4294967296);
  if (hi > 0) return Math.clz32(hi);
  return 32 + Math.clz32(n >>> 0);
}

/** Round an exact m * 2^e (plus a sticky bit: some nonzero value below m's last bit) to PREC bits. */
function round(neg: boolean, m: bigint, e: number, sticky: boolean): BF {
  if (m === 0n) return ZERO;
  const bl = bitLength(m);
  if (bl <= PREC) return { neg, m, e };
  const shift = bl - PREC;
  const sh = BigInt(shift);
  let q = m >> sh;
  const r = m - (q << sh);
  const half = 1n << (sh - 1n);
  if (r > half || (r === half && (sticky || (q & 1n) === 1n))) {
    q += 1n;
    if (bitLength(q) > PREC) {
      q >>= 1n;
      return { neg, m: q, e: e + shift + 1 };
    }
  }
  return { neg, m: q, e: e + shift };
}

const POW10: bigint[] = [1n];
export function pow10(n: number): bigint {
  if (n < 400) {
    while (POW10.length <= n) POW10.push(POW10[POW10.length - 1] * 10n);
    return POW10[n];
  }
  return 10n ** BigInt(n);
}

const POW5: bigint[] = [1n];
function pow5(n: number): bigint {
  if (n < 2000) {
    while (POW5.length <= n) POW5.push(POW5[POW5.length - 1] * 5n);
    return POW5[n];
  }
  return 5n ** BigInt(n);
}

/** An exact rational n / d (d > 0) rounded to PREC bits. */
function fromRatio(neg: boolean, n: bigint, d: bigint): BF {
  if (n === 0n) return ZERO;
  // choose k so that (n << k) / d has at least PREC + 2 bits
  let k = PREC + 2 + bitLength(d) - bitLength(n);
  if (k < 0) k = 0;
  const num = n << BigInt(k);
  const q = num / d;
  const r = num - q * d;
  return round(neg, q, -k, r !== 0n);
}

/** Parse decimal text (as Rego/JSON write numbers, possibly with an exponent). */
export function bfFromText(s: string): BF {
  let i = 0;
  let neg = false;
  if (s[0] === "-") {
    neg = true;
    i = 1;
  } else if (s[0] === "+") i = 1;
  let digits = "";
  let exp10 = 0;
  let seenDot = false;
  for (; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      digits += s[i];
      if (seenDot) exp10--;
    } else if (c === 46) seenDot = true;
    else break;
  }
  if (i < s.length && (s[i] === "e" || s[i] === "E")) exp10 += parseInt(s.slice(i + 1), 10);
  const m10 = digits === "" ? 0n : BigInt(digits);
  if (m10 === 0n) return ZERO;
  if (exp10 >= 0) return round(neg, m10 * pow10(exp10), 0, false);
  return fromRatio(neg, m10, pow10(-exp10));
}

export function bfFromBigInt(b: bigint): BF {
  if (b === 0n) return ZERO;
  return b < 0n ? round(true, -b, 0, false) : round(false, b, 0, false);
}

/** Non-integer doubles seen recently (policy constants repeat): their 64-bit big floats. */
const numCache = new Map<number, BF>();

/** A Rego number as a 64-bit big float (as OPA reads it from its decimal text). */
export function bfFromValue(v: number | bigint | BigDec): BF {
  if (typeof v === "number") {
    if (Number.isSafeInteger(v)) {
      if (v === 0) return ZERO;
      return v < 0 ? { neg: true, m: BigInt(-v), e: 0 } : { neg: false, m: BigInt(v), e: 0 };
    }
    let f = numCache.get(v);
    if (f === undefined) {
      f = bfFromText(String(v));
      if (numCache.size >= 4096) numCache.clear();
      numCache.set(v, f);
    }
    return f;
  }
  if (typeof v === "bigint") return bfFromBigInt(v);
  return bfFromText(v.d.toString());
}

export function bfNeg(a: BF): BF {
  return a.m === 0n ? a : { neg: !a.neg, m: a.m, e: a.e };
}

export function bfAbs(a: BF): BF {
  return a.neg ? { neg: false, m: a.m, e: a.e } : a;
}

export function bfIsZero(a: BF): boolean {
  return a.m === 0n;
}

export function bfAdd(a: BF, b: BF): BF {
  if (a.m === 0n) return b;
  if (b.m === 0n) return a;
  let ma = a.m;
  let mb = b.m;
  let e = a.e;
  if (a.e > b.e) {
    ma <<= BigInt(a.e - b.e);
    e = b.e;
  } else if (b.e > a.e) {
    mb <<= BigInt(b.e - a.e);
  }
  const sa = a.neg ? -ma : ma;
  const sb = b.neg ? -mb : mb;
  const s = sa + sb;
  if (s === 0n) return ZERO;
  return s < 0n ? round(true, -s, e, false) : round(false, s, e, false);
}

export function bfSub(a: BF, b: BF): BF {
  return bfAdd(a, bfNeg(b));
}

export function bfMul(a: BF, b: BF): BF {
  if (a.m === 0n || b.m === 0n) return ZERO;
  return round(a.neg !== b.neg, a.m * b.m, a.e + b.e, false);
}

/** a / b; b must not be zero. */
export function bfQuo(a: BF, b: BF): BF {
  if (a.m === 0n) return ZERO;
  // a/b = (ma / mb) * 2^(ea - eb)
  const r = fromRatio(a.neg !== b.neg, a.m, b.m);
  return { neg: r.neg, m: r.m, e: r.e + a.e - b.e };
}

export function bfCmp(a: BF, b: BF): number {
  const d = bfSub(a, b);
  return d.m === 0n ? 0 : d.neg ? -1 : 1;
}

export function bfIsInt(a: BF): boolean {
  if (a.m === 0n || a.e >= 0) return true;
  const sh = BigInt(-a.e);
  return (a.m >> sh) << sh === a.m;
}

/** Integer part toward zero, exactly, and whether a fraction was dropped. */
function trunc(a: BF): [bigint, boolean] {
  if (a.e >= 0) return [a.m << BigInt(a.e), false];
  const sh = BigInt(-a.e);
  const q = a.m >> sh;
  return [q, q << sh !== a.m];
}

/** Integer part toward zero. */
export function bfTrunc(a: BF): bigint {
  const [q] = trunc(a);
  return a.neg ? -q : q;
}

export function bfFloor(a: BF): bigint {
  const [q, frac] = trunc(a);
  if (!a.neg) return q;
  return frac ? -q - 1n : -q;
}

export function bfCeil(a: BF): bigint {
  const [q, frac] = trunc(a);
  if (a.neg) return -q;
  return frac ? q + 1n : q;
}

/** Round half away from zero, as OPA does it: truncate |a| + 0.5 (itself rounded to 64 bits). */
export function bfRound(a: BF): bigint {
  const [q] = trunc(bfAdd(bfAbs(a), { neg: false, m: 1n, e: -1 }));
  return a.neg ? -q : q;
}

/** Decimal digits of n * 10^p with trailing zeros trimmed: [digits, exponent of the last digit]. */
function decimalDigits(n: bigint, p: number): [string, number] {
  let s = n.toString();
  let z = s.length;
  while (z > 1 && s.charCodeAt(z - 1) === 48) z--;
  if (z < s.length) {
    p += s.length - z;
    s = s.slice(0, z);
  }
  return [s, p];
}

/**
 * The shortest decimal that identifies `a` among 64-bit values, chosen digit by digit against
 * the midpoints to the neighbouring values the way Go's big.Float does it (including its habit of
 * comparing those midpoints' digits by position). Returns the digits as a bigint (no trailing
 * zeros, sign applied) and the power of ten to scale them by.
 */
export function bfShortest(a: BF): [bigint, number] {
  if (a.m === 0n) return [0n, 0];
  // normalise the mantissa to exactly PREC bits
  let m = a.m;
  let e = a.e;
  const bl = bitLength(m);
  if (bl < PREC) {
    m <<= BigInt(PREC - bl);
    e -= PREC - bl;
  }
  // x = 2m * 2^(e-1); lower/upper = (2m -/+ 1) * 2^(e-1): as integers scaled by 10^p
  const m2 = m << 1n;
  let x: bigint, lo: bigint, hi: bigint, p: number;
  if (e - 1 >= 0) {
    const sh = BigInt(e - 1);
    x = m2 << sh;
    lo = (m2 - 1n) << sh;
    hi = (m2 + 1n) << sh;
    p = 0;
  } else {
    const k = 1 - e;
    const f = pow5(k);
    x = m2 * f;
    lo = (m2 - 1n) * f;
    hi = (m2 + 1n) * f;
    p = -k;
  }
  const inclusive = (m & 1n) === 0n;
  const [d, dExp] = decimalDigits(x, p);
  const [l] = decimalDigits(lo, p);
  const [u] = decimalDigits(hi, p);
  let digits = d;
  let last = dExp; // exponent of the last digit in `digits`
  for (let i = 0; i < d.length; i++) {
    const mc = d.charCodeAt(i);
    const lc = i < l.length ? l.charCodeAt(i) : 48;
    const uc = i < u.length ? u.charCodeAt(i) : 48;
    const okDown = lc !== mc || (inclusive && i + 1 === l.length);
    const okUp = mc !== uc && (inclusive || mc + 1 < uc || i + 1 < u.length);
    if (!okDown && !okUp) continue;
    const n = i + 1;
    let up: boolean;
    if (okDown && okUp) {
      // round to nearest at n digits, ties to even
      const next = n < d.length ? d.charCodeAt(n) : 48;
      if (next === 53 && n + 1 === d.length) up = ((d.charCodeAt(n - 1) - 48) & 1) === 1;
      else up = next >= 53;
    } else up = okUp;
    last = dExp + (d.length - n);
    let head = BigInt(d.slice(0, n));
    if (up) head += 1n;
    const [hd, hp] = decimalDigits(head, last);
    digits = hd;
    last = hp;
    break;
  }
  const res = BigInt(digits);
  return [a.neg ? -res : res, last];
}

/** The Rego number OPA produces from a 64-bit float result. */
export function bfToValue(a: BF): number | bigint | BigDec {
  if (a.m === 0n) return 0;
  // Small integers: exact and fast.
  if (a.e >= 0 && a.e < 53) {
    const bl = bitLength(a.m) + a.e;
    if (bl <= 53) {
      const n = Number(a.m) * 2 ** a.e;
      return a.neg ? -n : n;
    }
  }
  const [d, p] = bfShortest(a);
  if (p >= 0) return fromBigInt(p === 0 ? d : d * pow10(p));
  const s = d.toString();
  const nd = d < 0n ? s.length - 1 : s.length;
  if (nd <= 15) return Number(s + "e" + p) + 0;
  return numberFromText(s + "e" + p)!;
}

/** The exact integer value of a 64-bit float that is an integer (floor/ceil/round results). */
export function bigToValue(b: bigint): number | bigint {
  return fromBigInt(b);
}
