// Go's filepath.Match patterns, for `--ignore` flags (opa test, opa build) and bundle
// verification's `exclude_files`.

/**
 * Go's filepath.Match as a RegExp over one path element: `*` any run of characters but `/`, `?`
 * one such character, `[…]`/`[^…]` classes with ranges, `\` escaping. null for a malformed
 * pattern (Go's ErrBadPattern: it then matches nothing).
 */
export function goMatchRegExp(pattern: string): RegExp | null {
  let re = "^";
  const esc = (c: string) => c.replace(/[\\^$.*+?()[\]{}|/]/g, "\\$&");
  const escClass = (c: string) => c.replace(/[\\^$.*+?()[\]{}|/-]/g, "\\$&");
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === "*") re += "[^/]*";
    else if (c === "?") re += "[^/]";
    else if (c === "\\") {
      if (i + 1 >= pattern.length) return null;
      re += esc(pattern[++i]);
    } else if (c === "[") {
      let j = i + 1;
      let cls = "[";
      if (pattern[j] === "^") {
        cls += "^";
        j++;
      }
      let n = 0;
      for (;;) {
        if (j >= pattern.length) return null;
        if (pattern[j] === "]" && n > 0) break;
        let lo = pattern[j];
        if (lo === "\\") {
          if (++j >= pattern.length) return null;
          lo = pattern[j];
        } else if (lo === "]" || lo === "-") return null;
        j++;
        let range = escClass(lo);
        if (pattern[j] === "-") {
          j++;
          if (j >= pattern.length) return null;
          let hi = pattern[j];
          if (hi === "\\") {
            if (++j >= pattern.length) return null;
            hi = pattern[j];
          } else if (hi === "]" || hi === "-") return null;
          if (hi < lo) return null;
          j++;
          range += "-" + escClass(hi);
        }
        cls += range;
        n++;
      }
      // A negated class never matches the separator either.
      re += cls.startsWith("[^") ? cls + "/]" : cls + "]";
      i = j;
    } else re += esc(c);
  }
  try {
    return new RegExp(re + "$", "su");
  } catch {
    return null;
  }
}

/**
 * opa test's --ignore: a file or directory below a given path whose name matches one of the
 * patterns (Go's filepath.Match; commas separate patterns) is not loaded. The paths given on the
 * command line themselves are always loaded, as in opa.
 */
export function ignoreFilter(patterns: string[]): ((path: string) => boolean) | undefined {
  const res = patterns
    .flatMap((p) => p.split(","))
    .filter((p) => p !== "")
    .map(goMatchRegExp)
    .filter((r): r is RegExp => r !== null);
  if (res.length === 0) return undefined;
  return (path: string) => {
    const name = path.replace(/\/+$/, "").split("/").pop() ?? path;
    return res.some((r) => r.test(name));
  };
}
