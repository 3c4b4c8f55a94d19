// glob.match and glob.quote_meta with the semantics of the glob library OPA uses (gobwas/glob
// v0.2.3): its lexer and parser, its optimizing compiler and its matchers, including their
// quirks (a `{…}` alternative that is `Nothing` makes the alternation's length 0 and turns the
// pattern into a fixed-length row; several separators are tested as one joined string by some
// matchers; matchers work on UTF-8 bytes and mix byte and rune counts). Results therefore agree
// with OPA's, not with an idealized glob.
//
// Matching works on "byte strings": JS strings whose characters are the UTF-8 bytes of the text.
//
// gobwas's BTree matcher (a value matcher with matchers on its left and right) searches by
// backtracking, which is quadratic or worse (exponential with nested BTrees); its Match here runs
// the automata of glob-engine.ts instead, which read the input once and give the same answers.
// Compiling is bounded (MAX_COMPILE_WORK and below).

import type { Builtin } from "./registry.ts";
import { BuiltinError, BuiltinTypeError, T, operandError } from "./registry.ts";
import type { Value } from "../rego/value.ts";
import { typeName } from "../rego/value.ts";
import type { Spec } from "./glob-engine.ts";
import { Runner, Unsupported } from "./glob-engine.ts";
import { appendAll, fromCodePoints } from "./support/codepoints.ts";

// ---- bytes -----------------------------------------------------------------------------------

const encoder = new TextEncoder();
const NON_ASCII = /[^\x00-\x7f]/;

export function toBytes(s: string): string {
  if (!NON_ASCII.test(s)) return s;
  const b = encoder.encode(s);
  let out = "";
  for (let i = 0; i < b.length; i += 8192) out += String.fromCharCode(...b.subarray(i, i + 8192));
  return out;
}

export function runeBytes(r: number): string {
  return toBytes(String.fromCodePoint(r));
}

export const RUNE_ERROR = 0xfffd;

/** Go's utf8.DecodeRuneInString at byte i: [rune, width]; (RuneError, 0) at the end. */
export function decode(s: string, i: number): [number, number] {
  const n = s.length;
  if (i >= n) return [RUNE_ERROR, 0];
  const c0 = s.charCodeAt(i);
  if (c0 < 0x80) return [c0, 1];
  const cont = (k: number) => {
    if (i + k >= n) return -1;
    const c = s.charCodeAt(i + k);
    return c >= 0x80 && c <= 0xbf ? c & 0x3f : -1;
  };
  if (c0 >= 0xc2 && c0 <= 0xdf) {
    const c1 = cont(1);
    return c1 < 0 ? [RUNE_ERROR, 1] : [((c0 & 0x1f) << 6) | c1, 2];
  }
  if (c0 >= 0xe0 && c0 <= 0xef) {
    const c1 = cont(1);
    if (c1 < 0 || (c0 === 0xe0 && c1 < 0x20) || (c0 === 0xed && c1 >= 0x20)) return [RUNE_ERROR, 1];
    const c2 = cont(2);
    return c2 < 0 ? [RUNE_ERROR, 1] : [((c0 & 0x0f) << 12) | (c1 << 6) | c2, 3];
  }
  if (c0 >= 0xf0 && c0 <= 0xf4) {
    const c1 = cont(1);
    if (c1 < 0 || (c0 === 0xf0 && c1 < 0x10) || (c0 === 0xf4 && c1 >= 0x10)) return [RUNE_ERROR, 1];
    const c2 = cont(2);
    if (c2 < 0) return [RUNE_ERROR, 1];
    const c3 = cont(3);
    return c3 < 0 ? [RUNE_ERROR, 1] : [((c0 & 0x07) << 18) | (c1 << 12) | (c2 << 6) | c3, 4];
  }
  return [RUNE_ERROR, 1];
}

/** Go's utf8.RuneLen. */
export function runeLen(r: number): number {
  if (r < 0) return -1;
  if (r < 0x80) return 1;
  if (r < 0x800) return 2;
  if (r >= 0xd800 && r <= 0xdfff) return -1;
  if (r < 0x10000) return 3;
  if (r <= 0x10ffff) return 4;
  return -1;
}

/** Byte offsets where runes start (Go's `for i := range s`), with each rune. */
export function eachRune(s: string, f: (i: number, r: number) => boolean | void): void {
  for (let i = 0; i < s.length; ) {
    const [r, w] = decode(s, i);
    if (f(i, r) === true) return;
    i += w;
  }
}

export function runeCount(s: string): number {
  let n = 0;
  eachRune(s, () => {
    n++;
  });
  return n;
}

/** Go's strings.IndexRune. */
function indexRune(s: string, r: number): number {
  if (r >= 0 && r < 0x80) return s.indexOf(String.fromCharCode(r));
  if (r === RUNE_ERROR) {
    let found = -1;
    eachRune(s, (i, x) => {
      if (x === RUNE_ERROR) {
        found = i;
        return true;
      }
    });
    return found;
  }
  if (r > 0x10ffff || (r >= 0xd800 && r <= 0xdfff)) return indexRune(s, RUNE_ERROR);
  return s.indexOf(runeBytes(r));
}

/** gobwas's IndexAnyRunes: the position of the first separator (in separator order) found. */
export function indexAnyRunes(s: string, rs: number[]): number {
  for (const r of rs) {
    const i = indexRune(s, r);
    if (i !== -1) return i;
  }
  return -1;
}

/** gobwas's LastIndexAnyRunes (non-ASCII separators give their first index, as there). */
export function lastIndexAnyRunes(s: string, rs: number[]): number {
  for (const r of rs) {
    let i = -1;
    if (r >= 0 && r < 0x80) i = s.lastIndexOf(String.fromCharCode(r));
    else {
      let sub = s;
      while (sub.length > 0) {
        const j = indexRune(s, r);
        if (j === -1) break;
        i = j;
        sub = sub.slice(i + 1);
      }
    }
    if (i !== -1) return i;
  }
  return -1;
}

export function runesEqual(a: number[], b: number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

// ---- matchers --------------------------------------------------------------------------------

export type Index = [number, number[]];
export const NO_INDEX: Index = [-1, []];

export interface Matcher {
  match(s: string): boolean;
  index(s: string): Index;
  len(): number;
}

/** Rune starts of s and its end, offset by `base`. */
export function allSegments(s: string, base = 0): number[] {
  const seg: number[] = [];
  eachRune(s, (i) => {
    seg.push(base + i);
  });
  seg.push(base + s.length);
  return seg;
}

export class MNothing implements Matcher {
  match(s: string): boolean {
    return s.length === 0;
  }
  index(): Index {
    return [0, [0]];
  }
  len(): number {
    return 0;
  }
}

export class MSuper implements Matcher {
  match(): boolean {
    return true;
  }
  index(s: string): Index {
    return [0, allSegments(s)];
  }
  len(): number {
    return -1;
  }
}

export class MAny implements Matcher {
  constructor(readonly seps: number[]) {}
  match(s: string): boolean {
    return indexAnyRunes(s, this.seps) === -1;
  }
  index(s: string): Index {
    const found = indexAnyRunes(s, this.seps);
    if (found === 0) return [0, [0]];
    if (found > 0) s = s.slice(0, found);
    return [0, allSegments(s)];
  }
  len(): number {
    return -1;
  }
}

export class MSingle implements Matcher {
  constructor(readonly seps: number[]) {}
  match(s: string): boolean {
    const [r, w] = decode(s, 0);
    if (s.length > w) return false;
    return !this.seps.includes(r);
  }
  index(s: string): Index {
    let out = NO_INDEX;
    eachRune(s, (i, r) => {
      if (!this.seps.includes(r)) {
        out = [i, [runeLen(r)]];
        return true;
      }
    });
    return out;
  }
  len(): number {
    return 1;
  }
}

export class MList implements Matcher {
  constructor(
    readonly list: number[],
    readonly not: boolean,
  ) {}
  match(s: string): boolean {
    const [r, w] = decode(s, 0);
    if (s.length > w) return false;
    return this.list.includes(r) === !this.not;
  }
  index(s: string): Index {
    let out = NO_INDEX;
    eachRune(s, (i, r) => {
      if (this.not === !this.list.includes(r)) {
        out = [i, [runeLen(r)]];
        return true;
      }
    });
    return out;
  }
  len(): number {
    return 1;
  }
}

class MRange implements Matcher {
  constructor(
    readonly lo: number,
    readonly hi: number,
    readonly not: boolean,
  ) {}
  match(s: string): boolean {
    const [r, w] = decode(s, 0);
    if (s.length > w) return false;
    return (r >= this.lo && r <= this.hi) === !this.not;
  }
  index(s: string): Index {
    let out = NO_INDEX;
    eachRune(s, (i, r) => {
      if (this.not !== (r >= this.lo && r <= this.hi)) {
        out = [i, [runeLen(r)]];
        return true;
      }
    });
    return out;
  }
  len(): number {
    return 1;
  }
}

class MText implements Matcher {
  readonly runes: number;
  constructor(readonly str: string) {
    this.runes = runeCount(str);
  }
  match(s: string): boolean {
    return s === this.str;
  }
  index(s: string): Index {
    const i = s.indexOf(this.str);
    return i === -1 ? NO_INDEX : [i, [this.str.length]];
  }
  len(): number {
    return this.runes;
  }
}

function appendMerge(target: number[], sub: number[]): number[] {
  const out: number[] = [];
  let x = 0;
  let y = 0;
  while (x < target.length || y < sub.length) {
    if (x >= target.length) {
      appendAll(out, sub, y);
      break;
    }
    if (y >= sub.length) {
      appendAll(out, target, x);
      break;
    }
    const a = target[x];
    const b = sub[y];
    if (a === b) {
      out.push(a);
      x++;
      y++;
    } else if (a < b) {
      out.push(a);
      x++;
    } else {
      out.push(b);
      y++;
    }
  }
  return out;
}

class MAnyOf implements Matcher {
  constructor(readonly ms: Matcher[]) {}
  match(s: string): boolean {
    for (const m of this.ms) if (m.match(s)) return true;
    return false;
  }
  index(s: string): Index {
    let index = -1;
    let segments: number[] = [];
    for (const m of this.ms) {
      const [idx, seg] = m.index(s);
      if (idx === -1) continue;
      if (index === -1 || idx < index) {
        index = idx;
        segments = seg.slice();
        continue;
      }
      if (idx > index) continue;
      segments = appendMerge(segments, seg);
    }
    return index === -1 ? NO_INDEX : [index, segments];
  }
  len(): number {
    // as gobwas computes it: the first length wins over a -1 before it
    let l = -1;
    for (const m of this.ms) {
      const ml = m.len();
      if (l === -1) {
        l = ml;
        continue;
      }
      if (ml === -1 || l !== ml) return -1;
    }
    return l;
  }
}

class MBTree implements Matcher {
  readonly valueLen: number;
  readonly leftLen: number = 0;
  readonly rightLen: number = 0;
  readonly length: number;
  constructor(
    readonly value: Matcher,
    public left: Matcher | null,
    public right: Matcher | null,
  ) {
    let ok = true;
    this.valueLen = value.len();
    if (this.valueLen === -1) ok = false;
    if (left !== null) {
      this.leftLen = left.len();
      if (this.leftLen === -1) ok = false;
    }
    if (right !== null) {
      this.rightLen = right.len();
      if (this.rightLen === -1) ok = false;
    }
    this.length = ok ? this.leftLen + this.valueLen + this.rightLen : -1;
  }
  len(): number {
    return this.length;
  }
  index(): Index {
    return NO_INDEX;
  }
  /** The linear-time automata of this BTree (null: none, the search below is used). */
  private runner: Runner | null | undefined;
  match(s: string): boolean {
    if (this.runner === undefined) {
      try {
        this.runner = this.leftLen > 0 || this.rightLen > 0 ? null : Runner.build(toSpec(this));
      } catch (e) {
        if (!(e instanceof Unsupported)) throw e;
        this.runner = null;
      }
    }
    if (this.runner === null) return this.matchSlow(s);
    const r = this.runner.run(s);
    // the automata cache their states and transitions; start afresh when that grows large
    if (this.runner.size > RUNNER_MAX_STATES) this.runner = undefined;
    return r;
  }
  /**
   * gobwas's search, for the one kind of BTree the automata do not cover: a value with a
   * SuffixAny whose separators are not all ASCII (where OPA's LastIndexAnyRunes panics on some
   * inputs).
   */
  matchSlow(s: string): boolean {
    const inputLen = s.length;
    if (this.length !== -1 && this.length > inputLen) return false;
    let offset = this.leftLen >= 0 ? this.leftLen : 0;
    const limit = this.rightLen >= 0 ? inputLen - this.rightLen : inputLen;
    while (offset < limit) {
      const [index, segments] = this.value.index(s.slice(offset, limit));
      if (index === -1) return false;
      const l = s.slice(0, offset + index);
      const left = this.left !== null ? this.left.match(l) : l === "";
      if (left) {
        for (let i = segments.length - 1; i >= 0; i--) {
          const length = segments[i];
          const r = inputLen <= offset + index + length ? "" : s.slice(offset + index + length);
          const right = this.right !== null ? this.right.match(r) : r === "";
          if (right) return true;
        }
      }
      const [, step] = decode(s, offset + index);
      offset += index + step;
      if (step === 0) break;
    }
    return false;
  }
}

/** The automata of a compiled glob are rebuilt (their caches dropped) past this many states. */
const RUNNER_MAX_STATES = 200_000;

class MRow implements Matcher {
  constructor(
    readonly runes: number,
    readonly ms: Matcher[],
  ) {}
  private matchAll(s: string): boolean {
    let idx = 0;
    for (const m of this.ms) {
      const length = m.len();
      let next = 0;
      let i = 0;
      const rest = s.slice(idx);
      eachRune(rest, (off) => {
        next = off;
        i++;
        if (i === length) return true;
      });
      if (i < length || !m.match(s.slice(idx, idx + next + 1))) return false;
      idx += next + 1;
    }
    return true;
  }
  match(s: string): boolean {
    let i = 0;
    let ok = true;
    eachRune(s, () => {
      i++;
      if (i > this.runes) {
        ok = false;
        return true;
      }
    });
    return ok && this.runes === i && this.matchAll(s);
  }
  len(): number {
    return this.runes;
  }
  index(s: string): Index {
    let out = NO_INDEX;
    eachRune(s, (i) => {
      if (s.length - i < this.runes) return true;
      if (this.matchAll(s.slice(i))) {
        out = [i, [this.runes]];
        return true;
      }
    });
    return out;
  }
}

class MPrefix implements Matcher {
  constructor(readonly prefix: string) {}
  match(s: string): boolean {
    return s.startsWith(this.prefix);
  }
  index(s: string): Index {
    const idx = s.indexOf(this.prefix);
    if (idx === -1) return NO_INDEX;
    const length = this.prefix.length;
    const sub = s.length > idx + length ? s.slice(idx + length) : "";
    const seg = [length];
    eachRune(sub, (i, r) => {
      seg.push(length + i + runeLen(r));
    });
    return [idx, seg];
  }
  len(): number {
    return -1;
  }
}

class MSuffix implements Matcher {
  constructor(readonly suffix: string) {}
  match(s: string): boolean {
    return s.endsWith(this.suffix);
  }
  index(s: string): Index {
    const idx = s.indexOf(this.suffix);
    return idx === -1 ? NO_INDEX : [0, [idx + this.suffix.length]];
  }
  len(): number {
    return -1;
  }
}

class MPrefixSuffix implements Matcher {
  constructor(
    readonly prefix: string,
    readonly suffix: string,
  ) {}
  match(s: string): boolean {
    return s.startsWith(this.prefix) && s.endsWith(this.suffix);
  }
  index(s: string): Index {
    const p = s.indexOf(this.prefix);
    if (p === -1) return NO_INDEX;
    const sl = this.suffix.length;
    if (sl <= 0) return [p, [s.length - p]];
    if (s.length - p <= 0) return NO_INDEX;
    const seg: number[] = [];
    let sub = s.slice(p);
    for (;;) {
      const si = sub.lastIndexOf(this.suffix);
      if (si === -1) break;
      seg.push(si + sl);
      sub = sub.slice(0, si);
    }
    if (seg.length === 0) return NO_INDEX;
    seg.reverse();
    return [p, seg];
  }
  len(): number {
    return -1;
  }
}

class MPrefixAny implements Matcher {
  constructor(
    readonly prefix: string,
    readonly seps: number[],
  ) {}
  match(s: string): boolean {
    return s.startsWith(this.prefix) && indexAnyRunes(s.slice(this.prefix.length), this.seps) === -1;
  }
  index(s: string): Index {
    const idx = s.indexOf(this.prefix);
    if (idx === -1) return NO_INDEX;
    const n = this.prefix.length;
    let sub = s.slice(idx + n);
    const i = indexAnyRunes(sub, this.seps);
    if (i > -1) sub = sub.slice(0, i);
    const seg = [n];
    eachRune(sub, (k, r) => {
      seg.push(n + k + runeLen(r));
    });
    return [idx, seg];
  }
  len(): number {
    return -1;
  }
}

class MSuffixAny implements Matcher {
  constructor(
    readonly suffix: string,
    readonly seps: number[],
  ) {}
  match(s: string): boolean {
    return s.endsWith(this.suffix) && indexAnyRunes(s.slice(0, s.length - this.suffix.length), this.seps) === -1;
  }
  index(s: string): Index {
    const idx = s.indexOf(this.suffix);
    if (idx === -1) return NO_INDEX;
    const i = lastIndexAnyRunes(s.slice(0, idx), this.seps) + 1;
    return [i, [idx + this.suffix.length - i]];
  }
  len(): number {
    return -1;
  }
}

class MContains implements Matcher {
  constructor(
    readonly needle: string,
    readonly not: boolean,
  ) {}
  match(s: string): boolean {
    return s.includes(this.needle) !== this.not;
  }
  index(s: string): Index {
    let offset = 0;
    const idx = s.indexOf(this.needle);
    if (!this.not) {
      if (idx === -1) return NO_INDEX;
      offset = idx + this.needle.length;
      if (s.length <= offset) return [0, [offset]];
      s = s.slice(offset);
    } else if (idx !== -1) s = s.slice(0, idx);
    return [0, allSegments(s, offset)];
  }
  len(): number {
    return -1;
  }
}

class MMin implements Matcher {
  constructor(readonly limit: number) {}
  match(s: string): boolean {
    let l = 0;
    let ok = false;
    eachRune(s, () => {
      l++;
      if (l >= this.limit) {
        ok = true;
        return true;
      }
    });
    return ok;
  }
  index(s: string): Index {
    if (s.length - this.limit + 1 <= 0) return NO_INDEX;
    let count = 0;
    const seg: number[] = [];
    eachRune(s, (i, r) => {
      count++;
      if (count >= this.limit) seg.push(i + runeLen(r));
    });
    return seg.length === 0 ? NO_INDEX : [0, seg];
  }
  len(): number {
    return -1;
  }
}

class MMax implements Matcher {
  constructor(readonly limit: number) {}
  match(s: string): boolean {
    let l = 0;
    let ok = true;
    eachRune(s, () => {
      l++;
      if (l > this.limit) {
        ok = false;
        return true;
      }
    });
    return ok;
  }
  index(s: string): Index {
    const seg = [0];
    let count = 0;
    eachRune(s, (i, r) => {
      count++;
      if (count > this.limit) return true;
      seg.push(i + runeLen(r));
    });
    return [0, seg];
  }
  len(): number {
    return -1;
  }
}

class MEveryOf implements Matcher {
  constructor(readonly ms: Matcher[]) {}
  match(s: string): boolean {
    for (const m of this.ms) if (!m.match(s)) return false;
    return true;
  }
  len(): number {
    // as gobwas computes it: -1 as soon as there is a matcher
    return this.ms.length > 0 ? -1 : 0;
  }
  index(s: string): Index {
    let index = 0;
    let offset = 0;
    let current: number[] = [];
    let sub = s;
    for (let i = 0; i < this.ms.length; i++) {
      const [idx, seg] = this.ms[i].index(sub);
      if (idx === -1) return NO_INDEX;
      if (i === 0) current = seg.slice();
      else {
        const next: number[] = [];
        const delta = index - (idx + offset);
        for (const ex of current) for (const n of seg) if (ex + delta === n) next.push(n);
        if (next.length === 0) return NO_INDEX;
        current = next;
      }
      index = idx + offset;
      sub = s.slice(index);
      offset += idx;
    }
    return [index, current];
  }
}

/** The description of a matcher tree that the linear engine (glob-engine.ts) compiles. */
function toSpec(m: Matcher): Spec {
  if (m instanceof MNothing) return { k: "nothing" };
  if (m instanceof MSuper) return { k: "super" };
  if (m instanceof MAny) return { k: "any", seps: m.seps };
  if (m instanceof MSingle) return { k: "single", seps: m.seps };
  if (m instanceof MList) return { k: "list", chars: m.list, not: m.not };
  if (m instanceof MRange) return { k: "range", lo: m.lo, hi: m.hi, not: m.not };
  if (m instanceof MText) return { k: "text", str: m.str };
  if (m instanceof MAnyOf) return { k: "anyof", ms: m.ms.map(toSpec) };
  if (m instanceof MBTree) {
    return { k: "btree", v: toSpec(m.value), l: m.left === null ? null : toSpec(m.left), r: m.right === null ? null : toSpec(m.right) };
  }
  if (m instanceof MRow) return { k: "row", runes: m.runes, ms: m.ms.map(toSpec), lens: m.ms.map((x) => x.len()) };
  if (m instanceof MPrefix) return { k: "prefix", p: m.prefix };
  if (m instanceof MSuffix) return { k: "suffix", s: m.suffix };
  if (m instanceof MPrefixSuffix) return { k: "prefixsuffix", p: m.prefix, s: m.suffix };
  if (m instanceof MPrefixAny) return { k: "prefixany", p: m.prefix, seps: m.seps };
  if (m instanceof MSuffixAny) return { k: "suffixany", s: m.suffix, seps: m.seps };
  if (m instanceof MContains) return { k: "contains", needle: m.needle, not: m.not };
  if (m instanceof MMin) return { k: "min", n: m.limit };
  if (m instanceof MMax) return { k: "max", n: m.limit };
  if (m instanceof MEveryOf) return { k: "everyof", ms: m.ms.map(toSpec) };
  throw new Error("unknown matcher");
}

// ---- lexer and parser ------------------------------------------------------------------------

const enum Tok {
  EOF,
  Error,
  Text,
  Char,
  Any,
  Super,
  Single,
  Not,
  Separator,
  RangeOpen,
  RangeClose,
  RangeLo,
  RangeHi,
  RangeBetween,
  TermsOpen,
  TermsClose,
}

interface Token {
  t: Tok;
  raw: number[];
  msg?: string;
}

const EOF_RUNE = -1;
const TEXT_BREAKERS = [0x3f, 0x2a, 0x5b, 0x7b]; // ? * [ {
const TERMS_BREAKERS = [0x3f, 0x2a, 0x5b, 0x7b, 0x7d, 0x2c]; // … } ,

class Lexer {
  pos = 0;
  err: string | null = null;
  tokens: Token[] = [];
  terms = 0;
  lastWidth = 0;
  constructor(readonly cps: number[]) {}

  next(): Token {
    if (this.err !== null) return { t: Tok.Error, raw: [], msg: this.err };
    if (this.tokens.length > 0) return this.tokens.shift()!;
    this.fetchItem();
    return this.next();
  }

  peek(): number {
    if (this.pos >= this.cps.length) return EOF_RUNE;
    const r = this.cps[this.pos];
    if (r === RUNE_ERROR) {
      this.err = "could not read rune";
      return EOF_RUNE;
    }
    return r;
  }

  read(): number {
    const r = this.peek();
    this.lastWidth = r === EOF_RUNE ? 0 : 1;
    this.pos += this.lastWidth;
    return r;
  }

  unread(): void {
    this.pos -= this.lastWidth;
  }

  push(t: Tok, raw: number[] = []): void {
    this.tokens.push({ t, raw });
  }

  fetchItem(): void {
    const r = this.read();
    if (r === EOF_RUNE) this.push(Tok.EOF);
    else if (r === 0x7b) {
      this.terms++;
      this.push(Tok.TermsOpen, [r]);
    } else if (r === 0x2c && this.terms > 0) this.push(Tok.Separator, [r]);
    else if (r === 0x7d && this.terms > 0) {
      this.push(Tok.TermsClose, [r]);
      this.terms--;
    } else if (r === 0x5b) {
      this.push(Tok.RangeOpen, [r]);
      this.fetchRange();
    } else if (r === 0x3f) this.push(Tok.Single, [r]);
    else if (r === 0x2a) {
      if (this.read() === 0x2a) this.push(Tok.Super, [r, r]);
      else {
        this.unread();
        this.push(Tok.Any, [r]);
      }
    } else {
      this.unread();
      this.fetchText(this.terms > 0 ? TERMS_BREAKERS : TEXT_BREAKERS);
    }
  }

  fetchRange(): void {
    let wantHi = false;
    let wantClose = false;
    let seenNot = false;
    for (;;) {
      const r = this.read();
      if (r === EOF_RUNE) {
        this.err = "unexpected end of input";
        return;
      }
      if (wantClose) {
        if (r !== 0x5d) this.err = "expected close range character";
        else this.push(Tok.RangeClose, [r]);
        return;
      }
      if (wantHi) {
        this.push(Tok.RangeHi, [r]);
        wantClose = true;
        continue;
      }
      if (!seenNot && r === 0x21) {
        this.push(Tok.Not, [r]);
        seenNot = true;
        continue;
      }
      if (this.peek() === 0x2d) {
        this.pos++;
        this.push(Tok.RangeLo, [r]);
        this.push(Tok.RangeBetween, [0x2d]);
        wantHi = true;
        continue;
      }
      this.unread();
      this.fetchText([0x5d]);
      wantClose = true;
    }
  }

  fetchText(breakers: number[]): void {
    const data: number[] = [];
    let escaped = false;
    for (;;) {
      const r = this.read();
      if (r === EOF_RUNE) break;
      if (!escaped) {
        if (r === 0x5c) {
          escaped = true;
          continue;
        }
        if (breakers.includes(r)) {
          this.unread();
          break;
        }
      }
      escaped = false;
      data.push(r);
    }
    if (data.length > 0) this.push(Tok.Text, data);
  }
}

const enum Kind {
  Nothing,
  Pattern,
  List,
  Range,
  Text,
  Any,
  Super,
  Single,
  AnyOf,
}

interface Node {
  kind: Kind;
  parent: Node | null;
  children: Node[];
  text?: number[]; // Text
  chars?: number[]; // List
  lo?: number; // Range
  hi?: number;
  not?: boolean;
  sid?: number; // structural id (see structId)
}

function newNode(kind: Kind, props: Partial<Node> = {}, children: Node[] = []): Node {
  const n: Node = { kind, parent: null, children: [], ...props };
  for (const c of children) insert(n, c);
  return n;
}

function insert(parent: Node, child: Node): void {
  parent.children.push(child);
  child.parent = parent;
}

/** State of one compilation: separators, work done, structural ids of nodes. */
interface Ctx {
  sep: number[];
  budget: Budget;
  sids: Map<string, number>;
}

/** Equal ids for structurally equal nodes (gobwas compares nodes by their kind, values and children). */
function structId(n: Node, ctx: Ctx): number {
  if (n.sid !== undefined) return n.sid;
  const key = [n.kind, n.not, n.lo, n.hi, n.text?.join(" "), n.chars?.join(" "), ...n.children.map((c) => structId(c, ctx))].join("|");
  spend(ctx.budget, 1);
  let id = ctx.sids.get(key);
  if (id === undefined) ctx.sids.set(key, (id = ctx.sids.size));
  return (n.sid = id);
}

function nodeEqual(a: Node, b: Node, ctx: Ctx): boolean {
  return structId(a, ctx) === structId(b, ctx);
}

class GlobError extends Error {}

/**
 * Bounds on compiling a pattern. gobwas's optimizer is polynomial of high degree in the length of
 * the pattern (OPA takes minutes for a few thousand `?`); the compiler here gives the same result
 * much faster but still stops, with an error, past these bounds: the total work of its passes, the
 * nesting of `{...}` and the length of a sequence of matchers (which the BTree matchers and this
 * implementation's automata nest as deep).
 */
const MAX_COMPILE_WORK = 20_000_000;
const MAX_NESTING = 256;
const MAX_SEQUENCE = 1_024;
const TOO_COMPLEX = "pattern too complex";

interface Budget {
  work: number;
}

function spend(budget: Budget, n: number): void {
  budget.work += n;
  if (budget.work > MAX_COMPILE_WORK) throw new GlobError(TOO_COMPLEX);
}

function parseGlob(pattern: string): Node {
  const lex = new Lexer(Array.from(pattern, (c) => c.codePointAt(0)!));
  const root = newNode(Kind.Pattern);
  let tree = root;
  let depth = 0;
  for (;;) {
    const tok = lex.next();
    switch (tok.t) {
      case Tok.EOF:
        return root;
      case Tok.Error:
        throw new GlobError(tok.msg!);
      case Tok.Text:
        insert(tree, newNode(Kind.Text, { text: tok.raw }));
        break;
      case Tok.Any:
        insert(tree, newNode(Kind.Any));
        break;
      case Tok.Super:
        insert(tree, newNode(Kind.Super));
        break;
      case Tok.Single:
        insert(tree, newNode(Kind.Single));
        break;
      case Tok.RangeOpen:
        parseRange(lex, tree);
        break;
      case Tok.TermsOpen: {
        if (++depth > MAX_NESTING) throw new GlobError(TOO_COMPLEX);
        const a = newNode(Kind.AnyOf);
        insert(tree, a);
        const p = newNode(Kind.Pattern);
        insert(a, p);
        tree = p;
        break;
      }
      case Tok.Separator: {
        const p = newNode(Kind.Pattern);
        insert(tree.parent!, p);
        tree = p;
        break;
      }
      case Tok.TermsClose:
        depth--;
        tree = tree.parent!.parent!;
        break;
      default:
        throw new GlobError("unexpected token");
    }
  }
}

function parseRange(lex: Lexer, tree: Node): void {
  let not = false;
  let lo = 0;
  let hi = 0;
  let chars: number[] = [];
  for (;;) {
    const tok = lex.next();
    switch (tok.t) {
      case Tok.EOF:
        throw new GlobError("unexpected end");
      case Tok.Error:
        throw new GlobError(tok.msg!);
      case Tok.Not:
        not = true;
        break;
      case Tok.RangeLo:
        lo = tok.raw[0];
        break;
      case Tok.RangeBetween:
        break;
      case Tok.RangeHi:
        hi = tok.raw[0];
        if (hi < lo) throw new GlobError(`hi character '${String.fromCodePoint(hi)}' should be greater than lo '${String.fromCodePoint(lo)}'`);
        break;
      case Tok.Text:
        chars = tok.raw;
        break;
      case Tok.RangeClose: {
        const isRange = lo !== 0 && hi !== 0;
        const isChars = chars.length > 0;
        if (isChars === isRange) throw new GlobError("could not parse range");
        if (isRange) insert(tree, newNode(Kind.Range, { lo, hi, not }));
        else insert(tree, newNode(Kind.List, { chars, not }));
        return;
      }
    }
  }
}

// ---- compiler --------------------------------------------------------------------------------

function optimize(m: Matcher | null): Matcher | null {
  if (m instanceof MAny) return m.seps.length === 0 ? new MSuper() : m;
  if (m instanceof MAnyOf) return m.ms.length === 1 ? m.ms[0] : m;
  if (m instanceof MList) return !m.not && m.list.length === 1 ? new MText(runeBytes(m.list[0])) : m;
  if (m instanceof MBTree) {
    m.left = optimize(m.left);
    m.right = optimize(m.right);
    if (!(m.value instanceof MText)) return m;
    const text = m.value.str;
    const { left, right } = m;
    if (left === null && right === null) return new MText(text);
    if (left instanceof MSuper && right instanceof MSuper) return new MContains(text, false);
    if (left instanceof MSuper && right === null) return new MSuffix(text);
    if (right instanceof MSuper && left === null) return new MPrefix(text);
    if (left === null && right instanceof MSuffix) return new MPrefixSuffix(text, right.suffix);
    if (right === null && left instanceof MPrefix) return new MPrefixSuffix(left.prefix, text);
    if (right === null && left instanceof MAny) return new MSuffixAny(text, left.seps);
    if (left === null && right instanceof MAny) return new MPrefixAny(text, right.seps);
    return m;
  }
  return m;
}

function compileMatchers(ms: Matcher[], budget: Budget): Matcher {
  if (ms.length === 0) throw new GlobError("compile error: need at least one matcher");
  if (ms.length === 1) return ms[0];
  spend(budget, ms.length);
  const glued = glue(ms);
  if (glued !== null) return glued;
  let idx = -1;
  let maxLen = -1;
  let val: Matcher | null = null;
  ms.forEach((m, i) => {
    const l = m.len();
    if (l !== -1 && l >= maxLen) {
      maxLen = l;
      idx = i;
      val = m;
    }
  });
  if (val === null) return new MBTree(ms[0], null, compileMatchers(ms.slice(1), budget));
  const left = ms.slice(0, idx);
  const right = ms.slice(idx + 1);
  return new MBTree(val, left.length > 0 ? compileMatchers(left, budget) : null, right.length > 0 ? compileMatchers(right, budget) : null);
}

function glue(ms: Matcher[]): Matcher | null {
  return glueAsEvery(ms) ?? glueAsRow(ms);
}

function glueAsRow(ms: Matcher[]): Matcher | null {
  if (ms.length <= 1) return null;
  let l = 0;
  for (const m of ms) {
    const ml = m.len();
    if (ml === -1) return null;
    l += ml;
  }
  return new MRow(l, ms);
}

function glueAsEvery(ms: Matcher[]): Matcher | null {
  if (ms.length <= 1) return null;
  let hasAny = false;
  let hasSuper = false;
  let hasSingle = false;
  let min = 0;
  let separator: number[] = [];
  for (let i = 0; i < ms.length; i++) {
    const m = ms[i];
    let sep: number[];
    if (m instanceof MSuper) {
      sep = [];
      hasSuper = true;
    } else if (m instanceof MAny) {
      sep = m.seps;
      hasAny = true;
    } else if (m instanceof MSingle) {
      sep = m.seps;
      hasSingle = true;
      min++;
    } else if (m instanceof MList) {
      if (!m.not) return null;
      sep = m.list;
      hasSingle = true;
      min++;
    } else return null;
    if (i === 0) separator = sep;
    if (!runesEqual(sep, separator)) return null;
  }
  if (hasSuper && !hasAny && !hasSingle) return new MSuper();
  if (hasAny && !hasSuper && !hasSingle) return new MAny(separator);
  if ((hasAny || hasSuper) && min > 0 && separator.length === 0) return new MMin(min);
  const every: Matcher[] = [];
  if (min > 0) {
    every.push(new MMin(min));
    if (!hasAny && !hasSuper) every.push(new MMax(min));
  }
  if (separator.length > 0) every.push(new MContains(toBytes(fromCodePoints(separator)), true));
  return new MEveryOf(every);
}

/** The separators glueAsEvery would take this matcher with (null: it would not take it). */
function everySep(m: Matcher): string | null {
  if (m instanceof MSuper) return "";
  if (m instanceof MAny || m instanceof MSingle) return m.seps.join(",");
  if (m instanceof MList && m.not) return m.list.join(",");
  return null;
}

/**
 * gobwas's minimizeMatchers: glue the best range of matchers (by its scan over all ranges, left
 * to right, longest first; a range replaces the best so far when it is longer, or when both glue
 * into rows and its row is longer), then again, until nothing glues. The ranges that glue from
 * a given start are those up to the end of the longest one (every matcher taken by glueAsEvery
 * with the same separators, or all of fixed length), and of those only the longest can win (the
 * shorter ones are no longer, and their rows no longer either), so each pass looks at one range
 * per start: linear instead of cubic. `budget` bounds the total work.
 */
function minimizeMatchers(ms: Matcher[], budget: Budget): Matcher[] {
  let cur = ms;
  for (;;) {
    const n = cur.length;
    spend(budget, n);
    const seps = cur.map(everySep);
    const lens = cur.map((m) => m.len());
    const everyEnd = new Array<number>(n + 1).fill(0);
    const fixedEnd = new Array<number>(n + 1).fill(0);
    const sums = new Array<number>(n + 1).fill(0);
    for (let i = 0; i < n; i++) sums[i + 1] = sums[i] + Math.max(lens[i], 0);
    for (let i = n - 1; i >= 0; i--) {
      everyEnd[i] = seps[i] === null ? i : i + 1 < n && seps[i + 1] === seps[i] ? everyEnd[i + 1] : i + 1;
      fixedEnd[i] = lens[i] === -1 ? i : i + 1 < n && lens[i + 1] !== -1 ? fixedEnd[i + 1] : i + 1;
    }
    let found = false;
    let left = 0;
    let right = 0;
    let count = 0;
    let doneLen = -1;
    for (let l = 0; l < n; l++) {
      const r = Math.max(everyEnd[l], fixedEnd[l]);
      if (r - l < 2) continue;
      const gl = r <= everyEnd[l] ? -1 : sums[r] - sums[l];
      const swap = !found || (doneLen > -1 && gl > -1 && gl > doneLen) || count < r - l;
      if (swap) {
        found = true;
        left = l;
        right = r;
        count = r - l;
        doneLen = gl;
      }
    }
    if (!found) return cur;
    cur = [...cur.slice(0, left), glue(cur.slice(left, right))!, ...cur.slice(right)];
  }
}

function commonChildren(nodes: Node[], ctx: Ctx): [Node[], Node[]] {
  const commonLeft: Node[] = [];
  if (nodes.length <= 1) return [[], []];
  let idx = -1;
  let min = -1;
  nodes.forEach((n, i) => {
    if (idx === -1 || n.children.length < min) {
      min = n.children.length;
      idx = i;
    }
  });
  const tree = nodes[idx];
  const treeLength = tree.children.length;
  const commonRight: Node[] = new Array(treeLength);
  let lastRight = treeLength;
  let breakLeft = false;
  let breakRight = false;
  let commonTotal = 0;
  for (let i = 0, j = treeLength - 1; commonTotal < treeLength && j >= 0 && !(breakLeft && breakRight); i++, j--) {
    const treeLeft = tree.children[i];
    const treeRight = tree.children[j];
    for (let k = 0; k < nodes.length && !(breakLeft && breakRight); k++) {
      if (k === idx) continue;
      const restLeft = nodes[k].children[i];
      const restRight = nodes[k].children[j + nodes[k].children.length - treeLength];
      spend(ctx.budget, 1);
      breakLeft = breakLeft || !nodeEqual(treeLeft, restLeft, ctx);
      breakRight = breakRight || (!breakLeft && j <= i);
      breakRight = breakRight || !nodeEqual(treeRight, restRight, ctx);
    }
    if (!breakLeft) {
      commonTotal++;
      commonLeft.push(treeLeft);
    }
    if (!breakRight) {
      commonTotal++;
      lastRight = j;
      commonRight[j] = treeRight;
    }
  }
  return [commonLeft, commonRight.slice(lastRight)];
}

function minimizeAnyOf(tree: Node, ctx: Ctx): Node | null {
  if (!tree.children.every((c) => c.kind === Kind.Pattern)) return null;
  const [cl, cr] = commonChildren(tree.children, ctx);
  if (cl.length === 0 && cr.length === 0) return null;
  const result: Node[] = [];
  if (cl.length > 0) result.push(newNode(Kind.Pattern, {}, cl));
  const anyOf: Node[] = [];
  const seen = new Set<number>();
  for (const child of tree.children) {
    const reuse = child.children.slice(cl.length, child.children.length - cr.length);
    const node = reuse.length === 0 ? newNode(Kind.Nothing) : newNode(Kind.Pattern, {}, reuse);
    const id = structId(node, ctx);
    if (!seen.has(id)) {
      seen.add(id);
      anyOf.push(node);
    }
  }
  if (anyOf.length === 1 && anyOf[0].kind !== Kind.Nothing) result.push(anyOf[0]);
  else if (anyOf.length > 1) result.push(newNode(Kind.AnyOf, {}, anyOf));
  if (cr.length > 0) result.push(newNode(Kind.Pattern, {}, cr));
  return newNode(Kind.Pattern, {}, result);
}

function compileChildren(tree: Node, ctx: Ctx): Matcher[] {
  return tree.children.map((c) => optimize(compileNode(c, ctx))!);
}

function compileNode(tree: Node, ctx: Ctx): Matcher {
  const sep = ctx.sep;
  let m: Matcher;
  switch (tree.kind) {
    case Kind.AnyOf: {
      const n = minimizeAnyOf(tree, ctx);
      if (n !== null) return compileNode(n, ctx);
      return new MAnyOf(compileChildren(tree, ctx));
    }
    case Kind.Pattern: {
      if (tree.children.length === 0) return new MNothing();
      const ms = minimizeMatchers(compileChildren(tree, ctx), ctx.budget);
      if (ms.length > MAX_SEQUENCE) throw new GlobError(TOO_COMPLEX);
      m = compileMatchers(ms, ctx.budget);
      break;
    }
    case Kind.Any:
      m = new MAny(sep);
      break;
    case Kind.Super:
      m = new MSuper();
      break;
    case Kind.Single:
      m = new MSingle(sep);
      break;
    case Kind.Nothing:
      m = new MNothing();
      break;
    case Kind.List:
      m = new MList(tree.chars!, !!tree.not);
      break;
    case Kind.Range:
      m = new MRange(tree.lo!, tree.hi!, !!tree.not);
      break;
    case Kind.Text:
      m = new MText(toBytes(fromCodePoints(tree.text!)));
      break;
  }
  return optimize(m)!;
}

/** Compile a glob with separators (runes); throws GlobError with gobwas's message. */
export function compileGlob(pattern: string, separators: number[]): (s: string) => boolean {
  const m = compileNode(parseGlob(pattern), { sep: separators, budget: { work: 0 }, sids: new Map() });
  return (s) => m.match(toBytes(s));
}

type Compiled = ((s: string) => boolean) | GlobError;
// pattern → delimiters key → compiled glob
const cache = new Map<string, Map<string, Compiled>>();
const CACHE_MAX = 1000;

/** The compiled glob for a pattern and its delimiters operand (already checked by delimKey). */
function getGlob(pattern: string, d: Value, key: string): (s: string) => boolean {
  let inner = cache.get(pattern);
  let g = inner?.get(key);
  if (g === undefined) {
    try {
      g = compileGlob(pattern, delimiters(d));
    } catch (e) {
      if (!(e instanceof GlobError)) throw e;
      g = e;
    }
    if (inner === undefined) {
      if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value as string);
      cache.set(pattern, (inner = new Map()));
    }
    inner.set(key, g);
  }
  if (g instanceof GlobError) throw new BuiltinError(`glob.match: ${g.message}`);
  return g;
}

/** Check the delimiters operand; returns a key for it (null → "", [] → ".", [".", "/"] → "./"). */
function delimKey(v: Value): string {
  if (v === null) return "";
  if (!Array.isArray(v)) throw operandError("glob.match", 2, "one of {array, null}", v);
  if (v.length === 0) return ".";
  let key = "";
  for (const x of v) {
    if (typeof x !== "string")
      throw new BuiltinTypeError(`glob.match: operand 2 must be array of strings but got array containing ${typeName(x)}`);
    const cp = x.codePointAt(0);
    if (cp === undefined || x.length !== (cp > 0xffff ? 2 : 1))
      throw new BuiltinTypeError("glob.match: operand 2 must be array of runes but got array containing string");
    key = v.length === 1 ? x : key + x;
  }
  return key;
}

const DOT = [0x2e];

function delimiters(v: Value): number[] {
  if (v === null) return [];
  const a = v as string[];
  if (a.length === 0) return DOT;
  return a.map((x) => x.codePointAt(0)!);
}

const GLOB_META = /[*?\\[\]{}]/g;

export const builtins: Builtin[] = [
  {
    name: "glob.match",
    decl: T.fn([T.string, T.anyOf(T.null, T.arrayOf(T.string)), T.string], T.boolean),
    impl: ([p, d, s]) => {
      if (typeof p !== "string") throw operandError("glob.match", 1, "string", p);
      const key = delimKey(d);
      if (typeof s !== "string") throw operandError("glob.match", 3, "string", s);
      return getGlob(p, d, key)(s);
    },
  },
  {
    name: "glob.quote_meta",
    decl: T.fn([T.string], T.string),
    impl: ([p]) => {
      if (typeof p !== "string") throw operandError("glob.quote_meta", 1, "string", p);
      return p.replace(GLOB_META, "\\$&");
    },
  },
];

/** For tests: the compiled matcher tree of a pattern. */
export const __internals = {
  compile: (pattern: string, separators: number[]): unknown =>
    compileNode(parseGlob(pattern), { sep: separators, budget: { work: 0 }, sids: new Map() }),
};
