// Linear-time matching for glob.match: the compiled gobwas matcher tree (see glob.ts) becomes a
// set of small automata that read the input once, left to right, with a set of active states
// (an NFA simulation with a lazily built DFA on top), instead of the backtracking search of
// gobwas's BTree matcher. Every automaton reproduces its matcher exactly, quirks included:
//
//  - a BTree visits the rune starts of its string from the left, asks its value matcher for the
//    segments that start there, and checks left and right matchers around them; here the left
//    automaton runs from the start, the value's "index" automaton is started at each rune start
//    where the left one accepts, and the right automaton is started at each segment end;
//  - an index automaton accepts exactly the segments gobwas's Index method returns when the match
//    starts at the first byte of its string (for every matcher but SuffixAny, whose candidates
//    depend on where the scan started; see ExoticBTree), including the parts that depend on the
//    text after the segment (separator order, right-to-left suffix scans, row elements that take
//    the rest of the string, `utf8.RuneLen(RuneError)` = 3 segments past the end);
//  - strings are UTF-8 bytes and every automaton decodes them as Go does, including strings that
//    start or end inside a rune (rows slice at byte offsets derived from rune counts): a rune cut
//    by the end of a string is guessed when its first byte is read (a "truncated" branch, which
//    dies if the rune completes, beside the normal one, which may not end inside the rune).
//
// The input of every automaton is a substring of valid UTF-8 (the match string is encoded from a
// JS string), which the decoder relies on.

/** Description of a compiled gobwas matcher, built by glob.ts. */
export type Spec =
  | { k: "nothing" }
  | { k: "super" }
  | { k: "any"; seps: number[] }
  | { k: "single"; seps: number[] }
  | { k: "list"; chars: number[]; not: boolean }
  | { k: "range"; lo: number; hi: number; not: boolean }
  | { k: "text"; str: string }
  | { k: "anyof"; ms: Spec[] }
  | { k: "btree"; v: Spec; l: Spec | null; r: Spec | null }
  | { k: "row"; runes: number; ms: Spec[]; lens: number[] }
  | { k: "prefix"; p: string }
  | { k: "suffix"; s: string }
  | { k: "prefixsuffix"; p: string; s: string }
  | { k: "prefixany"; p: string; seps: number[] }
  | { k: "suffixany"; s: string; seps: number[] }
  | { k: "contains"; needle: string; not: boolean }
  | { k: "min"; n: number }
  | { k: "max"; n: number }
  | { k: "everyof"; ms: Spec[] }
  | { k: "texts"; strs: string[] }; // several Text members of an AnyOf (built here, not by glob.ts)

type Cfgs = readonly number[];
const NONE: Cfgs = Object.freeze([]) as Cfgs;
const RUNE_ERROR = 0xfffd;

// ---- UTF-8 decoding, one byte at a time ------------------------------------------------------
//
// Decoder states: LEAD (start of the string: continuation bytes here are one-byte error runes),
// AL (at a rune start), MID r (inside a rune, r bytes to go; the string may not end here) and
// TRUNC r (inside a rune that the end of the string cuts: every byte is an error rune; dies when
// the rune would complete).

const LEAD = 0;
const AL = 1;
const EV_NONE = 0;
const EV_RUNE = 1;
const EV_ERR = 2;

/** Is the position after this state the start of a rune of the string? */
function isStart(d: number): boolean {
  return d <= AL || d >= 5;
}
function isMid(d: number): boolean {
  return d >= 2 && d <= 4;
}
/** The number of further bytes a string may have when its decoder is in state d (-1: any). */
function deadline(d: number): number {
  return d >= 5 ? d - 5 : -1;
}

/** Pushes the branches [state, value, event] of reading byte c in state d (value so far cp). */
function decStep(d: number, cp: number, c: number, out: number[]): void {
  out.length = 0;
  if (d <= AL) {
    if (c < 0x80) out.push(AL, c, EV_RUNE);
    else if (c < 0xc0) out.push(d, RUNE_ERROR, EV_ERR);
    else {
      const w = c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
      out.push(w, c & (w === 2 ? 0x1f : w === 3 ? 0x0f : 0x07), EV_NONE, w + 3, RUNE_ERROR, EV_ERR);
    }
    return;
  }
  if (c < 0x80 || c >= 0xc0) return;
  if (d <= 4) {
    const v = (cp << 6) | (c & 0x3f);
    if (d === 2) out.push(AL, v, EV_RUNE);
    else out.push(d - 1, v, EV_NONE);
    return;
  }
  if (d > 5) out.push(d - 1, RUNE_ERROR, EV_ERR);
}

const dbuf: number[] = [];

/** Go's utf8.RuneLen for a decoded rune (RuneError counts 3, as in gobwas's segments). */
function runeLen(r: number): number {
  return r < 0x80 ? 1 : r < 0x800 ? 2 : r < 0x10000 ? 3 : 4;
}

// ---- KMP automaton over bytes ----------------------------------------------------------------

/** delta[k * 256 + c]: the length of the longest prefix of p that is a suffix after reading c. */
function kmp(p: string): Int32Array {
  const m = p.length;
  const fail = new Int32Array(m + 1);
  for (let i = 1, k = 0; i < m; i++) {
    while (k > 0 && p.charCodeAt(i) !== p.charCodeAt(k)) k = fail[k];
    if (p.charCodeAt(i) === p.charCodeAt(k)) k++;
    fail[i + 1] = k;
  }
  const delta = new Int32Array((m + 1) * 256);
  for (let k = 0; k <= m; k++) {
    for (let c = 0; c < 256; c++) {
      if (k < m && p.charCodeAt(k) === c) delta[k * 256 + c] = k + 1;
      else delta[k * 256 + c] = k === 0 ? 0 : delta[fail[k] * 256 + c];
    }
  }
  return delta;
}

// ---- separators ------------------------------------------------------------------------------

/** Index of the first separator a decoded rune counts as, the way gobwas's IndexRune searches. */
function sepIndexer(seps: number[]): (r: number) => number {
  const mapped = seps.map((r) => (r > 0x10ffff || (r >= 0xd800 && r <= 0xdfff) ? RUNE_ERROR : r));
  return (r) => mapped.indexOf(r);
}

// ---- automata --------------------------------------------------------------------------------

function uniq(a: number[]): Cfgs {
  if (a.length === 0) return NONE;
  if (a.length === 1) return a;
  const out: number[] = [];
  for (const x of a) if (!out.includes(x)) out.push(x);
  return out;
}

let stateCount = 0;

/**
 * An automaton over bytes with interned states ("configurations", small ints) and cached
 * transitions. As a match automaton it accepts a string when gobwas's Match would.
 */
/** Interning of small integer tuples: equal tuples get the same id (an open-addressing table). */
class Tuples {
  readonly pay: number[][] = [];
  private table = new Int32Array(64);
  private hash(p: readonly number[]): number {
    let h = 0x811c9dc5 ^ p.length;
    for (let i = 0; i < p.length; i++) {
      h = Math.imul(h ^ p[i], 0x01000193);
      h ^= h >>> 15;
    }
    return h >>> 0;
  }
  id(p: number[]): number {
    const mask = this.table.length - 1;
    for (let i = this.hash(p) & mask; ; i = (i + 1) & mask) {
      const e = this.table[i];
      if (e === 0) {
        const id = this.pay.length;
        this.pay.push(p);
        this.table[i] = id + 1;
        stateCount++;
        if (this.pay.length * 2 > this.table.length) this.grow();
        return id;
      }
      const q = this.pay[e - 1];
      if (q.length === p.length) {
        let k = 0;
        while (k < p.length && q[k] === p[k]) k++;
        if (k === p.length) return e - 1;
      }
    }
  }
  private grow(): void {
    const t = new Int32Array(this.table.length * 2);
    const mask = t.length - 1;
    for (let id = 0; id < this.pay.length; id++) {
      let i = this.hash(this.pay[id]) & mask;
      while (t[i] !== 0) i = (i + 1) & mask;
      t[i] = id + 1;
    }
    this.table = t;
  }
}

abstract class Auto {
  private readonly tuples = new Tuples();
  protected readonly pay: number[][] = this.tuples.pay;
  private readonly nx = new Map<number, Cfgs>();
  private readonly ac: number[] = [];
  private ini: Cfgs | null = null;

  protected cfg(p: number[]): number {
    return this.tuples.id(p);
  }
  init(): Cfgs {
    return (this.ini ??= uniq(this.mkInit()));
  }
  next(id: number, c: number): Cfgs {
    const k = id * 256 + c;
    let r = this.nx.get(k);
    if (r === undefined) {
      r = uniq(this.mkNext(this.pay[id], c));
      this.nx.set(k, r);
    }
    return r;
  }
  acc(id: number): boolean {
    let a = this.ac[id];
    if (a === undefined) a = this.ac[id] = this.mkAcc(this.pay[id]) ? 1 : 0;
    return a === 1;
  }
  private readonly sk: number[] = [];
  /** Does every continuation from this state match (for index automata: is it a post state that
   * accepts whatever follows)? False when unknown. */
  sink(id: number): boolean {
    let a = this.sk[id];
    if (a === undefined) a = this.sk[id] = this.mkSink(this.pay[id]) ? 1 : 0;
    return a === 1;
  }
  protected mkSink(_p: number[]): boolean {
    return false;
  }
  /** Does the empty string match? */
  accEmpty(): boolean {
    return this.init().some((c) => this.acc(c));
  }
  protected abstract mkInit(): number[];
  protected abstract mkNext(p: number[], c: number): number[];
  protected abstract mkAcc(p: number[]): boolean;
}

/**
 * An index automaton: reads a string t and "splits" it; a split at offset l is allowed when
 * gobwas's Index(t) returns index 0 and l among its segments. States are "pre" (no split yet) or
 * "post" (split done; the automaton goes on reading t to check what lies after the split).
 * split(pre) gives the post states for a split at the current position; acc(post) says whether
 * the split is allowed once t ends here; over(pre) is a bit set of the distances (bit 0: one
 * byte, bit 1: two bytes) past the end of t at which a segment is pending (RuneLen(RuneError)).
 */
abstract class IAuto extends Auto {
  private readonly sp: (Cfgs | undefined)[] = [];
  private readonly ov: number[] = [];
  split(id: number): Cfgs {
    let r = this.sp[id];
    if (r === undefined) r = this.sp[id] = uniq(this.mkSplit(this.pay[id]));
    return r;
  }
  over(id: number): number {
    let r = this.ov[id];
    if (r === undefined) r = this.ov[id] = this.mkOver(this.pay[id]);
    return r;
  }
  protected mkSplit(_p: number[]): number[] {
    return [];
  }
  protected mkOver(_p: number[]): number {
    return 0;
  }
  /** A post state that only enforces a deadline (see `deadline`). */
  protected free(dl: number): number {
    return this.cfg([1, dl]);
  }
  protected nextFree(dl: number): number[] {
    return dl === 0 ? [] : [this.free(dl > 0 ? dl - 1 : -1)];
  }
  protected mkSink(p: number[]): boolean {
    return p.length === 2 && p[0] === 1 && p[1] === -1;
  }
}

// ---- match automata for the leaf matchers ----------------------------------------------------

class NothingA extends Auto {
  mkInit() {
    return [this.cfg([0])];
  }
  mkNext() {
    return [];
  }
  mkAcc() {
    return true;
  }
}

class SuperA extends Auto {
  mkSink() {
    return true;
  }
  mkInit() {
    return [this.cfg([0])];
  }
  mkNext() {
    return [this.cfg([0])];
  }
  mkAcc() {
    return true;
  }
}

/** Any: no separator rune (gobwas's IndexAnyRunes finds none). */
class AnyA extends Auto {
  private readonly ascii: boolean;
  private readonly byteSep = new Uint8Array(256);
  private readonly sepIdx: (r: number) => number;
  constructor(seps: number[]) {
    super();
    this.sepIdx = sepIndexer(seps);
    this.ascii = seps.every((r) => r < 0x80);
    for (const r of seps) if (r < 0x80) this.byteSep[r] = 1;
  }
  mkInit() {
    return [this.cfg([LEAD, 0])];
  }
  mkNext(p: number[], c: number) {
    if (this.ascii) return this.byteSep[c] ? [] : [this.cfg([AL, 0])];
    decStep(p[0], p[1], c, dbuf);
    const out: number[] = [];
    for (let i = 0; i < dbuf.length; i += 3) {
      const ev = dbuf[i + 2];
      if (ev !== EV_NONE && this.sepIdx(dbuf[i + 1]) >= 0) continue;
      out.push(this.cfg([dbuf[i], ev === EV_NONE ? dbuf[i + 1] : 0]));
    }
    return out;
  }
  mkAcc(p: number[]) {
    return this.ascii || !isMid(p[0]);
  }
}

/** Single, List, Range: the empty string or exactly one rune, tested by `pred` (RuneError if empty). */
class RuneA extends Auto {
  constructor(private readonly pred: (r: number) => boolean) {
    super();
  }
  // [state, decoder, value]: 0 start, 1 inside the rune, 2 one good rune
  mkInit() {
    return [this.cfg([0, LEAD, 0])];
  }
  mkNext(p: number[], c: number) {
    if (p[0] === 2) return [];
    decStep(p[1], p[2], c, dbuf);
    const out: number[] = [];
    for (let i = 0; i < dbuf.length; i += 3) {
      if (dbuf[i + 2] === EV_NONE) out.push(this.cfg([1, dbuf[i], dbuf[i + 1]]));
      else if (this.pred(dbuf[i + 1])) out.push(this.cfg([2, dbuf[i], 0]));
    }
    return out;
  }
  mkAcc(p: number[]) {
    return p[0] === 0 ? this.pred(RUNE_ERROR) : p[0] === 2;
  }
}

class TextA extends Auto {
  constructor(private readonly str: string) {
    super();
  }
  mkInit() {
    return [this.cfg([0])];
  }
  mkNext(p: number[], c: number) {
    const i = p[0];
    return i < this.str.length && this.str.charCodeAt(i) === c ? [this.cfg([i + 1])] : [];
  }
  mkAcc(p: number[]) {
    return p[0] === this.str.length;
  }
}

/** Prefix, Suffix and PrefixSuffix: starts with p (if any) and ends with s (if any). */
class AffixA extends Auto {
  private readonly delta: Int32Array | null;
  constructor(
    private readonly p: string,
    private readonly s: string,
  ) {
    super();
    this.delta = s.length > 0 ? kmp(s) : null;
  }
  mkInit() {
    return [this.cfg([0, 0])];
  }
  mkNext(q: number[], c: number) {
    let i = q[0];
    if (i < this.p.length) {
      if (this.p.charCodeAt(i) !== c) return [];
      i++;
    }
    return [this.cfg([i, this.delta === null ? 0 : this.delta[q[1] * 256 + c]])];
  }
  mkAcc(q: number[]) {
    return q[0] === this.p.length && q[1] === this.s.length;
  }
  mkSink(q: number[]) {
    return this.s.length === 0 && q[0] === this.p.length;
  }
}

class ContainsA extends Auto {
  private readonly delta: Int32Array;
  constructor(
    private readonly needle: string,
    private readonly not: boolean,
  ) {
    super();
    this.delta = kmp(needle);
  }
  mkInit() {
    return [this.cfg([this.needle.length === 0 ? -1 : 0])];
  }
  mkNext(p: number[], c: number) {
    if (p[0] === -1) return this.not ? [] : [this.cfg([-1])];
    const k = this.delta[p[0] * 256 + c];
    if (k === this.needle.length) return this.not ? [] : [this.cfg([-1])];
    return [this.cfg([k])];
  }
  mkAcc(p: number[]) {
    return (p[0] === -1) !== this.not;
  }
  mkSink(p: number[]) {
    return p[0] === -1 && !this.not;
  }
}

/** PrefixAny: starts with p, no separator after it. */
class PrefixAnyA extends Auto {
  private readonly any: AnyA;
  constructor(
    private readonly p: string,
    seps: number[],
  ) {
    super();
    this.any = new AnyA(seps);
  }
  private rest(ids: Cfgs): number[] {
    return ids.map((a) => this.cfg([1, a]));
  }
  mkInit() {
    return this.p.length === 0 ? this.rest(this.any.init()) : [this.cfg([0, 0])];
  }
  mkNext(q: number[], c: number) {
    if (q[0] === 1) return this.rest(this.any.next(q[1], c));
    if (this.p.charCodeAt(q[1]) !== c) return [];
    return q[1] + 1 === this.p.length ? this.rest(this.any.init()) : [this.cfg([0, q[1] + 1])];
  }
  mkAcc(q: number[]) {
    return q[0] === 1 && this.any.acc(q[1]);
  }
}

/** SuffixAny: ends with s and no separator rune starts before it. */
class SuffixAnyA extends Auto {
  private readonly delta: Int32Array;
  private readonly sepIdx: (r: number) => number;
  constructor(
    private readonly s: string,
    seps: number[],
  ) {
    super();
    this.delta = kmp(s);
    this.sepIdx = sepIndexer(seps);
  }
  // [kmp, decoder, value, bytes since the start of the first separator rune (-1: none)]
  mkInit() {
    return [this.cfg([0, LEAD, 0, -1])];
  }
  mkNext(q: number[], c: number) {
    const k = this.delta[q[0] * 256 + c];
    const m = this.s.length;
    decStep(q[1], q[2], c, dbuf);
    const out: number[] = [];
    for (let i = 0; i < dbuf.length; i += 3) {
      const ev = dbuf[i + 2];
      let e = q[3] >= 0 ? q[3] + 1 : -1;
      if (e < 0 && ev !== EV_NONE && this.sepIdx(dbuf[i + 1]) >= 0) e = ev === EV_ERR ? 1 : runeLen(dbuf[i + 1]);
      if (e > m) continue;
      out.push(this.cfg([k, dbuf[i], ev === EV_NONE ? dbuf[i + 1] : 0, e]));
    }
    return out;
  }
  mkAcc(q: number[]) {
    return q[0] === this.s.length && !isMid(q[1]);
  }
}

/** Rune counts: Min (>= n), Max (<= n), Eq (== n). */
class CountA extends Auto {
  constructor(
    private readonly kind: "min" | "max" | "eq",
    private readonly n: number,
  ) {
    super();
  }
  mkInit() {
    return [this.cfg([0, LEAD])];
  }
  mkNext(p: number[], c: number) {
    decStep(p[1], 0, c, dbuf);
    const out: number[] = [];
    const cap = this.kind === "min" ? this.n : this.n + 1;
    for (let i = 0; i < dbuf.length; i += 3) {
      const cnt = dbuf[i + 2] === EV_NONE ? p[0] : Math.min(p[0] + 1, cap);
      if (this.kind !== "min" && cnt > this.n) continue;
      out.push(this.cfg([cnt, dbuf[i]]));
    }
    return out;
  }
  mkAcc(p: number[]) {
    if (isMid(p[1])) return false;
    return this.kind === "min" ? p[0] >= this.n : this.kind === "max" ? p[0] <= this.n : p[0] === this.n;
  }
}

function product(lists: Cfgs[]): number[][] {
  let out: number[][] = [[]];
  for (const l of lists) {
    const nx: number[][] = [];
    for (const prefix of out) for (const x of l) nx.push([...prefix, x]);
    out = nx;
    if (out.length === 0) break;
  }
  return out;
}

/** Conjunction (EveryOf; Row's rune count and elements). */
class AllA extends Auto {
  constructor(private readonly ms: Auto[]) {
    super();
  }
  mkInit() {
    return product(this.ms.map((m) => m.init())).map((t) => this.cfg(t));
  }
  mkNext(p: number[], c: number) {
    return product(this.ms.map((m, i) => m.next(p[i], c))).map((t) => this.cfg(t));
  }
  mkAcc(p: number[]) {
    return this.ms.every((m, i) => m.acc(p[i]));
  }
}

/**
 * gobwas's Row.matchAll: each element of length L gets the bytes of the string's next L-1 runes
 * and the first byte of the L-th one (decoding restarts at every element); an element of length
 * 0 gets the rest of the string up to the first byte of its last rune. What is left after the
 * last element is not looked at.
 */
class MatchAllA extends Auto {
  private readonly emptyOk: boolean[];
  constructor(
    private readonly ms: Auto[],
    private readonly lens: number[],
  ) {
    super();
    this.emptyOk = ms.map((m, i) => lens[i] === 0 && m.accEmpty());
  }
  // [element k, element state, rune starts read for it, decoder, bytes left before the end
  //  (exactly; -1: any), at most this many bytes left (-1: any)]. The bounds come from guesses
  //  about the end of the string made by an element that is over: the last rune (length 0) or a
  //  rune cut by the end (a truncated branch of the decoder when the element's slice ended).
  private start(k: number, rem: number, lim: number, out: number[]): void {
    if (k === this.ms.length) {
      out.push(this.cfg([k, 0, 0, 0, rem, lim]));
      return;
    }
    for (const e of this.ms[k].init()) out.push(this.cfg([k, e, 0, LEAD, rem, lim]));
  }
  mkInit() {
    const out: number[] = [];
    this.start(0, -1, -1, out);
    return out;
  }
  mkNext(p: number[], c: number) {
    const [k, e, cnt, d, rem, lim] = p;
    if (rem === 0 || lim === 0) return [];
    const rem2 = rem > 0 ? rem - 1 : -1;
    const lim2 = lim > 0 ? lim - 1 : -1;
    const out: number[] = [];
    if (k === this.ms.length) {
      out.push(this.cfg([k, 0, 0, 0, rem2, lim2]));
      return out;
    }
    const L = this.lens[k];
    const E = this.ms[k];
    const runeStart = isStart(d);
    decStep(d, 0, c, dbuf);
    const branches = dbuf.slice();
    const es = E.next(e, c);
    for (let i = 0; i < branches.length; i += 3) {
      const d2 = branches[i];
      if (!runeStart) {
        for (const e2 of es) out.push(this.cfg([k, e2, cnt, d2, rem2, lim2]));
        continue;
      }
      const dl = deadline(d2);
      const lim3 = dl >= 0 && (lim2 < 0 || dl < lim2) ? dl : lim2;
      if (L >= 1 && cnt + 1 === L) {
        for (const e2 of es) if (E.acc(e2)) this.start(k + 1, rem2, lim3, out);
        continue;
      }
      for (const e2 of es) out.push(this.cfg([k, e2, cnt + 1, d2, rem2, lim2]));
      if (L === 0) {
        // this rune is the last one of the string
        const tail = isMid(d2) ? d2 - 1 : 0;
        if ((rem2 !== -1 && rem2 !== tail) || (lim2 !== -1 && lim2 < tail)) continue;
        for (const e2 of es) if (E.acc(e2)) this.start(k + 1, tail, -1, out);
      }
    }
    return out;
  }
  mkSink(p: number[]) {
    return p[0] === this.ms.length && p[4] === -1 && p[5] === -1;
  }
  mkAcc(p: number[]) {
    const [k, e, cnt, , rem] = p;
    if (rem > 0) return false;
    if (k === this.ms.length) return true;
    if (cnt > 0 || this.lens[k] !== 0 || !this.ms[k].acc(e)) return false;
    for (let j = k + 1; j < this.ms.length; j++) if (!this.emptyOk[j]) return false;
    return true;
  }
}

// ---- index automata ----------------------------------------------------------------------------

class NothingI extends IAuto {
  mkInit() {
    return [this.cfg([0])];
  }
  mkNext(p: number[]) {
    return p[0] === 1 ? this.nextFree(p[1]) : [];
  }
  mkSplit() {
    return [this.free(-1)];
  }
  mkAcc(p: number[]) {
    return p[0] === 1;
  }
}

/** Super: every rune start and the end. */
class SuperI extends IAuto {
  mkInit() {
    return [this.cfg([0, LEAD])];
  }
  mkNext(p: number[], c: number) {
    if (p[0] === 1) return this.nextFree(p[1]);
    decStep(p[1], 0, c, dbuf);
    const out: number[] = [];
    for (let i = 0; i < dbuf.length; i += 3) out.push(this.cfg([0, dbuf[i]]));
    return out;
  }
  mkSplit(p: number[]) {
    return isStart(p[1]) ? [this.free(deadline(p[1]))] : [];
  }
  mkAcc(p: number[]) {
    return p[0] === 1;
  }
}

/**
 * Separator-bounded segments (Any, and PrefixAny after its prefix): IndexAnyRunes finds the
 * first occurrence of the first separator, in separator order, that occurs at all; a split is
 * allowed when that occurrence is not before it: the head has no separator (index `mh` = K), or
 * the tail has a separator with a lower index than every separator of the head. Post states
 * [1, decoder, value, mh, ok].
 */
abstract class SepI extends IAuto {
  protected readonly sepIdx: (r: number) => number;
  protected readonly K: number;
  constructor(seps: number[]) {
    super();
    this.sepIdx = sepIndexer(seps);
    this.K = seps.length;
  }
  protected post(d: number, mh: number, ok: number): number {
    return this.cfg([1, d, 0, mh, mh === this.K ? 1 : ok]);
  }
  protected nextPost(p: number[], c: number, out: number[]): void {
    decStep(p[1], p[2], c, dbuf);
    for (let i = 0; i < dbuf.length; i += 3) {
      const ev = dbuf[i + 2];
      let ok = p[4];
      if (!ok && ev !== EV_NONE) {
        const j = this.sepIdx(dbuf[i + 1]);
        if (j >= 0 && j < p[3]) ok = 1;
      }
      out.push(this.cfg([1, dbuf[i], ev === EV_NONE ? dbuf[i + 1] : 0, p[3], ok]));
    }
  }
  mkAcc(p: number[]) {
    return p[0] === 1 && p[4] === 1 && !isMid(p[1]);
  }
  mkSink(p: number[]) {
    return p[0] === 1 && p[4] === 1 && p[1] <= AL;
  }
}

class AnyI extends SepI {
  // pre [0, decoder, value, mh]
  mkInit() {
    return [this.cfg([0, LEAD, 0, this.K])];
  }
  mkNext(p: number[], c: number) {
    const out: number[] = [];
    if (p[0] === 1) {
      this.nextPost(p, c, out);
      return out;
    }
    decStep(p[1], p[2], c, dbuf);
    for (let i = 0; i < dbuf.length; i += 3) {
      const ev = dbuf[i + 2];
      let mh = p[3];
      if (ev !== EV_NONE) {
        const j = this.sepIdx(dbuf[i + 1]);
        if (j >= 0 && j < mh) mh = j;
      }
      if (mh === 0) continue;
      out.push(this.cfg([0, dbuf[i], ev === EV_NONE ? dbuf[i + 1] : 0, mh]));
    }
    return out;
  }
  mkSplit(p: number[]) {
    return isStart(p[1]) ? [this.post(p[1], p[3], 0)] : [];
  }
}

/**
 * PrefixAny: the prefix, then segments at the end of every rune (RuneLen: 3 bytes after an
 * error rune) before IndexAnyRunes's cut. Pre states: [0, 0, i] in the prefix, then
 * [0, 1, decoder, value, mh, now, due1, due2] where `now`, `due1`, `due2` are the mh of the
 * segment ending here, in one byte, in two bytes (-1: none) and ...Ok flags for the pending ones.
 */
class PrefixAnyI extends SepI {
  constructor(
    private readonly p: string,
    seps: number[],
  ) {
    super(seps);
  }
  // rest state: [0, 1, d, v, mh, nowMh, nowOk, d1Mh, d1Ok, d2Mh, d2Ok]
  private restStart(): number {
    return this.cfg([0, 1, LEAD, 0, this.K, this.K, 1, -1, 0, -1, 0]);
  }
  mkInit() {
    return [this.p.length === 0 ? this.restStart() : this.cfg([0, 0, 0])];
  }
  mkNext(q: number[], c: number) {
    const out: number[] = [];
    if (q[0] === 1) {
      this.nextPost(q, c, out);
      return out;
    }
    if (q[1] === 0) {
      if (this.p.charCodeAt(q[2]) !== c) return [];
      return [q[2] + 1 === this.p.length ? this.restStart() : this.cfg([0, 0, q[2] + 1])];
    }
    decStep(q[2], q[3], c, dbuf);
    for (let i = 0; i < dbuf.length; i += 3) {
      const ev = dbuf[i + 2];
      const j = ev !== EV_NONE ? this.sepIdx(dbuf[i + 1]) : -1;
      const mh = j >= 0 && j < q[4] ? j : q[4];
      const low = (mhk: number) => (j >= 0 && j < mhk ? 1 : 0);
      // the pending segments see this rune in their tail
      let d1Mh = q[7];
      let d1Ok = d1Mh >= 0 ? q[8] | low(d1Mh) : 0;
      const d2Mh = q[9];
      const d2Ok = d2Mh >= 0 ? q[10] | low(d2Mh) : 0;
      // segment ending now: the pending one due in one byte, and the rune read (if complete)
      let nowMh = d1Mh;
      let nowOk = d1Ok;
      let extra = -1;
      if (ev === EV_RUNE) {
        if (nowMh < 0) {
          nowMh = mh;
          nowOk = 0;
        } else extra = mh;
      }
      d1Mh = d2Mh;
      d1Ok = d2Ok;
      const nMh = ev === EV_ERR ? mh : -1;
      const base = [0, 1, dbuf[i], ev === EV_NONE ? dbuf[i + 1] : 0, mh];
      out.push(this.cfg([...base, nowMh, nowOk, d1Mh, d1Ok, nMh, 0]));
      if (extra >= 0) out.push(this.cfg([...base, extra, 0, d1Mh, d1Ok, nMh, 0]));
    }
    return out;
  }
  mkSplit(q: number[]) {
    if (q[0] !== 0 || q[1] !== 1 || q[5] < 0 || !isStart(q[2])) return [];
    return [this.post(q[2], q[5], q[6])];
  }
  mkOver(q: number[]) {
    if (q[0] !== 0 || q[1] !== 1 || isMid(q[2])) return 0;
    const ok = (mh: number, f: number) => mh >= 0 && (mh === this.K || f === 1);
    return (ok(q[7], q[8]) ? 1 : 0) | (ok(q[9], q[10]) ? 2 : 0);
  }
}

/** Single, List, Range: the first rune, tested by pred; the segment is its RuneLen. */
class RuneI extends IAuto {
  constructor(private readonly pred: (r: number) => boolean) {
    super();
  }
  // pre [0, state, decoder, value, n, dl]: state 0 start, 1 inside the rune, 2 skipping n bytes, 3 done
  mkInit() {
    return [this.cfg([0, 0, LEAD, 0, 0, -1])];
  }
  mkNext(p: number[], c: number) {
    if (p[0] === 1) return this.nextFree(p[1]);
    const st = p[1];
    if (st === 3) return [];
    if (st === 2) {
      const dl = p[5];
      if (dl === 0) return [];
      const dl2 = dl > 0 ? dl - 1 : -1;
      return [p[4] === 1 ? this.cfg([0, 3, 0, 0, 0, dl2]) : this.cfg([0, 2, 0, 0, p[4] - 1, dl2])];
    }
    decStep(p[2], p[3], c, dbuf);
    const out: number[] = [];
    for (let i = 0; i < dbuf.length; i += 3) {
      const ev = dbuf[i + 2];
      if (ev === EV_NONE) out.push(this.cfg([0, 1, dbuf[i], dbuf[i + 1], 0, -1]));
      else if (!this.pred(dbuf[i + 1])) continue;
      else if (ev === EV_RUNE) out.push(this.cfg([0, 3, 0, 0, 0, -1]));
      else out.push(this.cfg([0, 2, 0, 0, 2, deadline(dbuf[i])]));
    }
    return out;
  }
  mkSplit(p: number[]) {
    return p[0] === 0 && p[1] === 3 ? [this.free(p[5])] : [];
  }
  mkOver(p: number[]) {
    return p[0] === 0 && p[1] === 2 ? (p[4] === 1 ? 1 : 2) : 0;
  }
  mkAcc(p: number[]) {
    return p[0] === 1;
  }
}

class TextI extends IAuto {
  constructor(private readonly str: string) {
    super();
  }
  mkInit() {
    return [this.cfg([0, 0])];
  }
  mkNext(p: number[], c: number) {
    if (p[0] === 1) return this.nextFree(p[1]);
    const i = p[1];
    return i < this.str.length && this.str.charCodeAt(i) === c ? [this.cfg([0, i + 1])] : [];
  }
  mkSplit(p: number[]) {
    return p[0] === 0 && p[1] === this.str.length ? [this.free(-1)] : [];
  }
  mkAcc(p: number[]) {
    return p[0] === 1;
  }
}

/** A set of byte strings as a trie (AnyOf of many Texts): node 0 is the root. */
class Trie {
  readonly next: Map<number, number>[] = [new Map()];
  readonly end: boolean[] = [false];
  constructor(strs: string[]) {
    for (const str of strs) {
      let n = 0;
      for (let i = 0; i < str.length; i++) {
        const c = str.charCodeAt(i);
        let m = this.next[n].get(c);
        if (m === undefined) {
          m = this.next.length;
          this.next.push(new Map());
          this.end.push(false);
          this.next[n].set(c, m);
        }
        n = m;
      }
      this.end[n] = true;
    }
  }
}

/** Match: one of the texts. */
class TrieA extends Auto {
  constructor(private readonly t: Trie) {
    super();
  }
  mkInit() {
    return [this.cfg([0])];
  }
  mkNext(p: number[], c: number) {
    const m = this.t.next[p[0]].get(c);
    return m === undefined ? [] : [this.cfg([m])];
  }
  mkAcc(p: number[]) {
    return this.t.end[p[0]];
  }
}

/** Index: t starts with one of the texts; a segment at the end of each. */
class TrieI extends IAuto {
  constructor(private readonly t: Trie) {
    super();
  }
  mkInit() {
    return [this.cfg([0, 0])];
  }
  mkNext(p: number[], c: number) {
    if (p[0] === 1) return this.nextFree(p[1]);
    const m = this.t.next[p[1]].get(c);
    return m === undefined ? [] : [this.cfg([0, m])];
  }
  mkSplit(p: number[]) {
    return p[0] === 0 && this.t.end[p[1]] ? [this.free(-1)] : [];
  }
  mkAcc(p: number[]) {
    return p[0] === 1;
  }
}

/** Row: matchAll of the whole rest of t, and a segment of `runes` bytes (a rune count). */
class RowI extends IAuto {
  constructor(
    private readonly runes: number,
    private readonly ma: MatchAllA,
  ) {
    super();
  }
  mkInit() {
    return this.ma.init().map((m) => this.cfg([0, 0, m]));
  }
  mkNext(p: number[], c: number) {
    if (p[0] === 1) return this.ma.next(p[1], c).map((m) => this.cfg([1, m]));
    if (p[1] >= this.runes) return [];
    return this.ma.next(p[2], c).map((m) => this.cfg([0, p[1] + 1, m]));
  }
  mkSplit(p: number[]) {
    return p[0] === 0 && p[1] === this.runes ? [this.cfg([1, p[2]])] : [];
  }
  mkSink(p: number[]) {
    return p[0] === 1 && this.ma.sink(p[1]);
  }
  mkAcc(p: number[]) {
    return p[0] === 1 && this.ma.acc(p[1]);
  }
}

/** Prefix: the prefix, then the end of every rune after it (RuneLen). */
class PrefixI extends IAuto {
  constructor(private readonly p: string) {
    super();
  }
  // [0, 0, i] in the prefix; [0, 1, decoder, now, due1, due2] after it
  mkInit() {
    return [this.p.length === 0 ? this.cfg([0, 1, LEAD, 1, 0, 0]) : this.cfg([0, 0, 0])];
  }
  mkNext(q: number[], c: number) {
    if (q[0] === 1) return this.nextFree(q[1]);
    if (q[1] === 0) {
      if (this.p.charCodeAt(q[2]) !== c) return [];
      return [q[2] + 1 === this.p.length ? this.cfg([0, 1, LEAD, 1, 0, 0]) : this.cfg([0, 0, q[2] + 1])];
    }
    decStep(q[2], 0, c, dbuf);
    const out: number[] = [];
    for (let i = 0; i < dbuf.length; i += 3) {
      const ev = dbuf[i + 2];
      out.push(this.cfg([0, 1, dbuf[i], ev === EV_RUNE || q[4] === 1 ? 1 : 0, q[5], ev === EV_ERR ? 1 : 0]));
    }
    return out;
  }
  mkSplit(q: number[]) {
    return q[0] === 0 && q[1] === 1 && q[3] === 1 && isStart(q[2]) ? [this.free(deadline(q[2]))] : [];
  }
  mkOver(q: number[]) {
    if (q[0] !== 0 || q[1] !== 1 || isMid(q[2])) return 0;
    return q[4] | (q[5] << 1);
  }
  mkAcc(q: number[]) {
    return q[0] === 1;
  }
}

/** Suffix: the end of the first occurrence. */
class SuffixI extends IAuto {
  private readonly delta: Int32Array;
  constructor(private readonly s: string) {
    super();
    this.delta = kmp(s);
  }
  mkInit() {
    return [this.cfg([0, 0])];
  }
  mkNext(p: number[], c: number) {
    if (p[0] === 1) return this.nextFree(p[1]);
    if (p[1] === -1) return [];
    const k = this.delta[p[1] * 256 + c];
    return [this.cfg([0, k === this.s.length ? -1 : k])];
  }
  mkSplit(p: number[]) {
    return p[0] === 0 && p[1] === -1 ? [this.free(-1)] : [];
  }
  mkAcc(p: number[]) {
    return p[0] === 1;
  }
}

/**
 * PrefixSuffix: t starts with the prefix; segments are the ends of the occurrences of the suffix
 * that a right-to-left scan picks (LastIndex, then LastIndex before it, ...): an occurrence is
 * picked unless a picked one starts inside it. After a split the tail guesses which of the later
 * occurrences are picked: `blk` counts the coming positions where an occurrence may not be
 * picked, `obl` those where one must be (-1: none).
 */
class PrefixSuffixI extends IAuto {
  private readonly delta: Int32Array;
  constructor(
    private readonly p: string,
    private readonly s: string,
  ) {
    super();
    this.delta = kmp(s);
  }
  // pre [0, i, kmp, occurrence ends here]; post [1, i, kmp, blk, obl]
  mkInit() {
    return [this.cfg([0, 0, 0, 0])];
  }
  mkNext(q: number[], c: number) {
    let i = q[1];
    if (i < this.p.length) {
      if (this.p.charCodeAt(i) !== c) return [];
      i++;
    }
    const k = this.delta[q[2] * 256 + c];
    const m = this.s.length;
    const found = k === m;
    if (q[0] === 0) return [this.cfg([0, i, k, found ? 1 : 0])];
    const blk = q[3];
    const obl = q[4];
    if (obl === 0) return [];
    const blk2 = blk > 0 ? blk - 1 : 0;
    const out: number[] = [];
    if (found) {
      out.push(this.cfg([1, i, k, blk2, obl > 0 ? obl - 1 : m - 1]));
      if (blk === 0) out.push(this.cfg([1, i, k, m - 1, -1]));
    } else out.push(this.cfg([1, i, k, blk2, obl > 0 ? obl - 1 : -1]));
    return out;
  }
  mkSplit(q: number[]) {
    return q[0] === 0 && q[3] === 1 ? [this.cfg([1, q[1], q[2], this.s.length - 1, -1])] : [];
  }
  mkAcc(q: number[]) {
    return q[0] === 1 && q[1] === this.p.length && q[4] === -1;
  }
}

/** SuffixAny (as a restart at the start of t): no separator before the first occurrence. */
class SuffixAnyI extends IAuto {
  private readonly delta: Int32Array;
  private readonly sepIdx: (r: number) => number;
  constructor(
    private readonly s: string,
    seps: number[],
  ) {
    super();
    this.delta = kmp(s);
    this.sepIdx = sepIndexer(seps);
  }
  // pre [0, kmp (-1: done), decoder, value, bytes since the first separator rune started]
  mkInit() {
    return [this.cfg([0, 0, LEAD, 0, -1])];
  }
  mkNext(q: number[], c: number) {
    if (q[0] === 1) return this.nextFree(q[1]);
    if (q[1] === -1) return [];
    const m = this.s.length;
    const k = this.delta[q[1] * 256 + c];
    decStep(q[2], q[3], c, dbuf);
    const out: number[] = [];
    for (let i = 0; i < dbuf.length; i += 3) {
      const ev = dbuf[i + 2];
      let e = q[4] >= 0 ? q[4] + 1 : -1;
      if (e < 0 && ev !== EV_NONE && this.sepIdx(dbuf[i + 1]) >= 0) e = ev === EV_ERR ? 1 : runeLen(dbuf[i + 1]);
      if (e > m) continue;
      if (k === m) out.push(this.cfg([0, -1, 0, 0, 0]));
      else out.push(this.cfg([0, k, dbuf[i], ev === EV_NONE ? dbuf[i + 1] : 0, e]));
    }
    return out;
  }
  mkSplit(q: number[]) {
    return q[0] === 0 && q[1] === -1 ? [this.free(-1)] : [];
  }
  mkAcc(q: number[]) {
    return q[0] === 1;
  }
}

/** Contains(needle, false): every rune start from the end of the first occurrence on. */
class ContainsI extends IAuto {
  private readonly delta: Int32Array;
  constructor(private readonly needle: string) {
    super();
    this.delta = kmp(needle);
  }
  // pre [0, 0, kmp] searching, [0, 1, decoder] found
  mkInit() {
    return [this.needle.length === 0 ? this.cfg([0, 1, LEAD]) : this.cfg([0, 0, 0])];
  }
  mkNext(q: number[], c: number) {
    if (q[0] === 1) return this.nextFree(q[1]);
    if (q[1] === 0) {
      const k = this.delta[q[2] * 256 + c];
      return [k === this.needle.length ? this.cfg([0, 1, AL]) : this.cfg([0, 0, k])];
    }
    decStep(q[2], 0, c, dbuf);
    const out: number[] = [];
    for (let i = 0; i < dbuf.length; i += 3) out.push(this.cfg([0, 1, dbuf[i]]));
    return out;
  }
  mkSplit(q: number[]) {
    return q[0] === 0 && q[1] === 1 && isStart(q[2]) ? [this.free(deadline(q[2]))] : [];
  }
  mkAcc(q: number[]) {
    return q[0] === 1;
  }
}

/** Contains(needle, true): rune starts up to the first occurrence (which may cross the split). */
class NotContainsI extends IAuto {
  private readonly delta: Int32Array;
  constructor(private readonly needle: string) {
    super();
    this.delta = kmp(needle);
  }
  // pre [0, kmp, decoder]; post [1, kmp (-1: past any crossing occurrence), bytes since split, decoder]
  mkInit() {
    return [this.cfg([0, 0, LEAD])];
  }
  mkNext(q: number[], c: number) {
    const m = this.needle.length;
    const out: number[] = [];
    decStep(q[0] === 0 ? q[2] : q[3], 0, c, dbuf);
    if (q[0] === 0) {
      const k = this.delta[q[1] * 256 + c];
      if (k === m) return [];
      for (let i = 0; i < dbuf.length; i += 3) out.push(this.cfg([0, k, dbuf[i]]));
      return out;
    }
    let k = q[1];
    const j = q[2] + 1;
    if (k >= 0) {
      k = this.delta[k * 256 + c];
      if (k === m && j < m) return [];
      if (j >= m) k = -1;
    }
    for (let i = 0; i < dbuf.length; i += 3) out.push(this.cfg([1, k, k < 0 ? 0 : j, dbuf[i]]));
    return out;
  }
  mkSplit(q: number[]) {
    return q[0] === 0 && isStart(q[2]) ? [this.cfg([1, q[1], 0, q[2]])] : [];
  }
  mkAcc(q: number[]) {
    return q[0] === 1 && !isMid(q[3]);
  }
  mkSink(q: number[]) {
    return q[0] === 1 && q[1] === -1 && q[3] <= AL;
  }
}

/** Min and Max: ends of runes by count (RuneLen), Max also the empty segment. */
class CountI extends IAuto {
  constructor(
    private readonly kind: "min" | "max",
    private readonly n: number,
  ) {
    super();
  }
  // pre [0, count, decoder, now, due1, due2]
  mkInit() {
    return [this.cfg([0, 0, LEAD, this.kind === "max" ? 1 : 0, 0, 0])];
  }
  mkNext(p: number[], c: number) {
    if (p[0] === 1) return this.nextFree(p[1]);
    decStep(p[2], 0, c, dbuf);
    const out: number[] = [];
    for (let i = 0; i < dbuf.length; i += 3) {
      const ev = dbuf[i + 2];
      let cnt = p[1];
      let seg = false;
      if (ev !== EV_NONE) {
        cnt = Math.min(cnt + 1, this.n + 1);
        seg = this.kind === "min" ? cnt >= this.n : cnt <= this.n;
      }
      const now = (seg && ev === EV_RUNE) || p[4] === 1 ? 1 : 0;
      const due2 = seg && ev === EV_ERR ? 1 : 0;
      if (this.kind === "max" && cnt > this.n && now === 0 && p[5] === 0 && due2 === 0) continue;
      out.push(this.cfg([0, this.kind === "min" ? Math.min(cnt, this.n) : cnt, dbuf[i], now, p[5], due2]));
    }
    return out;
  }
  mkSplit(p: number[]) {
    return p[0] === 0 && p[3] === 1 && isStart(p[2]) ? [this.free(deadline(p[2]))] : [];
  }
  mkOver(p: number[]) {
    return p[0] === 0 && !isMid(p[2]) ? p[4] | (p[5] << 1) : 0;
  }
  mkAcc(p: number[]) {
    return p[0] === 1;
  }
}

/** EveryOf: the segments common to all (all its matchers index from 0). */
class AllI extends IAuto {
  constructor(private readonly ms: IAuto[]) {
    super();
  }
  mkInit() {
    return product(this.ms.map((m) => m.init())).map((t) => this.cfg([0, ...t]));
  }
  mkNext(p: number[], c: number) {
    return product(this.ms.map((m, i) => m.next(p[i + 1], c))).map((t) => this.cfg([p[0], ...t]));
  }
  mkSplit(p: number[]) {
    if (p[0] !== 0) return [];
    return product(this.ms.map((m, i) => m.split(p[i + 1]))).map((t) => this.cfg([1, ...t]));
  }
  mkOver(p: number[]) {
    if (p[0] !== 0) return 0;
    let mask = 3;
    this.ms.forEach((m, i) => {
      mask &= m.over(p[i + 1]);
    });
    return mask;
  }
  mkAcc(p: number[]) {
    return p[0] === 1 && this.ms.every((m, i) => m.acc(p[i + 1]));
  }
  mkSink(p: number[]) {
    return p[0] === 1 && this.ms.every((m, i) => m.sink(p[i + 1]));
  }
}

/** AnyOf: the union of its matchers' segments (they are all tried at the lowest index). */
class OneOfI extends IAuto {
  constructor(private readonly ms: IAuto[]) {
    super();
  }
  /** A member's state; the post states that accept whatever follows are all one state. */
  private wrap(j: number, x: number): number {
    return this.ms[j].sink(x) ? this.cfg([-1, 0]) : this.cfg([j, x]);
  }
  mkInit() {
    const out: number[] = [];
    this.ms.forEach((m, j) => {
      for (const x of m.init()) out.push(this.wrap(j, x));
    });
    return out;
  }
  mkNext(p: number[], c: number) {
    if (p[0] === -1) return [this.cfg([-1, 0])];
    return this.ms[p[0]].next(p[1], c).map((x) => this.wrap(p[0], x));
  }
  mkSplit(p: number[]) {
    if (p[0] === -1) return [];
    return this.ms[p[0]].split(p[1]).map((x) => this.wrap(p[0], x));
  }
  mkOver(p: number[]) {
    return p[0] === -1 ? 0 : this.ms[p[0]].over(p[1]);
  }
  mkSink(p: number[]) {
    return p[0] === -1 || this.ms[p[0]].sink(p[1]);
  }
  /** The initial states of the given members. */
  initOf(members: number[]): number[] {
    return this.init().filter((x) => members.includes(this.pay[x][0]));
  }
  mkAcc(p: number[]) {
    return p[0] === -1 || this.ms[p[0]].acc(p[1]);
  }
}

/** A matcher whose Index always fails (BTree). */
class NeverI extends IAuto {
  mkInit() {
    return [];
  }
  mkNext() {
    return [];
  }
  mkAcc() {
    return false;
  }
}

// ---- BTree and AnyOf ---------------------------------------------------------------------------

/*
 * gobwas's BTree.Match: the left matcher on s[:x], the value's segments from x, the right one on
 * the rest (s[x+l:], or "" when x+l is past the end), for every rune start x < len(s) (the scan
 * steps from one index to the next rune start; an index-0 restart at x finds what the scan finds,
 * see IAuto). BTrees and AnyOfs nest deeply (a sequence of n wildcards is a chain of n/2 BTrees),
 * so they are not automata over automata (each level would copy the states of the levels under
 * it) but one flat automaton over their other matchers ("leaves", and the index automata of the
 * values): a state is a leaf's state and, for each BTree above it, what that BTree needs to know
 * besides, left out when it is the usual:
 *   in a BTree's left part: the BTree's decoding of its string (where the rune starts are, for
 *     the positions it visits; usually at a rune start);
 *   in its value: the track's freshness (x is the current position: the string may not end here)
 *     and deadline (x inside a rune cut by the end of the string; usually none);
 *   in its right part: the value's post state (what the value checks after its segment; usually
 *     nothing), freshness and deadline.
 * When a leaf accepts, its acceptance goes up: an AnyOf accepts; a left part makes its BTree
 * start its value's index automaton here (if a rune starts here); a right part makes its BTree
 * accept (if the value's post state accepts and the track is not fresh).
 */

const REL_ROOT = 0;
const REL_L = 1;
const REL_V = 2;
const REL_R = 3;
const REL_MEMBER = 4;

const K_LEAF = 0;
const K_BTREE = 1;
const K_ANYOF = 2;
const K_VALUE = 3;

interface FNode {
  kind: number;
  parent: number;
  rel: number;
  auto?: Auto; // leaf
  V?: IAuto; // btree: its value's index automaton
  vnode?: number; // btree: the node of the value's states
  L?: number; // btree: left node, -1 if none
  R?: number; // btree: right node
  members?: number[]; // anyof
  empty?: boolean; // does the node match ""?
}

// attachments: [btree, 0, decoder] (left part), [btree, 1, fresh, deadline] (value),
// [btree, 2, value post state, fresh, deadline] (right part)
const ATT_LEN = [3, 4, 5];

class FlatA extends Auto {
  private readonly nodes: FNode[] = [];
  private readonly root: number;
  constructor(spec: Spec) {
    super();
    this.root = this.add(spec, -1, REL_ROOT);
  }

  private add(spec: Spec, parent: number, rel: number): number {
    const idx = this.nodes.length;
    const node: FNode = { kind: K_LEAF, parent, rel };
    this.nodes.push(node);
    if (spec.k === "btree" && scanKind(spec) === "plain") {
      node.kind = K_BTREE;
      node.V = buildIndex(spec.v);
      node.vnode = this.nodes.length;
      this.nodes.push({ kind: K_VALUE, parent: idx, rel: REL_V });
      node.L = spec.l === null ? -1 : this.add(spec.l, idx, REL_L);
      node.R = this.add(spec.r ?? { k: "nothing" }, idx, REL_R);
      node.empty = false;
    } else if (spec.k === "anyof") {
      node.kind = K_ANYOF;
      node.members = groupTexts(flattenAnyOf(spec, [])).map((m) => this.add(m, idx, REL_MEMBER));
      node.empty = node.members.some((m) => this.nodes[m].empty);
    } else {
      node.auto = buildLeaf(spec);
      node.empty = node.auto.accEmpty();
    }
    return idx;
  }

  /** The attachments without the neutral ones. */
  private state(n: number, local: number, atts: number[]): number {
    return this.cfg([n, local, ...atts]);
  }
  private attL(P: number, dec: number): number[] {
    return dec === AL ? [] : [P, 0, dec];
  }
  private attV(P: number, fresh: number, dl: number): number[] {
    return fresh === 0 && dl === -1 ? [] : [P, 1, fresh, dl];
  }
  private attR(P: number, post: number, fresh: number, dl: number): number[] {
    return fresh === 0 && dl === -1 && this.nodes[P].V!.sink(post) ? [] : [P, 2, post, fresh, dl];
  }

  /** Start node n here, with the attachments `atts` of its ancestors. */
  private start(n: number, atts: number[], out: number[]): void {
    const node = this.nodes[n];
    switch (node.kind) {
      case K_LEAF:
        for (const l of node.auto!.init()) this.emit(n, l, atts, out);
        return;
      case K_ANYOF:
        for (const m of node.members!) this.start(m, atts, out);
        return;
      case K_BTREE:
        if (node.L! >= 0) this.start(node.L!, [...this.attL(n, LEAD), ...atts], out);
        else this.spawn(n, -1, atts, out);
        return;
    }
  }

  /** Start the value of btree P here (a rune start visited by its scan). */
  private spawn(P: number, dl: number, atts: number[], out: number[]): void {
    const node = this.nodes[P];
    for (const v of node.V!.init()) this.emitV(P, v, 1, dl, atts, out);
  }

  /** A state of the value of P (fresh, deadline): kept, and its splits start P's right part. */
  private emitV(P: number, v: number, fresh: number, dl: number, atts: number[], out: number[]): void {
    const node = this.nodes[P];
    out.push(this.state(node.vnode!, v, [...this.attV(P, fresh, dl), ...atts]));
    for (const post of node.V!.split(v)) this.start(node.R!, [...this.attR(P, post, fresh, dl), ...atts], out);
  }

  /** A leaf state: kept, and its acceptance goes up. */
  private emit(n: number, l: number, atts: number[], out: number[]): void {
    out.push(this.state(n, l, atts));
    if (this.nodes[n].auto!.acc(l)) this.accepted(n, atts, out);
  }

  /** Node n accepts here; `atts` starts with the attachment of its parent (if any). */
  private accepted(n: number, atts: number[], out: number[]): void {
    const node = this.nodes[n];
    const P = node.parent;
    switch (node.rel) {
      case REL_ROOT:
        return;
      case REL_MEMBER:
        this.accepted(P, atts, out);
        return;
      case REL_L: {
        const [dec, rest] = atts.length > 0 && atts[0] === P && atts[1] === 0 ? [atts[2], atts.slice(3)] : [AL, atts];
        if (isStart(dec)) this.spawn(P, deadline(dec), rest, out);
        return;
      }
      case REL_R: {
        const has = atts.length > 0 && atts[0] === P && atts[1] === 2;
        if (has && (atts[3] !== 0 || !this.nodes[P].V!.acc(atts[2]))) return;
        this.accepted(P, has ? atts.slice(5) : atts, out);
        return;
      }
    }
  }

  /** Does node n accept at the end of the input (acceptance up to the root)? */
  private acceptsAtEnd(n: number, atts: number[]): boolean {
    for (;;) {
      const node = this.nodes[n];
      const P = node.parent;
      switch (node.rel) {
        case REL_ROOT:
          return true;
        case REL_MEMBER:
          n = P;
          continue;
        case REL_L:
        case REL_V:
          return false;
        case REL_R: {
          const has = atts.length > 0 && atts[0] === P && atts[1] === 2;
          if (has && (atts[3] !== 0 || !this.nodes[P].V!.acc(atts[2]))) return false;
          if (has) atts = atts.slice(5);
          n = P;
          continue;
        }
      }
    }
  }

  /**
   * The attachments after reading byte c, as a list of alternatives (decoders branch). A left
   * part's decoder left out (at a rune start) only changes on a byte that is not ASCII, so then
   * every left part above the state is made explicit first.
   */
  private stepAtts(n: number, atts: number[], c: number): number[][] {
    let full = atts;
    if (c >= 0x80) {
      // make the left-part decoders explicit, in path order
      full = [];
      let i = 0;
      for (let m = n; this.nodes[m].rel !== REL_ROOT; m = this.nodes[m].parent) {
        const P = this.nodes[m].parent;
        if (this.nodes[m].rel === REL_MEMBER) continue;
        const here = i < atts.length && atts[i] === P;
        if (this.nodes[m].rel === REL_L) {
          if (here) {
            full.push(P, 0, atts[i + 2]);
            i += 3;
          } else full.push(P, 0, AL);
        } else if (here) {
          const len = ATT_LEN[atts[i + 1]];
          for (let k = 0; k < len; k++) full.push(atts[i + k]);
          i += len;
        }
      }
    }
    let alts: number[][] = [[]];
    for (let i = 0; i < full.length; ) {
      const P = full[i];
      const kind = full[i + 1];
      const opts: number[][] = [];
      if (kind === 0) {
        decStep(full[i + 2], 0, c, dbuf);
        for (let b = 0; b < dbuf.length; b += 3) opts.push(this.attL(P, dbuf[b]));
      } else {
        const dl = kind === 1 ? full[i + 3] : full[i + 4];
        if (dl === 0) return [];
        const dl2 = dl > 0 ? dl - 1 : -1;
        if (kind === 1) opts.push(this.attV(P, 0, dl2));
        else for (const post of this.nodes[P].V!.next(full[i + 2], c)) opts.push(this.attR(P, post, 0, dl2));
      }
      if (opts.length === 0) return [];
      const nx: number[][] = [];
      for (const a of alts) for (const o of opts) nx.push([...a, ...o]);
      alts = nx;
      i += ATT_LEN[kind];
    }
    return alts;
  }

  mkInit() {
    const out: number[] = [];
    this.start(this.root, [], out);
    return out;
  }

  mkNext(p: number[], c: number) {
    const n = p[0];
    const node = this.nodes[n];
    const out: number[] = [];
    const alts = this.stepAtts(n, p.slice(2), c);
    if (alts.length === 0) return out;
    if (node.kind === K_LEAF) {
      const ls = node.auto!.next(p[1], c);
      for (const atts of alts) for (const l of ls) this.emit(n, l, atts, out);
      return out;
    }
    // a value's state: its attachment (fresh, deadline) comes first
    const P = node.parent;
    const V = this.nodes[P].V!;
    const vs = V.next(p[1], c);
    for (const atts of alts) {
      const has = atts.length > 0 && atts[0] === P && atts[1] === 1;
      const dl = has ? atts[3] : -1;
      const rest = has ? atts.slice(4) : atts;
      for (const v of vs) this.emitV(P, v, 0, dl, rest, out);
    }
    return out;
  }

  mkAcc(p: number[]) {
    const n = p[0];
    const node = this.nodes[n];
    const atts = p.slice(2);
    if (node.kind === K_LEAF) return node.auto!.acc(p[1]) && this.acceptsAtEnd(n, atts);
    // a value's state: a segment past the end, the right part matches "", the track not fresh
    const P = node.parent;
    const pn = this.nodes[P];
    const has = atts.length > 0 && atts[0] === P && atts[1] === 1;
    if (has && atts[2] === 1) return false;
    if (pn.V!.over(p[1]) === 0 || !this.nodes[pn.R!].empty) return false;
    return this.acceptsAtEnd(P, has ? atts.slice(4) : atts);
  }
}

// ---- BTree values whose candidates depend on the scan ----------------------------------------

/**
 * Whether an index automaton's relation is non-empty at some position: its runs from there are
 * followed as one deterministic state (a set of its states, closed under splits); at the end the
 * relation is non-empty when a post state accepts or a segment is pending past the end. States
 * are "settled" when the answer cannot change: empty set (no), or a sink post state (yes).
 */
class Checker {
  private readonly ids = new Map<string, number>();
  private readonly sets: Cfgs[] = [];
  private readonly nx: (number | undefined)[][] = [];
  private readonly fixedC: number[] = [];
  private readonly accC: number[] = [];
  constructor(private readonly V: IAuto) {}
  private intern(xs: number[]): number {
    const all = new Set<number>();
    const todo = [...xs];
    while (todo.length > 0) {
      const x = todo.pop()!;
      if (all.has(x)) continue;
      all.add(x);
      for (const y of this.V.split(x)) todo.push(y);
    }
    const sorted = [...all].sort((a, b) => a - b);
    const key = sorted.join(",");
    let id = this.ids.get(key);
    if (id === undefined) {
      id = this.sets.length;
      this.sets.push(sorted);
      this.ids.set(key, id);
      stateCount++;
    }
    return id;
  }
  start(init: Cfgs): number {
    return this.intern([...init]);
  }
  next(id: number, c: number): number {
    let row = this.nx[id];
    if (row === undefined) row = this.nx[id] = new Array<number | undefined>(256);
    let r = row[c];
    if (r === undefined) {
      const out: number[] = [];
      for (const x of this.sets[id]) for (const y of this.V.next(x, c)) out.push(y);
      r = row[c] = this.intern(out);
    }
    return r;
  }
  /** 1: surely non-empty, 0: surely empty, -1: not known yet. */
  fixed(id: number): number {
    let f = this.fixedC[id];
    if (f === undefined) {
      const set = this.sets[id];
      f = this.fixedC[id] = set.length === 0 ? 0 : set.some((x) => this.V.sink(x)) ? 1 : -1;
    }
    return f;
  }
  acc(id: number): boolean {
    let a = this.accC[id];
    if (a === undefined) a = this.accC[id] = this.sets[id].some((x) => this.V.acc(x) || this.V.over(x) !== 0) ? 1 : 0;
    return a === 1;
  }
}

/**
 * Sets of pending claims "the checker state's answer at the end is e" (encoded 2 * state + e),
 * interned; 0 is the empty set. -1 stands for a contradiction.
 */
class Claims {
  private readonly ids = new Map<string, number>([["", 0]]);
  private readonly sets: number[][] = [[]];
  private readonly nx: (number | undefined)[][] = [];
  private readonly accC: number[] = [];
  constructor(private readonly ck: Checker) {}
  private intern(xs: number[]): number {
    const sorted = [...new Set(xs)].sort((a, b) => a - b);
    const key = sorted.join(",");
    let id = this.ids.get(key);
    if (id === undefined) {
      id = this.sets.length;
      this.sets.push(sorted);
      this.ids.set(key, id);
      stateCount++;
    }
    return id;
  }
  add(id: number, state: number, e: number): number {
    const f = this.ck.fixed(state);
    if (f !== -1) return f === e ? id : -1;
    return this.intern([...this.sets[id], 2 * state + e]);
  }
  next(id: number, c: number): number {
    if (id === 0) return 0;
    let row = this.nx[id];
    if (row === undefined) row = this.nx[id] = new Array<number | undefined>(256);
    let r = row[c];
    if (r === undefined) {
      const out: number[] = [];
      r = 0;
      for (const x of this.sets[id]) {
        const st = this.ck.next(x >> 1, c);
        const f = this.ck.fixed(st);
        if (f === -1) out.push(2 * st + (x & 1));
        else if (f !== (x & 1)) {
          r = -1;
          break;
        }
      }
      if (r === 0) r = this.intern(out);
      row[c] = r;
    }
    return r;
  }
  acc(id: number): boolean {
    let a = this.accC[id];
    if (a === undefined) a = this.accC[id] = this.sets[id].every((x) => this.ck.acc(x >> 1) === ((x & 1) === 1)) ? 1 : 0;
    return a === 1;
  }
}

/**
 * The claim "the SuffixAny's Index from offset o returns this position q": with the suffix's
 * first occurrence from o starting at occ >= q, no separator of rank <= jb in [q, occ) (q follows
 * the last separator of the lowest rank found before occ: rank jb; or q = o and there is none:
 * jb = the last rank). States [0, kmp (from o), bytes since q (capped), bytes since the first
 * bad separator (-1: none), jb]; once the occurrence is complete and fits, a sink post state.
 * Separators are ASCII here.
 */
class SuffixClaimI extends IAuto {
  private readonly delta: Int32Array;
  private readonly rank = new Int32Array(256).fill(-1);
  constructor(
    private readonly s: string,
    seps: number[],
  ) {
    super();
    this.delta = kmp(s);
    for (let j = seps.length - 1; j >= 0; j--) this.rank[seps[j]] = j;
  }
  at(kmp0: number, jb: number): number {
    return this.cfg([0, kmp0, 0, -1, jb]);
  }
  mkInit() {
    return [];
  }
  mkNext(p: number[], c: number) {
    if (p[0] === 1) return this.nextFree(p[1]);
    const m = this.s.length;
    const k = this.delta[p[1] * 256 + c];
    const jq = Math.min(p[2] + 1, m);
    const r = this.rank[c];
    const bad = p[3] >= 0 ? p[3] + 1 : r >= 0 && r <= p[4] ? 1 : -1;
    if (bad > m) return [];
    if (k === m) return jq < m ? [] : [this.free(-1)];
    return [this.cfg([0, k, jq, bad, p[4]])];
  }
  mkAcc(p: number[]) {
    return p[0] === 1;
  }
}

/**
 * A combined index automaton for claims: the value's members (as OneOfI) and, after them, one
 * SuffixClaimI per SuffixAny member.
 */
class ClaimsI extends IAuto {
  constructor(
    readonly members: IAuto[],
    readonly claims: SuffixClaimI[],
  ) {
    super();
  }
  private auto(j: number): IAuto {
    return j < this.members.length ? this.members[j] : this.claims[j - this.members.length];
  }
  wrap(j: number, x: number): number {
    return this.auto(j).sink(x) ? this.cfg([-1, 0]) : this.cfg([j, x]);
  }
  initOf(js: number[]): number[] {
    const out: number[] = [];
    for (const j of js) for (const x of this.members[j].init()) out.push(this.wrap(j, x));
    return out;
  }
  mkInit() {
    return [];
  }
  mkNext(p: number[], c: number) {
    if (p[0] === -1) return [this.cfg([-1, 0])];
    return this.auto(p[0]).next(p[1], c).map((x) => this.wrap(p[0], x));
  }
  mkSplit(p: number[]) {
    if (p[0] === -1) return [];
    return this.auto(p[0]).split(p[1]).map((x) => this.wrap(p[0], x));
  }
  mkOver(p: number[]) {
    return p[0] === -1 ? 0 : this.auto(p[0]).over(p[1]);
  }
  mkSink(p: number[]) {
    return p[0] === -1 || this.auto(p[0]).sink(p[1]);
  }
  mkAcc(p: number[]) {
    return p[0] === -1 || this.auto(p[0]).acc(p[1]);
  }
}

const OFFSET = 0;
const JUMP = 1;

/**
 * A BTree with a left matcher whose value (an AnyOf) has members whose candidates depend on the
 * scan, which is then followed:
 *  - EveryOf ("E"): its Index is at 0 or fails, and may fail at one position but not at a later
 *    one; gobwas's scan stops as soon as every member fails, and after a position where only the
 *    other members find something later, it jumps there: EveryOf counts only at scan offsets;
 *  - SuffixAny with several ASCII separators ("S"): its Index from offset o is 1 + the last index
 *    of the lowest-ranked separator found before the suffix's first occurrence (IndexAnyRunes
 *    order), which is not where a restart would find it;
 *  - the others ("R") count wherever a restart finds them.
 * At each position the state knows whether it is a scan offset (OFFSET) or inside a jump (JUMP);
 * at a rune start it guesses whether an E/R member's Index finds something right there (E only
 * at an offset), with a claim checked at the end (Checker, Claims); each S member follows its
 * separators since the offset and, where its index can be (the offset, or after a separator of
 * rank <= the lowest so far), guesses whether it is, with a claim (SuffixClaimI). A position
 * where something is found is visited: tracks start there for those members, as in FlatA, and the
 * next rune start is an offset.
 * States: [0, left, decoder, scan state, claims, (rank so far, kmp from the offset) per S member,
 * kmp -1: the occurrence is past, -2: tracking starts at the next offset] and
 * [1, value, right, fresh, deadline, claims].
 */
class ScanBTreeA extends Auto {
  private readonly rtEmpty: boolean;
  private readonly claims: Claims;
  private readonly ck: Checker;
  private readonly CK: ClaimsI;
  private readonly V: OneOfI;
  private readonly eIdx: number[] = [];
  private readonly rIdx: number[] = [];
  private readonly sIdx: number[] = [];
  private readonly sDelta: Int32Array[] = [];
  private readonly sLen: number[] = [];
  private readonly rank = new Int32Array(256).fill(-1);
  private readonly K: number;
  constructor(
    private readonly L: Auto,
    members: Spec[],
    private readonly R: Auto,
  ) {
    super();
    this.rtEmpty = R.accEmpty();
    const idx: IAuto[] = [];
    const claimAutos: SuffixClaimI[] = [];
    let seps: number[] = [];
    members.forEach((m, i) => {
      if (m.k === "everyof") this.eIdx.push(i);
      else if (m.k === "suffixany" && exoticSuffixAny(m)) {
        this.sIdx.push(i);
        this.sDelta.push(kmp(m.s));
        this.sLen.push(m.s.length);
        claimAutos.push(new SuffixClaimI(m.s, m.seps));
        seps = m.seps;
        idx.push(new SuffixI(m.s));
        return;
      } else this.rIdx.push(i);
      idx.push(buildIndex(m));
    });
    this.K = seps.length;
    for (let j = seps.length - 1; j >= 0; j--) this.rank[seps[j]] = j;
    this.V = new OneOfI(idx);
    this.CK = new ClaimsI(idx, claimAutos);
    this.ck = new Checker(this.CK);
    this.claims = new Claims(this.ck);
  }
  private track(v: number, fresh: number, dl: number, ob: number, out: number[]): void {
    out.push(this.cfg([1, v, -1, fresh, dl, ob]));
    for (const s of this.V.split(v)) for (const r of this.R.init()) out.push(this.cfg([1, s, r, fresh, dl, ob]));
  }
  /**
   * The guesses at a position: `cands` lists [S member, jb, kmp] for the S members whose index
   * can be here; E/R members are asked at rune starts only.
   */
  private guess(l: number, lacc: boolean, d: number, ps: number, ob: number, tr: number[], cands: number[], out: number[]): void {
    const rs = isStart(d);
    const er = ps === OFFSET ? [...this.eIdx, ...this.rIdx] : this.rIdx;
    type Branch = { ob: number; members: number[]; visit: boolean };
    let branches: Branch[] = [{ ob, members: [], visit: false }];
    const fork = (st: number, yes: number[]) => {
      const nx: Branch[] = [];
      for (const b of branches) {
        const y = this.claims.add(b.ob, st, 1);
        if (y !== -1) nx.push({ ob: y, members: [...b.members, ...yes], visit: true });
        const n = this.claims.add(b.ob, st, 0);
        if (n !== -1) nx.push({ ob: n, members: b.members, visit: b.visit });
      }
      branches = nx;
    };
    if (rs && er.length > 0) fork(this.ck.start(this.CK.initOf(er)), er);
    for (let i = 0; i < cands.length; i += 3) {
      const j = cands[i];
      const claim = this.CK.wrap(this.CK.members.length + j, this.CK.claims[j].at(cands[i + 2], cands[i + 1]));
      fork(this.ck.start([claim]), [this.sIdx[j]]);
    }
    const pending = tr.map((x, i) => (i % 2 === 1 ? -2 : x));
    for (const b of branches) {
      out.push(this.cfg([0, l, d, b.visit ? OFFSET : ps === OFFSET && rs ? JUMP : ps, b.ob, ...(b.visit ? pending : tr)]));
      if (b.visit && lacc) for (const v of this.V.initOf(b.members)) this.track(v, 1, deadline(d), b.ob, out);
    }
  }
  /** At a rune start that is an offset, S members start following their separators afresh. */
  private fresh(d: number, ps: number, tr: number[], cands: number[]): number[] {
    if (!(isStart(d) && ps === OFFSET)) return tr;
    const t: number[] = [];
    this.sIdx.forEach((_, j) => {
      t.push(this.K, 0);
      cands.push(j, this.K - 1, 0);
    });
    return t;
  }
  mkInit() {
    const out: number[] = [];
    for (const l of this.L.init()) {
      const cands: number[] = [];
      const tr = this.fresh(LEAD, OFFSET, this.sIdx.flatMap(() => [this.K, -2]), cands);
      this.guess(l, this.L.acc(l), LEAD, OFFSET, 0, tr, cands, out);
    }
    return out;
  }
  mkNext(p: number[], c: number) {
    const out: number[] = [];
    if (p[0] === 0) {
      const ob = this.claims.next(p[4], c);
      if (ob === -1) return out;
      const ls = this.L.next(p[1], c);
      if (ls.length === 0) return out;
      // the S members read the byte: a separator may be where their index is, after it
      const tr = p.slice(5);
      const sepCands: number[] = [];
      for (let j = 0; j < this.sIdx.length; j++) {
        const k = tr[2 * j + 1];
        if (k < 0) continue;
        const k2 = this.sDelta[j][k * 256 + c];
        if (k2 === this.sLen[j]) {
          tr[2 * j + 1] = -1;
          continue;
        }
        const r = this.rank[c];
        if (r >= 0 && r <= tr[2 * j]) {
          sepCands.push(j, r, k2);
          tr[2 * j] = r;
        }
        tr[2 * j + 1] = k2;
      }
      decStep(p[2], 0, c, dbuf);
      const branches = dbuf.slice();
      for (let i = 0; i < branches.length; i += 3) {
        const d = branches[i];
        for (const l of ls) {
          const cands = [...sepCands];
          const t = this.fresh(d, p[3], tr, cands);
          if (isStart(d) || cands.length > 0) this.guess(l, this.L.acc(l), d, p[3], ob, t, cands, out);
          else out.push(this.cfg([0, l, d, p[3], ob, ...t]));
        }
      }
      return out;
    }
    const dl = p[4];
    if (dl === 0) return out;
    const ob = this.claims.next(p[5], c);
    if (ob === -1) return out;
    const dl2 = dl > 0 ? dl - 1 : -1;
    const vs = this.V.next(p[1], c);
    if (p[2] === -1) {
      for (const v of vs) this.track(v, 0, dl2, ob, out);
      return out;
    }
    const rs = this.R.next(p[2], c);
    for (const v of vs) for (const r of rs) out.push(this.cfg([1, v, r, 0, dl2, ob]));
    return out;
  }
  mkAcc(p: number[]) {
    if (p[0] === 0 || p[3] === 1 || !this.claims.acc(p[5])) return false;
    if (p[2] === -1) return this.rtEmpty && this.V.over(p[1]) !== 0;
    return this.V.acc(p[1]) && this.R.acc(p[2]);
  }
}

// ---- building --------------------------------------------------------------------------------

export class Unsupported extends Error {}

function runePred(s: Spec): (r: number) => boolean {
  switch (s.k) {
    case "single": {
      const seps = s.seps;
      return (r) => !seps.includes(r);
    }
    case "list": {
      const { chars, not } = s;
      return (r) => chars.includes(r) !== not;
    }
    case "range": {
      const { lo, hi, not } = s;
      return (r) => (r >= lo && r <= hi) !== not;
    }
    default:
      throw new Error("not a rune matcher");
  }
}

function buildMatch(s: Spec): Auto {
  switch (s.k) {
    case "nothing":
      return new NothingA();
    case "super":
      return new SuperA();
    case "any":
      return new AnyA(s.seps);
    case "single":
    case "list":
    case "range":
      return new RuneA(runePred(s));
    case "text":
      return new TextA(s.str);
    case "texts":
      return new TrieA(new Trie(s.strs));
    case "anyof":
    case "btree":
      return new FlatA(s);
    case "row":
      return new AllA([new CountA("eq", s.runes), new MatchAllA(s.ms.map(buildMatch), s.lens)]);
    case "prefix":
      return new AffixA(s.p, "");
    case "suffix":
      return new AffixA("", s.s);
    case "prefixsuffix":
      return new AffixA(s.p, s.s);
    case "prefixany":
      return new PrefixAnyA(s.p, s.seps);
    case "suffixany":
      return new SuffixAnyA(s.s, s.seps);
    case "contains":
      return new ContainsA(s.needle, s.not);
    case "min":
      return new CountA("min", s.n);
    case "max":
      return new CountA("max", s.n);
    case "everyof":
      return new AllA(s.ms.map(buildMatch));
  }
}

/** The Text members of an AnyOf as one set of texts (a trie), when there are several. */
function groupTexts(ms: Spec[]): Spec[] {
  const texts = ms.flatMap((m) => (m.k === "text" ? [m.str] : []));
  if (texts.length < 2) return ms;
  return [...ms.filter((m) => m.k !== "text"), { k: "texts", strs: texts }];
}

function flattenAnyOf(s: Spec, out: Spec[]): Spec[] {
  if (s.k === "anyof") for (const m of s.ms) flattenAnyOf(m, out);
  else out.push(s);
  return out;
}

function buildIndex(s: Spec): IAuto {
  switch (s.k) {
    case "nothing":
      return new NothingI();
    case "super":
      return new SuperI();
    case "any":
      return new AnyI(s.seps);
    case "single":
    case "list":
    case "range":
      return new RuneI(runePred(s));
    case "text":
      return new TextI(s.str);
    case "anyof": {
      const ms = groupTexts(flattenAnyOf(s, []));
      return ms.length === 1 ? buildIndex(ms[0]) : new OneOfI(ms.map(buildIndex));
    }
    case "texts":
      return new TrieI(new Trie(s.strs));
    case "btree":
      return new NeverI();
    case "row":
      return new RowI(s.runes, new MatchAllA(s.ms.map(buildMatch), s.lens));
    case "prefix":
      return new PrefixI(s.p);
    case "suffix":
      return new SuffixI(s.s);
    case "prefixsuffix":
      return new PrefixSuffixI(s.p, s.s);
    case "prefixany":
      return new PrefixAnyI(s.p, s.seps);
    case "suffixany":
      return new SuffixAnyI(s.s, s.seps);
    case "contains":
      return s.not ? new NotContainsI(s.needle) : new ContainsI(s.needle);
    case "min":
      return new CountI("min", s.n);
    case "max":
      return new CountI("max", s.n);
    case "everyof":
      return new AllI(s.ms.map(buildIndex));
  }
}

/**
 * Does the value's candidate set depend on where gobwas's scan restarted? SuffixAny's Index
 * returns 1 + LastIndexAnyRunes before the suffix, which is not a candidate of a restart when
 * separators of a later rank follow, or (for separators that are not ASCII) which is the first
 * occurrence rather than the last. With no left matcher only the first candidate counts, which a
 * restart finds.
 */
function exoticValue(v: Spec): boolean {
  return flattenAnyOf(v, []).some((m) => m.k === "suffixany" && m.seps.some((r) => r >= 0x80) && exoticSuffixAny(m));
}

/** A SuffixAny whose Index is not a restart's: several separators, or one that is not ASCII. */
function exoticSuffixAny(m: Extract<Spec, { k: "suffixany" }>): boolean {
  const distinct = new Set(m.seps.map((r) => (r > 0x10ffff || (r >= 0xd800 && r <= 0xdfff) ? RUNE_ERROR : r)));
  return distinct.size > 1 || m.seps.some((r) => r >= 0x80);
}

/** How a BTree is matched: a flat automaton, a scan-following automaton, or not at all. */
function scanKind(s: Extract<Spec, { k: "btree" }>): "plain" | "scan" {
  if (s.l === null) return "plain";
  if (exoticValue(s.v)) throw new Unsupported("exotic");
  return flattenAnyOf(s.v, []).some((m) => m.k === "everyof" || (m.k === "suffixany" && exoticSuffixAny(m))) ? "scan" : "plain";
}

/** A matcher that FlatA does not flatten (for a BTree: one whose scan must be followed). */
function buildLeaf(s: Spec): Auto {
  if (s.k !== "btree") return buildMatch(s);
  return new ScanBTreeA(buildMatch(s.l!), flattenAnyOf(s.v, []), s.r === null ? new NothingA() : buildMatch(s.r));
}

// ---- running ---------------------------------------------------------------------------------

const DFA_MAX_SETS = 2048;

/** Runs a match automaton over a byte string, with a lazily built DFA over its state sets. */
export class Runner {
  private setIds = new Map<string, number>();
  private sets: Cfgs[] = [];
  private setAcc: number[] = [];
  private trans = new Int32Array(0);
  private stamp: Int32Array = new Int32Array(0);
  private stampGen = 0;
  constructor(private readonly root: Auto) {}

  static build(spec: Spec): Runner {
    return new Runner(buildMatch(spec));
  }

  private setId(cfgs: readonly number[]): number {
    const sorted = cfgs.length > 1 ? Array.from(cfgs).sort((a, b) => a - b) : cfgs;
    const key = sorted.join(",");
    let id = this.setIds.get(key);
    if (id === undefined) {
      if (this.sets.length >= DFA_MAX_SETS) this.reset();
      id = this.sets.length;
      this.sets.push(sorted);
      this.setIds.set(key, id);
      this.setAcc.push(-1);
      if (this.trans.length < this.sets.length * 256) {
        const t = new Int32Array(Math.max(this.sets.length * 2, 16) * 256).fill(-1);
        t.set(this.trans);
        this.trans = t;
      }
    }
    return id;
  }

  private reset(): void {
    this.setIds = new Map();
    this.sets = [];
    this.setAcc = [];
    this.trans = new Int32Array(0);
    this.generation++;
  }
  private generation = 0;

  private step(set: Cfgs, c: number): number[] {
    const root = this.root;
    const out: number[] = [];
    this.stampGen++;
    for (const cfg of set) {
      for (const n of root.next(cfg, c)) {
        if (n >= this.stamp.length) {
          const s = new Int32Array(Math.max(n + 1, this.stamp.length * 2));
          s.set(this.stamp);
          this.stamp = s;
        }
        if (this.stamp[n] !== this.stampGen) {
          this.stamp[n] = this.stampGen;
          out.push(n);
        }
      }
    }
    return out;
  }

  /** States created by this runner's automata so far (the caches grow with them). */
  size = 0;

  run(s: string): boolean {
    const before = stateCount;
    try {
      return this.runOn(s);
    } finally {
      this.size += stateCount - before;
    }
  }

  private runOn(s: string): boolean {
    let cur = this.setId(this.root.init());
    if (this.sets[cur].length === 0) return false;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      let nx = this.trans[cur * 256 + c];
      if (nx === -1) {
        const cfgs = this.step(this.sets[cur], c);
        if (cfgs.length === 0) return false;
        const gen = this.generation;
        nx = this.setId(cfgs);
        if (gen === this.generation) this.trans[cur * 256 + c] = nx;
      }
      cur = nx;
    }
    let a = this.setAcc[cur];
    if (a === -1) a = this.setAcc[cur] = this.sets[cur].some((x) => this.root.acc(x)) ? 1 : 0;
    return a === 1;
  }
}

export function engineStates(): number {
  return stateCount;
}
