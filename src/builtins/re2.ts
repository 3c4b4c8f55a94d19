// RE2 (Go regexp) syntax and semantics. Every pattern that policies or inputs supply (regex.*
// builtins, JSON Schema `pattern`, Gatekeeper parameter schemas, CUE =~) is compiled here and
// matched by the linear-time engines of re2vm.ts; no JS RegExp ever runs a whole pattern.
//
// The parser follows Go's regexp/syntax rules (Perl flags: `.` excludes \n unless (?s), `^`/`$`
// match at text boundaries unless (?m), ASCII-only \d \s \w \b, POSIX and Unicode classes,
// (?i) (?m) (?s) (?U) flags and flag groups, \Q…\E, octal and \x{…} escapes) and rejects what Go
// rejects, with Go's error texts. It builds Go's program shape; matching is leftmost-first with
// Go's capture semantics. Only single-character classes with Unicode properties or non-ASCII case
// folding are tested by a (sticky, one-character) JS RegExp.

import { type Program, backtrack, backtrackFits, buildProgram, dfaSearch, pike } from "./re2vm.ts";

export class RegexSyntaxError extends Error {}

function fail(code: string, expr: string): never {
  throw new RegexSyntaxError(`error parsing regexp: ${code}: \`${expr}\``);
}

const ERR = {
  missingBracket: "missing closing ]",
  missingParen: "missing closing )",
  unexpectedParen: "unexpected )",
  missingRepeatArg: "missing argument to repetition operator",
  invalidRepeatOp: "invalid nested repetition operator",
  invalidRepeatSize: "invalid repeat count",
  invalidEscape: "invalid escape sequence",
  invalidCharRange: "invalid character class range",
  invalidNamedCapture: "invalid named capture",
  invalidPerlOp: "invalid or unsupported Perl syntax",
  trailingBackslash: "trailing backslash at end of expression",
  nestingDepth: "expression nests too deeply",
};

// ---- AST -------------------------------------------------------------------------------------

export type Node =
  | { k: "lit"; cp: number; fold: boolean }
  | { k: "class"; ranges: number[]; props: string[]; neg: boolean; fold: boolean }
  | { k: "dot"; nl: boolean }
  | { k: "bol" | "eol" | "bot" | "eot" | "wb" | "nwb" | "empty" }
  | { k: "cap"; idx: number; sub: Node }
  | { k: "cat"; subs: Node[] }
  | { k: "alt"; subs: Node[] }
  | { k: "rep"; sub: Node; min: number; max: number; greedy: boolean };

interface Flags {
  i: boolean;
  m: boolean;
  s: boolean;
  U: boolean;
}

type StackItem = Node | { k: "("; cap: number; flags: Flags } | { k: "|" };

// ---- Character class helpers -----------------------------------------------------------------

const MAX_RUNE = 0x10ffff;

/** Sorted, merged ranges. */
function cleanRanges(r: number[]): number[] {
  const pairs: [number, number][] = [];
  for (let i = 0; i < r.length; i += 2) pairs.push([r[i], r[i + 1]]);
  pairs.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const out: number[] = [];
  for (const [lo, hi] of pairs) {
    const n = out.length;
    if (n > 0 && lo <= out[n - 1] + 1) {
      if (hi > out[n - 1]) out[n - 1] = hi;
    } else out.push(lo, hi);
  }
  return out;
}

function negateRanges(r: number[]): number[] {
  const c = cleanRanges(r);
  const out: number[] = [];
  let next = 0;
  for (let i = 0; i < c.length; i += 2) {
    if (c[i] > next) out.push(next, c[i] - 1);
    next = c[i + 1] + 1;
  }
  if (next <= MAX_RUNE) out.push(next, MAX_RUNE);
  return out;
}

const PERL: Record<string, number[]> = {
  d: [0x30, 0x39],
  s: [0x09, 0x0a, 0x0c, 0x0d, 0x20, 0x20],
  w: [0x30, 0x39, 0x41, 0x5a, 0x5f, 0x5f, 0x61, 0x7a],
};

const POSIX: Record<string, number[]> = {
  alnum: [0x30, 0x39, 0x41, 0x5a, 0x61, 0x7a],
  alpha: [0x41, 0x5a, 0x61, 0x7a],
  ascii: [0x00, 0x7f],
  blank: [0x09, 0x09, 0x20, 0x20],
  cntrl: [0x00, 0x1f, 0x7f, 0x7f],
  digit: [0x30, 0x39],
  graph: [0x21, 0x7e],
  lower: [0x61, 0x7a],
  print: [0x20, 0x7e],
  punct: [0x21, 0x2f, 0x3a, 0x40, 0x5b, 0x60, 0x7b, 0x7e],
  space: [0x09, 0x0d, 0x20, 0x20],
  upper: [0x41, 0x5a],
  word: [0x30, 0x39, 0x41, 0x5a, 0x5f, 0x5f, 0x61, 0x7a],
  xdigit: [0x30, 0x39, 0x41, 0x46, 0x61, 0x66],
};

const CATEGORIES = new Set([
  "C", "Cc", "Cf", "Cn", "Co", "Cs", "L", "Ll", "Lm", "Lo", "Lt", "Lu", "M", "Mc", "Me", "Mn", "N", "Nd", "Nl", "No", "P",
  "Pc", "Pd", "Pe", "Pf", "Pi", "Po", "Ps", "S", "Sc", "Sk", "Sm", "So", "Z", "Zl", "Zp", "Zs",
]);
// Unicode scripts Go knows whose table key survives Go's name canonicalization (keys with
// underscores or inner capitals, such as Old_Italic, cannot be reached from a pattern).
const SCRIPTS = new Set(
  "Adlam Ahom Arabic Armenian Avestan Balinese Bamum Batak Bengali Bhaiksuki Bopomofo Brahmi Braille Buginese Buhid Carian Chakma Cham Cherokee Chorasmian Common Coptic Cuneiform Cypriot Cyrillic Deseret Devanagari Dogra Duployan Elbasan Elymaic Ethiopic Georgian Glagolitic Gothic Grantha Greek Gujarati Gurmukhi Han Hangul Hanunoo Hatran Hebrew Hiragana Inherited Javanese Kaithi Kannada Katakana Kawi Kharoshthi Khmer Khojki Khudawadi Lao Latin Lepcha Limbu Lisu Lycian Lydian Mahajani Makasar Malayalam Mandaic Manichaean Marchen Medefaidrin Miao Modi Mongolian Mro Multani Myanmar Nabataean Nandinagari Newa Nko Nushu Ogham Oriya Osage Osmanya Palmyrene Phoenician Rejang Runic Samaritan Saurashtra Sharada Shavian Siddham Sinhala Sogdian Soyombo Sundanese Syriac Tagalog Tagbanwa Takri Tamil Tangsa Tangut Telugu Thaana Thai Tibetan Tifinagh Tirhuta Toto Ugaritic Vai Vithkuqi Wancho Yezidi Yi".split(" "),
);
// Long category names, keyed by their canonical form.
const CATEGORY_ALIASES: Record<string, string> = {
  Casedletter: "LC", Closepunctuation: "Pe", Combiningmark: "M", Connectorpunctuation: "Pc", Control: "Cc",
  Currencysymbol: "Sc", Dashpunctuation: "Pd", Decimalnumber: "Nd", Enclosingmark: "Me", Finalpunctuation: "Pf",
  Format: "Cf", Initialpunctuation: "Pi", Letter: "L", Letternumber: "Nl", Lineseparator: "Zl", Lowercaseletter: "Ll",
  Mark: "M", Mathsymbol: "Sm", Modifierletter: "Lm", Modifiersymbol: "Sk", Nonspacingmark: "Mn", Number: "N",
  Openpunctuation: "Ps", Other: "C", Otherletter: "Lo", Othernumber: "No", Otherpunctuation: "Po", Othersymbol: "So",
  Paragraphseparator: "Zp", Privateuse: "Co", Punctuation: "P", Separator: "Z", Spaceseparator: "Zs", Spacingmark: "Mc",
  Surrogate: "Cs", Symbol: "S", Titlecaseletter: "Lt", Unassigned: "Cn", Uppercaseletter: "Lu", Cntrl: "Cc", Digit: "Nd",
  Punct: "P",
};

/** Go's lookup form of a class name: separators (_ - space) dropped, first letter upper, rest lower. */
function canonicalName(name: string): string {
  let out = "";
  let first = true;
  for (const ch of name) {
    if (ch === "_" || ch === "-" || ch === " ") continue;
    if (first) {
      out += ch >= "a" && ch <= "z" ? ch.toUpperCase() : ch;
      first = false;
    } else out += ch >= "A" && ch <= "Z" ? ch.toLowerCase() : ch;
  }
  return out;
}

/** A Go Unicode class name as ranges or a JS property escape (and its sign), or null. */
function unicodeProp(name: string): { ranges: number[]; prop: string; sign: number } | null {
  const c = canonicalName(name);
  switch (c) {
    case "Any":
      return { ranges: [0, MAX_RUNE], prop: "", sign: 1 };
    case "Assigned":
      return { ranges: [], prop: "\\p{Cn}", sign: -1 };
    case "Ascii":
      return { ranges: [0, 0x7f], prop: "", sign: 1 };
    case "Lc":
      return { ranges: [], prop: "\\p{LC}", sign: 1 };
  }
  if (CATEGORIES.has(c)) return { ranges: [], prop: `\\p{${c}}`, sign: 1 };
  if (SCRIPTS.has(c)) return { ranges: [], prop: `\\p{Script=${c}}`, sign: 1 };
  if (Object.hasOwn(CATEGORY_ALIASES, c)) return { ranges: [], prop: `\\p{${CATEGORY_ALIASES[c]}}`, sign: 1 };
  return null;
}

/** Case-fold closure of a set of ASCII ranges (Go's orbits: k K U+212A, s S U+017F, a-z A-Z). */
function foldASCII(r: number[]): number[] {
  const out = r.slice();
  const has = (c: number) => {
    for (let i = 0; i < r.length; i += 2) if (c >= r[i] && c <= r[i + 1]) return true;
    return false;
  };
  for (let c = 0x41; c <= 0x5a; c++) {
    if (has(c) || has(c + 32)) out.push(c, c, c + 32, c + 32);
  }
  if (has(0x4b) || has(0x6b)) out.push(0x212a, 0x212a);
  if (has(0x53) || has(0x73)) out.push(0x17f, 0x17f);
  return cleanRanges(out);
}

/** A Perl, POSIX or ASCII group: folded first under (?i), then negated, as Go builds it. */
function group(r: number[], negate: boolean, fold: boolean): number[] {
  const f = fold ? foldASCII(r) : r.slice();
  return negate ? negateRanges(f) : f;
}

function hasCase(cp: number): boolean {
  if (cp < 0x80) return (cp >= 0x41 && cp <= 0x5a) || (cp >= 0x61 && cp <= 0x7a);
  const ch = String.fromCodePoint(cp);
  return ch.toLowerCase() !== ch || ch.toUpperCase() !== ch || cp === 0x17f || cp === 0x212a || cp === 0x212b || cp === 0x3c2;
}

// ---- Parser ----------------------------------------------------------------------------------

function isAlnum(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

function unhex(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  return -1;
}

class Parser {
  stack: StackItem[] = [];
  flags: Flags = { i: false, m: false, s: false, U: false };
  ncap = 0;
  names: (string | null)[] = [null];
  depth = 0;
  constructor(readonly src: string) {}

  cpAt(i: number): number {
    return this.src.codePointAt(i) ?? -1;
  }
  width(i: number): number {
    const c = this.src.charCodeAt(i);
    return c >= 0xd800 && c <= 0xdbff && i + 1 < this.src.length ? 2 : 1;
  }

  push(n: Node): void {
    this.stack.push(n);
  }

  literal(cp: number): void {
    this.push({ k: "lit", cp, fold: this.flags.i && hasCase(cp) });
  }

  parse(): { node: Node; ncap: number; names: (string | null)[] } {
    const s = this.src;
    let i = 0;
    let lastRepeat = -1; // index where the previous repetition operator started, or -1
    while (i < s.length) {
      let repeat = -1;
      const c = s.charCodeAt(i);
      switch (c) {
        case 0x28: // (
          if (s.charCodeAt(i + 1) === 0x3f) {
            i = this.parsePerlFlags(i);
            break;
          }
          this.openParen(++this.ncap, null);
          i++;
          break;
        case 0x7c: // |
          this.verticalBar();
          i++;
          break;
        case 0x29: // )
          this.rightParen();
          i++;
          break;
        case 0x5e: // ^
          this.push({ k: this.flags.m ? "bol" : "bot" });
          i++;
          break;
        case 0x24: // $
          this.push({ k: this.flags.m ? "eol" : "eot" });
          i++;
          break;
        case 0x2e: // .
          this.push({ k: "dot", nl: this.flags.s });
          i++;
          break;
        case 0x5b: // [
          i = this.parseClass(i);
          break;
        case 0x2a: // *
        case 0x2b: // +
        case 0x3f: {
          // ?
          const before = i;
          let after = i + 1;
          const [min, max] = c === 0x2a ? [0, -1] : c === 0x2b ? [1, -1] : [0, 1];
          after = this.repeat(min, max, before, after, lastRepeat, false);
          repeat = before;
          i = after;
          break;
        }
        case 0x7b: {
          // {
          const r = this.parseRepeat(i);
          if (r === null) {
            this.literal(0x7b);
            i++;
            break;
          }
          const [min, max, after0] = r;
          if (min < 0 || min > 1000 || max > 1000 || (max >= 0 && min > max)) fail(ERR.invalidRepeatSize, s.slice(i, after0));
          const after = this.repeat(min, max, i, after0, lastRepeat, true);
          repeat = i;
          i = after;
          break;
        }
        case 0x5c: {
          // backslash
          const n = s.charCodeAt(i + 1);
          if (i + 1 < s.length) {
            let handled = true;
            switch (n) {
              case 0x41: // A
                this.push({ k: "bot" });
                i += 2;
                break;
              case 0x62: // b
                this.push({ k: "wb" });
                i += 2;
                break;
              case 0x42: // B
                this.push({ k: "nwb" });
                i += 2;
                break;
              case 0x43: // C
                fail(ERR.invalidEscape, s.slice(i, i + 2));
                break;
              case 0x51: {
                // Q
                const e = s.indexOf("\\E", i + 2);
                const lit = e < 0 ? s.slice(i + 2) : s.slice(i + 2, e);
                for (const ch of lit) this.literal(ch.codePointAt(0)!);
                i = e < 0 ? s.length : e + 2;
                break;
              }
              case 0x7a: // z
                this.push({ k: "eot" });
                i += 2;
                break;
              default:
                handled = false;
            }
            if (handled) break;
          }
          if (n === 0x70 || n === 0x50) {
            const r = this.parseUnicodeClass(i);
            if (r !== null) {
              this.push({ k: "class", ranges: r.ranges, props: r.props, neg: r.neg, fold: this.flags.i });
              i = r.end;
              break;
            }
          }
          const perl = this.parsePerlClass(i);
          if (perl !== null) {
            this.push({ k: "class", ranges: perl.ranges, props: [], neg: false, fold: this.flags.i });
            i = perl.end;
            break;
          }
          const [cp, end] = this.parseEscape(i);
          this.literal(cp);
          i = end;
          break;
        }
        default: {
          const cp = this.cpAt(i);
          this.literal(cp);
          i += this.width(i);
        }
      }
      lastRepeat = repeat;
    }
    this.concat();
    this.alternate();
    if (this.stack.length !== 1) fail(ERR.missingParen, s);
    return { node: this.stack[0] as Node, ncap: this.ncap, names: this.names };
  }

  openParen(cap: number, name: string | null): void {
    if (++this.depth > 1000) fail(ERR.nestingDepth, this.src);
    this.stack.push({ k: "(", cap, flags: { ...this.flags } });
    if (cap > 0) this.names[cap] = name;
  }

  /** Returns the index after the operator. */
  repeat(min: number, max: number, before: number, after: number, lastRepeat: number, braces: boolean): number {
    let greedy = !this.flags.U;
    if (after < this.src.length && this.src.charCodeAt(after) === 0x3f) {
      after++;
      greedy = !greedy;
    }
    if (lastRepeat >= 0) fail(ERR.invalidRepeatOp, this.src.slice(lastRepeat, after));
    const n = this.stack.length;
    const top = n > 0 ? this.stack[n - 1] : null;
    if (top === null || top.k === "(" || top.k === "|") fail(ERR.missingRepeatArg, this.src.slice(before, after));
    const re: Node = { k: "rep", sub: top as Node, min, max, greedy };
    this.stack[n - 1] = re;
    if (braces && (min >= 2 || max >= 2) && !repeatIsValid(re, 1000)) fail(ERR.invalidRepeatSize, this.src.slice(before, after));
    return after;
  }

  parseRepeat(i: number): [number, number, number] | null {
    const s = this.src;
    let j = i + 1;
    const int = (): number | null => {
      const st = j;
      if (j >= s.length || s.charCodeAt(j) < 0x30 || s.charCodeAt(j) > 0x39) return null;
      if (s.charCodeAt(j) === 0x30 && j + 1 < s.length && s.charCodeAt(j + 1) >= 0x30 && s.charCodeAt(j + 1) <= 0x39) return null;
      while (j < s.length && s.charCodeAt(j) >= 0x30 && s.charCodeAt(j) <= 0x39) j++;
      const digits = s.slice(st, j);
      let n = 0;
      for (const d of digits) {
        if (n >= 1e8) return -1;
        n = n * 10 + (d.charCodeAt(0) - 0x30);
      }
      return n;
    };
    let min = int();
    if (min === null) return null;
    if (j >= s.length) return null;
    let max: number;
    if (s[j] !== ",") max = min;
    else {
      j++;
      if (j >= s.length) return null;
      if (s[j] === "}") max = -1;
      else {
        const m = int();
        if (m === null) return null;
        max = m;
        if (max < 0) min = -1;
      }
    }
    if (j >= s.length || s[j] !== "}") return null;
    return [min, max, j + 1];
  }

  parsePerlFlags(i: number): number {
    const s = this.src;
    const t = s.slice(i);
    const startsWithP = t.length > 4 && t[2] === "P" && t[3] === "<";
    const startsWithName = t.length > 3 && t[2] === "<";
    if (startsWithP || startsWithName) {
      const exprStart = startsWithP ? 4 : 3;
      const end = t.indexOf(">");
      if (end < 0) fail(ERR.invalidNamedCapture, t);
      const capture = t.slice(0, end + 1);
      const name = t.slice(exprStart, end);
      if (name === "" || !/^[A-Za-z0-9_]+$/.test(name)) fail(ERR.invalidNamedCapture, capture);
      this.openParen(++this.ncap, name);
      return i + end + 1;
    }
    let j = i + 2;
    const flags = { ...this.flags };
    let sign = 1;
    let sawFlag = false;
    while (j < s.length) {
      const c = s[j];
      j += this.width(j);
      switch (c) {
        case "i":
        case "m":
        case "s":
        case "U":
          flags[c] = sign > 0;
          sawFlag = true;
          continue;
        case "-":
          if (sign < 0) break;
          sign = -1;
          sawFlag = false;
          continue;
        case ":":
        case ")":
          if (sign < 0 && !sawFlag) break;
          if (c === ":") this.openParen(0, null);
          this.flags = flags;
          return j;
      }
      break;
    }
    fail(ERR.invalidPerlOp, s.slice(i, j));
  }

  /** Collapse the items above the last marker into one concatenation. */
  concat(): void {
    let i = this.stack.length;
    while (i > 0 && this.stack[i - 1].k !== "(" && this.stack[i - 1].k !== "|") i--;
    const subs = this.stack.splice(i) as Node[];
    if (subs.length === 0) this.stack.push({ k: "empty" });
    else if (subs.length === 1) this.stack.push(subs[0]);
    else this.stack.push({ k: "cat", subs });
  }

  /** Collapse alternatives (separated by | markers) above the last ( into one node. */
  alternate(): void {
    let i = this.stack.length;
    while (i > 0 && this.stack[i - 1].k !== "(") i--;
    const items = this.stack.splice(i).filter((x) => x.k !== "|") as Node[];
    if (items.length === 0) this.stack.push({ k: "empty" });
    else if (items.length === 1) this.stack.push(items[0]);
    else this.stack.push({ k: "alt", subs: items });
  }

  verticalBar(): void {
    this.concat();
    this.stack.push({ k: "|" });
  }

  rightParen(): void {
    this.concat();
    this.alternate();
    const n = this.stack.length;
    if (n < 2) fail(ERR.unexpectedParen, this.src);
    const inner = this.stack.pop() as Node;
    const open = this.stack.pop()!;
    if (open.k !== "(") fail(ERR.unexpectedParen, this.src);
    this.depth--;
    this.flags = open.flags;
    this.push(open.cap > 0 ? { k: "cap", idx: open.cap, sub: inner } : inner);
  }

  parsePerlClass(i: number): { ranges: number[]; end: number } | null {
    const s = this.src;
    if (s.charCodeAt(i) !== 0x5c || i + 1 >= s.length) return null;
    const c = s[i + 1];
    if (c === "d" || c === "s" || c === "w") return { ranges: group(PERL[c], false, this.flags.i), end: i + 2 };
    if (c === "D" || c === "S" || c === "W") return { ranges: group(PERL[c.toLowerCase()], true, this.flags.i), end: i + 2 };
    return null;
  }

  /** \pX, \p{Name}, \PX, \P{^Name}; null when s[i..] is not one (not committed). */
  parseUnicodeClass(i: number): { ranges: number[]; props: string[]; neg: boolean; end: number } | null {
    const s = this.src;
    if (i + 2 >= s.length) fail(ERR.invalidCharRange, s.slice(i));
    let sign = s[i + 1] === "P" ? -1 : 1;
    let name: string;
    let seqEnd: number;
    if (s[i + 2] !== "{") {
      seqEnd = i + 2 + this.width(i + 2);
      name = s.slice(i + 2, seqEnd);
    } else {
      const end = s.indexOf("}", i);
      if (end < 0) fail(ERR.invalidCharRange, s.slice(i));
      seqEnd = end + 1;
      name = s.slice(i + 3, end);
    }
    if (name.startsWith("^")) {
      sign = -sign;
      name = name.slice(1);
    }
    const u = unicodeProp(name);
    if (u === null) fail(ERR.invalidCharRange, s.slice(i, seqEnd));
    sign *= u.sign;
    if (u.prop === "") return { ranges: group(u.ranges, sign < 0, this.flags.i && u.ranges[1] !== MAX_RUNE), props: [], neg: false, end: seqEnd };
    return { ranges: [], props: [sign > 0 ? u.prop : u.prop.replace("\\p", "\\P")], neg: false, end: seqEnd };
  }

  /** An escape outside the Perl/Unicode classes: returns [code point, end]. */
  parseEscape(i: number): [number, number] {
    const s = this.src;
    let j = i + 1;
    if (j >= s.length) fail(ERR.trailingBackslash, "");
    const c = this.cpAt(j);
    j += this.width(j);
    const bad = (): never => fail(ERR.invalidEscape, s.slice(i, j));
    if (c < 0x80 && !isAlnum(c)) return [c, j];
    switch (c) {
      case 0x31:
      case 0x32:
      case 0x33:
      case 0x34:
      case 0x35:
      case 0x36:
      case 0x37:
        if (j >= s.length || s.charCodeAt(j) < 0x30 || s.charCodeAt(j) > 0x37) bad();
      // falls through
      case 0x30: {
        let r = c - 0x30;
        for (let k = 1; k < 3; k++) {
          if (j >= s.length || s.charCodeAt(j) < 0x30 || s.charCodeAt(j) > 0x37) break;
          r = r * 8 + s.charCodeAt(j) - 0x30;
          j++;
        }
        return [r, j];
      }
      case 0x78: {
        // x
        if (j >= s.length) bad();
        const d = this.cpAt(j);
        j += this.width(j);
        if (d === 0x7b) {
          let nhex = 0;
          let r = 0;
          for (;;) {
            if (j >= s.length) bad();
            const h = this.cpAt(j);
            j += this.width(j);
            if (h === 0x7d) break;
            const v = unhex(h);
            if (v < 0) bad();
            r = r * 16 + v;
            if (r > MAX_RUNE) bad();
            nhex++;
          }
          if (nhex === 0) bad();
          return [r, j];
        }
        const x = unhex(d);
        if (j >= s.length) bad();
        const e = this.cpAt(j);
        j += this.width(j);
        const y = unhex(e);
        if (x < 0 || y < 0) bad();
        return [x * 16 + y, j];
      }
      case 0x61:
        return [7, j];
      case 0x66:
        return [12, j];
      case 0x6e:
        return [10, j];
      case 0x72:
        return [13, j];
      case 0x74:
        return [9, j];
      case 0x76:
        return [11, j];
    }
    return bad();
  }

  parseClass(start: number): number {
    const s = this.src;
    let i = start + 1;
    let neg = false;
    if (i < s.length && s[i] === "^") {
      neg = true;
      i++;
    }
    let ranges: number[] = [];
    const props: string[] = [];
    let first = true;
    while (i >= s.length || s[i] !== "]" || first) {
      first = false;
      if (i >= s.length) fail(ERR.missingBracket, s.slice(start));
      // POSIX [:name:]
      if (s.length - i > 2 && s[i] === "[" && s[i + 1] === ":") {
        const e = s.indexOf(":]", i + 2);
        if (e >= 0) {
          const full = s.slice(i, e + 2);
          let name = s.slice(i + 2, e);
          let pneg = false;
          if (name.startsWith("^")) {
            pneg = true;
            name = name.slice(1);
          }
          const r = Object.hasOwn(POSIX, name) ? POSIX[name] : undefined;
          if (!r) fail(ERR.invalidCharRange, full);
          ranges.push(...group(r, pneg, this.flags.i));
          i = e + 2;
          continue;
        }
      }
      if (s[i] === "\\" && (s[i + 1] === "p" || s[i + 1] === "P")) {
        const u = this.parseUnicodeClass(i);
        if (u !== null) {
          ranges.push(...u.ranges);
          props.push(...u.props);
          i = u.end;
          continue;
        }
      }
      const perl = this.parsePerlClass(i);
      if (perl !== null) {
        ranges.push(...perl.ranges);
        i = perl.end;
        continue;
      }
      const rngStart = i;
      let lo: number;
      [lo, i] = this.classChar(i, start);
      let hi = lo;
      if (s.length - i >= 2 && s[i] === "-" && s[i + 1] !== "]") {
        i++;
        [hi, i] = this.classChar(i, start);
        if (hi < lo) fail(ERR.invalidCharRange, s.slice(rngStart, i));
      }
      ranges.push(lo, hi);
    }
    i++; // ]
    ranges = cleanRanges(ranges);
    this.push({ k: "class", ranges, props, neg, fold: this.flags.i });
    return i;
  }

  classChar(i: number, classStart: number): [number, number] {
    const s = this.src;
    if (i >= s.length) fail(ERR.missingBracket, s.slice(classStart));
    if (s[i] === "\\") return this.parseEscape(i);
    return [this.cpAt(i), i + this.width(i)];
  }
}

function repeatIsValid(re: Node, n: number): boolean {
  if (re.k === "rep" && !(re.min <= 1 && re.max === -1) && !(re.min === 0 && re.max === 1)) {
    let m = re.max;
    if (m === 0) return true;
    if (m < 0) m = re.min;
    if (m > n) return false;
    if (m > 0) n = Math.trunc(n / m);
  }
  switch (re.k) {
    case "rep":
    case "cap":
      return repeatIsValid(re.sub, n);
    case "cat":
    case "alt":
      return re.subs.every((x) => repeatIsValid(x, n));
  }
  return true;
}

// ---- Translation -----------------------------------------------------------------------------

function hex(cp: number): string {
  return cp.toString(16);
}

function escapeCp(cp: number): string {
  if (cp < 0x80) {
    const ch = String.fromCharCode(cp);
    if ("^$\\.*+?()[]{}|/".includes(ch)) return "\\" + ch;
    if (cp < 0x20 || cp === 0x7f) return "\\x" + (cp < 16 ? "0" : "") + hex(cp);
    return ch;
  }
  return `\\u{${hex(cp)}}`;
}

function classBody(ranges: number[]): string {
  let out = "";
  for (let i = 0; i < ranges.length; i += 2) {
    const lo = ranges[i];
    const hi = ranges[i + 1];
    const a = isAlnum(lo) ? String.fromCharCode(lo) : `\\u{${hex(lo)}}`;
    if (lo === hi) out += a;
    else out += a + "-" + (isAlnum(hi) ? String.fromCharCode(hi) : `\\u{${hex(hi)}}`);
  }
  return out;
}

/**
 * A one-character node as a JS RegExp source (used with the u flag, and i for folded nodes):
 * classes with Unicode properties, and case-folded classes and literals beyond ASCII letters.
 */
function oneCharSource(n: Node): string {
  switch (n.k) {
    case "lit":
      return escapeCp(n.cp);
    case "class": {
      const { ranges, props, neg } = n;
      if (n.fold && !neg && props.length === 1 && ranges.length === 0 && props[0].startsWith("\\P")) {
        // complement of the folded property: what the JS i flag cannot say in a class
        return "(?:(?!" + props[0].replace("\\P", "\\p") + ")[\\s\\S])";
      }
      const body = classBody(ranges) + props.join("");
      if (body === "") return neg ? "[\\s\\S]" : "[]";
      return "[" + (neg ? "^" : "") + body + "]";
    }
    case "dot":
      return n.nl ? "[\\s\\S]" : "[^\\n]";
  }
  throw new Error(`not a one-character node: ${n.k}`);
}

/**
 * A case-folded literal or a class as ranges when they can say it (no Unicode properties; case
 * folding only of ASCII, whose orbits Go extends by K U+212A and S U+017F), else as a sticky
 * one-character RegExp.
 */
function classify(n: Node): { ranges: number[]; neg: boolean } | RegExp {
  if (n.k === "lit" && n.cp < 0x80) return { ranges: n.fold ? foldASCII([n.cp, n.cp]) : [n.cp, n.cp], neg: false };
  if (n.k === "class" && n.props.length === 0 && (!n.fold || n.ranges.every((x) => x < 0x80))) {
    return { ranges: n.fold ? foldASCII(n.ranges) : n.ranges, neg: n.neg };
  }
  return new RegExp(oneCharSource(n), (n as { fold?: boolean }).fold ? "iuy" : "uy");
}

// ---- Compiled patterns ------------------------------------------------------------------------

export interface Compiled {
  /** Go's program for the pattern, run by the linear-time engines of re2vm.ts. */
  prog: Program;
  /** Capture group names (index 0 unused); null for unnamed. */
  names: (string | null)[];
  ncap: number;
}

export interface Match {
  start: number;
  end: number;
  /** Group texts, [0] the whole match; undefined for groups that did not participate. */
  groups: (string | undefined)[];
}

/** Whether the pattern matches somewhere in s. Linear time (a lazily built DFA). */
export function testRE(c: Compiled, s: string): boolean {
  return dfaSearch(c.prog, s, 0);
}

/** The leftmost-first match at or after `from` (a code point boundary), with Go's groups. Linear time. */
export function execAt(c: Compiled, s: string, from: number): Match | null {
  const p = c.prog;
  // The DFA rejects inputs without a match quickly; on short ones the backtracker is as quick.
  if (s.length - from > 256 && !dfaSearch(p, s, from)) return null;
  const caps = backtrackFits(p, s, from) ? backtrack(p, s, from) : pike(p, s, from);
  if (caps === null) return null;
  const groups: (string | undefined)[] = [];
  for (let k = 0; k <= c.ncap; k++) {
    const a = caps[2 * k];
    const b = caps[2 * k + 1];
    groups.push(a >= 0 && b >= 0 ? s.slice(a, b) : undefined);
  }
  return { start: caps[0], end: caps[1], groups };
}

/** Check RE2 syntax; throws RegexSyntaxError with Go's message. */
export function parseRE2(pattern: string): void {
  new Parser(pattern).parse();
}

export function compileRE2(pattern: string): Compiled {
  const { node, ncap, names } = new Parser(pattern).parse();
  let prog: Program;
  try {
    prog = buildProgram(node, ncap, classify);
  } catch (e) {
    // A class Go accepts that the JS translation cannot express.
    if (!(e instanceof SyntaxError)) throw e;
    throw new RegexSyntaxError(`error parsing regexp: ${e.message}: \`${pattern}\``);
  }
  return { prog, names, ncap };
}

const cache = new Map<string, Compiled | RegexSyntaxError>();
const CACHE_MAX = 1000;

/** A compiled pattern from the cache; throws RegexSyntaxError for invalid patterns. */
export function getRegex(pattern: string): Compiled {
  let c = cache.get(pattern);
  if (c === undefined) {
    try {
      c = compileRE2(pattern);
    } catch (e) {
      if (!(e instanceof RegexSyntaxError)) throw e;
      c = e;
    }
    if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value as string);
    cache.set(pattern, c);
  }
  if (c instanceof RegexSyntaxError) throw c;
  return c;
}

/** Whether an RE2 pattern matches somewhere in s (compiled once, cached); throws RegexSyntaxError. */
export function matchRE2(pattern: string, s: string): boolean {
  return testRE(getRegex(pattern), s);
}

/** A RegExp-like tester for an RE2 pattern (Go syntax and semantics, linear time). */
export interface RE2Tester {
  readonly source: string;
  test(s: string): boolean;
}

/** An RE2 pattern as a tester; throws RegexSyntaxError (Go's message) for an invalid one. */
export function re2Tester(pattern: string): RE2Tester {
  const c = getRegex(pattern);
  return { source: pattern, test: (s: string) => testRE(c, s) };
}

/** Go's regexp.QuoteMeta. */
export function quoteMeta(s: string): string {
  return s.replace(/[\\.+*?()|[\]{}^$]/g, "\\$&");
}
