// Semantic versions for Kubernetes' CEL semver library (semver("1.2.3"), isSemver): strict
// major.minor.patch with optional pre-release and build parts, as blang/semver parses them.

export interface Semver {
  major: bigint;
  minor: bigint;
  patch: bigint;
  pre: string;
}

const re = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$/;

const MAX = 18446744073709551615n;

/** A version, or the error text. */
export function parseSemver(s: string): Semver | string {
  const m = re.exec(s);
  if (!m) return `could not parse semver string ${JSON.stringify(s)}: invalid semantic version`;
  const [major, minor, patch] = [m[1], m[2], m[3]].map(BigInt);
  if (major > MAX || minor > MAX || patch > MAX) return `could not parse semver string ${JSON.stringify(s)}: value out of range`;
  const pre = m[4] ?? "";
  for (const p of pre ? pre.split(".") : []) if (/^\d+$/.test(p) && p.length > 1 && p.startsWith("0")) return `could not parse semver string ${JSON.stringify(s)}: leading zeroes in pre-release part`;
  return { major, minor, patch, pre };
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
