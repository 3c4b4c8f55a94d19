// Linear-time matching for RE2 patterns (see re2.ts for the syntax): Go's program shape, run by
// three engines that each take time linear in the input (times the program size):
//
// - a lazily built DFA answers "is there a match" (regex.match, JSON Schema pattern, CUE =~),
//   rejects long inputs without a match before the engines below are asked for positions, and
//   lets the Pike VM skip stretches where no match can start;
// - a bounded backtracker that visits each (instruction, position) once (Go's "bit-state"
//   engine) finds the leftmost-first match and its groups on short inputs;
// - a Pike VM (Thompson NFA simulation with prioritised threads, Go's leftmost-first cut-off)
//   does the same on long inputs.
//
// Why not the JS RegExp engine, even for patterns that look safe: it backtracks without memo, so
// nested or overlapping loops are exponential and even one loop is quadratic on an unanchored
// search (`a.*b` on 100k 'a's: 11.5 s, `[a-z]+@` on 100k: over 20 s, `(a+)+$` on 1M: over 90 s),
// and proving a pattern safe is harder than not needing to. The DFA costs the same as a RegExp on
// the hot path (regex.match of a short pattern on a short string: 0.08–0.17 µs of CPU against
// 0.08–0.10 µs; the 1M-character reproducers take 7–17 ms each). Why not the re2js package (a
// port of RE2J, measured at 2.10.0): 2.4–9 µs per short match, `(.*a){20}` on 1M characters
// 7.8 s in its NFA, and it rejects duplicate group names, which Go accepts.

import type { Node } from "./re2.ts";
import { appendAll } from "./support/codepoints.ts";

export const enum Op {
  Rune,
  Empty,
  Cap,
  Alt,
  Match,
}

/** Empty-width assertions (Inst.arg of an Empty instruction). */
export const enum Look {
  Bol,
  Eol,
  Bot,
  Eot,
  Wb,
  Nwb,
}

/** The character on one side of a position: before it (START at 0) or after it (END at the end). */
const enum Ctx {
  Edge, // START before, END after
  Newline,
  Word,
  Other,
}

export interface Inst {
  op: Op;
  out: number;
  /** Alt: the second (lower-priority) choice; Cap: the slot; Empty: a Look. */
  arg: number;
  /** Rune: which characters it takes (shared by the copies of one repeated class). */
  m: RuneSet | null;
}

/** The characters a Rune instruction takes. */
export interface RuneSet {
  /** Sorted code point ranges [lo, hi, …] (null: use `re`). */
  ranges: number[] | null;
  /** The ranges are negated. */
  neg: boolean;
  /** A one-character matcher for classes with Unicode properties or case folding. */
  re: RegExp | null;
  /** Answers of `re`, by code point. */
  memo: Map<number, boolean> | null;
}

export interface Program {
  insts: Inst[];
  start: number;
  nslot: number;
  /** A match can only start at position 0 (every path from the start passes `^` or `\A`). */
  anchored: boolean;
  dfa: DFA | null;
  /** The backtracker's slots. */
  caps: Int32Array | null;
  pike: PikeVM | null;
}

function isWordCode(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f;
}

function ctxOf(c: number): Ctx {
  return c === 10 ? Ctx.Newline : isWordCode(c) ? Ctx.Word : Ctx.Other;
}

function look(kind: Look, before: Ctx, after: Ctx): boolean {
  switch (kind) {
    case Look.Bol:
      return before === Ctx.Edge || before === Ctx.Newline;
    case Look.Eol:
      return after === Ctx.Edge || after === Ctx.Newline;
    case Look.Bot:
      return before === Ctx.Edge;
    case Look.Eot:
      return after === Ctx.Edge;
    case Look.Wb:
      return (before === Ctx.Word) !== (after === Ctx.Word);
    case Look.Nwb:
      return (before === Ctx.Word) === (after === Ctx.Word);
  }
}

function ctxBefore(s: string, pos: number): Ctx {
  return pos === 0 ? Ctx.Edge : ctxOf(s.charCodeAt(pos - 1));
}

function ctxAfter(s: string, pos: number): Ctx {
  return pos >= s.length ? Ctx.Edge : ctxOf(s.charCodeAt(pos));
}

function lookAt(kind: Look, s: string, pos: number): boolean {
  return look(kind, ctxBefore(s, pos), ctxAfter(s, pos));
}

const MEMO_MAX = 4096;

/** Generation stamps wrap before leaving the small-integer range. */
const GEN_MAX = 0x3fffffff;

// ---- Cancellation ------------------------------------------------------------------------------
// Matching is linear in the text but also proportional to the program: a pattern of a million
// literal characters makes each new DFA state and each Pike VM step cost a million units. The
// regex builtins run their matching inside `withRegexCancel` (the evaluation's checkCancel); the
// matchers count their work and call the check every WORK_QUANTUM units, so a deadline or an
// AbortSignal stops them. Outside a builtin (schema patterns) there is no check.
const WORK_QUANTUM = 1 << 16;
let cancelCheck: (() => void) | null = null;
let workLeft = WORK_QUANTUM;

/** Run f with `check` called every WORK_QUANTUM units of matching work (it throws to stop). */
export function withRegexCancel<T>(check: () => void, f: () => T): T {
  const prevCheck = cancelCheck;
  const prevLeft = workLeft;
  cancelCheck = check;
  workLeft = WORK_QUANTUM;
  try {
    return f();
  } finally {
    cancelCheck = prevCheck;
    workLeft = prevLeft;
  }
}

function work(units: number): void {
  if (cancelCheck !== null && (workLeft -= units) <= 0) {
    workLeft = WORK_QUANTUM;
    cancelCheck();
  }
}

export function runeMatches(inst: RuneSet, c: number): boolean {
  const r = inst.ranges;
  if (r !== null) {
    let hit = false;
    if (r.length <= 16) {
      for (let k = 0; k < r.length; k += 2) {
        if (c < r[k]) break;
        if (c <= r[k + 1]) {
          hit = true;
          break;
        }
      }
    } else {
      let lo = 0;
      let hi = r.length / 2;
      while (lo < hi) {
        const m = (lo + hi) >>> 1;
        if (c < r[2 * m]) hi = m;
        else if (c > r[2 * m + 1]) lo = m + 1;
        else {
          hit = true;
          break;
        }
      }
    }
    return hit !== inst.neg;
  }
  const memo = inst.memo!;
  let m = memo.get(c);
  if (m === undefined) {
    const re = inst.re!;
    re.lastIndex = 0;
    m = re.test(String.fromCodePoint(c));
    if (memo.size < MEMO_MAX) memo.set(c, m);
  }
  return m;
}

// ---- Compiling the AST to Go's program shape ---------------------------------------------------

export function nullable(n: Node): boolean {
  switch (n.k) {
    case "lit":
    case "class":
    case "dot":
      return false;
    case "cap":
      return nullable(n.sub);
    case "cat":
      return n.subs.every(nullable);
    case "alt":
      return n.subs.some(nullable);
    case "rep":
      return n.min === 0 || nullable(n.sub);
    default:
      return true;
  }
}

const MAX_RUNE = 0x10ffff;

const LOOKS: Record<string, Look> = { bol: Look.Bol, eol: Look.Eol, bot: Look.Bot, eot: Look.Eot, wb: Look.Wb, nwb: Look.Nwb };

/**
 * Builds Go's program shape: x* as (x+)? for nullable x, x{n,m} expanded to n copies and nested
 * options, alternatives and loops as prioritised Alt instructions (the first choice preferred).
 */
class ProgBuilder {
  insts: Inst[] = [];
  sets = new Map<Node, RuneSet>();
  byContent = new Map<string, RuneSet>();
  litSets = new Map<number, RuneSet>();
  /**
   * A case-folded literal or a class as code point ranges, or as a one-character RegExp (sticky,
   * u flag) when ranges alone cannot express it (Unicode properties, non-ASCII case folding).
   */
  constructor(readonly classify: (n: Node) => { ranges: number[]; neg: boolean } | RegExp) {}

  inst(op: Op, out: number, arg = 0): number {
    this.insts.push({ op, out, arg, m: null });
    return this.insts.length - 1;
  }

  rune(n: Node, next: number): number {
    const pc = this.inst(Op.Rune, next);
    // A plain literal (a pattern may be a million of them): its set by code point, no key text.
    if (n.k === "lit" && !n.fold) {
      let m = this.litSets.get(n.cp);
      if (m === undefined) {
        const key = `false:${n.cp},${n.cp}`;
        m = this.byContent.get(key);
        if (m === undefined) this.byContent.set(key, (m = { ranges: [n.cp, n.cp], neg: false, re: null, memo: null }));
        this.litSets.set(n.cp, m);
      }
      this.insts[pc].m = m;
      return pc;
    }
    let m = this.sets.get(n);
    if (m === undefined) {
      m = { ranges: null, neg: false, re: null, memo: null };
      if (n.k === "lit" && !n.fold) m.ranges = [n.cp, n.cp];
      else if (n.k === "dot") {
        m.ranges = n.nl ? [0, MAX_RUNE] : [10, 10];
        m.neg = !n.nl;
      } else {
        const c = this.classify(n);
        if (c instanceof RegExp) {
          m.re = c;
          m.memo = new Map();
        } else {
          m.ranges = c.ranges;
          m.neg = c.neg;
        }
      }
      // equal classes share one set (and its memo); the DFA's alphabet partition scans each once
      const key = m.ranges !== null ? `${m.neg}:${m.ranges.join(",")}` : `/${m.re!.source}/${m.re!.flags}`;
      const same = this.byContent.get(key);
      if (same !== undefined) m = same;
      else this.byContent.set(key, m);
      this.sets.set(n, m);
    }
    this.insts[pc].m = m;
    return pc;
  }

  alt(first: number, second: number): number {
    return this.inst(Op.Alt, first, second);
  }

  /** Compile n so that it continues at `next`; returns the entry pc. */
  compile(n: Node, next: number): number {
    switch (n.k) {
      case "empty":
        return next;
      case "lit":
      case "class":
      case "dot":
        return this.rune(n, next);
      case "bol":
      case "eol":
      case "bot":
      case "eot":
      case "wb":
      case "nwb":
        return this.inst(Op.Empty, next, LOOKS[n.k]);
      case "cap": {
        const close = this.inst(Op.Cap, next, 2 * n.idx + 1);
        const body = this.compile(n.sub, close);
        return this.inst(Op.Cap, body, 2 * n.idx);
      }
      case "cat": {
        let pc = next;
        for (let i = n.subs.length - 1; i >= 0; i--) pc = this.compile(n.subs[i], pc);
        return pc;
      }
      case "alt": {
        const starts = n.subs.map((x) => this.compile(x, next));
        let acc = starts[starts.length - 1];
        for (let i = starts.length - 2; i >= 0; i--) acc = this.alt(starts[i], acc);
        return acc;
      }
      case "rep":
        return this.rep(n, next);
    }
  }

  /** x+ (the loop is entered through the body); returns the body's entry. */
  plus(sub: Node, greedy: boolean, next: number): number {
    const loop = this.alt(0, 0);
    const body = this.compile(sub, loop);
    this.setLoop(loop, body, greedy, next);
    return body;
  }

  setLoop(loop: number, body: number, greedy: boolean, next: number): void {
    const L = this.insts[loop];
    if (greedy) {
      L.out = body;
      L.arg = next;
    } else {
      L.out = next;
      L.arg = body;
    }
  }

  quest(start: number, greedy: boolean, next: number): number {
    return greedy ? this.alt(start, next) : this.alt(next, start);
  }

  rep(n: Extract<Node, { k: "rep" }>, next: number): number {
    const { min, max, greedy } = n;
    let sub = n.sub;
    // x** is x*, x++ is x+, x?? is x? (same greediness)
    while (
      sub.k === "rep" &&
      sub.min === min &&
      sub.max === max &&
      sub.greedy === greedy &&
      ((min === 0 && max === -1) || (min === 1 && max === -1) || (min === 0 && max === 1))
    )
      sub = sub.sub;
    if (min === 0 && max === -1) {
      if (nullable(sub)) return this.quest(this.plus(sub, greedy, next), greedy, next);
      const loop = this.alt(0, 0);
      const body = this.compile(sub, loop);
      this.setLoop(loop, body, greedy, next);
      return loop;
    }
    if (min === 1 && max === -1) return this.plus(sub, greedy, next);
    if (min === 0 && max === 1) return this.quest(this.compile(sub, next), greedy, next);
    if (min === 0 && max === 0) return next;
    if (max === -1) {
      let pc = this.plus(sub, greedy, next);
      for (let i = 0; i < min - 1; i++) pc = this.compile(sub, pc);
      return pc;
    }
    if (min === 1 && max === 1) return this.compile(sub, next);
    let pc = next;
    if (max > min) {
      let suffix = this.quest(this.compile(sub, next), greedy, next);
      for (let i = min + 1; i < max; i++) suffix = this.quest(this.compile(sub, suffix), greedy, next);
      pc = suffix;
    }
    for (let i = 0; i < min; i++) pc = this.compile(sub, pc);
    return pc;
  }
}

/** The program for a parsed pattern (group 0 around the whole of it). */
export function buildProgram(node: Node, ncap: number, classify: (n: Node) => { ranges: number[]; neg: boolean } | RegExp): Program {
  const b = new ProgBuilder(classify);
  const match = b.inst(Op.Match, 0);
  const start = b.compile({ k: "cap", idx: 0, sub: node }, match);
  const p: Program = { insts: b.insts, start, nslot: 2 * (ncap + 1), anchored: false, dfa: null, caps: null, pike: null };
  p.anchored = isAnchored(p);
  return p;
}

/** Whether nothing (no character, no match) is reachable from the start except at position 0. */
function isAnchored(p: Program): boolean {
  const seen = new Uint8Array(p.insts.length);
  const stack = [p.start];
  while (stack.length > 0) {
    const pc = stack.pop()!;
    if (seen[pc]) continue;
    seen[pc] = 1;
    const inst = p.insts[pc];
    switch (inst.op) {
      case Op.Alt:
        stack.push(inst.out, inst.arg);
        break;
      case Op.Cap:
        stack.push(inst.out);
        break;
      case Op.Empty:
        if (inst.arg !== Look.Bot) stack.push(inst.out);
        break;
      default:
        return false;
    }
  }
  return true;
}

// ---- Lazy DFA: is there a match? ----------------------------------------------------------------
//
// A state is the set of instructions that threads wait at after consuming a character (before
// following empty-width steps, which depend on the next character) plus the kind of that
// character. The start instruction is added at every position (an unanchored search). Each
// transition is computed once and cached: per ASCII equivalence class in an array, per code point
// above ASCII in a map. The cache is bounded; when it fills up it is dropped and rebuilt, so the
// worst case is one closure per character: O(program × input).

interface DState {
  kernel: Int32Array;
  before: Ctx;
  ascii: (DState | null)[];
  other: Map<number, DState> | null;
  /** At the end of the input: 1 a match, 0 none, -1 not computed yet. */
  end: number;
  /** No match can follow (empty kernel of an anchored program, past position 0). */
  dead: boolean;
}

/**
 * Cache budgets in transition slots (a state counts its ASCII table, kernel and overhead; a slot
 * is about 12 bytes): per DFA, and for all DFAs together (when that fills up, every DFA drops its
 * cache). A dropped cache is rebuilt as needed: slower, never more than one closure per character.
 */
const MAX_DFA_CELLS = 256 * 1024;
const MAX_TOTAL_DFA_CELLS = 8 * 1024 * 1024;
let totalDfaCells = 0;
/** DFAs holding cached states. */
const liveDFAs = new Set<DFA>();

class DFA {
  readonly cls = new Uint8Array(128);
  readonly ncls: number;
  states = new Map<string, DState>();
  cells = 0;
  starts: (DState | null)[] = [null, null, null, null];
  readonly mark: Uint32Array;
  gen = 0;
  /** Closure work stack, and the Rune instructions the last closure reached (nrunes of them). */
  readonly stack: Int32Array;
  readonly runes: Int32Array;
  nrunes = 0;
  /** Sentinel for "a match was found" transitions. */
  readonly MATCH: DState;

  constructor(readonly prog: Program) {
    this.mark = new Uint32Array(prog.insts.length);
    this.stack = new Int32Array(3 * prog.insts.length + 2);
    this.runes = new Int32Array(prog.insts.length);
    this.MATCH = { kernel: new Int32Array(0), before: Ctx.Other, ascii: [], other: null, end: 1, dead: false };
    // ASCII equivalence classes: same context kind and same answer from every Rune instruction.
    const runes = [...new Set(prog.insts.filter((i) => i.op === Op.Rune).map((i) => i.m!))];
    const sig = new Map<string, number>();
    for (let c = 0; c < 128; c++) {
      let k = String(ctxOf(c));
      for (const r of runes) k += runeMatches(r, c) ? "1" : "0";
      let id = sig.get(k);
      if (id === undefined) sig.set(k, (id = sig.size));
      this.cls[c] = id;
    }
    this.ncls = sig.size;
  }

  /** Drops the cached states. */
  reset(): void {
    this.states = new Map();
    this.starts = [null, null, null, null];
    totalDfaCells -= this.cells;
    this.cells = 0;
    liveDFAs.delete(this);
  }

  start(before: Ctx): DState {
    let st = this.starts[before];
    if (st === null) {
      st = this.intern(new Int32Array(0), before);
      this.starts[before] = st;
    }
    return st;
  }

  intern(kernel: Int32Array, before: Ctx): DState {
    const key = before + ":" + kernel.join(",");
    let st = this.states.get(key);
    if (st === undefined) {
      const cost = this.ncls + kernel.length + 16;
      if (this.cells + cost > MAX_DFA_CELLS) this.reset();
      if (totalDfaCells + cost > MAX_TOTAL_DFA_CELLS) for (const d of liveDFAs) d.reset();
      this.cells += cost;
      totalDfaCells += cost;
      liveDFAs.add(this);
      st = {
        kernel,
        before,
        ascii: new Array<DState | null>(this.ncls).fill(null),
        other: null,
        end: -1,
        dead: kernel.length === 0 && before !== Ctx.Edge && this.prog.anchored,
      };
      this.states.set(key, st);
    }
    return st;
  }

  /** Follows empty-width steps from the state's threads (and a new thread at the start); true on reaching Match. */
  closure(st: DState, after: Ctx): boolean {
    const { insts } = this.prog;
    if (++this.gen === GEN_MAX) {
      this.mark.fill(0);
      this.gen = 1;
    }
    const gen = this.gen;
    const mark = this.mark;
    const stack = this.stack;
    const runes = this.runes;
    let nrunes = 0;
    let top = 0;
    stack[top++] = this.prog.start;
    for (let i = st.kernel.length - 1; i >= 0; i--) stack[top++] = st.kernel[i];
    let matched = false;
    while (top > 0) {
      const pc = stack[--top];
      if (mark[pc] === gen) continue;
      mark[pc] = gen;
      const inst = insts[pc];
      switch (inst.op) {
        case Op.Alt:
          stack[top++] = inst.arg;
          stack[top++] = inst.out;
          break;
        case Op.Cap:
          stack[top++] = inst.out;
          break;
        case Op.Empty:
          if (look(inst.arg as Look, st.before, after)) stack[top++] = inst.out;
          break;
        case Op.Rune:
          runes[nrunes++] = pc;
          break;
        case Op.Match:
          matched = true;
          break;
      }
    }
    this.nrunes = nrunes;
    return matched;
  }

  /** The state after reading code point c in st (or MATCH). */
  step(st: DState, c: number): DState {
    work(this.nrunes + 1);
    const after = ctxOf(c);
    let next: DState;
    if (this.closure(st, after)) next = this.MATCH;
    else {
      const { insts } = this.prog;
      const outs: number[] = [];
      for (let i = 0; i < this.nrunes; i++) {
        const inst = insts[this.runes[i]];
        if (runeMatches(inst.m!, c)) outs.push(inst.out);
      }
      outs.sort((a, b) => a - b);
      let k = 0;
      for (let i = 0; i < outs.length; i++) if (i === 0 || outs[i] !== outs[i - 1]) outs[k++] = outs[i];
      outs.length = k;
      next = this.intern(Int32Array.from(outs), after);
    }
    if (c < 128) st.ascii[this.cls[c]] = next;
    else {
      if (st.other === null) st.other = new Map();
      if (this.cells < MAX_DFA_CELLS && totalDfaCells < MAX_TOTAL_DFA_CELLS) {
        st.other.set(c, next);
        this.cells++;
        totalDfaCells++;
      }
    }
    return next;
  }

  atEnd(st: DState): boolean {
    if (st.end < 0) st.end = this.closure(st, Ctx.Edge) ? 1 : 0;
    return st.end === 1;
  }
}

/**
 * The first position at or after `from` where a match could start and survive the next character
 * (a thread started there takes it, or a match is found there); s.length if none. Used by the
 * Pike VM to skip stretches where it would only start threads that die at once.
 */
export function dfaSkip(p: Program, s: string, from: number): number {
  const d = p.dfa ?? (p.dfa = new DFA(p));
  const MATCH = d.MATCH;
  const n = s.length;
  let pos = from;
  while (pos < n) {
    let c = s.charCodeAt(pos);
    let w = 1;
    const st = d.start(ctxBefore(s, pos));
    let next: DState | null | undefined;
    if (c < 128) next = st.ascii[d.cls[c]];
    else {
      if (c >= 0xd800 && c <= 0xdbff && pos + 1 < n) {
        const e = s.charCodeAt(pos + 1);
        if (e >= 0xdc00 && e <= 0xdfff) {
          c = ((c - 0xd800) << 10) + (e - 0xdc00) + 0x10000;
          w = 2;
        }
      }
      next = st.other === null ? undefined : st.other.get(c);
    }
    if (next === null || next === undefined) next = d.step(st, c);
    if (next === MATCH || next.kernel.length > 0) return pos;
    pos += w;
  }
  return n;
}

/** Whether the program matches somewhere in s at or after `from`. Linear time. */
export function dfaSearch(p: Program, s: string, from: number): boolean {
  const d = p.dfa ?? (p.dfa = new DFA(p));
  if (p.anchored && from > 0) return false;
  const MATCH = d.MATCH;
  const cls = d.cls;
  let st = d.start(ctxBefore(s, from));
  const n = s.length;
  for (let i = from; i < n; ) {
    let c = s.charCodeAt(i++);
    let next: DState | null | undefined;
    if (c < 128) next = st.ascii[cls[c]];
    else {
      if (c >= 0xd800 && c <= 0xdbff && i < n) {
        const e = s.charCodeAt(i);
        if (e >= 0xdc00 && e <= 0xdfff) {
          c = ((c - 0xd800) << 10) + (e - 0xdc00) + 0x10000;
          i++;
        }
      }
      next = st.other === null ? undefined : st.other.get(c);
    }
    if (next === null || next === undefined) next = d.step(st, c);
    if (next === MATCH) return true;
    if (next.dead) return false;
    st = next;
  }
  return d.atEnd(st);
}

// ---- Bounded backtracker (short inputs) -------------------------------------------------------

/** Visited marks for (instruction, position) pairs, shared by all programs. */
const MAX_VISITED = 256 * 1024;
let visited = new Uint32Array(0);
let visitedGen = 0;

/** Whether the backtracker may run on s from `from` (its visited marks fit the budget). */
export function backtrackFits(p: Program, s: string, from: number): boolean {
  return p.insts.length * (s.length - from + 1) <= MAX_VISITED;
}

/** The backtracker's work stack: pairs (pc, pos), or (-1 - slot, old value) to restore a slot. */
let btStack = new Int32Array(256);

/**
 * Go's bit-state backtracker: the leftmost-first match at or after `from`, as slot positions
 * (in an array owned by the program: valid until its next run).
 */
export function backtrack(p: Program, s: string, from: number): Int32Array | null {
  const n = s.length;
  const stride = n - from + 1;
  const need = p.insts.length * stride;
  if (visited.length < need) {
    visited = new Uint32Array(Math.min(MAX_VISITED, Math.max(need, 2 * visited.length, 1024)));
    visitedGen = 0;
  }
  if (visitedGen === GEN_MAX) {
    visited.fill(0);
    visitedGen = 0;
  }
  const gen = ++visitedGen;
  const seen = visited;
  const insts = p.insts;
  const caps = p.caps ?? (p.caps = new Int32Array(p.nslot));
  let stack = btStack;
  // Every slot write is undone when its stack entry is popped: all slots are -1 again after a
  // failed start.
  for (let k = 0; k < caps.length; k++) caps[k] = -1;
  for (let start = from; start <= n; ) {
    let top = 0;
    stack[top++] = p.start;
    stack[top++] = start;
    while (top > 0) {
      let pos = stack[--top];
      let pc = stack[--top];
      if (pc < 0) {
        caps[-1 - pc] = pos;
        continue;
      }
      for (;;) {
        const state = pc * stride + (pos - from);
        if (seen[state] === gen) break;
        seen[state] = gen;
        const inst = insts[pc];
        const op = inst.op;
        if (op === Op.Rune) {
          if (pos >= n) break;
          let c = s.charCodeAt(pos);
          let w = 1;
          if (c >= 0xd800 && c <= 0xdbff && pos + 1 < n) {
            const d = s.charCodeAt(pos + 1);
            if (d >= 0xdc00 && d <= 0xdfff) {
              c = ((c - 0xd800) << 10) + (d - 0xdc00) + 0x10000;
              w = 2;
            }
          }
          if (!runeMatches(inst.m!, c)) break;
          pos += w;
          pc = inst.out;
          continue;
        }
        if (op === Op.Match) return caps;
        if (op === Op.Empty) {
          if (!lookAt(inst.arg as Look, s, pos)) break;
          pc = inst.out;
          continue;
        }
        if (top + 2 > stack.length) {
          const bigger = new Int32Array(2 * stack.length);
          bigger.set(stack);
          stack = btStack = bigger;
        }
        if (op === Op.Alt) {
          stack[top++] = inst.arg;
          stack[top++] = pos;
          pc = inst.out;
          continue;
        }
        // Cap
        stack[top++] = -1 - inst.arg;
        stack[top++] = caps[inst.arg];
        caps[inst.arg] = pos;
        pc = inst.out;
      }
    }
    if (start >= n || p.anchored) break;
    const c = s.charCodeAt(start);
    start += c >= 0xd800 && c <= 0xdbff && start + 1 < n ? 2 : 1;
  }
  return null;
}

// ---- Pike VM (long inputs) --------------------------------------------------------------------

/** A set of threads in priority order, keyed by instruction; Rune and Match entries carry slots. */
class Queue {
  readonly sparse: Int32Array;
  readonly dense: Int32Array;
  size = 0;
  readonly caps: Int32Array;
  constructor(n: number, nslot: number) {
    this.sparse = new Int32Array(n);
    this.dense = new Int32Array(n);
    this.caps = new Int32Array(n * nslot);
  }
}

/**
 * The Pike VM of a program, with reusable thread queues (one per program: runs do not nest).
 *
 * Following empty-width steps (Alt, Cap, Empty) from an instruction depends only on the kinds of
 * the characters around the position, so each (instruction, context) pair's closure is computed
 * once: the Rune and Match instructions it reaches in priority order, each with the slots that
 * the path to it sets. A thread then moves by copying its slots once per reached instruction.
 */
class PikeVM {
  readonly ops: Int32Array;
  readonly outs: Int32Array;
  /** Rune instructions that take one range: its bounds (lo -1 otherwise). */
  readonly lo: Int32Array;
  readonly hi: Int32Array;
  readonly sets: (RuneSet | null)[];
  /**
   * By pc * 16 + before * 4 + after: [target, nslots, slot…, target, nslots, slot…, …]. A Map:
   * only the instructions a run reaches get closures, and a program may have a million (a
   * pattern of a million literal characters), where a dense table would be 16 million slots.
   */
  readonly closures = new Map<number, Int32Array>();
  q0: Queue;
  q1: Queue;
  readonly mark: Int32Array;
  gen = 0;

  constructor(readonly p: Program) {
    const n = p.insts.length;
    this.ops = new Int32Array(n);
    this.outs = new Int32Array(n);
    this.lo = new Int32Array(n).fill(-1);
    this.hi = new Int32Array(n);
    this.sets = p.insts.map((i) => i.m);
    p.insts.forEach((inst, pc) => {
      this.ops[pc] = inst.op;
      this.outs[pc] = inst.out;
      const r = inst.m?.ranges;
      if (r && r.length === 2 && !inst.m!.neg) {
        this.lo[pc] = r[0];
        this.hi[pc] = r[1];
      }
    });
    this.q0 = new Queue(n, p.nslot);
    this.q1 = new Queue(n, p.nslot);
    this.mark = new Int32Array(n);
  }

  closure(pc0: number, before: Ctx, after: Ctx): Int32Array {
    const insts = this.p.insts;
    const out: number[] = [];
    const path: number[] = [];
    const stack: number[] = [pc0, 0]; // pairs (pc, path length)
    const gen = ++this.gen;
    while (stack.length > 0) {
      const plen = stack.pop()!;
      let pc = stack.pop()!;
      path.length = plen;
      for (;;) {
        if (this.mark[pc] === gen) break;
        this.mark[pc] = gen;
        const inst = insts[pc];
        if (inst.op === Op.Alt) {
          stack.push(inst.arg, path.length);
          pc = inst.out;
        } else if (inst.op === Op.Cap) {
          path.push(inst.arg);
          pc = inst.out;
        } else if (inst.op === Op.Empty) {
          if (!look(inst.arg as Look, before, after)) break;
          pc = inst.out;
        } else {
          out.push(pc, path.length);
          appendAll(out, path);
          break;
        }
      }
    }
    const c = Int32Array.from(out);
    this.closures.set(pc0 * 16 + before * 4 + after, c);
    return c;
  }

  /** Adds the threads that the thread at pc (slots buf[off … off+nslot), or none set) becomes at pos. */
  add(q: Queue, pc: number, pos: number, ctx: number, buf: Int32Array | null, off: number): void {
    const list = this.closures.get(pc * 16 + ctx) ?? this.closure(pc, (ctx >> 2) as Ctx, (ctx & 3) as Ctx);
    const nslot = this.p.nslot;
    const { sparse, dense, caps } = q;
    for (let i = 0; i < list.length; ) {
      const target = list[i];
      const cnt = list[i + 1];
      const j = sparse[target];
      if (j < q.size && dense[j] === target) {
        i += 2 + cnt;
        continue;
      }
      const k = q.size++;
      sparse[target] = k;
      dense[k] = target;
      const base = k * nslot;
      if (buf === null) for (let x = 0; x < nslot; x++) caps[base + x] = -1;
      else for (let x = 0; x < nslot; x++) caps[base + x] = buf[off + x];
      for (let x = 0; x < cnt; x++) caps[base + list[i + 2 + x]] = pos;
      i += 2 + cnt;
    }
  }

  run(s: string, from: number): Int32Array | null {
    const p = this.p;
    const n = s.length;
    const nslot = p.nslot;
    const { ops, outs, lo, hi, sets } = this;
    let clist = this.q0;
    let nlist = this.q1;
    clist.size = 0;
    let match: Int32Array | null = null;
    if (p.anchored && from > 0) return null;
    let ctx = ctxBefore(s, from) * 4 + ctxAfter(s, from);
    for (let pos = from; ; ) {
      if (clist.size === 0) {
        if (match !== null || (p.anchored && pos > 0)) break;
        if (!p.anchored && pos < n) {
          const to = dfaSkip(p, s, pos);
          if (to !== pos) {
            pos = to;
            ctx = ctxBefore(s, pos) * 4 + ctxAfter(s, pos);
          }
        }
      }
      if (match === null && (!p.anchored || pos === 0)) {
        this.add(clist, p.start, pos, ctx, null, 0);
      }
      let c = -1;
      let w = 0;
      if (pos < n) {
        c = s.charCodeAt(pos);
        w = 1;
        if (c >= 0xd800 && c <= 0xdbff && pos + 1 < n) {
          const d = s.charCodeAt(pos + 1);
          if (d >= 0xdc00 && d <= 0xdfff) {
            c = ((c - 0xd800) << 10) + (d - 0xdc00) + 0x10000;
            w = 2;
          }
        }
      }
      const next = pos + w;
      const nctx = w === 0 ? 0 : ctxOf(s.charCodeAt(next - 1)) * 4 + ctxAfter(s, next);
      nlist.size = 0;
      work(clist.size + 1);
      const dense = clist.dense;
      for (let i = 0; i < clist.size; i++) {
        const pc = dense[i];
        const op = ops[pc];
        if (op === Op.Match) {
          // Leftmost-first: this thread wins over every lower-priority one.
          match = clist.caps.slice(i * nslot, (i + 1) * nslot);
          break;
        }
        if (c < 0) continue;
        const l = lo[pc];
        if (l >= 0 ? c < l || c > hi[pc] : !runeMatches(sets[pc]!, c)) continue;
        this.add(nlist, outs[pc], next, nctx, clist.caps, i * nslot);
      }
      const t = clist;
      clist = nlist;
      nlist = t;
      if (w === 0) break;
      pos = next;
      ctx = nctx;
    }
    return match;
  }
}

/** The leftmost-first match at or after `from` by a Thompson NFA simulation. Linear time. */
export function pike(p: Program, s: string, from: number): Int32Array | null {
  const vm = p.pike ?? (p.pike = new PikeVM(p));
  return vm.run(s, from);
}
