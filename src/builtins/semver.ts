// semver.is_valid and semver.compare with the version grammar OPA 1.19 accepts: an optional
// leading "v", MAJOR.MINOR.PATCH as int64 decimals (leading zeros allowed), an optional
// "-prerelease" and "+metadata" of dot-separated [0-9A-Za-z-] identifiers (either may be empty).
// Build metadata does not take part in comparisons.

import type { Builtin } from "./registry.ts";
import { BuiltinError, T, operandError } from "./registry.ts";
import { goQuote } from "../gotext/fmt.ts";

interface Version {
  major: bigint;
  minor: bigint;
  patch: bigint;
  pre: string;
}

const IDENTS = /^[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*$/;
const INT64_MAX = (1n << 63n) - 1n;

function cut(s: string, sep: string): [string, string] {
  const i = s.indexOf(sep);
  return i < 0 ? [s, ""] : [s.slice(0, i), s.slice(i + 1)];
}

function int64(s: string): bigint | undefined {
  if (!/^[+-]?\d+$/.test(s)) return undefined;
  const v = BigInt(s);
  return v > INT64_MAX || v < -INT64_MAX - 1n ? undefined : v;
}

export function parseSemver(text: string): Version | undefined {
  let s = text.startsWith("v") ? text.slice(1) : text;
  let meta: string;
  [s, meta] = cut(s, "+");
  if (meta !== "" && !IDENTS.test(meta)) return undefined;
  let pre: string;
  [s, pre] = cut(s, "-");
  if (pre !== "" && !IDENTS.test(pre)) return undefined;
  const parts = s.split(".");
  if (parts.length !== 3) return undefined;
  const [major, minor, patch] = parts.map(int64);
  if (major === undefined || minor === undefined || patch === undefined) return undefined;
  return { major, minor, patch, pre };
}

const isNumeric = (s: string) => /^\d+$/.test(s);

/** A numeric identifier's value as Go's Atoi gives it: clamped to int64. */
function atoiClamped(s: string): bigint {
  const v = BigInt(s);
  return v > INT64_MAX ? INT64_MAX : v;
}

function cmp<T>(a: T, b: T): number {
  return a > b ? 1 : a < b ? -1 : 0;
}

export function compareSemver(v: Version, w: Version): number {
  const c = cmp(v.major, w.major) || cmp(v.minor, w.minor) || cmp(v.patch, w.patch);
  if (c !== 0) return c;
  if (v.pre === w.pre) return 0;
  if (v.pre === "") return 1;
  if (w.pre === "") return -1;
  const as = v.pre.split(".");
  const bs = w.pre.split(".");
  for (let i = 0; i < Math.max(as.length, bs.length); i++) {
    if (i >= as.length) return -1;
    if (i >= bs.length) return 1;
    const a = as[i];
    const b = bs[i];
    const an = isNumeric(a);
    const bn = isNumeric(b);
    if (an !== bn) return an ? -1 : 1;
    const r = an ? cmp(atoiClamped(a), atoiClamped(b)) : cmp(a, b);
    if (r !== 0) return r;
  }
  // Only reachable when numeric identifiers beyond int64 compare equal (OPA loops forever).
  return 0;
}

export const builtins: Builtin[] = [
  {
    name: "semver.is_valid",
    decl: T.fn([T.any], T.boolean),
    impl: ([x]) => typeof x === "string" && parseSemver(x) !== undefined,
  },
  {
    name: "semver.compare",
    decl: T.fn([T.string, T.string], T.number),
    impl: ([a, b]) => {
      if (typeof a !== "string") throw operandError("semver.compare", 1, "string", a);
      if (typeof b !== "string") throw operandError("semver.compare", 2, "string", b);
      const va = parseSemver(a);
      if (va === undefined) throw new BuiltinError(`semver.compare: operand 1: string ${goQuote(a)} is not a valid SemVer`);
      const vb = parseSemver(b);
      if (vb === undefined) throw new BuiltinError(`semver.compare: operand 2: string ${goQuote(b)} is not a valid SemVer`);
      return compareSemver(va, vb);
    },
  },
];
