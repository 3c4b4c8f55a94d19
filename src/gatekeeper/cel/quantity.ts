// Kubernetes resource quantities ("500m", "1.5Gi", "2e3") as exact rationals, for the CEL
// quantity library. Parsing follows k8s.io/apimachinery's ParseQuantity (its error texts); the
// value is kept exactly (numerator/denominator), so comparisons and sums have no rounding.

export interface Q {
  num: bigint;
  den: bigint; // > 0, gcd(num, den) = 1
}

const FORMAT_WRONG = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
const SUFFIX = "unable to parse quantity's suffix";
/** Largest decimal exponent accepted (|e|), so that a value never needs an unbounded bigint. */
export const MAX_EXPONENT = 1000;
/** Longest quantity text accepted. */
export const MAX_QUANTITY_LENGTH = 1024;

const BINARY: Record<string, number> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };
const DECIMAL: Record<string, number> = { n: -9, u: -6, m: -3, "": 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };

function gcd(a: bigint, b: bigint): bigint {
  if (a < 0n) a = -a;
  while (b) [a, b] = [b, a % b];
  return a;
}

function norm(num: bigint, den: bigint): Q {
  if (den < 0n) {
    num = -num;
    den = -den;
  }
  const g = gcd(num, den) || 1n;
  return { num: num / g, den: den / g };
}

/**
 * A quantity, or the error text. Scanned as apimachinery scans it: a sign, digits, an optional
 * fraction (`1.` and `.5` pass, an empty number is 0: `Mi` is 0), a suffix of the letters
 * eEinumkKMGTP with an optional signed exponent; then the value is rounded away from zero to a
 * multiple of 1n, as Kubernetes rounds.
 */
export function parseQuantity(s: string): Q | string {
  if (s.length === 0 || s.length > MAX_QUANTITY_LENGTH) return FORMAT_WRONG;
  let pos = 0;
  let negative = false;
  if (s[0] === "-" || s[0] === "+") {
    negative = s[0] === "-";
    pos++;
  }
  const digits = () => {
    const start = pos;
    while (pos < s.length && s[pos] >= "0" && s[pos] <= "9") pos++;
    return s.slice(start, pos);
  };
  const num = digits() || "0";
  let frac = "";
  if (s[pos] === ".") {
    pos++;
    frac = digits();
  }
  const sufStart = pos;
  while (pos < s.length && "eEinumkKMGTP".includes(s[pos])) pos++;
  if (s[pos] === "-" || s[pos] === "+") pos++;
  digits();
  if (pos < s.length) return FORMAT_WRONG;
  const suffix = s.slice(sufStart);
  const sign = negative ? -1n : 1n;
  let n = BigInt(num + frac) * sign;
  let den = 10n ** BigInt(frac.length);
  if (suffix in BINARY) n *= 1n << BigInt(BINARY[suffix]);
  else if (suffix in DECIMAL) {
    const e = DECIMAL[suffix];
    if (e >= 0) n *= 10n ** BigInt(e);
    else den *= 10n ** BigInt(-e);
  } else {
    const em = /^[eE]([-+]?\d+)$/.exec(suffix);
    if (!em) return SUFFIX;
    const e = Number(em[1]);
    if (!Number.isSafeInteger(e) || Math.abs(e) > MAX_EXPONENT) return SUFFIX;
    if (e >= 0) n *= 10n ** BigInt(e);
    else den *= 10n ** BigInt(-e);
  }
  // Round away from zero to nanos.
  const NANO = 1_000_000_000n;
  const scaled = n * NANO;
  if (scaled % den !== 0n) {
    const q = scaled / den + (scaled < 0n ? -1n : 1n);
    return norm(q, NANO);
  }
  return norm(n, den);
}

export function compareQ(a: Q, b: Q): number {
  const l = a.num * b.den;
  const r = b.num * a.den;
  return l < r ? -1 : l > r ? 1 : 0;
}

export function addQ(a: Q, b: Q): Q {
  return norm(a.num * b.den + b.num * a.den, a.den * b.den);
}

export function subQ(a: Q, b: Q): Q {
  return norm(a.num * b.den - b.num * a.den, a.den * b.den);
}

export function qFromBigInt(n: bigint): Q {
  return { num: n, den: 1n };
}

export function qIsInteger(q: Q): boolean {
  return q.den === 1n && q.num >= -(2n ** 63n) && q.num < 2n ** 63n;
}

/** The value as an int64, or null when it is not an integer or does not fit. */
export function qToBigInt(q: Q): bigint | null {
  return qIsInteger(q) ? q.num : null;
}

export function qToFloat(q: Q): number {
  return Number(q.num) / Number(q.den);
}

/** A canonical text of the exact value (equal values, equal texts). */
export function qToString(q: Q): string {
  return q.den === 1n ? `${q.num}` : `${q.num}/${q.den}`;
}
