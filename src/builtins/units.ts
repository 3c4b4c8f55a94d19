// units.parse and units.parse_bytes: amounts with SI (k, M, G…) and binary (Ki, Mi, Gi…)
// suffixes. units.parse computes exactly (rationals) and gives at most 10 decimal places, with
// the milli factor being the double nearest 0.001 as in OPA; units.parse_bytes computes with
// 64-bit-mantissa binary floats and truncates to an integer, as OPA's big.Float code does.

import type { Builtin } from "./registry.ts";
import { BuiltinError, T, operandError } from "./registry.ts";
import type { Value } from "../rego/value.ts";
import { fromBigInt, numberFromText } from "../rego/value.ts";

const MAX_EXPONENT_DIGITS = 6;

class UnitsError extends Error {}

/** Lowercase code point by code point (simple case mapping, no context). */
function lower(s: string): string {
  let out = "";
  for (const c of s) {
    if (c === "\u0130") out += "i";
    else {
      const l = c.toLowerCase();
      out += [...l].length === 1 ? l : c;
    }
  }
  return out;
}

function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= "0" && c <= "9";
}

/**
 * Split "12.5e3Ki" into amount and unit: the amount runs over digits, '.', signs and an 'e'
 * that starts an exponent; the unit is the rest. Throws on an exponent of more than 6 digits.
 */
function splitAmount(s: string): [string, string] {
  let cut = -1;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    const numeric = isDigit(c) || c === ".";
    if (!numeric && c !== "e" && c !== "E" && c !== "+" && c !== "-") {
      cut = i;
      break;
    }
    if (c === "e" || c === "E") {
      const n = s[i + 1];
      if (i === s.length - 1 || (!isDigit(n) && n !== "+" && n !== "-")) {
        cut = i;
        break;
      }
      if (n === "+" || n === "-") i++;
      let j = i + 1;
      while (j < s.length && isDigit(s[j])) j++;
      if (j - (i + 1) > MAX_EXPONENT_DIGITS) throw new UnitsError("exponent too large");
    }
  }
  if (cut === -1) return [s, ""];
  return [s.slice(0, cut), s.slice(cut)];
}

/** An exact rational n/d (d > 0) from decimal text, or undefined when it is not a number. */
function parseRational(text: string): [bigint, bigint] | undefined {
  const m = /^([+-]?)(\d+\.?\d*|\.\d+)(?:[eE]([+-]?\d+))?$/.exec(text);
  if (m === null) return undefined;
  const [, sign, mant, expText] = m;
  const dot = mant.indexOf(".");
  const digits = dot < 0 ? mant : mant.slice(0, dot) + mant.slice(dot + 1);
  const frac = dot < 0 ? 0 : mant.length - dot - 1;
  const exp = (expText === undefined ? 0 : Number(expText)) - frac;
  let n = BigInt(digits);
  let d = 1n;
  if (exp >= 0) n *= 10n ** BigInt(exp);
  else d = 10n ** BigInt(-exp);
  if (sign === "-") n = -n;
  return [n, d];
}

function bitLength(x: bigint): number {
  return x === 0n ? 0 : x.toString(2).length;
}

/** The exact value of a double as a rational. */
function doubleRational(x: number): [bigint, bigint] {
  let e = 0;
  let m = x;
  while (!Number.isInteger(m)) {
    m *= 2;
    e++;
  }
  return [BigInt(m), 1n << BigInt(e)];
}

/** Round a non-negative rational to a 64-bit binary mantissa (to nearest, ties to even). */
function roundFloat64Bits(n: bigint, d: bigint): { mant: bigint; exp: number } {
  if (n === 0n) return { mant: 0n, exp: 0 };
  // Choose s so that q = floor(n * 2^s / d) has exactly 64 bits.
  let s = 64 - (bitLength(n) - bitLength(d));
  const scaled = (k: number) => (k >= 0 ? [n << BigInt(k), d] : [n, d << BigInt(-k)]);
  let [a, b] = scaled(s);
  let q = a / b;
  while (bitLength(q) > 64) {
    s--;
    [a, b] = scaled(s);
    q = a / b;
  }
  while (bitLength(q) < 64) {
    s++;
    [a, b] = scaled(s);
    q = a / b;
  }
  const r2 = (a - q * b) * 2n;
  if (r2 > b || (r2 === b && (q & 1n) === 1n)) q += 1n;
  return { mant: q, exp: -s };
}

const SI_PARSE: Record<string, bigint> = {
  "": 1n,
  k: 1000n,
  K: 1000n,
  ki: 1n << 10n,
  Ki: 1n << 10n,
  M: 1000n ** 2n,
  mi: 1n << 20n,
  Mi: 1n << 20n,
  g: 1000n ** 3n,
  G: 1000n ** 3n,
  gi: 1n << 30n,
  Gi: 1n << 30n,
  t: 1000n ** 4n,
  T: 1000n ** 4n,
  ti: 1n << 40n,
  Ti: 1n << 40n,
  p: 1000n ** 5n,
  P: 1000n ** 5n,
  pi: 1n << 50n,
  Pi: 1n << 50n,
  e: 1000n ** 6n,
  E: 1000n ** 6n,
  ei: 1n << 60n,
  Ei: 1n << 60n,
};

const BYTE_UNITS: Record<string, bigint> = {
  "": 1n,
  kb: 1000n,
  k: 1000n,
  kib: 1n << 10n,
  ki: 1n << 10n,
  mb: 1000n ** 2n,
  m: 1000n ** 2n,
  mib: 1n << 20n,
  mi: 1n << 20n,
  gb: 1000n ** 3n,
  g: 1000n ** 3n,
  gib: 1n << 30n,
  gi: 1n << 30n,
  tb: 1000n ** 4n,
  t: 1000n ** 4n,
  tib: 1n << 40n,
  ti: 1n << 40n,
  pb: 1000n ** 5n,
  p: 1000n ** 5n,
  pib: 1n << 50n,
  pi: 1n << 50n,
  eb: 1000n ** 6n,
  e: 1000n ** 6n,
  eib: 1n << 60n,
  ei: 1n << 60n,
};

/**
 * OPA lowercases all but the first byte of the unit; when the first character is not ASCII
 * its bytes split, and each stray byte becomes U+FFFD.
 */
function normaliseUnit(unit: string): string {
  if (Buffer.byteLength(unit, "utf8") <= 1) return unit;
  const first = unit.codePointAt(0)!;
  if (first < 0x80) return unit[0] + lower(unit.slice(1));
  const firstChar = String.fromCodePoint(first);
  const nbytes = Buffer.byteLength(firstChar, "utf8");
  return "\ufffd".repeat(nbytes) + lower(unit.slice(firstChar.length));
}

function unitsParse(raw: string): Value {
  const s = raw.replaceAll('"', "");
  if (s.includes(" ")) throw new UnitsError("spaces not allowed in resource strings");
  const [num, rawUnit] = splitAmount(s);
  if (num === "") throw new UnitsError("no amount provided");
  const unit = normaliseUnit(rawUnit);
  let factor: [bigint, bigint];
  if (unit === "m") factor = doubleRational(0.001);
  else if (Object.hasOwn(SI_PARSE, unit)) factor = [SI_PARSE[unit], 1n];
  else throw new UnitsError(`unit ${unit} not recognized`);
  const r = parseRational(num);
  if (r === undefined) throw new UnitsError("could not parse amount to a number");
  const n = r[0] * factor[0];
  const d = r[1] * factor[1];
  if (n % d === 0n) return fromBigInt(n / d);
  // Ten decimal places, the last rounded half away from zero.
  const neg = n < 0n;
  const an = neg ? -n : n;
  const scaled = (an * 10n ** 10n * 2n + d) / (2n * d);
  const ip = scaled / 10n ** 10n;
  const fp = (scaled % 10n ** 10n).toString().padStart(10, "0");
  return numberFromText(`${neg ? "-" : ""}${ip}.${fp}`)!;
}

function parseBytes(raw: string): Value {
  const s = lower(raw).replaceAll('"', "");
  if (s.includes(" ")) throw new UnitsError("spaces not allowed in resource strings");
  const [num, unit] = splitAmount(s);
  if (num === "") throw new UnitsError("no byte amount provided");
  if (!Object.hasOwn(BYTE_UNITS, unit)) throw new UnitsError(`byte unit ${unit} not recognized`);
  const r = parseRational(num);
  if (r === undefined) throw new UnitsError("could not parse byte amount to a number");
  const neg = r[0] < 0n;
  const a = roundFloat64Bits(neg ? -r[0] : r[0], r[1]);
  const p = a.exp >= 0 ? roundFloat64Bits(a.mant * BYTE_UNITS[unit] << BigInt(a.exp), 1n) : roundFloat64Bits(a.mant * BYTE_UNITS[unit], 1n << BigInt(-a.exp));
  const int = p.exp >= 0 ? p.mant << BigInt(p.exp) : p.mant >> BigInt(-p.exp);
  return fromBigInt(neg ? -int : int);
}

function wrap(name: string, f: (s: string) => Value): (args: Value[]) => Value {
  return ([x]) => {
    if (typeof x !== "string") throw operandError(name, 1, "string", x);
    try {
      return f(x);
    } catch (e) {
      // OPA's messages carry the builtin's name twice.
      if (e instanceof UnitsError) throw new BuiltinError(`${name}: ${name}: ${e.message}`);
      throw e;
    }
  };
}

export const builtins: Builtin[] = [
  { name: "units.parse", decl: T.fn([T.string], T.number), impl: wrap("units.parse", unitsParse) },
  { name: "units.parse_bytes", decl: T.fn([T.string], T.number), impl: wrap("units.parse_bytes", parseBytes) },
];
