// The previous implementation of glob.match's matching (src/builtins/glob.ts before the linear
// engine, commit 40d32d1): gobwas's matchers ported as they are, backtracking BTree search
// included. Kept only as the reference of the randomized differential test (glob-linear.test.ts):
// the new implementation must give the same answer on every input. Not used by Portcullis.
//
// Matching works on "byte strings": JS strings whose characters are the UTF-8 bytes of the text.

// The byte helpers and the simple matchers are unchanged since: they come from glob.ts itself.
import { toBytes, runeBytes, RUNE_ERROR, decode, runeLen, eachRune, runeCount, indexAnyRunes, lastIndexAnyRunes, runesEqual, NO_INDEX, allSegments, MNothing, MSuper, MAny, MSingle, MList, type Index, type Matcher } from "../../src/builtins/glob.ts";

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
      out.push(...sub.slice(y));
      break;
    }
    if (y >= sub.length) {
      out.push(...target.slice(x));
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
  match(s: string): boolean {
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

function nodeEqual(a: Node, b: Node): boolean {
  if (a.kind !== b.kind) return false;
  if (a.not !== b.not || a.lo !== b.lo || a.hi !== b.hi) return false;
  if (!arrEq(a.text, b.text) || !arrEq(a.chars, b.chars)) return false;
  if (a.children.length !== b.children.length) return false;
  for (let i = 0; i < a.children.length; i++) if (!nodeEqual(a.children[i], b.children[i])) return false;
  return true;
}

function arrEq(a: number[] | undefined, b: number[] | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return runesEqual(a, b);
}

class GlobError extends Error {}

function parseGlob(pattern: string): Node {
  const lex = new Lexer(Array.from(pattern, (c) => c.codePointAt(0)!));
  const root = newNode(Kind.Pattern);
  let tree = root;
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

function compileMatchers(ms: Matcher[]): Matcher {
  if (ms.length === 0) throw new GlobError("compile error: need at least one matcher");
  if (ms.length === 1) return ms[0];
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
  if (val === null) return new MBTree(ms[0], null, compileMatchers(ms.slice(1)));
  const left = ms.slice(0, idx);
  const right = ms.slice(idx + 1);
  return new MBTree(val, left.length > 0 ? compileMatchers(left) : null, right.length > 0 ? compileMatchers(right) : null);
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
  if (separator.length > 0) every.push(new MContains(toBytes(String.fromCodePoint(...separator)), true));
  return new MEveryOf(every);
}

function minimizeMatchers(ms: Matcher[]): Matcher[] {
  let done: Matcher | null = null;
  let left = 0;
  let right = 0;
  let count = 0;
  for (let l = 0; l < ms.length; l++) {
    for (let r = ms.length; r > l; r--) {
      const glued = glue(ms.slice(l, r));
      if (glued === null) continue;
      let swap: boolean;
      if (done === null) swap = true;
      else {
        const cl = done.len();
        const gl = glued.len();
        swap = cl > -1 && gl > -1 && gl > cl;
        swap = swap || count < r - l;
      }
      if (swap) {
        done = glued;
        left = l;
        right = r;
        count = r - l;
      }
    }
  }
  if (done === null) return ms;
  const next = [...ms.slice(0, left), done, ...ms.slice(right)];
  if (next.length === ms.length) return next;
  return minimizeMatchers(next);
}

function commonChildren(nodes: Node[]): [Node[], Node[]] {
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
      breakLeft = breakLeft || !nodeEqual(treeLeft, restLeft);
      breakRight = breakRight || (!breakLeft && j <= i);
      breakRight = breakRight || !nodeEqual(treeRight, restRight);
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

function minimizeAnyOf(tree: Node): Node | null {
  if (!tree.children.every((c) => c.kind === Kind.Pattern)) return null;
  const [cl, cr] = commonChildren(tree.children);
  if (cl.length === 0 && cr.length === 0) return null;
  const result: Node[] = [];
  if (cl.length > 0) result.push(newNode(Kind.Pattern, {}, cl));
  const anyOf: Node[] = [];
  for (const child of tree.children) {
    const reuse = child.children.slice(cl.length, child.children.length - cr.length);
    const node = reuse.length === 0 ? newNode(Kind.Nothing) : newNode(Kind.Pattern, {}, reuse);
    if (!anyOf.some((n) => nodeEqual(n, node))) anyOf.push(node);
  }
  if (anyOf.length === 1 && anyOf[0].kind !== Kind.Nothing) result.push(anyOf[0]);
  else if (anyOf.length > 1) result.push(newNode(Kind.AnyOf, {}, anyOf));
  if (cr.length > 0) result.push(newNode(Kind.Pattern, {}, cr));
  return newNode(Kind.Pattern, {}, result);
}

function compileChildren(tree: Node, sep: number[]): Matcher[] {
  return tree.children.map((c) => optimize(compileNode(c, sep))!);
}

function compileNode(tree: Node, sep: number[]): Matcher {
  let m: Matcher;
  switch (tree.kind) {
    case Kind.AnyOf: {
      const n = minimizeAnyOf(tree);
      if (n !== null) return compileNode(n, sep);
      return new MAnyOf(compileChildren(tree, sep));
    }
    case Kind.Pattern:
      if (tree.children.length === 0) return new MNothing();
      m = compileMatchers(minimizeMatchers(compileChildren(tree, sep)));
      break;
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
      m = new MText(toBytes(String.fromCodePoint(...tree.text!)));
      break;
  }
  return optimize(m)!;
}

/** Compile a glob with separators (runes); throws GlobError with gobwas's message. */
export function compileGlob(pattern: string, separators: number[]): (s: string) => boolean {
  const m = compileNode(parseGlob(pattern), separators);
  return (s) => m.match(toBytes(s));
}

