// Regular expression builtins (RE2 syntax and semantics, see re2.ts): regex.match, re_match,
// regex.is_valid, regex.find_n, regex.find_all_string_submatch_n, regex.replace, regex.split,
// regex.template_match, regex.globs_match.

import type { Builtin } from "./registry.ts";
import { BuiltinError, BuiltinTypeError, T, operandError } from "./registry.ts";
import type { Value } from "../rego/value.ts";
import { BigDec } from "../rego/value.ts";
import { type Compiled, type Match, RegexSyntaxError, execAt, getRegex, parseRE2, quoteMeta, testRE } from "./re2.ts";
import { withRegexCancel } from "./re2vm.ts";
import { goQuote } from "../gotext/fmt.ts";
import { fromCodePoints } from "./support/codepoints.ts";

function str(name: string, pos: number, v: Value): string {
  if (typeof v !== "string") throw operandError(name, pos, "string", v);
  return v;
}

function intOperand(name: string, pos: number, v: Value): number {
  if (typeof v === "number") {
    if (Number.isInteger(v)) return v;
  } else if (typeof v === "bigint") {
    if (v >= -(1n << 63n) && v < 1n << 63n) return Number(v);
  } else if (!(v instanceof BigDec)) {
    throw operandError(name, pos, "number", v);
  }
  throw new BuiltinTypeError(`${name}: operand ${pos} must be integer number but got floating-point number`);
}

function regex(name: string, pattern: string): Compiled {
  try {
    return getRegex(pattern);
  } catch (e) {
    if (e instanceof RegexSyntaxError) throw new BuiltinError(`${name}: ${e.message}`);
    throw e;
  }
}

// ---- Go's match iteration --------------------------------------------------------------------

function runeWidth(s: string, i: number): number {
  const c = s.charCodeAt(i);
  return c >= 0xd800 && c <= 0xdbff && i + 1 < s.length ? 2 : 1;
}

/**
 * Go's allMatches: successive leftmost-first matches; after an empty match the search moves on
 * one character, and an empty match right after the previous match is skipped.
 */
function findAll(c: Compiled, s: string, n: number): Match[] {
  const out: Match[] = [];
  if (n < 0) n = Infinity;
  let pos = 0;
  let prevEnd = -1;
  while (out.length < n && pos <= s.length) {
    const m = execAt(c, s, pos);
    if (m === null) break;
    let accept = true;
    if (m.end === pos) {
      if (m.start === prevEnd) accept = false;
      pos += pos < s.length ? runeWidth(s, pos) : 1;
    } else pos = m.end;
    prevEnd = m.end;
    if (accept) out.push(m);
  }
  return out;
}

// Made on first use (start-up: Unicode class regular expressions are slow to create).
let nameCharRE: RegExp | undefined;

/** Go's Regexp.Expand of a replacement template for one match. */
function expand(template: string, m: (string | undefined)[], names: (string | null)[]): string {
  if (template.indexOf("$") < 0) return template;
  const NAME_CHAR = (nameCharRE ??= /[\p{L}\p{Nd}_]/u);
  let out = "";
  let t = template;
  for (;;) {
    const d = t.indexOf("$");
    if (d < 0) break;
    out += t.slice(0, d);
    t = t.slice(d + 1);
    if (t.startsWith("$")) {
      out += "$";
      t = t.slice(1);
      continue;
    }
    // extract a name: {name} or name
    let rest = t;
    let brace = false;
    if (rest.startsWith("{")) {
      brace = true;
      rest = rest.slice(1);
    }
    let i = 0;
    while (i < rest.length) {
      const w = runeWidth(rest, i);
      if (!NAME_CHAR.test(rest.slice(i, i + w))) break;
      i += w;
    }
    if (i === 0 || (brace && rest[i] !== "}")) {
      out += "$";
      continue;
    }
    const name = rest.slice(0, i);
    t = rest.slice(i + (brace ? 1 : 0));
    let num = -1;
    if (/^[0-9]+$/.test(name) && !(name[0] === "0" && name.length > 1) && name.length <= 9) num = Number(name);
    if (num >= 0) {
      if (num < m.length && m[num] !== undefined) out += m[num];
    } else {
      for (let k = 1; k < names.length; k++) {
        if (names[k] === name && m[k] !== undefined) {
          out += m[k];
          break;
        }
      }
    }
  }
  return out + t;
}

// ---- regex.template_match --------------------------------------------------------------------

const utf8 = new TextEncoder();

function templateRegex(tpl: string, open: string, close: string): Compiled {
  // positions of balanced top-level delimiter pairs
  let level = 0;
  let idx = 0;
  const idxs: number[] = [];
  for (let i = 0; i < tpl.length; i++) {
    const c = tpl[i];
    if (c === open) {
      if (++level === 1) idx = i;
    } else if (c === close) {
      if (--level === 0) idxs.push(idx, i + 1);
      else if (level < 0) throw new BuiltinError(`regex.template_match: unbalanced braces in ${goQuote(tpl)}`);
    }
  }
  if (level !== 0) throw new BuiltinError(`regex.template_match: unbalanced braces in ${goQuote(tpl)}`);
  let pattern = "^";
  let end = 0;
  for (let i = 0; i < idxs.length; i += 2) {
    const raw = tpl.slice(end, idxs[i]);
    end = idxs[i + 1];
    const patt = tpl.slice(idxs[i] + 1, end - 1);
    pattern += quoteMeta(raw) + "(" + patt + ")";
    regex("regex.template_match", "^" + patt + "$");
  }
  pattern += quoteMeta(tpl.slice(end)) + "$";
  return regex("regex.template_match", pattern);
}

// ---- regex.globs_match: OPA's glob intersection (the gintersect algorithm) ---------------------

const enum TT {
  Char,
  Dot,
  Set,
}
const enum Flag {
  None,
  Plus,
  Star,
}
interface GTok {
  t: TT;
  flag: Flag;
  r: number; // Char
  set: Set<number> | null; // Set
}

class GlobError extends Error {}

function globErr(input: number[], pos: number, msg: string): never {
  throw new GlobError(`input:${fromCodePoints(input)}, pos:${pos}, ${msg}: the input provided is invalid`);
}

const EOF = -1;

/** [newIndex, rune, escaped] or EOF. */
function gNextRune(input: number[], index: number): [number, number, boolean] {
  if (index >= input.length) return [index, EOF, false];
  if (input[index] === 0x5c) {
    if (index < input.length - 1) return [index + 2, input[index + 1], true];
    globErr(input, index, "input ends with a \\ (escape) character");
  }
  return [index + 1, input[index], false];
}

function gTokenize(input: number[]): GTok[] {
  const toks: GTok[] = [];
  let i = 0;
  for (;;) {
    let [ni, r, esc] = gNextRune(input, i);
    if (r === EOF) break;
    let tok: GTok;
    if (!esc && r === 0x2e) tok = { t: TT.Dot, flag: Flag.None, r: 0, set: null };
    else if (!esc && r === 0x5d) globErr(input, ni, "set-close ']' with no preceding '['");
    else if (!esc && r === 0x5b) {
      const set = new Set<number>();
      let complete = false;
      let prev = 0;
      let prevExists = false;
      [ni, r, esc] = gNextRune(input, ni);
      while (r !== EOF) {
        if (!esc && r === 0x2d) {
          if (!prevExists) globErr(input, ni, "range character '-' must be preceded by a Unicode character");
          if (ni >= input.length - 1) globErr(input, ni, "range character '-' must be followed by a Unicode character");
          [ni, r, esc] = gNextRune(input, ni);
          if (!esc && (r === 0x5d || r === 0x2d)) globErr(input, ni, "range character '-' cannot be followed by a special symbol");
          if (r < prev)
            globErr(input, ni, `range is out of order: '${String.fromCodePoint(r)}' comes before '${String.fromCodePoint(prev)}' in Unicode`);
          for (let x = prev; x <= r; x++) set.add(x);
          prevExists = false;
        } else if (!esc && r === 0x5d) {
          complete = true;
        } else {
          set.add(r);
          prev = r;
          prevExists = true;
        }
        if (complete) break;
        [ni, r, esc] = gNextRune(input, ni);
      }
      if (!complete) globErr(input, ni, "found [ without matching ]");
      tok = { t: TT.Set, flag: Flag.None, r: 0, set };
    } else if (!esc && (r === 0x2b || r === 0x2a)) {
      globErr(input, ni, `flag '${String.fromCodePoint(r)}' must be preceded by a non-flag`);
    } else tok = { t: TT.Char, flag: Flag.None, r, set: null };
    // a flag may follow
    const [fi, fr, fesc] = gNextRune(input, ni);
    if (fr !== EOF && !fesc && (fr === 0x2b || fr === 0x2a)) {
      tok.flag = fr === 0x2b ? Flag.Plus : Flag.Star;
      ni = fi;
    }
    toks.push(tok);
    i = ni;
  }
  return toks;
}

function gEqual(a: GTok, b: GTok): boolean {
  if (a.t !== b.t) return false;
  if (a.t === TT.Char) return a.r === b.r;
  if (a.t === TT.Dot) return true;
  if (a.set!.size !== b.set!.size) return false;
  for (const x of a.set!) if (!b.set!.has(x)) return false;
  return true;
}

function gSimplify(toks: GTok[]): GTok[] {
  if (toks.length === 0) return toks;
  const out = [toks[0]];
  let latest = toks[0];
  for (let i = 1; i < toks.length; i++) {
    const t = toks[i];
    if (t.flag !== Flag.None && latest.flag !== Flag.None && gEqual(t, latest)) {
      out[out.length - 1].flag = t.flag === Flag.Plus || latest.flag === Flag.Plus ? Flag.Plus : Flag.Star;
      continue;
    }
    latest = t;
    out.push(t);
  }
  return out;
}

function gMatch(a: GTok, b: GTok): boolean {
  if (a.t > b.t) [a, b] = [b, a];
  if (a.t === TT.Char) {
    if (b.t === TT.Char) return a.r === b.r;
    if (b.t === TT.Dot) return true;
    return b.set!.has(a.r);
  }
  if (a.t === TT.Dot) return true;
  for (const x of a.set!) if (b.set!.has(x)) return true;
  return false;
}

/**
 * gintersect's walk over two token sequences (normal, special, plus and star steps), with each
 * step's answer memoised by (step, which sequence leads, position in each): the plain recursion
 * is exponential in the number of stars (OPA 1.19 took 18 s on `a.*` ×8 against `a+.*` ×8).
 * The lockstep loop of a normal step and the scan of a star step end in the same answer from
 * every position they pass, so those positions are memoised too and each state is settled once:
 * O(|g1| · |g2|) steps. Same answers as the plain recursion, quirks included (a product
 * automaton would differ: gintersect says "[ab]c*" and "b" do not intersect, and so does OPA).
 */
class GlobWalk {
  /** 0 unknown, 1 false, 2 true; by key(step, f, i, j). */
  readonly table: Int8Array | null;
  readonly map: Map<number, number> | null;
  readonly m: number;
  constructor(readonly seqs: [GTok[], GTok[]]) {
    this.m = Math.max(seqs[0].length, seqs[1].length) + 2;
    const size = 6 * this.m * this.m;
    this.table = size <= 1 << 24 ? new Int8Array(size) : null;
    this.map = this.table === null ? new Map() : null;
  }

  private key(step: number, f: number, i: number, j: number): number {
    return ((step * 2 + f) * this.m + i) * this.m + j;
  }
  private get(k: number): number {
    return this.table !== null ? this.table[k] : (this.map!.get(k) ?? 0);
  }
  private set(k: number, r: boolean): boolean {
    if (this.table !== null) this.table[k] = r ? 2 : 1;
    else this.map!.set(k, r ? 2 : 1);
    return r;
  }

  /** Tokens of sequence f from i against the other sequence's from j, in lockstep. */
  normal(f: number, i0: number, j0: number): boolean {
    const x = this.seqs[f];
    const y = this.seqs[1 - f];
    let i = i0;
    let j = j0;
    let r: boolean | undefined;
    for (; i < x.length && j < y.length; i++, j++) {
      const known = this.get(this.key(0, f, i, j));
      if (known !== 0) {
        r = known === 2;
        break;
      }
      if (x[i].flag === Flag.None && y[j].flag === Flag.None) {
        if (!gMatch(x[i], y[j])) {
          r = false;
          break;
        }
      } else {
        r = this.special(f, i, j);
        break;
      }
    }
    if (r === undefined) r = i === x.length && j === y.length;
    for (let d = 0; i0 + d <= i && j0 + d <= j; d++) this.set(this.key(0, f, i0 + d, j0 + d), r);
    return r;
  }

  special(f: number, i: number, j: number): boolean {
    const x = this.seqs[f];
    if (x[i].flag !== Flag.None) return x[i].flag === Flag.Plus ? this.plus(f, i, j) : this.star(f, i, j);
    const y = this.seqs[1 - f];
    return y[j].flag === Flag.Plus ? this.plus(1 - f, j, i) : this.star(1 - f, j, i);
  }

  /** x[i] has the + flag (non-empty other side). */
  plus(f: number, i: number, j: number): boolean {
    const k = this.key(1, f, i, j);
    const known = this.get(k);
    if (known !== 0) return known === 2;
    const x = this.seqs[f];
    const y = this.seqs[1 - f];
    let r: boolean;
    if (!gMatch(x[i], y[j])) r = false;
    else if (this.star(f, i, j + 1)) r = true;
    else r = y[j].flag !== Flag.None && this.normal(f, i + 1, j);
    return this.set(k, r);
  }

  /** x[i] taken as starred against the other side from j. */
  star(f: number, i: number, j0: number): boolean {
    const x = this.seqs[f];
    const y = this.seqs[1 - f];
    const star = x[i];
    const next = i + 1 < x.length ? x[i + 1] : null;
    let j = j0;
    let r: boolean | undefined;
    for (; j < y.length; j++) {
      const known = this.get(this.key(2, f, i, j));
      if (known !== 0) {
        r = known === 2;
        break;
      }
      const t = y[j];
      if (next !== null && gMatch(t, next)) {
        if (this.normal(f, i + 1, j)) {
          r = true;
          break;
        }
        if (!gMatch(t, star)) {
          r = false;
          break;
        }
      } else if (!gMatch(t, star)) {
        r = false;
        break;
      }
    }
    if (r === undefined) r = next === null;
    for (let k = j0; k <= j && k <= y.length; k++) this.set(this.key(2, f, i, k), r);
    return r;
  }
}

function globsIntersect(a: string, b: string): boolean {
  let g1 = gSimplify(gTokenize(Array.from(a, (c) => c.codePointAt(0)!)));
  let g2 = gSimplify(gTokenize(Array.from(b, (c) => c.codePointAt(0)!)));
  // trim common literal prefixes and suffixes (leaving one token on each side)
  let l = 0;
  for (; l < g1.length && l < g2.length && g1[l].flag === Flag.None && g2[l].flag === Flag.None; l++) {
    if (!gMatch(g1[l], g2[l])) return false;
  }
  if (l > 0) l--;
  let r1 = g1.length - 1;
  let r2 = g2.length - 1;
  for (; r1 >= 0 && r1 >= l && r2 >= 0 && r2 >= l && g1[r1].flag === Flag.None && g2[r2].flag === Flag.None; r1--, r2--) {
    if (!gMatch(g1[r1], g2[r2])) return false;
  }
  if (r1 < g1.length - 1) {
    r1++;
    r2++;
  }
  g1 = g1.slice(l, r1 + 1);
  g2 = g2.slice(l, r2 + 1);
  return new GlobWalk([g1, g2]).normal(0, 0, 0);
}

// ---- builtins --------------------------------------------------------------------------------

const S = T.string;

function regexMatch(name: string): Builtin["impl"] {
  return ([p, s]) => {
    const pattern = str(name, 1, p);
    const value = str(name, 2, s);
    return testRE(regex(name, pattern), value);
  };
}

const table: Builtin[] = [
  { name: "regex.match", decl: T.fn([S, S], T.boolean), impl: regexMatch("regex.match") },
  { name: "re_match", decl: T.fn([S, S], T.boolean), impl: regexMatch("re_match"), deprecated: true },
  {
    name: "regex.is_valid",
    decl: T.fn([S], T.boolean),
    impl: ([p]) => {
      if (typeof p !== "string") return false;
      try {
        parseRE2(p);
        return true;
      } catch (e) {
        if (e instanceof RegexSyntaxError) return false;
        throw e;
      }
    },
  },
  {
    name: "regex.find_n",
    decl: T.fn([S, S, T.number], T.arrayOf(S)),
    impl: ([p, s, n]) => {
      const pattern = str("regex.find_n", 1, p);
      const value = str("regex.find_n", 2, s);
      const count = intOperand("regex.find_n", 3, n);
      const c = regex("regex.find_n", pattern);
      if (count === 0) return [];
      return findAll(c, value, count).map((m) => m.groups[0]!);
    },
  },
  {
    name: "regex.find_all_string_submatch_n",
    decl: T.fn([S, S, T.number], T.arrayOf(T.arrayOf(S))),
    impl: ([p, s, n]) => {
      const name = "regex.find_all_string_submatch_n";
      const pattern = str(name, 1, p);
      const value = str(name, 2, s);
      const count = intOperand(name, 3, n);
      const c = regex(name, pattern);
      if (count === 0) return [];
      return findAll(c, value, count).map((m) => m.groups.map((g) => g ?? ""));
    },
  },
  {
    name: "regex.replace",
    decl: T.fn([S, S, S], S),
    impl: ([s, p, r]) => {
      const base = str("regex.replace", 1, s);
      const pattern = str("regex.replace", 2, p);
      const repl = str("regex.replace", 3, r);
      const c = regex("regex.replace", pattern);
      const ms = findAll(c, base, -1);
      if (ms.length === 0) return base;
      let out = "";
      let last = 0;
      for (const m of ms) {
        out += base.slice(last, m.start) + expand(repl, m.groups, c.names);
        last = m.end;
      }
      return out + base.slice(last);
    },
  },
  {
    name: "regex.split",
    decl: T.fn([S, S], T.arrayOf(S)),
    impl: ([p, s]) => {
      const pattern = str("regex.split", 1, p);
      const value = str("regex.split", 2, s);
      const c = regex("regex.split", pattern);
      if (pattern.length > 0 && value.length === 0) return [""];
      const out: Value[] = [];
      let beg = 0;
      let end = 0;
      for (const m of findAll(c, value, -1)) {
        end = m.start;
        const mend = m.end;
        if (mend !== 0) out.push(value.slice(beg, end));
        beg = mend;
      }
      if (end !== value.length) out.push(value.slice(beg));
      return out;
    },
  },
  {
    name: "regex.template_match",
    decl: T.fn([S, S, S, S], T.boolean),
    impl: ([t, v, a, b]) => {
      const name = "regex.template_match";
      const tpl = str(name, 1, t);
      const value = str(name, 2, v);
      const start = str(name, 3, a);
      const end = str(name, 4, b);
      const sl = utf8.encode(start).length;
      if (sl !== 1) throw new BuiltinError(`${name}: start delimiter has to be exactly one character long but is ${sl} long`);
      if (utf8.encode(end).length !== 1)
        throw new BuiltinError(`${name}: end delimiter has to be exactly one character long but is ${sl} long`);
      return testRE(templateRegex(tpl, start, end), value);
    },
  },
  {
    name: "regex.globs_match",
    decl: T.fn([S, S], T.boolean),
    impl: ([a, b]) => {
      const g1 = str("regex.globs_match", 1, a);
      const g2 = str("regex.globs_match", 2, b);
      try {
        return globsIntersect(g1, g2);
      } catch (e) {
        if (e instanceof GlobError) throw new BuiltinError(`regex.globs_match: ${e.message}`);
        throw e;
      }
    },
  },
];

/** Every regex builtin matches under the evaluation's deadline and AbortSignal (re2vm.ts, "Cancellation"). */
export const builtins: Builtin[] = table.map((b) => ({ ...b, impl: (args, ctx) => withRegexCancel(() => ctx.checkCancel(), () => b.impl(args, ctx)) }));
