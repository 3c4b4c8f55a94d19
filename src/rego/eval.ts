// The evaluator's runtime: per-query state, the rule tree, virtual documents and function calls.
//
// The compiler (compiler.ts) turns every rule body into closures in continuation-passing style:
// an expression is `(ctx, frame, k) => stop`, it calls `k()` once per solution with its variables
// bound in `frame`, and unbinds them when `k` returns. A continuation returns true to stop the
// enumeration early (negation, existence checks, complete rules with constant values). Nothing
// here walks the AST.

import type { Location } from "./ast.ts";
import { RegoError } from "./errors.ts";
import { stackLow } from "./stack.ts";
import type { Value, PlainObject } from "./value.ts";
import {
  BigDec,
  RSet,
  ObjMap,
  equal,
  hashKey,
  isObject,
  objectEntries,
  objectGet,
  makeObject,
  sortedKeys,
  compareStrings,
  ValueDepthError,
} from "./value.ts";
import type { Builtin, BuiltinContext } from "./builtin.ts";
import type { Tracer } from "./trace.ts";
import { BuiltinError, BuiltinTypeError, HaltError, AsyncSuspend } from "./builtin.ts";

export type Frame = (Value | undefined)[];
export type K = () => boolean;
export type ExprFn = (c: Ctx, f: Frame, k: K) => boolean;
export type ValFn = (c: Ctx, f: Frame) => Value | undefined;
export type EnumFn = (c: Ctx, f: Frame, k: (v: Value) => boolean) => boolean;
/** Match a value against a pattern, binding its variables; calls k on success. */
export type MatchFn = (c: Ctx, f: Frame, v: Value, k: K) => boolean;
/**
 * A body with at most one solution in direct form (compiler.ts, `DIRECT`): evaluates it in a
 * fresh frame and says whether it succeeded, leaving its variables bound (the frame is thrown
 * away after the head value is read), so no continuation is made per entry.
 */
export type DirectFn = (c: Ctx, f: Frame) => boolean;

export interface CompiledRule {
  kind: "single" | "multi" | "function";
  nslots: number;
  body: ExprFn;
  value: ValFn | null; // head value (single, function)
  key: ValFn | null; // element (multi)
  suffix: ValFn[]; // ref-head parts after the node path ([x], [x, "r"] …)
  /** Every ref-head part after the node path is a constant (`q[1] := …`): a complete rule to OPA. */
  groundSuffix?: boolean;
  args: MatchFn[] | null; // function parameters
  elses: { body: ExprFn; value: ValFn; loc: Location; direct?: DirectFn | null }[];
  /** The body's direct form, when it has one (not with hooks or tracing, nor when the head enumerates). */
  direct?: DirectFn | null;
  /**
   * A function whose parameters are all distinct variables or wildcards: each one's slot (-1 for
   * a wildcard), so a call stores its arguments in the frame instead of matching patterns.
   * Null otherwise, and with hooks or tracing.
   */
  argSlots?: number[] | null;
  isDefault: boolean;
  constValue: boolean; // head value is a constant: the first solution decides it
  loc: Location;
  order: number; // definition order, for indexing
  /** For indexing: `input.<path> == <constant>` holds whenever the body succeeds. */
  inputEq: { path: string[]; key: unknown } | null;
  /** For OPA's index in traces only: `input.<path> in {constants}` holds whenever the body succeeds. */
  inputIn?: { path: string[]; keys: Set<unknown> } | null;
  /** A function's first parameter that is a constant (`f(1, x)`: 0), which OPA's index tests; else null. */
  argEq?: number | null;
  /** That parameter's value as a hashKey, when it is a string, boolean or null (the call index). */
  argKey?: unknown;
  /** The head's value when it is a constant (undefined otherwise): early exits (compiler.ts). */
  constVal?: Value;
}

/** The rule list of a node without such rules: shared, frozen (a push throws). */
export const NO_RULES: CompiledRule[] = Object.freeze([]) as unknown as CompiledRule[];
const NO_CHILDREN: ReadonlyMap<string, TreeNode> = new Map();

export class TreeNode {
  readonly name: string;
  /** The node above (null at the root): paths are computed, not stored, so a package path of
   * thousands of parts costs memory linear in its length. */
  readonly parent: TreeNode | null;
  /** Made on the first child (programs hold tens of thousands of leaf nodes). */
  private kids: Map<string, TreeNode> | null = null;
  /** Rule lists start as the shared, frozen NO_RULES (compiler.ts replaces it on the first rule). */
  complete: CompiledRule[] = NO_RULES;
  multi: CompiledRule[] = NO_RULES;
  suffixRules: CompiledRule[] = NO_RULES;
  funcs: CompiledRule[] = NO_RULES;
  defaultRule: CompiledRule | null = null;
  defaultFunc: CompiledRule | null = null;
  /** Complete rules whose values are all constants: stop at the first that succeeds. */
  earlyExit = false;
  /** The same for functions: every definition returns the same constant. */
  fnEarlyExit = false;
  index: RuleIndex | null = null;
  /** The definitions a call can select by a constant parameter (callIndex below); undefined until first built. */
  callIndex: CallIndex | null | undefined = undefined;
  /** Set before bodies are compiled, so calls and refs may name rules defined later. */
  declDoc = false;
  declArity = -1;
  constructor(name: string, parent: TreeNode | null = null) {
    this.name = name;
    this.parent = parent;
  }
  /** Keys from the root of data to this node. */
  get path(): string[] {
    const out: string[] = [];
    for (let n: TreeNode = this; n.parent !== null; n = n.parent) out.push(n.name);
    return out.reverse();
  }
  get hasDocRules(): boolean {
    return this.declDoc;
  }
  get isFunction(): boolean {
    return this.declArity >= 0;
  }
  get children(): ReadonlyMap<string, TreeNode> {
    return this.kids ?? NO_CHILDREN;
  }
  child(name: string): TreeNode {
    const kids = (this.kids ??= new Map());
    let n = kids.get(name);
    if (!n) {
      n = new TreeNode(name, this);
      kids.set(name, n);
    }
    return n;
  }
  dataPath(): string {
    return ["data", ...this.path].join(".");
  }
}

/** Rules of one node indexed on `input.<path> == constant`. */
export interface RuleIndex {
  path: string[];
  byValue: Map<unknown, CompiledRule[]>;
  rest: CompiledRule[];
}

/**
 * Instrumentation, compiled into the closures only when an engine is created with hooks (for
 * coverage and tracing); an engine without hooks runs the same closures as before.
 */
export interface EvalHooks {
  /** An expression (of a rule body, else branch, comprehension, `every` body or query) is about to be evaluated. */
  expr?(loc: Location): void;
  /** That expression produced no solution. */
  fail?(loc: Location): void;
  /** Evaluation comes back into that expression for its next solution (OPA's Redo event; profiling). */
  redo?(loc: Location): void;
  /** A rule body (rule loc), else branch (else loc) or default function is entered. */
  enter?(loc: Location): void;
  /** The matching exit: `produced` is true when the body yielded at least one value. Called on errors too (produced false). */
  leave?(loc: Location, produced: boolean): void;
}

// ---- Per-query state -------------------------------------------------------------------------

const UNDEF = Symbol("undefined");
type Cached = Value | typeof UNDEF;

/** A `with` replacement of a function or builtin. */
export type Mock = { value: Value } | { builtin: Builtin } | { node: TreeNode };

export interface OverrideNode {
  value?: Value;
  children: Map<string, OverrideNode>;
}

export class Ctx {
  input: Value | undefined;
  data: Value;
  root: TreeNode;
  docCache = new Map<TreeNode, Cached>();
  /** Parts of object documents read at known keys (docValueAt), per node and key path; scoped with docCache. */
  keyedCache = new Map<TreeNode, Map<unknown, Cached>>();
  fnCache = new Map<TreeNode, Map<unknown, Cached>>();
  /** Indexed comprehensions' indexes (compindex.ts), built once per query and `with` scope (made when first needed). */
  compIndex: Map<object, unknown> | null = null;
  overrides: OverrideNode | null = null;
  mocks: Map<string, Mock> | null = null;
  bctx: BuiltinContext;
  strict: boolean;
  deadline: number;
  steps = 0;
  inProgress = new Set<TreeNode>();
  /** Rule and function evaluations under way (nested), and the count where the current stack segment began (see evalSegment). */
  depth = 0;
  segBase = 0;
  /** Stop when aborted (caller's AbortSignal). */
  signal: AbortSignal | null;
  /** Stop when element 0 is non-zero (a flag shared with another thread). */
  cancel: Int32Array | null;
  /** The evaluation's tracer (only traced rule trees read it: see trace.ts), the current query id, its parent, the last id used, the expression being evaluated. */
  tracer: Tracer | null = null;
  qid = 0;
  pqid = 0;
  qcount = 0;
  traceLoc: Location | undefined = undefined;
  /** Traced: the output variable of the function call being made (`f(x, __local3__)`), and what a function body being entered was called with (its Unify events). */
  traceOut: string | null = null;
  traceCall: { args: Value[]; out: string | null } | null = null;
  /**
   * The allocation budget (EvalLimits.maxAllocBytes): estimated bytes this evaluation has put
   * into the collections it builds (comprehensions, partial rules) and its builtins have built
   * (the results they size with checkSize), against the limit. Input and data are not counted.
   */
  allocated = 0;
  maxAlloc = Infinity;
  /** The largest size the builtin call under way has given checkSize (its growth is what is charged). */
  callBytes = 0;
  constructor(
    root: TreeNode,
    data: Value,
    input: Value | undefined,
    bctx: BuiltinContext,
    strict: boolean,
    deadline: number,
    signal: AbortSignal | null = null,
    cancel: Int32Array | null = null,
  ) {
    this.root = root;
    this.data = data;
    this.input = input;
    this.bctx = bctx;
    this.strict = strict;
    this.deadline = deadline;
    this.signal = signal;
    this.cancel = cancel;
  }

  /**
   * Called on every rule evaluation and collection step: stops runaway policies. The clock,
   * the signal and the cancel flag are read every 1,024 steps (a step is well under a
   * microsecond, so a cancellation is seen within about a millisecond).
   */
  tick(): void {
    if ((++this.steps & 0x3ff) === 0) this.checkCancel();
  }

  /** Count `bytes` against the allocation budget: past it, the evaluation stops (memoryLimit). */
  charge(bytes: number): void {
    if ((this.allocated += bytes) > this.maxAlloc) throw memoryLimit(this.maxAlloc);
  }

  /**
   * A value put into a collection being built: charged its heldBytes. A long string equal to the
   * last long one charged is charged its slot only: a value repeated in a collection is one
   * string held many times (`[s | some i in xs; s := data.big]`), not a copy each time.
   */
  hold(v: Value): void {
    if (typeof v === "string" && v.length > 64) {
      if (v === this.lastHeld) return this.charge(16);
      this.lastHeld = v;
    }
    this.charge(heldBytes(v));
  }
  private lastHeld: string | undefined = undefined;

  /**
   * A builtin's checkSize: the size its result has reached so far in this call (builtins call it
   * again as a result grows), of which the growth since the last call is charged.
   */
  chargeCall(bytes: number): void {
    if (bytes <= this.callBytes) return;
    const grown = bytes - this.callBytes;
    this.callBytes = bytes;
    this.charge(grown);
  }

  /** Throw eval_cancel_error if the deadline has passed or the evaluation was cancelled. */
  checkCancel(): void {
    checkStop(this.deadline, this.signal, this.cancel, "timed out: evaluation exceeded its deadline");
  }
}

/**
 * Throw eval_cancel_error past `deadline` (with `timedOut` as its message) or once the caller
 * cancelled (its AbortSignal or its shared flag): an evaluation's check, and its result's
 * conversion's (engine.ts).
 */
export function checkStop(deadline: number, signal: AbortSignal | null, cancel: Int32Array | null, timedOut: string): void {
  if (deadline !== Infinity && Date.now() > deadline) throw RegoError.single("eval_cancel_error", timedOut);
  if ((signal !== null && signal.aborted) || (cancel !== null && Atomics.load(cancel, 0) !== 0)) {
    throw RegoError.single("eval_cancel_error", "caller cancelled query execution");
  }
}

// ---- Memory ----------------------------------------------------------------------------------

/**
 * The estimated bytes a value added to a collection holds, in constant time: its slot, a
 * string's characters (two bytes each), an array's, set's or object's own slots (not what they
 * hold: nested collections were counted when they were built). A plain object, whose size would
 * take a walk over its keys, counts as a small one.
 */
export function heldBytes(v: Value): number {
  switch (typeof v) {
    case "string":
      return 16 + 2 * v.length;
    case "object":
      if (v === null) return 8;
      if (Array.isArray(v)) return 24 + 8 * v.length;
      if (v instanceof RSet) return 24 + 24 * v.size;
      if (v instanceof ObjMap) return 24 + 32 * v.size;
      return 48;
    default:
      return 8;
  }
}

/**
 * The evaluation allocated more than its budget (docs/LIMITS.md): stopped with the code OPA
 * gives an evaluation it stops before its end, as at the deadline.
 */
export function memoryLimit(limit: number): RegoError {
  return RegoError.single(
    "eval_cancel_error",
    `evaluation exceeded its memory budget: the collections and strings it built would take more than the limit of ${limit} bytes (estimated)`,
  );
}

// ---- Depth ---------------------------------------------------------------------------------
//
// Rules may depend on rules to any depth (a chain of thousands of `r2 := r1 + 1`), and a package
// tree may be thousands of levels deep, but the JavaScript stack is small (about 1 MB under
// Node's defaults). Every evaluation of a rule's document (docValue) or of a function call
// (callFunction) counts one level of nesting. At most EVAL_SEGMENT levels (fewer when the
// stack runs low: see stackLow) are evaluated on top of each other; the next one is not run
// there but thrown back (DeepEval) to the first level of the segment, which evaluates it from
// its own, shallow, position, caches its value, and then runs its own evaluation again, which
// now finds the value cached. So nesting of rules and functions has no depth limit; evaluation
// stops with eval_cancel_error (tooDeep) only when the stack is low even at the start of a segment
// (deeply nested comprehensions or expressions of one rule, or a deep caller).

/** Nested rule/function evaluations evaluated on one stretch of the JavaScript stack. */
export const EVAL_SEGMENT = 64;

/** Thrown to the start of the current stack segment: evaluate `run` there first, then retry. */
export class DeepEval {
  constructor(
    readonly run: () => void,
    /** The evaluation context (the document cache of the `with` scope) it belongs to. */
    readonly scope: unknown,
  ) {}
}

/**
 * The evaluation ran out of JavaScript stack: a resource limit (docs/LIMITS.md), reported with
 * the code OPA gives an evaluation it stops before its end (eval_cancel_error, as for a
 * deadline), not as an internal error: the program is legal, the evaluation just did not finish.
 */
export function tooDeep(loc?: Location, code: "eval_cancel_error" | "eval_internal_error" = "eval_cancel_error"): RegoError {
  return RegoError.single(
    code,
    "evaluation nested too deeply: the JavaScript stack is exhausted (deeply nested comprehensions, calls or expressions within one rule)",
    loc,
  );
}

/** Before nesting one more rule or function evaluation: is a new stack segment due? */
function needSegment(c: Ctx): boolean {
  const d = c.depth - c.segBase;
  return d >= EVAL_SEGMENT || (d > 0 && (d & 15) === 0 && stackLow());
}

/**
 * Run fn as the first level of a stack segment: a DeepEval thrown from within (in the same
 * context) is evaluated here, then fn is run again.
 */
function evalSegment<T>(c: Ctx, fn: () => T): T {
  const scope = c.docCache;
  for (;;) {
    try {
      return fn();
    } catch (e) {
      if (!(e instanceof DeepEval) || e.scope !== scope) throw e;
      const work: DeepEval[] = [e];
      while (work.length > 0) {
        try {
          work[work.length - 1].run();
          work.pop();
        } catch (e2) {
          if (!(e2 instanceof DeepEval) || e2.scope !== scope) throw e2;
          // Deeper still: that one first (each attempt gets further down, so this ends).
          work.push(e2);
        }
      }
    }
  }
}

export function conflict(message: string, loc: Location | undefined): RegoError {
  return RegoError.single("eval_conflict_error", message, loc);
}

// ---- Navigating values -----------------------------------------------------------------------

/** Look up one key of a value (array index, object key, set member). */
export function lookup(v: Value | undefined, key: Value): Value | undefined {
  if (v === undefined || v === null || typeof v !== "object") return undefined;
  if (Array.isArray(v)) {
    if (typeof key === "number" && Number.isInteger(key) && key >= 0 && key < v.length) return v[key];
    return undefined;
  }
  if (v instanceof RSet) return v.has(key) ? key : undefined;
  if (v instanceof ObjMap) return v.get(key);
  // A number kept as a decimal (BigDec, TextNumber) is a scalar: its fields (`d`, `text`) are
  // not members (OPA: `input.big.text` of 1e400 is undefined).
  if (v instanceof BigDec) return undefined;
  if (typeof key !== "string") return objectGet(v as PlainObject, key);
  return Object.hasOwn(v, key) ? (v as PlainObject)[key] : undefined;
}

/** Lookup inside `data`: an integer key also reads the object key "2" (as OPA does for data refs). */
export function lookupData(v: Value | undefined, key: Value): Value | undefined {
  if (typeof key === "number" && v !== null && typeof v === "object" && !Array.isArray(v) && isObject(v)) {
    const r = lookup(v, key);
    return r !== undefined ? r : lookup(v, String(key));
  }
  return lookup(v, key);
}

/** Enumerate a collection's (key, value) pairs in OPA's order. Stops when k returns true. */
export function enumerate(c: Ctx, v: Value | undefined, k: (key: Value, val: Value) => boolean): boolean {
  if (v === undefined || v === null || typeof v !== "object") return false;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      c.tick();
      if (k(i, v[i])) return true;
    }
    return false;
  }
  if (v instanceof RSet) {
    for (const e of v.sorted()) {
      c.tick();
      if (k(e, e)) return true;
    }
    return false;
  }
  if (v instanceof ObjMap) {
    for (const [kk, vv] of v.sorted()) {
      c.tick();
      if (k(kk, vv)) return true;
    }
    return false;
  }
  if (!isObject(v)) return false;
  const o = v as PlainObject;
  for (const key of sortedKeys(o)) {
    c.tick();
    if (k(key, o[key])) return true;
  }
  return false;
}

/**
 * A reference operand: a known value (`val`: fn, and en when it enumerates; dataKey: an integer
 * also reads the object key "2", see lookupData), a variable to bind (`var`: slot), or a pattern
 * to match (`pattern`: match). One object shape for all kinds (made by the functions below), so
 * that navigate's reads of an operand stay monomorphic.
 */
export interface Operand {
  kind: "val" | "var" | "pattern";
  fn: ValFn;
  en: EnumFn | null;
  dataKey: boolean;
  slot: number;
  match: MatchFn;
}

const NO_VAL: ValFn = () => undefined;
const NO_MATCH: MatchFn = () => false;

export function valOperand(fn: ValFn, en: EnumFn | null, dataKey = false): Operand {
  return { kind: "val", fn, en, dataKey, slot: -1, match: NO_MATCH };
}

export function varOperand(slot: number): Operand {
  return { kind: "var", fn: NO_VAL, en: null, dataKey: false, slot, match: NO_MATCH };
}

export function patternOperand(match: MatchFn): Operand {
  return { kind: "pattern", fn: NO_VAL, en: null, dataKey: false, slot: -1, match };
}

/** Follow operands ops[i..] from value v, enumerating where an operand is unbound. */
export function navigate(c: Ctx, f: Frame, v: Value | undefined, ops: Operand[], i: number, k: (v: Value) => boolean): boolean {
  for (; i < ops.length; i++) {
    if (v === undefined) return false;
    const op = ops[i];
    if (op.kind === "val") {
      if (op.en !== null) {
        const base = v;
        const next = i + 1;
        return op.en(c, f, (key) => navigate(c, f, op.dataKey ? lookupData(base, key) : lookup(base, key), ops, next, k));
      }
      const key = op.fn(c, f);
      if (key === undefined) return false;
      v = op.dataKey ? lookupData(v, key) : lookup(v, key);
      continue;
    }
    const next = i + 1;
    if (op.kind === "var") {
      const slot = op.slot;
      return enumerate(c, v, (key, val) => {
        f[slot] = key;
        const r = navigate(c, f, val, ops, next, k);
        f[slot] = undefined;
        return r;
      });
    }
    const match = op.match;
    return enumerate(c, v, (key, val) => match(c, f, key, () => navigate(c, f, val, ops, next, k)));
  }
  if (v === undefined) return false;
  return k(v);
}

// ---- Data references -------------------------------------------------------------------------

/**
 * Follow a reference into `data` from a tree node: base documents and virtual documents
 * (rules) are merged; once a node with rules is reached the rest is plain navigation.
 */
export function dataRef(
  c: Ctx,
  f: Frame,
  node: TreeNode | null,
  base: Value | undefined,
  ov: OverrideNode | null,
  ops: Operand[],
  i: number,
  k: (v: Value) => boolean,
): boolean {
  for (;;) {
    if (ov !== null && ov.value !== undefined) return navigate(c, f, ov.value, ops, i, k);
    if (node === null) {
      if (ov !== null) base = patchOverrides(base, ov);
      return navigate(c, f, base, ops, i, k);
    }
    if (node.hasDocRules && ov === null && node.suffixRules.length > 0 && i < ops.length) {
      // Known keys into an object built by rules with variable keys: read only their path (docValueAt).
      let j = i;
      const keys: Value[] = [];
      for (; j < ops.length; j++) {
        const o = ops[j];
        if (o.kind !== "val" || o.en !== null) break;
        const key = o.fn(c, f);
        if (key === undefined) return false;
        // A number reads an object's string key too (lookupData): left to the whole document.
        if (typeof key === "number") break;
        keys.push(key);
      }
      if (keys.length > 0) return navigate(c, f, docValueAt(c, node, base, keys), ops, j, k);
    }
    if (node.hasDocRules || i === ops.length) {
      let v = docValue(c, node, base);
      if (ov !== null) v = patchOverrides(v, ov);
      return navigate(c, f, v, ops, i, k);
    }
    const op = ops[i];
    if (op.kind === "val" && op.en === null) {
      let key = op.fn(c, f);
      if (key === undefined) return false;
      // data[2] reads the key "2" of an object (OPA converts integer keys at the data root level).
      if (typeof key === "number" && !Array.isArray(base)) key = String(key);
      if (typeof key !== "string") {
        if (ov !== null) base = patchOverrides(docValue(c, node, base), ov);
        else base = docValue(c, node, base);
        return navigate(c, f, base, ops, i, k);
      }
      node = node.children.get(key) ?? null;
      base = lookup(base, key);
      ov = ov !== null ? (ov.children.get(key) ?? null) : null;
      i++;
      if (node === null && base === undefined && ov === null) return false;
      continue;
    }
    // An unbound operand at the tree level: enumerate the union of rule children and base keys.
    const keys = new Set<string>();
    for (const name of node.children.keys()) keys.add(name);
    if (isObject(base as Value)) for (const [kk] of objectEntries(base as PlainObject)) if (typeof kk === "string") keys.add(kk);
    if (ov !== null) for (const name of ov.children.keys()) keys.add(name);
    const sorted = Array.from(keys).sort(compareStrings);
    const cur = node;
    const curBase = base;
    const curOv = ov;
    const next = i + 1;
    for (const key of sorted) {
      const child = cur.children.get(key) ?? null;
      const childBase = lookup(curBase, key);
      const childOv = curOv !== null ? (curOv.children.get(key) ?? null) : null;
      if (child !== null && child.isFunction && !child.hasDocRules && child.children.size === 0 && childBase === undefined) continue;
      const go = () => dataRef(c, f, child, childBase, childOv, ops, next, k);
      let stop: boolean;
      if (op.kind === "var") {
        // Skip children whose document is undefined (or functions).
        f[op.slot] = key;
        stop = go();
        f[op.slot] = undefined;
      } else if (op.kind === "pattern") {
        stop = op.match(c, f, key, go);
      } else {
        stop = op.en!(c, f, (kv) => (equal(kv, key) ? go() : false));
      }
      if (stop) return true;
    }
    return false;
  }
}

function patchOverrides(v: Value | undefined, ov: OverrideNode): Value | undefined {
  if (ov.value !== undefined) return ov.value;
  if (ov.children.size === 0) return v;
  const entries: [Value, Value][] = isObject(v as Value) ? objectEntries(v as PlainObject).slice() : [];
  for (const [name, child] of ov.children) {
    const cur = lookup(v, name);
    const nv = patchOverrides(cur, child);
    if (nv === undefined) continue;
    const at = entries.findIndex(([kk]) => kk === name);
    if (at >= 0) entries[at] = [name, nv];
    else entries.push([name, nv]);
  }
  return makeObject(entries);
}

// ---- Virtual documents -----------------------------------------------------------------------

/** The value of the document at a tree node (rules, children and base data merged); cached per query. */
export function docValue(c: Ctx, node: TreeNode, base: Value | undefined): Value | undefined {
  const cached = c.docCache.get(node);
  if (cached !== undefined) {
    // OPA's index runs at every reference, also when its cache has the value.
    if (c.tracer !== null) {
      if (node.complete.length > 0 || node.defaultRule !== null) traceIndex(c, node, opaIndexed(c, candidates(c, node, node.complete)).length, node.earlyExit);
      else if (node.multi.length > 0 && node.suffixRules.length === 0 && node.children.size === 0) traceIndex(c, node, opaIndexed(c, node.multi).length, false);
      else if (refHeadOnly(node)) traceIndex(c, node, opaIndexed(c, node.suffixRules).length, false);
    }
    return cached === UNDEF ? undefined : cached;
  }
  const v = evalNode(c, node, () => computeDoc(c, node, base), () => void docValue(c, node, base));
  c.docCache.set(node, v === undefined ? UNDEF : v);
  return v;
}

/**
 * Evaluate a node's rules as a nested evaluation: a node already under way is recursion, a deep
 * one starts a new stack segment (rerun: the same read again, see evalSegment).
 */
function evalNode(c: Ctx, node: TreeNode, compute: () => Value | undefined, rerun: () => void): Value | undefined {
  if (c.inProgress.has(node)) {
    throw RegoError.single("rego_recursion_error", `rule ${node.dataPath()} is recursive`);
  }
  if (c.depth > c.segBase && needSegment(c)) throw new DeepEval(rerun, c.docCache);
  const first = c.depth === c.segBase;
  c.inProgress.add(node);
  c.depth++;
  try {
    return first ? evalSegment(c, compute) : compute();
  } finally {
    c.depth--;
    c.inProgress.delete(node);
  }
}

/**
 * The value at the ground key path `keys` (one or more) of a node's document, as OPA reads
 * `data.p.q["a"]`: for an object built by rules with variable keys (`q[k] := v`, `q[a][b] := v`),
 * OPA unifies the rules' keys with the known ones before their bodies, so only the entries on
 * that path are compared: a conflict or an error under another key does not make `q["a"]` fail
 * (it does make `q` fail). Here every rule body still runs (the order of evaluation is unchanged)
 * but only the entries whose keys match the path are kept and checked. Other nodes, and an
 * object already computed whole in this query, are read from their whole document.
 *
 * The whole object is computed first, once per query and `with` scope: when it has no conflict
 * or error, every key is read from it, so reading many keys (`roles[u]` for each of many users)
 * costs one evaluation of the rules, as before; only when it fails are keys read one by one
 * (each running the rules again). A traced evaluation reads keys one by one from the start, so
 * that the rules' events are not traced twice. (Left as it was: a conflict under another key
 * raised while evaluating deep recursion in another stack segment, see evalSegment, still fails
 * the query.)
 */
export function docValueAt(c: Ctx, node: TreeNode, base: Value | undefined, keys: Value[]): Value | undefined {
  if (node.suffixRules.length === 0 || node.complete.length > 0 || node.defaultRule !== null || node.multi.length > 0 || c.docCache.has(node)) {
    return lookupPath(docValue(c, node, base), keys);
  }
  let memo = c.keyedCache.get(node);
  if (memo === undefined && c.tracer === null) {
    try {
      return lookupPath(docValue(c, node, base), keys);
    } catch (e) {
      if (!(e instanceof RegoError) || !ANSWER_ERRORS.has(e.code)) throw e;
      // The whole object fails: its keys are read one by one from now on in this scope.
      c.keyedCache.set(node, (memo = new Map()));
    }
  }
  const hk = keys.length === 1 ? hashKey(keys[0]) : hashKey(keys);
  const cached = memo?.get(hk);
  if (cached !== undefined) {
    if (c.tracer !== null && refHeadOnly(node)) traceIndex(c, node, opaIndexed(c, node.suffixRules).length, false);
    return cached === UNDEF ? undefined : lookupPath(cached, keys);
  }
  const v = evalNode(c, node, () => computeDocAt(c, node, base, keys), () => void docValueAt(c, node, base, keys));
  if (memo === undefined) c.keyedCache.set(node, (memo = new Map()));
  memo.set(hk, v === undefined ? UNDEF : v);
  return v === undefined ? undefined : lookupPath(v, keys);
}

/** Errors of evaluating an object that reading one of its keys need not share (docValueAt); a cancellation or an internal error is not one. */
const ANSWER_ERRORS: ReadonlySet<string> = new Set(["eval_conflict_error", "eval_type_error", "eval_builtin_error", "eval_with_merge_error"]);

function lookupPath(v: Value | undefined, keys: Value[]): Value | undefined {
  for (let i = 0; i < keys.length && v !== undefined; i++) v = lookup(v, keys[i]);
  return v;
}

function candidates(c: Ctx, node: TreeNode, rules: CompiledRule[]): CompiledRule[] {
  const ix = node.index;
  if (ix === null || rules !== node.complete) return rules;
  let v: Value | undefined = c.input;
  for (const p of ix.path) v = lookup(v, p);
  if (v === undefined) return ix.rest;
  return ix.byValue.get(hashKey(v)) ?? ix.rest;
}

function computeDoc(c: Ctx, node: TreeNode, base: Value | undefined): Value | undefined {
  c.tick();
  if (node.complete.length > 0 || node.defaultRule !== null) {
    let result: Value | undefined;
    let resultLoc: Location | undefined;
    let rules = candidates(c, node, node.complete);
    if (c.tracer !== null) {
      rules = opaIndexed(c, rules);
      traceIndex(c, node, rules.length, node.earlyExit);
    }
    for (const r of rules) {
      const v = evalSingle(c, r);
      if (v === undefined) continue;
      if (result === undefined) {
        result = v;
        resultLoc = r.loc;
        if (node.earlyExit) break;
      } else if (!equal(result, v)) {
        // OPA names the definition (or its `else`) that gave the second value.
        throw conflict("complete rules must not produce multiple outputs", singleLoc ?? resultLoc);
      }
    }
    if (result === undefined && node.defaultRule !== null) result = evalSingle(c, node.defaultRule);
    return result;
  }
  if (node.multi.length > 0 && node.suffixRules.length === 0 && node.children.size === 0) {
    let multi = node.multi;
    if (c.tracer !== null) {
      multi = opaIndexed(c, multi);
      traceIndex(c, node, multi.length, false);
    }
    const set = new RSet();
    for (const r of multi) collectMulti(c, r, set);
    return set;
  }
  if (node.multi.length > 0) {
    // A set rule at a node that also has children: the set is the node's value (OPA rejects
    // such mixes at compile time; be lenient and prefer the set). The object is built first, as
    // OPA evaluates it (its errors are raised).
    computeObject(c, node, base, null);
    const set = new RSet();
    for (const r of node.multi) collectMulti(c, r, set);
    return set;
  }
  return computeObject(c, node, base, null);
}

/** The part of an object node's document on the key path `keys` (docValueAt): the whole object's entries on that path. */
function computeDocAt(c: Ctx, node: TreeNode, base: Value | undefined, keys: Value[]): Value | undefined {
  c.tick();
  return computeObject(c, node, base, keys);
}

/**
 * An object document: base data, child documents, then ref-head rules with variable parts. With
 * `path`, only the entries on that key path: the base's and the child's under its first key, and
 * the rules' whose keys match it (as far as both go).
 */
function computeObject(c: Ctx, node: TreeNode, base: Value | undefined, path: Value[] | null): Value {
  if (c.tracer !== null && refHeadOnly(node)) traceIndex(c, node, opaIndexed(c, node.suffixRules).length, false);
  const b = new ObjBuilder();
  if (path === null) {
    if (isObject(base as Value)) for (const [kk, vv] of objectEntries(base as PlainObject)) b.entries.set(hashKey(kk), [kk, vv]);
    for (const [name, child] of node.children) {
      if (child.isFunction && !child.hasDocRules && child.children.size === 0) continue;
      const cv = docValue(c, child, lookup(base, name));
      if (cv !== undefined) b.entries.set(name, [name, cv]);
    }
  } else {
    const k0 = path[0];
    const bv = isObject(base as Value) ? lookup(base, k0) : undefined;
    if (bv !== undefined) b.entries.set(hashKey(k0), [k0, bv]);
    const child = typeof k0 === "string" ? node.children.get(k0) : undefined;
    if (child !== undefined && !(child.isFunction && !child.hasDocRules && child.children.size === 0)) {
      const cv = docValue(c, child, lookup(base, k0));
      if (cv !== undefined) b.entries.set(k0, [k0, cv]);
    }
  }
  // OPA evaluates the rules with variable parts before those with a ground path, so a conflict
  // between them names the ground one: the child document the key came from.
  if (node.suffixRules.length > 0) {
    const origin = (k: Value): Location | undefined => {
      const child = typeof k === "string" ? node.children.get(k) : undefined;
      return child === undefined ? undefined : firstRuleLoc(child);
    };
    for (const r of node.suffixRules) collectSuffix(c, r, b, origin, path);
  }
  return b.build();
}

/** Where the value of the last evalSingle came from: the rule's location or its `else`'s. */
let singleLoc: Location | undefined;

/** Value of one single-value rule (with its else chain), or undefined. */
export function evalSingle(c: Ctx, r: CompiledRule): Value | undefined {
  const f: Frame = new Array(r.nslots);
  let out: Value | undefined;
  singleLoc = r.loc;
  const valueFn = r.value!;
  const direct = r.direct;
  if (direct != null) {
    // At most one solution: no continuation, no conflict within the body.
    if (direct(c, f)) out = valueFn(c, f);
  } else {
    const stopEarly = r.constValue;
    r.body(c, f, () => {
      const v = valueFn(c, f);
      if (v === undefined) return false;
      if (out === undefined) out = v;
      else if (!equal(out, v)) throw conflict("complete rules must not produce multiple outputs", r.loc);
      return stopEarly;
    });
  }
  if (out !== undefined || r.elses.length === 0) return out;
  for (const e of r.elses) {
    const ef: Frame = new Array(r.nslots);
    if (e.direct != null) {
      if (e.direct(c, ef)) out = e.value(c, ef);
      if (out !== undefined) {
        singleLoc = e.loc;
        return out;
      }
      continue;
    }
    e.body(c, ef, () => {
      const v = e.value(c, ef);
      if (v === undefined) return false;
      if (out === undefined) out = v;
      else if (!equal(out, v)) throw conflict("complete rules must not produce multiple outputs", e.loc);
      return false;
    });
    if (out !== undefined) {
      singleLoc = e.loc;
      return out;
    }
  }
  return undefined;
}

function collectMulti(c: Ctx, r: CompiledRule, set: RSet): void {
  const f: Frame = new Array(r.nslots);
  const keyFn = r.key!;
  if (r.direct != null) {
    if (!r.direct(c, f)) return;
    const v = keyFn(c, f);
    if (v !== undefined) {
      c.hold(v);
      set.add(v);
    }
    return;
  }
  r.body(c, f, () => {
    const v = keyFn(c, f);
    if (v !== undefined) {
      c.hold(v);
      set.add(v);
    }
    return false;
  });
}

/** An entry of an ObjBuilder: key, value, and `true` when a rule with variable parts made it. */
type ObjEntry = [Value, Value | ObjBuilder | RSet] | [Value, Value | ObjBuilder | RSet, true];

/** Mutable object under construction for ref-head rules; frozen into a value by build(). */
class ObjBuilder {
  entries = new Map<unknown, ObjEntry>();
  build(): Value {
    const out: [Value, Value][] = [];
    for (const [k, v] of this.entries.values()) out.push([k, v instanceof ObjBuilder ? v.build() : v]);
    return makeObject(out);
  }
}

/** The location of the first rule at or below a node (for error locations only). */
function firstRuleLoc(node: TreeNode): Location | undefined {
  const todo = [node];
  for (let n = 0; todo.length > 0 && n < 10_000; n++) {
    const x = todo.shift()!;
    const r = x.complete[0] ?? x.multi[0] ?? x.suffixRules[0] ?? x.defaultRule;
    if (r) return r.loc;
    for (const ch of x.children.values()) todo.push(ch);
  }
  return undefined;
}

function collectSuffix(c: Ctx, r: CompiledRule, root: ObjBuilder, origin?: (k: Value) => Location | undefined, path: Value[] | null = null): void {
  // A conflict names the ground rule the existing key came from, if any; between two rules
  // with constant parts only (`q[1] := 1`, `q[1] := 2`) it is a complete rules' conflict.
  // An entry made by a rule with variable parts (a third element in its tuple) names the rule
  // that clashes with it, even under a key that also has a ground rule.
  const clash = (keys: Value[], e: ObjEntry) => {
    const at = e.length > 2 ? r.loc : (origin?.(keys[0]) ?? r.loc);
    return r.groundSuffix && r.kind !== "multi" && at === r.loc ? conflict("complete rules must not produce multiple outputs", r.loc) : conflict("object keys must be unique", at);
  };
  const f: Frame = new Array(r.nslots);
  r.body(c, f, () => {
    const keys: Value[] = [];
    for (const s of r.suffix) {
      const kv = s(c, f);
      if (kv === undefined) return false;
      keys.push(kv);
    }
    // Reading at a known path: entries off it are not part of the answer (see docValueAt).
    if (path !== null) for (let i = 0; i < keys.length && i < path.length; i++) if (!equal(keys[i], path[i])) return false;
    const leaf = r.kind === "multi" ? r.key!(c, f) : r.value!(c, f);
    if (leaf === undefined) return false;
    c.hold(leaf);
    let b = root;
    for (let i = 0; i < keys.length - 1; i++) {
      const hk = hashKey(keys[i]);
      const e = b.entries.get(hk);
      if (e === undefined) {
        const nb = new ObjBuilder();
        b.entries.set(hk, [keys[i], nb, true]);
        b = nb;
      } else if (e[1] instanceof ObjBuilder) {
        b = e[1];
      } else if (isObject(e[1] as Value)) {
        const nb = new ObjBuilder();
        for (const [kk, vv] of objectEntries(e[1] as PlainObject)) nb.entries.set(hashKey(kk), [kk, vv]);
        e[1] = nb;
        b = nb;
      } else {
        throw clash(keys, e);
      }
    }
    const last = keys[keys.length - 1];
    const hk = hashKey(last);
    const e = b.entries.get(hk);
    if (r.kind === "multi") {
      if (e === undefined) b.entries.set(hk, [last, new RSet([leaf]), true]);
      else if (e[1] instanceof RSet) e[1].add(leaf);
      else throw clash(keys, e);
    } else if (e === undefined) {
      b.entries.set(hk, [last, leaf, true]);
    } else if (e[1] instanceof ObjBuilder || !equal(e[1] as Value, leaf)) {
      throw clash(keys, e);
    }
    return false;
  });
}

// ---- Functions -------------------------------------------------------------------------------

/** Call a user-defined function with argument values; memoised per query. */
export function callFunction(c: Ctx, node: TreeNode, args: Value[], loc: Location | undefined): Value | undefined {
  // Memoised per query in nested maps, one level per argument. Composite arguments are keyed
  // by identity (values are immutable, so the same object is the same value): hashing a large
  // document such as input.review on every call would cost more than the call.
  let memo = c.fnCache.get(node) as Map<unknown, unknown> | undefined;
  if (memo === undefined) {
    memo = new Map();
    c.fnCache.set(node, memo as Map<unknown, Cached>);
  }
  let level = memo;
  for (let i = 0; i < args.length - 1; i++) {
    const k = memoKey(args[i]);
    let next = level.get(k) as Map<unknown, unknown> | undefined;
    if (next === undefined) level.set(k, (next = new Map()));
    level = next;
  }
  const key = args.length > 0 ? memoKey(args[args.length - 1]) : UNDEF;
  {
    const hit = level.get(key) as Cached | undefined;
    if (hit !== undefined) return hit === UNDEF ? undefined : hit;
  }
  if (c.depth > c.segBase && needSegment(c)) {
    throw new DeepEval(() => void callFunction(c, node, args, loc), c.docCache);
  }
  c.tick();
  const first = c.depth === c.segBase;
  c.depth++;
  let out: Value | undefined;
  try {
    out = first ? evalSegment(c, () => evalFunction(c, node, args)) : evalFunction(c, node, args);
  } finally {
    c.depth--;
  }
  level.set(key, out === undefined ? UNDEF : out);
  return out;
}

function evalFunction(c: Ctx, node: TreeNode, args: Value[]): Value | undefined {
  let defs = node.funcs;
  const traceOut = c.traceOut;
  c.traceOut = null;
  if (defs.length === 1 && c.tracer === null) {
    // One definition without `else` in direct form (most helpers): its value or the default.
    const r = defs[0];
    const slots = r.argSlots;
    if (slots != null && r.direct != null && r.elses.length === 0 && slots.length === args.length) {
      const f: Frame = new Array(r.nslots);
      for (let i = 0; i < slots.length; i++) if (slots[i] >= 0) f[slots[i]] = args[i];
      const out = r.direct(c, f) ? r.value!(c, f) : undefined;
      if (out !== undefined || node.defaultFunc === null) return out;
      return node.defaultFunc.value!(c, new Array(node.defaultFunc.nslots));
    }
  }
  const call: FunctionCall = { out: undefined };
  if (c.tracer !== null) traceIndex(c, node, node.funcs.length, node.fnEarlyExit);
  else if (defs.length >= CALL_INDEX_MIN) {
    const ix = node.callIndex === undefined ? (node.callIndex = buildCallIndex(defs)) : node.callIndex;
    if (ix !== null && ix.pos < args.length) {
      const a = args[ix.pos];
      defs = typeof a === "string" || typeof a === "boolean" || a === null ? (ix.byKey.get(hashKey(a)) ?? ix.rest) : ix.rest;
    }
  }
  const untraced = c.tracer === null;
  for (let d = 0; d < defs.length; d++) {
    const r = defs[d];
    if (r.args!.length !== args.length) continue;
    // A definition whose constant parameter (a string, boolean or null: argKey) the argument
    // cannot equal is skipped before a frame is made, as the call index skips it (traced
    // evaluations run it, for their Index events and Unify failures).
    if (untraced && r.argKey !== undefined && !argCanMatch(args[r.argEq!], r.argKey)) continue;
    const f: Frame = new Array(r.nslots);
    const slots = r.argSlots;
    if (slots != null) {
      // Parameters that are distinct variables: the arguments go into their slots (no pattern
      // matching, no continuation per parameter), bound for the definition and its `else`s.
      for (let i = 0; i < slots.length; i++) if (slots[i] >= 0) f[slots[i]] = args[i];
      if (runBound(c, f, r, r.direct, r.body, r.value!, r.loc, call)) {
        if (node.fnEarlyExit) break;
        continue;
      }
      // (indexed loops: rules without `else` share a frozen empty list, which for-of would
      // make polymorphic)
      const elses = r.elses;
      for (let i = 0; i < elses.length; i++) {
        const e = elses[i];
        if (runBound(c, f, r, e.direct, e.body, e.value, e.loc, call)) break;
      }
      continue;
    }
    if (c.tracer !== null) c.traceCall = { args, out: traceOut };
    if (runFunctionBody(c, f, r, args, r.body, r.value!, r.loc, call)) {
      if (node.fnEarlyExit) break;
      continue;
    }
    for (const e of r.elses) {
      if (c.tracer !== null) c.traceCall = { args, out: traceOut };
      if (runFunctionBody(c, f, r, args, e.body, e.value, e.loc, call)) break;
    }
    c.traceCall = null;
  }
  let out = call.out;
  if (out === undefined && node.defaultFunc !== null) {
    const f: Frame = new Array(node.defaultFunc.nslots);
    out = node.defaultFunc.value!(c, f);
  }
  return out;
}

/**
 * A function's definitions by the constant (a string, boolean or null) they take at one
 * parameter — `mem_multiple("Ki") = …` fourteen times: a call runs the definitions whose
 * constant equals its argument and those without one there, in their order. The others could
 * not match their arguments, so the answer is the same (OPA indexes these too). Traced
 * evaluations run every definition, as their Index events count them.
 */
export interface CallIndex {
  pos: number;
  byKey: Map<unknown, CompiledRule[]>;
  /** The definitions without an indexed constant: what an argument no constant equals selects. */
  rest: CompiledRule[];
}

/** Can an argument equal a definition's constant parameter, given as its hashKey (a string, boolean or null)? */
function argCanMatch(a: Value, key: unknown): boolean {
  // A number, or a collection, never equals such a constant.
  return (typeof a === "string" || typeof a === "boolean" || a === null) && hashKey(a) === key;
}

/** Functions with fewer definitions run them all (their definitions each test argCanMatch). */
const CALL_INDEX_MIN = 4;

function buildCallIndex(defs: CompiledRule[]): CallIndex | null {
  const first = defs.find((r) => r.argKey !== undefined && r.argEq != null);
  if (first === undefined) return null;
  const pos = first.argEq!;
  const indexed = (r: CompiledRule) => r.argKey !== undefined && r.argEq === pos;
  const keys = new Set<unknown>();
  for (const r of defs) if (indexed(r)) keys.add(r.argKey);
  if (keys.size < 2) return null;
  const byKey = new Map<unknown, CompiledRule[]>();
  for (const k of keys) byKey.set(k, defs.filter((r) => !indexed(r) || r.argKey === k));
  return { pos, byKey, rest: defs.filter((r) => !indexed(r)) };
}

/** The value one function call has produced so far (shared by its definitions and their `else`s). */
interface FunctionCall {
  out: Value | undefined;
}

/** Records value v of a function call: a second, different value is OPA's conflict error. */
function produced(call: FunctionCall, v: Value, at: Location): void {
  if (call.out === undefined) call.out = v;
  else if (!equal(call.out, v)) throw conflict("functions must not produce multiple outputs for same inputs", at);
}

/**
 * One body of function rule r whose parameters are already bound in f (see argSlots), in direct
 * form when it has one: true when it produced a value. The frame is not cleaned after a direct
 * body (an `else` body uses slots of its own; the frame is dropped after the call).
 */
function runBound(c: Ctx, f: Frame, r: CompiledRule, direct: DirectFn | null | undefined, body: ExprFn, vfn: ValFn, at: Location, call: FunctionCall): boolean {
  if (direct != null) {
    if (!direct(c, f)) return false;
    const v = vfn(c, f);
    if (v === undefined) return false;
    produced(call, v, at);
    return true;
  }
  let found = false;
  body(c, f, () => {
    const v = vfn(c, f);
    if (v === undefined) return false;
    found = true;
    produced(call, v, at);
    return r.constValue;
  });
  return found;
}

/** One body (a definition or one of its `else`s) of function rule r on args: true when it produced a value. */
function runFunctionBody(c: Ctx, f: Frame, r: CompiledRule, args: Value[], body: ExprFn, vfn: ValFn, at: Location, call: FunctionCall): boolean {
  let found = false;
  matchArgs(c, f, r.args!, args, 0, () =>
    body(c, f, () => {
      const v = vfn(c, f);
      if (v === undefined) return false;
      found = true;
      produced(call, v, at);
      return r.constValue;
    }),
  );
  return found;
}

/**
 * As OPA's rule index (traced evaluations only, so that their Index events and the rules they
 * enter are OPA's): rules whose `input.<path> == constant` test cannot hold are left out. They
 * could not succeed, so the document is the same.
 */
function opaIndexed(c: Ctx, rules: CompiledRule[]): CompiledRule[] {
  if (!rules.some((r) => r.inputEq !== null || (r.inputIn ?? null) !== null)) return rules;
  const at = (path: string[]) => {
    let v: Value | undefined = c.input;
    for (const p of path) v = lookup(v, p);
    return v;
  };
  return rules.filter((r) => {
    if (r.inputEq !== null) {
      const v = at(r.inputEq.path);
      if (v === undefined || hashKey(v) !== r.inputEq.key) return false;
    }
    if (r.inputIn) {
      // OPA's trie: a scalar is looked up, a collection's elements (an object's values) are
      const v = at(r.inputIn.path);
      if (v === undefined) return false;
      const keys = r.inputIn.keys;
      const items = Array.isArray(v) ? v : v instanceof RSet ? v.sorted() : isObject(v) ? objectEntries(v).map((e) => e[1]) : null;
      if (items === null ? !keys.has(hashKey(v)) : !items.some((x) => (x === null || typeof x !== "object") && keys.has(hashKey(x)))) return false;
    }
    return true;
  });
}

/** A node of ref-head rules with variable parts only (`p[k] := v`): OPA indexes them as one set of rules. */
function refHeadOnly(node: TreeNode): boolean {
  return node.suffixRules.length > 0 && node.children.size === 0 && node.multi.length === 0 && node.complete.length === 0 && node.defaultRule === null;
}

/** An Index event: the rules of a node about to be evaluated (traced evaluations only). */
function traceIndex(c: Ctx, node: TreeNode, n: number, early: boolean): void {
  const loc = c.traceLoc ?? { file: "query", row: 1, col: 1 };
  // OPA's index reports an early exit when nothing matched, whatever the rules.
  const message = `(matched ${n} rule${n === 1 ? "" : "s"}${early || n === 0 ? ", early exit" : ""})`;
  c.tracer!.trace({ op: "Index", node: { kind: "ref", text: node.dataPath(), path: node.path }, location: loc, queryId: c.qid, parentId: c.pqid, message, bindings: null });
}

/**
 * The memo key of an argument: scalars by value, and numbers of any form by their value (`1` and
 * `1.0` are one key, as in OPA's per-query function cache, so `[f(1.0), f(1)]` of `f(x) := x`
 * answers `[1.0, 1.0]` as OPA does); collections by identity.
 */
function memoKey(v: Value): unknown {
  return typeof v === "object" && v !== null && !(v instanceof BigDec) ? v : hashKey(v);
}

function matchArgs(c: Ctx, f: Frame, pats: MatchFn[], args: Value[], i: number, k: K): boolean {
  // One or two parameters (most functions): no continuation made per parameter.
  switch (pats.length - i) {
    case 0:
      return k();
    case 1:
      return pats[i](c, f, args[i], k);
    case 2: {
      const p1 = pats[i + 1];
      const a1 = args[i + 1];
      return pats[i](c, f, args[i], () => p1(c, f, a1, k));
    }
  }
  return pats[i](c, f, args[i], () => matchArgs(c, f, pats, args, i + 1, k));
}

// ---- Builtins --------------------------------------------------------------------------------

/** Call a builtin, turning its errors into OPA's behaviour (undefined, or an error when strict). */
export function callBuiltin(c: Ctx, b: Builtin, args: Value[], loc: Location | undefined): Value | undefined {
  c.bctx.location = loc;
  c.callBytes = 0;
  try {
    return b.impl(args, c.bctx);
  } catch (e) {
    if (e instanceof BuiltinTypeError) {
      if (c.strict) throw RegoError.single("eval_type_error", e.message, loc);
      return undefined;
    }
    if (e instanceof BuiltinError || e instanceof ValueDepthError) {
      if (c.strict) throw RegoError.single("eval_builtin_error", e instanceof ValueDepthError ? `${b.name}: ${e.message}` : e.message, loc);
      return undefined;
    }
    if (e instanceof HaltError) throw RegoError.single(e.code, e.message, loc);
    if (e instanceof RegoError || e instanceof AsyncSuspend || e instanceof DeepEval) throw e;
    // A builtin that overflowed the stack (deeply nested input) has no result; never undefined.
    // (a fault of the builtin, which should not recurse on its input: an internal error)
    if (e instanceof RangeError && /call stack/.test(e.message)) throw tooDeep(loc, "eval_internal_error");
    throw unexpected(b.name, e, loc);
  }
}

/**
 * An exception a builtin did not raise on purpose. OPA's non-strict mode only swallows the
 * errors builtins raise deliberately; anything else is a fault and must surface, never become a
 * silent undefined that lets a `deny` rule not fire. A result too large for JavaScript (string or
 * array length, BigInt size) is a named size error; a stack overflow is left to the engine
 * ("evaluation too deep"); everything else is an eval_internal_error naming the builtin.
 */
function unexpected(name: string, e: unknown, loc: Location | undefined): unknown {
  if (e instanceof RangeError) {
    if (/call stack/.test(e.message)) return e;
    if (/Invalid (string|array|typed array) length|Maximum BigInt size|allocation failed|Array buffer/i.test(e.message)) {
      return RegoError.single("eval_builtin_error", `${name}: result exceeds the engine's size limits`, loc);
    }
  }
  const msg = e instanceof Error ? e.message : String(e);
  return RegoError.single("eval_internal_error", `${name}: internal error: ${msg}`, loc);
}
