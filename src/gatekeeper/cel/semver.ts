// Semantic versions for Kubernetes' CEL semver library (semver("1.2.3"), isSemver, and the
// normalizing semver(s, true)): major.minor.patch with optional pre-release and build parts, as
// blang/semver parses them, with its error texts.

export interface Semver {
  major: bigint;
  minor: bigint;
  patch: bigint;
  pre: string;
}

const MAX = 18446744073709551615n;

/** A version as blang/semver parses it (Kubernetes' library), or blang's error text. */
export function parseSemver(s: string): Semver | string {
  if (s === "") return "Version string empty";
  const parts = s.split(".");
  if (parts.length < 3) return "No Major.Minor.Patch elements found";
  const [majorS, minorS] = parts;
  let rest = parts.slice(2).join(".");
  const num = (x: string, what: string): bigint | string => {
    if (!/^[0-9]+$/.test(x)) return `Invalid character(s) found in ${what} number ${JSON.stringify(x)}`;
    if (x.length > 1 && x[0] === "0") return `${what[0].toUpperCase()}${what.slice(1)} number must not contain leading zeroes ${JSON.stringify(x)}`;
    const v = BigInt(x);
    return v > MAX ? `${what[0].toUpperCase()}${what.slice(1)} number out of range ${JSON.stringify(x)}` : v;
  };
  const major = num(majorS, "major");
  if (typeof major === "string") return major;
  const minor = num(minorS, "minor");
  if (typeof minor === "string") return minor;
  let build = "";
  const plus = rest.indexOf("+");
  if (plus >= 0) {
    build = rest.slice(plus + 1);
    rest = rest.slice(0, plus);
    if (build === "") return `Build meta data can not be empty ${JSON.stringify(build)}`;
    for (const b of build.split(".")) if (!/^[0-9A-Za-z-]+$/.test(b)) return `Invalid character(s) found in build meta data ${JSON.stringify(b)}`;
  }
  let pre = "";
  const dash = rest.indexOf("-");
  if (dash >= 0) {
    pre = rest.slice(dash + 1);
    rest = rest.slice(0, dash);
    for (const p of pre.split(".")) {
      if (p === "") return `Prerelease meta data can not be empty ${JSON.stringify(p)}`;
      if (!/^[0-9A-Za-z-]+$/.test(p)) return `Invalid character(s) found in prerelease ${JSON.stringify(p)}`;
      if (/^[0-9]+$/.test(p) && p.length > 1 && p[0] === "0") return `Numeric PreRelease version must not contain leading zeroes ${JSON.stringify(p)}`;
    }
  }
  const patch = num(rest, "patch");
  if (typeof patch === "string") return patch;
  return { major, minor, patch, pre };
}

/** Kubernetes' normalizing parse (semver(s, true)): a leading v, leading zeros, missing minor and patch. */
export function parseSemverNormalized(input: string): Semver | string {
  const s = input.startsWith("v") ? input.slice(1) : input;
  const idx = [s.indexOf("."), -1];
  const parts = idx[0] < 0 ? [s] : (() => {
    const second = s.indexOf(".", idx[0] + 1);
    return second < 0 ? [s.slice(0, idx[0]), s.slice(idx[0] + 1)] : [s.slice(0, idx[0]), s.slice(idx[0] + 1, second), s.slice(second + 1)];
  })();
  for (let i = 0; i < parts.length; i++) {
    let p = parts[i];
    if (p.length > 1) {
      p = p.replace(/^0+/, "");
      if (p.length === 0 || !/[0-9]/.test(p[0])) p = `0${p}`;
      parts[i] = p;
    }
  }
  if (parts.length < 3) {
    if (/[+-]/.test(parts[parts.length - 1])) return "short version cannot contain PreRelease/Build meta data";
    while (parts.length < 3) parts.push("0");
  }
  return parseSemver(parts.join("."));
}

export function compareSemver(a: Semver, b: Semver): number {
  for (const k of ["major", "minor", "patch"] as const) if (a[k] !== b[k]) return a[k] < b[k] ? -1 : 1;
  if (a.pre === b.pre) return 0;
  if (!a.pre) return 1;
  if (!b.pre) return -1;
  const pa = a.pre.split(".");
  const pb = b.pre.split(".");
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const x = pa[i];
    const y = pb[i];
    if (x === y) continue;
    const nx = /^\d+$/.test(x);
    const ny = /^\d+$/.test(y);
    if (nx && ny) return BigInt(x) < BigInt(y) ? -1 : 1;
    if (nx) return -1;
    if (ny) return 1;
    return x < y ? -1 : 1;
  }
  return pa.length === pb.length ? 0 : pa.length < pb.length ? -1 : 1;
}
