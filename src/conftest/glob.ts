// Namespace globs as conftest matches them (Go's path.Match syntax: `*`, `?`, `[...]` classes
// with ranges and `^` negation, `\` escapes), except that `*` also matches dots.

import { type RE2Tester, RegexSyntaxError, re2Tester } from "../builtins/re2.ts";

export function hasGlobMeta(p: string): boolean {
  return /[*?[]/.test(p);
}

const reEscape = (c: string) => c.replace(/[\\^$.*+?()[\]{}|/-]/g, "\\$&");

/**
 * Compile a glob to an anchored RE2 pattern, matched in linear time (a JS RegExp backtracks
 * polynomially on several stars); throws "syntax error in pattern" for a malformed one.
 */
export function globToRegExp(p: string): RE2Tester {
  const chars = Array.from(p);
  let re = "^";
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i];
    if (c === "*") re += "(?s:.*)";
    else if (c === "?") re += "(?s:.)";
    else if (c === "\\") {
      if (i + 1 >= chars.length) throw new Error("syntax error in pattern");
      re += reEscape(chars[++i]);
    } else if (c === "[") {
      i++;
      let cls = "[";
      if (chars[i] === "^") {
        cls += "^";
        i++;
      }
      let n = 0;
      for (;;) {
        if (i >= chars.length) throw new Error("syntax error in pattern");
        if (chars[i] === "]" && n > 0) break;
        let lo = chars[i];
        if (lo === "\\") {
          i++;
          if (i >= chars.length) throw new Error("syntax error in pattern");
          lo = chars[i];
        } else if (lo === "]" || lo === "-") throw new Error("syntax error in pattern");
        i++;
        let item = reEscape(lo);
        if (chars[i] === "-") {
          i++;
          let hi = chars[i];
          if (hi === undefined || hi === "]") throw new Error("syntax error in pattern");
          if (hi === "\\") {
            i++;
            hi = chars[i];
            if (hi === undefined) throw new Error("syntax error in pattern");
          }
          i++;
          if (hi < lo) throw new Error("syntax error in pattern");
          item += "-" + reEscape(hi);
        }
        cls += item;
        n++;
      }
      re += cls + "]";
    } else re += reEscape(c);
  }
  try {
    return re2Tester(re + "$");
  } catch (e) {
    if (e instanceof RegexSyntaxError) throw new Error("syntax error in pattern");
    throw e;
  }
}
