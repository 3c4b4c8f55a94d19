// The compiler: from parsed modules to a rule tree of closures.
//
// Steps, in order:
//  1. every rule is placed in the tree at `data.<package>.<ground part of its head ref>`;
//  2. each body is compiled with a static record of which variables are bound at each point, so
//     that a variable occurrence is compiled either as a read or as a binding. Expressions are
//     taken in source order when safe; an expression whose inputs are not bound yet is moved
//     after the one that binds them (OPA's reordering); what can never be bound is a
//     rego_unsafe_var_error;
//  3. names are resolved once: local variables to frame slots, rule names and imports to tree
//     nodes, builtins to their implementation;
//  4. recursion between rules is rejected; rules are indexed on `input.x == constant`.

import type { Body, Expr, Location, Module, Rule, Term, RefTerm, VarTerm, CallTerm, With, Annotation, ArrayComprehension, SetComprehension, ObjectComprehension } from "./ast.ts";
import { RegoError, asRegoError, type ErrorDetail } from "./errors.ts";
import { termString } from "./parser.ts";
import type { Value, PlainObject } from "./value.ts";
import { RSet, BigDec, equal, hashKey, makeObject, emptyObject, numberLiteral, isObject, objectEntries, isTruthy, fromJS, compareStrings, objectSize } from "./value.ts";
import {
  TreeNode,
  navigate,
  dataRef,
  docValue,
  docValueAt,
  enumerate,
  lookup,
  callFunction,
  callBuiltin,
  conflict,
  type Ctx,
  type Frame,
  type K,
  type ExprFn,
  type ValFn,
  type EnumFn,
  type MatchFn,
  type DirectFn,
  type Operand,
  valOperand,
  varOperand,
  patternOperand,
  type CompiledRule,
  NO_RULES,
  type Mock,
  type OverrideNode,
  type EvalHooks,
} from "./eval.ts";
import { exprText as rawExprText, bodyText as rawBodyText, queryText, queryExprText as rawQueryExprText, rulePath, withResolver, withPlug, type RefResolver, type TraceNode, type TraceEvent, type NoteContext } from "./trace.ts";
import { opaRewriteModules, opaRewriteQuery } from "./tracerewrite.ts";
import type { Builtin, BuiltinTable } from "./builtin.ts";
import { stackLow } from "./stack.ts";
import { indexedCollection, indexedObject, keysEnumerated, nestedMentions, varNamesIn, type IndexPlan } from "./compindex.ts";
import { formatValue } from "./print.ts";
import { goQuote } from "../gotext/fmt.ts";
import { schemaType, SchemaError } from "./schema.ts";
import * as Ty from "./types.ts";
import { annotationJSON, termJSON } from "./astjson.ts";
import type { TyFn } from "./types.ts";

/** Thrown while compiling an expression whose variables are not bound yet. */
class Unsafe extends Error {
  vars: VarTerm[];
  constructor(vars: VarTerm[]) {
    // Thrown and caught while the compiler orders a body: no stack trace to capture.
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super("unsafe");
    Error.stackTraceLimit = limit;
    this.vars = vars;
  }
}

interface CTerm {
  ev: ValFn | null; // one value, no enumeration
  en: EnumFn;
}

interface ModCtx {
  file: string;
  pkg: string[];
  imports: Map<string, Term[]>;
  ruleNames: Set<string>;
  /** `import future.keywords.not`: a negated expression is negated whole (OPA's `not` bodies). */
  notBodies?: boolean;
  /** Rego v1 rules apply (v1 module, or `import rego.v1`): no shadowing of input/data, no deprecated builtins. */
  v1: boolean;
  /** A query (OPA rewrites `==` to `=`, and so type-checks it, in modules only). */
  query?: boolean;
  module?: Module;
  /** Traced compiles: the names OPA generates for `some v in xs` keys (traceview.ts). */
  traceKeys?: Map<Expr, string>;
  /** Traced compiles: the names OPA gives each rule's declared variables (tracerewrite.ts). */
  traceNames?: Map<Rule, Map<string, string>>;
}

// The compiler compiles an expression speculatively and, when a variable turns out to be unsafe
// there, returns to the state before it (to try the next expression first). The sets and maps of
// that state record what was added, so returning is cheap however large the state has grown
// (a copy per attempt would make long bodies quadratic).

/** A Set whose additions since a mark can be undone. */
class USet<T> extends Set<T> {
  private journal: T[] = [];
  add(v: T): this {
    if (!this.has(v)) {
      super.add(v);
      this.journal?.push(v);
    }
    return this;
  }
  mark(): number {
    return this.journal.length;
  }
  /** Entries added since mark m. */
  since(m: number): T[] {
    return this.journal.slice(m);
  }
  undo(m: number): void {
    while (this.journal.length > m) super.delete(this.journal.pop()!);
  }
}

/** A Map whose changes since a mark can be undone. */
class UMap<K, V> extends Map<K, V> {
  // Key, previous value and whether there was one, three entries per change.
  private journal: unknown[] = [];
  set(k: K, v: V): this {
    this.journal?.push(k, this.get(k), this.has(k));
    return super.set(k, v);
  }
  mark(): number {
    return this.journal.length;
  }
  undo(m: number): void {
    const j = this.journal;
    while (j.length > m) {
      const had = j.pop() as boolean;
      const prev = j.pop() as V;
      const k = j.pop() as K;
      if (had) super.set(k, prev);
      else super.delete(k);
    }
  }
}

interface Mark {
  bound: USet<number>;
  b: number;
  vars: UMap<string, number>;
  v: number;
  declared: USet<string>;
  d: number;
}

class Scope {
  vars: UMap<string, number>;
  declared = new USet<string>();
  parent: Scope | null;
  constructor(parent: Scope | null) {
    this.parent = parent;
    this.vars = new UMap();
  }
  find(name: string): number | undefined {
    for (let s: Scope | null = this; s !== null; s = s.parent) {
      const v = s.vars.get(name);
      if (v !== undefined) return v;
    }
    return undefined;
  }
}

/** Compile-time state of one rule body (or query): slots, scopes, what is bound. */
class State {
  counter: { n: number; names: string[] };
  scope: Scope;
  bound: USet<number>;
  mod: ModCtx;
  owner: TreeNode | null;
  /** Static types of bound slots, for the type check. */
  types: Map<number, TyFn> = new Map();
  /** The rule being compiled (rego.metadata.* read its annotations). */
  rule: Rule | null = null;
  /** The input's type in this rule, from a `schemas:` annotation (null: the compiler's). */
  inputType: Ty.Ty | null = null;
  constructor(mod: ModCtx, owner: TreeNode | null, counter?: { n: number; names: string[] }, scope?: Scope, bound?: Iterable<number>) {
    this.mod = mod;
    this.owner = owner;
    this.counter = counter ?? { n: 0, names: [] };
    this.scope = scope ?? new Scope(null);
    this.bound = new USet(bound);
  }
  /** A point to return to (undo) if what is compiled next turns out to be unsafe. */
  mark(): Mark {
    const { vars, declared } = this.scope;
    return { bound: this.bound, b: this.bound.mark(), vars, v: vars.mark(), declared, d: declared.mark() };
  }
  undo(m: Mark): void {
    this.bound = m.bound;
    m.bound.undo(m.b);
    this.scope.vars = m.vars;
    m.vars.undo(m.v);
    this.scope.declared = m.declared;
    m.declared.undo(m.d);
  }
  newSlot(name: string): number {
    this.counter.names.push(name);
    return this.counter.n++;
  }
  child(): State {
    const c = new State(this.mod, this.owner, this.counter, new Scope(this.scope), this.bound);
    c.types = new Map(this.types);
    c.rule = this.rule;
    c.inputType = this.inputType;
    return c;
  }
}

type Resolved =
  | { kind: "local"; slot: number }
  | { kind: "input" }
  | { kind: "data"; path: string[] }
  | { kind: "ref"; terms: Term[] };

type CallTarget = { kind: "builtin"; b: Builtin; name: string } | { kind: "func"; node: TreeNode; name: string; arity: number };

const K_TRUE: K = () => true;

/**
 * An expression with at most one solution, in direct form: `run` evaluates it and binds `slot`
 * (if any) on success. compileExprs runs a stretch of such expressions in a loop instead of
 * nesting one continuation per expression, so a body of thousands of assignments and tests does
 * not need thousands of stack frames.
 */
interface Det {
  run: (c: Ctx, f: Frame) => boolean;
  slot: number;
}
// What compileBody knows of an expression's or body's closure (Det, its compiled order) is kept
// on the closure itself, under these symbols: WeakMaps holding an entry for every rule's body
// (tens of thousands in large programs) made every garbage collection process as many ephemerons.
const DET = Symbol("det");
const ORDER = Symbol("order");
/**
 * A body whose expressions all have direct forms: the body in direct form, which leaves its
 * variables bound (eval.ts runs it in a fresh frame: see DirectFn).
 */
const DIRECT = Symbol("direct");
/**
 * An expression that enumerates values and binds each to a fresh variable (`x := xs[_]`,
 * `some x in xs`): `each` calls its callback once per value, with nothing bound; the caller
 * binds `slot` (see iterate).
 */
const ITER = Symbol("iter");
interface Iter {
  each: EnumFn;
  slot: number;
}
type Tagged = ExprFn & { [DET]?: Det; [ORDER]?: Uint32Array; [DIRECT]?: DirectFn; [ITER]?: Iter };

function iter(fn: ExprFn, each: EnumFn, slot: number): ExprFn {
  (fn as Tagged)[ITER] = { each, slot };
  return fn;
}

const DIRECT_TRUE: DirectFn = () => true;

function directBody(ds: Det[]): DirectFn {
  if (ds.length === 1) return ds[0].run;
  const n = ds.length;
  return (c, f) => {
    for (let i = 0; i < n; i++) if (!ds[i].run(c, f)) return false;
    return true;
  };
}

/**
 * The direct form of a compiled body (rule.body: its expressions), or null: a body of one
 * expression is that expression's closure, whose Det is the body's direct form.
 */
function directOf(exprs: Body, body: ExprFn): DirectFn | null {
  if (exprs.length === 0) return DIRECT_TRUE;
  const t = body as Tagged;
  return t[DIRECT] ?? (exprs.length === 1 ? (t[DET]?.run ?? null) : null);
}

function det(fn: ExprFn, run: Det["run"], slot = -1): ExprFn {
  (fn as Tagged)[DET] = { run, slot };
  return fn;
}

function isWildcard(name: string): boolean {
  return name === "_" || name.startsWith("$_");
}

/** The names of all variables in an expression, nested bodies included (without recursion). */
function exprVarNames(e: Expr): Set<string> {
  const out = new Set<string>();
  const todo: unknown[] = [e.node, e.with];
  while (todo.length > 0) {
    const x = todo.pop();
    if (Array.isArray(x)) {
      for (const y of x) if (typeof y === "object" && y !== null) todo.push(y);
      continue;
    }
    if (typeof x !== "object" || x === null) continue;
    const o = x as Record<string, unknown>;
    if (o.type === "var" && typeof o.name === "string") out.add(o.name);
    for (const k in o) {
      // (the operator of a call names a function, not a variable)
      if (k === "loc" || (k === "op" && o.type === "call")) continue;
      const y = o[k];
      if (typeof y === "object" && y !== null) todo.push(y);
    }
  }
  return out;
}

/** Is the operator `print` (without building its name)? */
function isPrintOp(op: RefTerm): boolean {
  const t = op.terms;
  return t.length === 1 && t[0].type === "var" && t[0].name === "print";
}

export function opName(op: RefTerm): string {
  const parts: string[] = [];
  for (const t of op.terms) {
    if (t.type === "var") parts.push(t.name);
    else if (t.type === "string") parts.push(t.value);
    else return "";
  }
  return parts.join(".");
}

function constTerm(v: Value): CTerm {
  return { ev: () => v, en: (_c, _f, k) => k(v) };
}

// Closures made for every rule are built by top-level functions such as these, so that what they
// hold is only what they use: a closure made inside a compiler method shares that method's
// context, which holds the rule's State, its terms and scopes (each kept for the program's
// life, and copied by every garbage collection meanwhile).

/** A local variable's value. */
function slotEv(slot: number): ValFn {
  return (_c, f) => f[slot];
}

function slotTerm(slot: number): CTerm {
  const ev = slotEv(slot);
  return { ev, en: evToEn(ev) };
}

/** A call in expression position whose value decides (`a == 1`): true and defined → continue. */
function testExpr(ev: ValFn): ExprFn {
  const test = (c: Ctx, f: Frame): boolean => {
    const v = ev(c, f);
    return v !== undefined && v !== false;
  };
  return det((c, f, k) => (test(c, f) ? k() : false), test);
}

function testEnum(en: EnumFn): ExprFn {
  return (c, f, k) => en(c, f, (v) => (v === false ? false : k()));
}

/**
 * An object literal with distinct constant string keys and single-valued values. Unless a key is
 * `__proto__` (which an ordinary object cannot take by assignment), the object is an ordinary
 * one, as JSON.parse makes input objects, with its keys created in sorted order: V8 keeps such
 * objects in fast mode with a shared shape (an object without prototype is a dictionary), and
 * sortedKeys then finds its keys already in order. The values are evaluated in source order, as
 * before: the keys are made first (null), then each is set as its value is computed.
 */
function constKeyObject(names: string[], vals: ValFn[]): CTerm {
  const n = names.length;
  if (names.includes("__proto__")) {
    const ev: ValFn = (c, f) => {
      const o = emptyObject();
      for (let i = 0; i < n; i++) {
        const v = vals[i](c, f);
        if (v === undefined) return undefined;
        o[names[i]] = v;
      }
      return o;
    };
    return { ev, en: evToEn(ev) };
  }
  const sorted = names.slice().sort(compareStrings);
  let ev: ValFn;
  if (n === 1) {
    const k0 = names[0];
    const v0 = vals[0];
    ev = (c, f) => {
      const v = v0(c, f);
      if (v === undefined) return undefined;
      const o: PlainObject = {};
      o[k0] = v;
      return o;
    };
  } else if (n === 2) {
    const [k0, k1] = names;
    const [v0, v1] = vals;
    const first = sorted[0];
    ev = (c, f) => {
      const a = v0(c, f);
      if (a === undefined) return undefined;
      const b = v1(c, f);
      if (b === undefined) return undefined;
      const o: PlainObject = {};
      if (first === k0) {
        o[k0] = a;
        o[k1] = b;
      } else {
        o[k1] = b;
        o[k0] = a;
      }
      return o;
    };
  } else {
    ev = (c, f) => {
      const o: PlainObject = {};
      for (let i = 0; i < n; i++) o[sorted[i]] = null;
      for (let i = 0; i < n; i++) {
        const v = vals[i](c, f);
        if (v === undefined) return undefined;
        o[names[i]] = v;
      }
      return o;
    };
  }
  return { ev, en: evToEn(ev) };
}

/** The call of a target with argument values, without `with` replacements (see invokeValues). */
function directCall(target: CallTarget, loc: Location): (c: Ctx, vals: Value[]) => Value | undefined {
  if (target.kind === "func") {
    const node = target.node;
    return (c, vals) => callFunction(c, node, vals, loc);
  }
  const b = target.b;
  return (c, vals) => callBuiltin(c, b, vals, loc);
}

/**
 * A call whose arguments are single values. Without a `with` replacement of the target (mockKey:
 * nearly always) it is made directly (`direct`), with no continuation made per call.
 */
function invokeValues(
  evs: ValFn[],
  invoke: (c: Ctx, vals: Value[], k: (v: Value) => boolean) => boolean,
  mockKey: string,
  direct: (c: Ctx, vals: Value[]) => Value | undefined,
): CTerm {
  const n = evs.length;
  const ev: ValFn = (c, f) => {
    const vals: Value[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const v = evs[i](c, f);
      if (v === undefined) return undefined;
      vals[i] = v;
    }
    if (c.mocks === null || !c.mocks.has(mockKey)) return direct(c, vals);
    let out: Value | undefined;
    invoke(c, vals, (v) => ((out = v), true));
    return out;
  };
  return { ev, en: evToEn(ev) };
}

/** A call with arguments that enumerate, evaluated in `order`. */
function invokeEnum(cargs: CTerm[], order: number[], invoke: (c: Ctx, vals: Value[], k: (v: Value) => boolean) => boolean): CTerm {
  const n = cargs.length;
  const en: EnumFn = (c, f, k) => {
    const vals: Value[] = new Array(n);
    const step = (j: number): boolean => {
      if (j === n) return invoke(c, vals.slice(), k);
      const i = order[j];
      return cargs[i].en(c, f, (v) => {
        vals[i] = v;
        return step(j + 1);
      });
    };
    return step(0);
  };
  return { ev: null, en };
}

/** A definition's inferred parameter types (inferParams). */
function paramTypesFn(uses: TyFn[][]): () => (Ty.Ty | null)[] {
  return () =>
    uses.map((us) => {
      for (const u of us) {
        const t = u();
        if (t.k !== Ty.K_ANY && t.k !== 0) return t;
      }
      return null;
    });
}

function evToEn(ev: ValFn): EnumFn {
  return (c, f, k) => {
    const v = ev(c, f);
    return v === undefined ? false : k(v);
  };
}

function enToEv(en: EnumFn): ValFn {
  return (c, f) => {
    let out: Value | undefined;
    en(c, f, (v) => {
      out = v;
      return true;
    });
    return out;
  };
}

/**
 * `pattern = value` (or `:=`): the value's solutions matched against the pattern. `slot` ≥ 0: the
 * pattern is that unbound variable, so a value evaluated directly binds it with one solution at
 * most, a direct form (Det) that a body runs in its loop.
 */
function matchValue(cv: { ev: ValFn | null; en: EnumFn }, pm: MatchFn, slot: number): ExprFn {
  if (cv.ev === null) return enumMatch(cv.en, pm);
  const ev = cv.ev;
  const fn: ExprFn = (c, f, k) => {
    const v = ev(c, f);
    return v === undefined ? false : pm(c, f, v, k);
  };
  if (slot < 0) return fn;
  return det(
    fn,
    (c, f) => {
      const v = ev(c, f);
      if (v === undefined) return false;
      f[slot] = v;
      return true;
    },
    slot,
  );
}

function seq(a: ExprFn, b: ExprFn): ExprFn {
  return (c, f, k) => a(c, f, () => b(c, f, k));
}

/**
 * Expressions in sequence; stretches of expressions with direct forms (Det) run in a loop, and
 * such a stretch after an iteration that binds one variable (Iter: `x := xs[_]`, `some x in xs`)
 * runs inside the iteration's callback (see iterate).
 */
function chain(fns: ExprFn[]): ExprFn {
  const parts: ExprFn[] = [];
  for (let i = 0; i < fns.length; ) {
    const it = (fns[i] as Tagged)[ITER];
    let j = it !== undefined ? i + 1 : i;
    while (j < fns.length && (fns[j] as Tagged)[DET] !== undefined) j++;
    if (it !== undefined) {
      parts.push(iterate(it, fns.slice(i + 1, j).map((x) => (x as Tagged)[DET]!)));
      i = j;
    } else if (it === undefined && j - i >= 2) {
      parts.push(straight(fns.slice(i, j).map((x) => (x as Tagged)[DET]!)));
      i = j;
    } else parts.push(fns[i++]);
  }
  let fn = parts[parts.length - 1];
  for (let i = parts.length - 2; i >= 0; i--) fn = seq(parts[i], fn);
  return fn;
}

/**
 * An iteration binding one variable, then expressions with direct forms, for each value: bind,
 * run them in a loop, continue, undo (what seq(iteration, straight(ds)) does, without a
 * pattern's and a sequence's continuation per value).
 */
function iterate(it: Iter, ds: Det[]): ExprFn {
  const n = ds.length;
  const each = it.each;
  const slot = it.slot;
  return (c, f, k) =>
    each(c, f, (v) => {
      f[slot] = v;
      let i = 0;
      while (i < n && ds[i].run(c, f)) i++;
      const r = i === n ? k() : false;
      for (let j = 0; j < i; j++) if (ds[j].slot >= 0) f[ds[j].slot] = undefined;
      f[slot] = undefined;
      return r;
    });
}

function straight(ds: Det[]): ExprFn {
  const n = ds.length;
  return (c, f, k) => {
    let i = 0;
    while (i < n && ds[i].run(c, f)) i++;
    const r = i === n ? k() : false;
    for (let j = 0; j < i; j++) if (ds[j].slot >= 0) f[ds[j].slot] = undefined;
    return r;
  };
}

/**
 * A negated expression whose hoisted terms (see compileNegated) have one value each (or none):
 * bind them in order, negate, unbind, without the enumeration closures of the general case.
 */
function singleHoisted(evs: ValFn[], slots: number[], neg: ExprFn): ExprFn {
  const n = evs.length;
  // At most one solution, binding nothing: a Det, so runs of such tests join the loops of
  // straight and iterate.
  const test = (c: Ctx, f: Frame): boolean => {
    let i = 0;
    for (; i < n; i++) {
      const v = evs[i](c, f);
      if (v === undefined) break;
      f[slots[i]] = v;
    }
    const found = i === n && neg(c, f, K_TRUE);
    for (let j = 0; j < i; j++) f[slots[j]] = undefined;
    return i === n && !found;
  };
  return det((c, f, k) => (test(c, f) ? k() : false), test);
}

// Patterns that match a value without enumerating (a variable to bind, a bound variable or a
// value to compare with, a wildcard) carry what they do under SIMPLE, so that an object pattern
// made of such parts (`violation[{"msg": msg, "field": "containers"}]`) matches in one loop
// instead of a continuation per member.
const SIMPLE = Symbol("simple pattern");
const PAT_ANY = 0;
const PAT_BIND = 1;
const PAT_SAME = 2;
const PAT_EQ = 3;
interface SimplePat {
  kind: number;
  slot: number;
  ev: ValFn | null;
}
type SimpleTagged = MatchFn & { [SIMPLE]?: SimplePat };

function simplePattern(fn: MatchFn, kind: number, slot: number, ev: ValFn | null): MatchFn {
  (fn as SimpleTagged)[SIMPLE] = { kind, slot, ev };
  return fn;
}

/**
 * An object pattern whose member patterns are all simple: the same checks, in the same order
 * (each key, its lookup, its member's test or binding), then k, then the bindings undone.
 */
function directObjectPattern(keys: ValFn[], pats: SimplePat[]): MatchFn {
  const n = keys.length;
  return (c, f, v, k) => {
    if (!isObject(v) || objectSize(v) !== n) return false;
    let i = 0;
    for (; i < n; i++) {
      const key = keys[i](c, f);
      if (key === undefined) break;
      const x = lookup(v, key);
      if (x === undefined) break;
      const p = pats[i];
      if (p.kind === PAT_BIND) f[p.slot] = x;
      else if (p.kind === PAT_SAME) {
        if (!equal(f[p.slot] as Value, x)) break;
      } else if (p.kind === PAT_EQ) {
        const y = p.ev!(c, f);
        if (y === undefined || !equal(y, x)) break;
      }
    }
    const r = i === n ? k() : false;
    for (let j = 0; j < i; j++) if (pats[j].kind === PAT_BIND) f[pats[j].slot] = undefined;
    return r;
  };
}

/**
 * Each value of an enumeration matched against a pattern (`x := xs[_]`, `x = xs[_]`); tagged as
 * an iteration (Iter) when the pattern binds a fresh variable. (A function of its own, to keep
 * the compiler's frames small on the path of nested comprehensions.)
 */
function enumMatch(en: EnumFn, pm: MatchFn): ExprFn {
  const fn: ExprFn = (c, f, k) => en(c, f, (v) => pm(c, f, v, k));
  const sp = (pm as SimpleTagged)[SIMPLE];
  return sp !== undefined && sp.kind === PAT_BIND ? iter(fn, en, sp.slot) : fn;
}

/** No dependencies (warmFrom). */
const EMPTY_NODES: ReadonlySet<TreeNode> = new Set();

/** Comprehensions nested deeper than this in the compiler's recursion are not considered for indexing (each candidate compiles its body twice). */
const COMP_INDEX_NEST = 64;

/** (ORDER, above: the order compileExprs compiled a body's expressions in, see done there, on the body's closure.) */

/** The order of a body of one expression (read only). */
const ORDER_ONE = Uint32Array.of(1);

function withOrder(fn: ExprFn, done: Uint32Array): ExprFn {
  (fn as Tagged)[ORDER] = done;
  return fn;
}

/** Two compilations of one body in the same order (an empty body has none: the same). */
function sameOrder(a: Uint32Array | undefined, b: Uint32Array | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

const NOT_CONST = Symbol("not constant");
/** constValueOf of composite terms, computed once per term. */
const constMemo = new WeakMap<Term, Value | typeof NOT_CONST>();

function scalarValueOf(t: Term): Value | undefined {
  switch (t.type) {
    case "null":
      return null;
    case "boolean":
      return t.value;
    case "number":
      return numberLiteral(t.value);
    case "string":
      return t.value;
    default:
      return undefined;
  }
}

function kidsOf(x: Term): Term[] {
  return x.type === "object" ? x.items.flat() : (x as { items: Term[] }).items;
}

/** A function that always returns v. */
function constFn(v: Value): ValFn {
  return () => v;
}

/**
 * Is the term a constant (no variables, refs, calls or comprehensions)? Returns its value. The
 * value of a composite term is built once, bottom-up and without recursion, and kept with the
 * term: a literal may be nested thousands of levels deep, and every level asks.
 */
function constValueOf(t: Term): Value | undefined {
  if (t.type !== "array" && t.type !== "set" && t.type !== "object") return scalarValueOf(t);
  const known = constMemo.get(t);
  if (known !== undefined) return known === NOT_CONST ? undefined : known;
  type F = { t: Term; kids: Term[]; vals: Value[] };
  const stack: F[] = [{ t, kids: kidsOf(t), vals: [] }];
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    if (top.vals.length < top.kids.length) {
      const k = top.kids[top.vals.length];
      let v: Value | typeof NOT_CONST | undefined;
      if (k.type === "array" || k.type === "set" || k.type === "object") {
        v = constMemo.get(k);
        if (v === undefined) {
          stack.push({ t: k, kids: kidsOf(k), vals: [] });
          continue;
        }
      } else {
        const sv = scalarValueOf(k);
        v = sv === undefined ? NOT_CONST : sv;
      }
      if (v === NOT_CONST) {
        // Not constant, and neither is anything that contains it.
        for (const f of stack) constMemo.set(f.t, NOT_CONST);
        return undefined;
      }
      top.vals.push(v);
      continue;
    }
    let v: Value;
    if (top.t.type === "array") v = top.vals;
    else if (top.t.type === "set") v = new RSet(top.vals);
    else {
      const pairs: [Value, Value][] = [];
      for (let i = 0; i < top.vals.length; i += 2) pairs.push([top.vals[i], top.vals[i + 1]]);
      v = makeObject(pairs);
    }
    constMemo.set(top.t, v);
    stack.pop();
    if (stack.length > 0) stack[stack.length - 1].vals.push(v);
    else return v;
  }
  return undefined;
}

const TY_ANY: TyFn = () => Ty.ANY;
const TY_UNKNOWN: TyFn = () => Ty.UNKNOWN;
const TY_NULL: TyFn = () => Ty.T_NULL;
const TY_BOOL: TyFn = () => Ty.T_BOOL;
const TY_NUM: TyFn = () => Ty.T_NUM;
const TY_STR: TyFn = () => Ty.T_STR;

function isScalar(t: Term): boolean {
  return t.type === "string" || t.type === "number" || t.type === "boolean" || t.type === "null";
}

/** A scalar term's value, as compileTermInner computes it (an invalid number is a parse error). */
function scalarValue(t: Term): Value {
  switch (t.type) {
    case "null":
      return null;
    case "boolean":
    case "string":
      return t.value;
    case "number": {
      const v = numberLiteral(t.value);
      if (v === undefined) throw RegoError.single("rego_parse_error", `invalid number ${t.value}`, t.loc);
      return v;
    }
    default:
      throw new Error(`scalarValue: ${t.type} is no scalar`);
  }
}

/** A scalar term's static type, as typeOf gives it. */
function scalarType(t: Term): TyFn {
  return t.type === "null" ? TY_NULL : t.type === "boolean" ? TY_BOOL : t.type === "number" ? TY_NUM : TY_STR;
}

function constEv(v: Value): ValFn {
  return () => v;
}

/** The body of a rule without one (OPA's implicit `true`). */
const EMPTY_BODY: ExprFn = (_c, _f, k) => k();
const EMPTY_SLOTS: ReadonlySet<number> = new Set();
/** The result type of each builtin, as a TyFn. */
const resultTypes = new WeakMap<Builtin, TyFn>();
const resultTys = new WeakMap<Builtin, Ty.Ty>();

/** A builtin's declared result type, converted once. */
function resultTy(b: Builtin): Ty.Ty {
  let r = resultTys.get(b);
  if (r === undefined) resultTys.set(b, (r = Ty.fromDecl(b.decl.result)));
  return r;
}

/** Static types describe terms to this depth; deeper parts are any. */
const TYPE_DEPTH = 24;

/** Expressions nested deeper than this are compiled flat (compileFlat). */
const FLAT_DEPTH = 32;

/** Is the term nested more than n levels (through collections, calls and ref operands, not into comprehensions)? Recursion stops at n. */
function deeperThan(t: Term, n: number): boolean {
  switch (t.type) {
    case "array":
    case "set":
      if (n <= 0) return true;
      for (const x of t.items) if (deeperThan(x, n - 1)) return true;
      return false;
    case "object":
      if (n <= 0) return true;
      for (const [k, v] of t.items) if (deeperThan(k, n - 1) || deeperThan(v, n - 1)) return true;
      return false;
    case "call":
      if (n <= 0) return true;
      for (const x of t.args) if (deeperThan(x, n - 1)) return true;
      return false;
    case "ref":
      if (n <= 0) return true;
      for (const x of t.terms) if (deeperThan(x, n - 1)) return true;
      return false;
    default:
      return false;
  }
}

/** Head types per node (nodeTypesOf). */
interface NodeTypes {
  doc: TyFn[];
  multi: TyFn[];
  obj: boolean;
  fn: TyFn[];
}

const NO_TYPES: TyFn[] = Object.freeze([]) as unknown as TyFn[];
/** A compiled rule's suffix and else lists when empty: shared, frozen. */
const NO_FNS: ValFn[] = Object.freeze([]) as unknown as ValFn[];
const NO_ELSES: CompiledRule["elses"] = Object.freeze([]) as unknown as CompiledRule["elses"];

/** `list` with `t` and `more` added (a new array when list is the shared NO_TYPES). */
function addTypes(list: TyFn[], t: TyFn, more: TyFn[]): TyFn[] {
  if (list === NO_TYPES) list = [];
  list.push(t);
  for (const m of more) list.push(m);
  return list;
}

/** `list` with `cr` added (a new array when list is the shared, frozen NO_RULES). */
function addRule(list: CompiledRule[], cr: CompiledRule): CompiledRule[] {
  if (list === NO_RULES) return [cr];
  list.push(cr);
  return list;
}

/** A rule's dependencies: an array while short (most rules have a few), a Set beyond. */
type DepSet = TreeNode[] | Set<TreeNode>;

function addDepTo(set: DepSet, n: TreeNode): DepSet {
  if (!Array.isArray(set)) return set.add(n);
  if (set.includes(n)) return set;
  if (set.length < 16) {
    set.push(n);
    return set;
  }
  const s = new Set(set);
  return s.add(n);
}

export interface CompiledQuery {
  body: ExprFn;
  nslots: number;
  vars: { name: string; slot: number }[];
  exprs: { slot: number; text: string; loc: Location }[];
}

export class Compiler {
  root = new TreeNode("");
  private deps = new Map<TreeNode, DepSet>();
  /** The rules' dependencies were read before pass 2 (ruleGraph): compiling bodies records none. */
  private depsKnown = false;
  private ruleNamesByPkg = new Map<string, Set<string>>();
  private order = 0;
  private errors: ErrorDetail[] = [];
  private queryKeepsFalse = false;
  /** Type checks run after every rule is compiled (rule types may come from later rules). */
  private checks: (() => ErrorDetail | null)[] = [];
  private nodeTypes = new Map<TreeNode, NodeTypes>();
  private compTypes = new WeakMap<Term, TyFn>();
  /** Queries follow the engine's Rego version. */
  queryV1 = true;
  /** Nesting of the compiler's recursion (see enter). */
  private nest = 0;
  /** Expressions with `with` modifiers being compiled, and comprehension index bodies: no comprehension indexing within either. */
  private withDepth = 0;
  private indexing = 0;
  /** Coverage/trace instrumentation; null (the default) compiles no instrumentation at all. */
  hooks: EvalHooks | null = null;
  /** The input's static type (from `eval -s`/`check -s`'s schema); null: unknown (any). */
  inputType: Ty.Ty | null = null;
  /** The types of the schemas `# METADATA schemas:` annotations may name (`schema.x.y`). */
  schemaTypes: Map<string, Ty.Ty> = new Map();
  /** Compile evaluation trace events (engine.ts compiles a traced tree only when an evaluation asks for a tracer). */
  tracing = false;
  /** The builtins this compile may call (the engine's table, restricted by its capabilities). */
  builtins: BuiltinTable;

  constructor(
    private modules: Module[],
    builtins: BuiltinTable = new Map(),
  ) {
    this.builtins = builtins;
  }

  /** Compile all modules; throws RegoError (never another exception) on any problem. */
  compile(): TreeNode {
    try {
      return this.compileModules();
    } catch (e) {
      throw asRegoError(e, "rego_compile_error");
    }
  }

  private compileModules(): TreeNode {
    // Pass 1: rule names per package, tree nodes.
    const placed: { rule: Rule; mod: ModCtx; node: TreeNode; suffix: Term[] }[] = [];
    let traceKeys: Map<Expr, string> | undefined;
    let traceNames: Map<Rule, Map<string, string>> | undefined;
    if (this.tracing) {
      // A traced tree runs the rules as OPA's compiler rewrote them (tracerewrite.ts).
      const rw = opaRewriteModules(this.modules);
      this.modules = rw.modules;
      traceKeys = rw.keys;
      traceNames = rw.names;
    }
    for (const m of this.modules) {
      const pkg = this.pkgPath(m);
      const key = pkg.join(".");
      let names = this.ruleNamesByPkg.get(key);
      if (!names) this.ruleNamesByPkg.set(key, (names = new Set()));
      for (const r of m.rules) {
        const h = r.head.ref[0];
        if (h.type === "var") names.add(h.name);
      }
    }
    for (const m of this.modules) {
      const pkg = this.pkgPath(m);
      // A package exists (as an empty object) even when it has no rules.
      let pnode = this.root;
      for (const p of pkg) pnode = pnode.child(p);
      const v1 = m.regoVersion === "v1" || m.imports.some((im) => opName(im.path) === "rego.v1");
      const imports = this.importsOf(m);
      // An import alias takes precedence over rules of the package that start with the same name.
      let ruleNames = this.ruleNamesByPkg.get(pkg.join("."))!;
      // (The rules themselves still exist at their own path.)
      if ([...imports.keys()].some((a) => ruleNames.has(a))) {
        ruleNames = new Set([...ruleNames].filter((n) => !imports.has(n)));
      }
      const notBodies = m.imports.some((im) => opName(im.path) === "future.keywords.not");
      const mod: ModCtx = { file: m.file, pkg, imports, ruleNames, v1, module: m, notBodies };
      if (traceKeys !== undefined) mod.traceKeys = traceKeys;
      if (traceNames !== undefined) mod.traceNames = traceNames;
      if (v1) this.checkV1Module(m);
      for (const r of m.rules) {
        const ref = r.head.ref;
        let node = pnode;
        const h = ref[0];
        if (h.type !== "var") continue;
        node = node.child(h.name);
        let i = 1;
        for (; i < ref.length; i++) {
          const t = ref[i];
          if (t.type !== "string") break;
          node = node.child(t.value);
        }
        placed.push({ rule: r, mod, node, suffix: ref.slice(i) });
        if (r.head.kind === "function") node.declArity = r.head.args?.length ?? 0;
        else node.declDoc = true;
      }
    }
    // As OPA's stages: recursion is found on the rule graph before any body is compiled, where
    // the graph can be read from the rules alone (ruleGraph); else after pass 2.
    // (When that graph could be read, compiling the bodies adds exactly its edges: no second check.)
    let recursionChecked = false;
    if (this.errors.length === 0) {
      const graph = this.ruleGraph(placed);
      if (graph !== null) {
        this.checkRecursion(graph.deps, (d) => graph.locs.get(d));
        recursionChecked = true;
        // ... and it is the dependency graph pass 2 would record (types are computed along it).
        this.deps = graph.deps;
        this.depsKnown = true;
      }
    }
    // Pass 2: compile bodies.
    for (const p of placed) {
      try {
        this.compileRuleInto(p.rule, p.mod, p.node, p.suffix);
      } catch (e) {
        if (e instanceof Unsafe) e = this.unsafeError(e.vars);
        this.errors.push(...asRegoError(e, "rego_compile_error", p.rule.loc).errors);
      } finally {
        this.nest = 0;
      }
    }
    if (this.errors.length) throw new RegoError(this.dedupe(this.errors));
    // As OPA's stages: recursion is checked before types (typing a cycle of rules would recurse
    // through all of them).
    if (!recursionChecked) this.checkRecursion();
    this.warmTypes();
    this.runChecks();
    this.finishAll(this.root);
    return this.root;
  }

  /** Compile a query; throws RegoError (never another exception) on any problem. */
  compileQuery(body: Body, file = "query"): CompiledQuery {
    try {
      return this.compileQueryBody(body, file);
    } catch (e) {
      throw asRegoError(e instanceof Unsafe ? this.unsafeError(e.vars) : e, "rego_compile_error");
    } finally {
      this.nest = 0;
    }
  }

  private compileQueryBody(body: Body, file: string): CompiledQuery {
    const mod: ModCtx = { file, pkg: [], imports: new Map(), ruleNames: new Set(), v1: this.queryV1, query: true };
    const st = new State(mod, null);
    const exprs: CompiledQuery["exprs"] = [];
    const captures = new Map<Expr, number>();
    let originals = body;
    let generated: ReadonlySet<string> | null = null;
    const written = body;
    if (this.tracing) {
      // As OPA's query compiler rewrote it (tracerewrite.ts); the results are the written expressions'.
      const rw = opaRewriteQuery(body);
      originals = rw.originals;
      generated = rw.generated;
      body = rw.body;
      mod.traceKeys = rw.keys;
    }
    for (const e of originals) {
      const slot = st.newSlot("$expr");
      captures.set(e, slot);
      exprs.push({ slot, text: "", loc: e.loc });
    }
    // A query of one expression yields its value even when that is false (as opa eval does).
    this.queryKeepsFalse = body.length === 1;
    let fn: ExprFn;
    try {
      fn = this.compileBody(body, st, captures);
    } finally {
      this.queryKeepsFalse = false;
    }
    if (this.errors.length) throw new RegoError(this.dedupe(this.errors));
    this.runChecks();
    if (this.tracing) fn = traceQuery(fn, { kind: "body", text: queryText(body, new Set(originals), written), body }, body[0]?.loc ?? { file, row: 1, col: 1 });
    const vars: { name: string; slot: number }[] = [];
    const seen = new Set<string>();
    const collect = (s: Scope) => {
      for (const [name, slot] of s.vars) {
        if (isWildcard(name) || name.startsWith("$") || seen.has(name) || generated?.has(name)) continue;
        seen.add(name);
        vars.push({ name, slot });
      }
    };
    collect(st.scope);
    return { body: fn, nslots: st.counter.n, vars, exprs };
  }

  /** Rules that Rego v1 adds: rules may not be named input or data; imports may not repeat. */
  private checkV1Module(m: Module): void {
    for (const r of m.rules) {
      const h = r.head.ref[0];
      if (h.type === "var" && (h.name === "input" || h.name === "data")) {
        this.errors.push({ code: "rego_compile_error", message: `rules must not shadow ${h.name} (use a different rule name)`, location: r.loc });
      }
    }
    const seen = new Set<string>();
    for (const im of m.imports) {
      const key = im.alias ?? opName(im.path);
      const k = opName(im.path).startsWith("future.keywords") ? `future:${opName(im.path)}` : key;
      if (opName(im.path) === "rego.v1" || !opName(im.path).startsWith("future.")) {
        if (seen.has(k)) this.errors.push({ code: "rego_compile_error", message: "import must not shadow import " + opName(im.path), location: im.loc });
        seen.add(k);
      }
    }
  }

  private dedupe(errs: ErrorDetail[]): ErrorDetail[] {
    const seen = new Set<string>();
    return errs.filter((e) => {
      const k = `${e.code}|${e.message}|${e.location?.file}|${e.location?.row}|${e.location?.col}`;
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    });
  }

  private pkgPath(m: Module): string[] {
    const out: string[] = [];
    const ts = m.package.terms;
    for (let i = 1; i < ts.length; i++) {
      const t = ts[i];
      if (t.type === "string") out.push(t.value);
      else if (t.type === "var") out.push(t.name);
    }
    return out;
  }

  private importsOf(m: Module): Map<string, Term[]> {
    const out = new Map<string, Term[]>();
    for (const im of m.imports) {
      const ts = im.path.terms;
      const head = ts[0];
      if (head.type !== "var" || (head.name !== "data" && head.name !== "input")) continue;
      let alias = im.alias;
      if (!alias) {
        const last = ts[ts.length - 1];
        if (ts.length === 1) alias = head.name;
        else if (last.type === "string") alias = last.value;
        else if (last.type === "var") alias = last.name;
      }
      if (alias) out.set(alias, ts);
    }
    return out;
  }

  // ---- Rules ---------------------------------------------------------------------------------

  /**
   * The input's type in a rule with `schemas:` annotations (its package's, then its own, the
   * later overriding): `- input: schema.x` types the whole input with a schema of the engine's
   * schema set, `- input.a.b: {…}` the part at a.b with an inline schema. Null when none applies.
   * (Schemas for `data` paths are not applied: data keeps the types of its rules.)
   */
  private annotatedInputType(rule: Rule, mod: ModCtx): Ty.Ty | null {
    if (rule.annotations.length === 0 && (mod.module?.annotations?.length ?? 0) === 0) return null;
    const anns = [...(mod.module?.annotations ?? []), ...rule.annotations];
    let ty: Ty.Ty | null = null;
    for (const a of anns) {
      const entries = a.schemas as { path: string[]; schema?: string[]; definition?: unknown }[] | undefined;
      if (!Array.isArray(entries)) continue;
      for (const e of entries) {
        if (e.path[0] !== "input") continue;
        let t: Ty.Ty;
        if (e.schema !== undefined) {
          const name = e.schema.join(".");
          const known = this.schemaTypes.get(name);
          if (known === undefined) throw RegoError.single("rego_type_error", `undefined schema: ${name}`, a.loc);
          t = known;
        } else {
          try {
            t = schemaType(e.definition);
          } catch (err) {
            if (err instanceof SchemaError) throw RegoError.single("rego_type_error", err.message, a.loc);
            throw err;
          }
        }
        ty = withTypeAt(ty ?? this.inputType ?? Ty.ANY, e.path.slice(1), t);
      }
    }
    return ty;
  }

  private compileRuleInto(rule: Rule, mod: ModCtx, node: TreeNode, suffix: Term[]): void {
    if (this.compilePlainRule(rule, mod, node, suffix)) return;
    if (rule.head.kind === "function") rule = templateArgsToBody(rule);
    const h = rule.head;
    const ground = this.isGroundRule(rule, mod, suffix);
    const st = ground ? this.groundState(mod, node) : new State(mod, node);
    st.rule = rule;
    st.inputType = ground ? null : this.annotatedInputType(rule, mod);
    // Wildcards in heads become distinct variables.
    let args: MatchFn[] | null = null;
    let argChecks: ExprFn[] = [];
    if (h.kind === "function") [args, argChecks] = this.compileArgs(rule, st);
    const afterArgs = rule.elses.length > 0 ? new Set(st.bound) : EMPTY_SLOTS;
    let body = ground ? EMPTY_BODY : this.compileBody(rule.body, st);
    for (let i = argChecks.length - 1; i >= 0; i--) body = seq(argChecks[i], body);
    const headTerm = h.kind === "multi" ? h.key : h.value;
    // Head terms that enumerate (p contains xs[_], q(_) := xs[_]) become extra body solutions.
    const heads = [headTerm ? this.headTerm(headTerm, st) : constTerm(true), ...suffix.map((t) => this.headTerm(t, st))];
    const ext = this.extendWithHeads(body, heads, st);
    // The direct forms the evaluator runs bodies and binds arguments with (null when a head
    // enumerates, a parameter is checked in the body, or hooks or tracing wrap the body).
    const plain = this.hooks === null && !this.tracing;
    const direct = plain && argChecks.length === 0 && ext.body === body ? directOf(rule.body, body) : null;
    const argSlots = plain && h.kind === "function" ? this.argSlots(h.args ?? [], st) : null;
    body = ext.body;
    const value = ext.fns[0];
    const suffixFns = ext.fns.length === 1 ? NO_FNS : ext.fns.slice(1);
    const elseTypes: TyFn[] = [];
    const elses = rule.elses.length === 0 ? NO_ELSES : rule.elses.map((e) => {
      const est = new State(mod, node, st.counter, new Scope(st.scope.parent), afterArgs);
      // Function parameters stay visible in else bodies.
      for (const [n, s] of st.scope.vars) if (afterArgs.has(s)) est.scope.vars.set(n, s);
      const eb = this.compileBody(e.body, est);
      const ex = this.extendWithHeads(eb, [e.value ? this.headTerm(e.value, est) : constTerm(true)], est);
      elseTypes.push(e.value ? this.typeOf(e.value, est) : () => Ty.T_BOOL);
      return { body: ex.body, value: ex.fns[0], loc: e.loc, direct: plain && ex.body === eb ? directOf(e.body, eb) : null };
    });
    if (h.kind === "function") {
      let defs = this.fnParams.get(node);
      if (!defs) this.fnParams.set(node, (defs = []));
      defs.push(this.inferParams(h.args ?? [], rule.body, h.value, st));
      for (const e of rule.elses) defs.push(this.inferParams(h.args ?? [], e.body, e.value, st));
    }
    {
      const nt = this.nodeTypesOf(node);
      // (A ground rule's head is typed when first asked for: its shared State never changes.)
      const ht = headTerm ? (ground ? this.lazyTypeOf(headTerm, st) : this.typeOf(headTerm, st)) : TY_BOOL;
      if (h.kind === "function") nt.fn = addTypes(nt.fn, ht, elseTypes);
      else if (suffix.length > 0) nt.obj = true;
      else if (h.kind === "multi") nt.multi = addTypes(nt.multi, ht, NO_TYPES);
      else nt.doc = addTypes(nt.doc, ht, elseTypes);
    }
    if (this.hooks !== null) {
      body = hookRule(this.hooks, body, rule.loc);
      for (const e of elses) e.body = hookRule(this.hooks, e.body, e.loc);
    }
    if (this.tracing) {
      const tn: TraceNode = { kind: "rule", path: rulePath(mod.pkg, rule, mod.traceNames?.get(rule)), rule, shortPath: rulePath(mod.pkg, rule) };
      const early = () => (h.kind === "function" ? node.fnEarlyExit : node.earlyExit);
      // A rule without a body has OPA's implicit body `true`, evaluated as any expression.
      if (rule.body.length === 0) body = traceExpr(body, { kind: "expr", text: "true", expr: null }, rule.loc, [], null);
      // Complete rules with a plain path and functions run inside their caller in OPA.
      const defer = h.kind === "function" || (h.kind === "single" && h.ref.every((t, i) => i === 0 || t.type === "string"));
      if (h.kind === "function") {
        body = functionUnify(body, h.args ?? [], h.value, rule.loc, st);
        rule.elses.forEach((e, i) => (elses[i].body = functionUnify(elses[i].body, h.args ?? [], e.value, e.loc, st)));
      }
      body = traceRule(body, tn, rule.loc, early, defer);
      for (const e of elses) e.body = traceRule(e.body, tn, e.loc, early, defer);
    }
    const constVal = headTerm ? constValueOf(headTerm) : true;
    const cr: CompiledRule = {
      kind: h.kind,
      nslots: 0,
      body,
      value: h.kind === "multi" ? null : value,
      key: h.kind === "multi" ? value : null,
      suffix: suffixFns,
      args,
      elses,
      direct,
      argSlots,
      isDefault: rule.isDefault,
      constValue: constVal !== undefined && h.kind !== "multi",
      loc: rule.loc,
      order: this.order++,
      inputEq: this.findInputEq(rule.body),
      inputIn: this.tracing ? findInputIn(rule.body) : null,
      argEq: h.kind === "function" ? firstConstArg(rule) : null,
      argKey: h.kind === "function" ? firstConstArgKey(rule) : undefined,
      groundSuffix: suffix.length > 0 && suffix.every((t) => constValueOf(t) !== undefined),
      constVal,
    };
    cr.nslots = st.counter.n;
    this.placeRule(cr, rule, node, suffix);
  }

  /**
   * A function's parameter slots when every parameter is a distinct variable (its slot) or a
   * wildcard (-1), for the evaluator's direct binding (CompiledRule.argSlots); else null.
   */
  private argSlots(terms: Term[], st: State): number[] | null {
    const out: number[] = [];
    const seen = new Set<string>();
    for (const t of terms) {
      if (t.type !== "var") return null;
      if (isWildcard(t.name)) {
        out.push(-1);
        continue;
      }
      const slot = st.scope.vars.get(t.name);
      if (slot === undefined || seen.has(t.name)) return null;
      seen.add(t.name);
      out.push(slot);
    }
    return out;
  }

  /** The head types of a node's rules (lists start as the shared NO_TYPES: most nodes have one kind of rule). */
  private nodeTypesOf(node: TreeNode): NodeTypes {
    let nt = this.nodeTypes.get(node);
    if (!nt) this.nodeTypes.set(node, (nt = { doc: NO_TYPES, multi: NO_TYPES, obj: false, fn: NO_TYPES }));
    return nt;
  }

  /** A State shared by the ground rules of a module (see isGroundRule), its owner set per rule. */
  private groundStates = new WeakMap<ModCtx, State>();

  /**
   * A rule without body, parameters, `else`, annotations or instrumentation whose head terms are
   * scalars, names of rules, `data`, `input`, imports, or references from those through scalar
   * keys (`r2 := r1`, `allow := data.x.y.allow`, `q := input.a.b`): compiling it creates no local
   * variable, slot or scope, so it needs no State of its own (programs may hold tens of
   * thousands of such rules: a per-rule State and the closures holding it dominated their
   * compile time, most of it in garbage collection).
   */
  private isGroundRule(rule: Rule, mod: ModCtx, suffix: Term[]): boolean {
    const h = rule.head;
    if (h.kind === "function" || rule.body.length > 0 || rule.elses.length > 0 || this.hooks !== null || this.tracing) return false;
    if (rule.annotations.length > 0 || (mod.module?.annotations?.length ?? 0) > 0) return false;
    const nonLocal = (name: string) => !isWildcard(name) && (name === "input" || name === "data" || mod.ruleNames.has(name) || mod.imports.has(name));
    const ground = (t: Term | null): boolean => {
      if (t === null || isScalar(t)) return true;
      if (t.type === "var") return nonLocal(t.name);
      if (t.type !== "ref") return false;
      const head = t.terms[0];
      if (head.type !== "var" || !nonLocal(head.name)) return false;
      for (let i = 1; i < t.terms.length; i++) if (!isScalar(t.terms[i])) return false;
      return true;
    };
    if (!ground(h.kind === "multi" ? h.key : h.value)) return false;
    for (const t of suffix) if (!ground(t)) return false;
    return true;
  }

  private groundState(mod: ModCtx, node: TreeNode): State {
    let st = this.groundStates.get(mod);
    if (st === undefined) this.groundStates.set(mod, (st = new State(mod, node)));
    st.owner = node;
    // Slots a rule allocates (a head that enumerates) are counted per rule.
    if (st.counter.n !== 0) st.counter = { n: 0, names: [] };
    return st;
  }

  /**
   * A rule without body, parameters or `else` whose head holds scalars only (`r := 1`,
   * `s contains "a"`, `p.q["k"] := true`), compiled without a State: what compileRuleInto builds
   * for it, without the per-rule scopes and closures (programs may hold tens of thousands of
   * them). False when the rule is not one (or instrumentation or annotations apply).
   */
  private compilePlainRule(rule: Rule, mod: ModCtx, node: TreeNode, suffix: Term[]): boolean {
    const h = rule.head;
    if (h.kind === "function" || rule.body.length > 0 || rule.elses.length > 0 || this.hooks !== null || this.tracing) return false;
    if (rule.annotations.length > 0 || (mod.module?.annotations?.length ?? 0) > 0) return false;
    const headTerm = h.kind === "multi" ? h.key : h.value;
    if (headTerm !== null && !isScalar(headTerm)) return false;
    for (const t of suffix) if (!isScalar(t)) return false;
    const value = headTerm === null ? true : scalarValue(headTerm);
    const suffixFns: ValFn[] = suffix.length === 0 ? NO_FNS : suffix.map((t) => constEv(scalarValue(t)));
    const nt = this.nodeTypesOf(node);
    const ht = headTerm === null ? TY_BOOL : scalarType(headTerm);
    if (suffix.length > 0) nt.obj = true;
    else if (h.kind === "multi") nt.multi = addTypes(nt.multi, ht, NO_TYPES);
    else nt.doc = addTypes(nt.doc, ht, NO_TYPES);
    const ev = constEv(value);
    const cr: CompiledRule = {
      kind: h.kind,
      nslots: 0,
      body: EMPTY_BODY,
      value: h.kind === "multi" ? null : ev,
      key: h.kind === "multi" ? ev : null,
      suffix: suffixFns,
      args: null,
      elses: NO_ELSES,
      // (every field, in the order compileRuleInto lists them: one object shape for all rules,
      // so the evaluator's reads of a rule's fields stay monomorphic)
      direct: null,
      argSlots: null,
      isDefault: rule.isDefault,
      constValue: h.kind !== "multi",
      loc: rule.loc,
      order: this.order++,
      inputEq: null,
      inputIn: null,
      argEq: null,
      argKey: undefined,
      groundSuffix: suffix.length > 0,
      constVal: value,
    };
    this.placeRule(cr, rule, node, suffix);
    return true;
  }

  /** A compiled rule into its node. */
  private placeRule(cr: CompiledRule, rule: Rule, node: TreeNode, suffix: Term[]): void {
    const h = rule.head;
    if (h.kind === "function") {
      // A default function's value is taken without running its (empty) body.
      if (rule.isDefault && this.hooks !== null && cr.value !== null) cr.value = hookDefaultFunc(this.hooks, cr.value, rule.loc);
      if (rule.isDefault) node.defaultFunc = cr;
      else node.funcs = addRule(node.funcs, cr);
    } else if (suffix.length > 0) {
      node.suffixRules = addRule(node.suffixRules, cr);
    } else if (h.kind === "multi") {
      node.multi = addRule(node.multi, cr);
    } else if (rule.isDefault) {
      if (node.defaultRule) throw RegoError.single("rego_type_error", `multiple default rules ${node.dataPath()} found`, rule.loc);
      node.defaultRule = cr;
    } else {
      node.complete = addRule(node.complete, cr);
    }
  }

  /**
   * A function's parameters as patterns. As in OPA: they may not contain calls; plain patterns
   * (variables, collections of them) bind first, then references, whose variables must be bound
   * by the plain ones (`f(x, x.y)`). When some are not, a variable of the head value that nothing
   * binds is reported instead (OPA checks the head first).
   */
  private compileArgs(rule: Rule, st: State): [MatchFn[], ExprFn[]] {
    const terms = rule.head.args ?? [];
    const shadow: ErrorDetail[] = [];
    for (const a of terms) {
      if (a.type === "ref" && a.terms.length === 1 && a.terms[0].type === "var" && (a.terms[0].name === "input" || a.terms[0].name === "data")) {
        shadow.push({ code: "rego_compile_error", message: `args must not shadow ${a.terms[0].name} (use a different variable name)`, location: rule.loc });
      }
    }
    if (shadow.length > 0) throw new RegoError(shadow);
    const calls: ErrorDetail[] = [];
    const refs: RefTerm[][] = terms.map(() => []);
    terms.forEach((a, i) => {
      const todo: [Term, boolean][] = [[a, false]];
      while (todo.length > 0) {
        const [t, inRef] = todo.pop()!;
        if (t.type === "call") calls.push({ code: "rego_compile_error", message: "rule arguments cannot contain calls", location: t.loc });
        else if (t.type === "ref") {
          if (!inRef) refs[i].push(t);
          for (let j = t.terms.length - 1; j >= 1; j--) todo.push([t.terms[j], true]);
        } else if (t.type === "array" || t.type === "set") for (let j = t.items.length - 1; j >= 0; j--) todo.push([t.items[j], inRef]);
        else if (t.type === "object") for (let j = t.items.length - 1; j >= 0; j--) todo.push([t.items[j][1], inRef], [t.items[j][0], inRef]);
      }
    });
    if (calls.length > 0) throw new RegoError(calls);
    const out: MatchFn[] = new Array(terms.length);
    terms.forEach((a, i) => {
      if (refs[i].length === 0) out[i] = this.compilePattern(a, st, true);
    });
    const unsafe: ErrorDetail[] = [];
    // A parameter with references is matched after the others (its value is kept in a slot
    // meanwhile), as a check at the start of the body.
    const checks: ExprFn[] = [];
    terms.forEach((a, i) => {
      if (refs[i].length === 0) return;
      const bad: ErrorDetail[] = [];
      for (const r of refs[i]) {
        const names: string[] = [];
        const todo: Term[] = [r];
        while (todo.length > 0) {
          const t = todo.shift()!;
          if (t.type === "var") {
            const slot = isWildcard(t.name) ? undefined : st.scope.find(t.name);
            if ((slot === undefined || !st.bound.has(slot)) && !names.includes(t.name)) names.push(t.name);
          } else if (t.type === "ref") todo.push(...t.terms.filter((x) => x.type !== "string"));
        }
        for (const n of names) bad.push({ code: "rego_unsafe_var_error", message: `var ${isWildcard(n) ? "_" : n} is unsafe`, location: r.loc });
      }
      if (bad.length > 0) unsafe.push(...bad);
      else {
        const slot = st.newSlot("$arg");
        const pm = this.compilePattern(a, st, true);
        out[i] = (_c, f, v, k) => {
          f[slot] = v;
          const r = k();
          f[slot] = undefined;
          return r;
        };
        checks.push((c, f, k) => pm(c, f, f[slot] as Value, k));
      }
    });
    if (unsafe.length === 0) return [out, checks];
    // Variables of the head value that neither a parameter nor the body mentions.
    const mentioned = new Set<string>();
    const walk = (t: Term | null, into: boolean, found?: VarTerm[]) => {
      const todo = t ? [t] : [];
      while (todo.length > 0) {
        const x = todo.pop()!;
        if (x.type === "var") found ? found.push(x) : mentioned.add(x.name);
        else if (x.type === "ref") todo.push(...x.terms);
        else if (x.type === "call") todo.push(...x.args);
        else if (x.type === "array" || x.type === "set") todo.push(...x.items);
        else if (x.type === "object") for (const [k, v] of x.items) todo.push(k, v);
        else if (into && (x.type === "arraycomp" || x.type === "setcomp")) todo.push(x.head);
        else if (into && x.type === "objectcomp") todo.push(x.key, x.value);
      }
    };
    for (const a of terms) walk(a, true);
    for (const e of rule.body) {
      const n = e.node;
      if (n.type === "term") walk(n.term, true);
      else if (n.type === "call") n.args.forEach((x) => walk(x, true));
      else if (n.type === "some") n.vars.forEach((x) => mentioned.add(x.name));
      else if (n.type === "somein") [n.key, n.value, n.collection].forEach((x) => walk(x, true));
    }
    const headVars: VarTerm[] = [];
    walk(rule.head.value, false, headVars);
    const unbound = headVars.filter((v) => !isWildcard(v.name) && !mentioned.has(v.name) && !this.isNonLocal(v.name, st));
    if (unbound.length > 0) throw this.unsafeError(unbound.reverse());
    throw new RegoError(unsafe);
  }

  private headTerm(t: Term, st: State): CTerm {
    try {
      return this.compileTerm(t, st);
    } catch (e) {
      if (e instanceof Unsafe) throw this.unsafeError(e.vars);
      throw e;
    }
  }

  /** Turn enumerating head terms into body solutions: each value is bound to a fresh slot. */
  private extendWithHeads(body: ExprFn, heads: CTerm[], st: State): { body: ExprFn; fns: ValFn[] } {
    const fns: ValFn[] = [];
    for (const h of heads) {
      if (h.ev !== null) {
        fns.push(h.ev);
        continue;
      }
      const slot = st.newSlot("$head");
      const en = h.en;
      const inner = body;
      body = (c, f, k) =>
        inner(c, f, () =>
          en(c, f, (v) => {
            f[slot] = v;
            const r = k();
            f[slot] = undefined;
            return r;
          }),
        );
      fns.push((_c, f) => f[slot]);
    }
    return { body, fns };
  }

  private unsafeError(vars: VarTerm[]): RegoError {
    const seen = new Set<string>();
    const errs: ErrorDetail[] = [];
    for (const v of vars) {
      if (seen.has(v.name)) continue;
      seen.add(v.name);
      errs.push({ code: "rego_unsafe_var_error", message: `var ${isWildcard(v.name) ? "_" : v.name} is unsafe`, location: v.loc });
    }
    return new RegoError(errs);
  }

  /** An `input.a.b == constant` expression of a body, for indexing. */
  private findInputEq(body: Body): CompiledRule["inputEq"] {
    for (const e of body) {
      if (e.negated || e.with.length > 0 || e.node.type !== "call") continue;
      const op = opName(e.node.op);
      if (op !== "equal" && op !== "eq") continue;
      const [a, b] = e.node.args;
      for (const [r, k] of [
        [a, b],
        [b, a],
      ] as const) {
        if (r.type !== "ref") continue;
        const h = r.terms[0];
        if (h.type !== "var" || h.name !== "input") continue;
        const path: string[] = [];
        let ok = true;
        for (let i = 1; i < r.terms.length; i++) {
          const t = r.terms[i];
          if (t.type !== "string") {
            ok = false;
            break;
          }
          path.push(t.value);
        }
        if (!ok || path.length === 0) continue;
        const kv = constValueOf(k);
        if (kv === undefined || (typeof kv === "object" && kv !== null)) continue;
        return { path, key: hashKey(kv) };
      }
    }
    return null;
  }

  /** Post-compile: early exit and rule indexes. */
  private finish(node: TreeNode): void {
    // OPA evaluates a complete rule's definitions in its rule index's order (ast/index.go):
    // those without an indexable condition (`input.x == "v"`) first, then the trie's: its refs
    // are ordered by how many definitions test them (then by first use), and at each ref the
    // definitions that do not test it come first, so a definition testing a less used ref comes
    // before one testing a more used ref. The order decides which definition an
    // eval_conflict_error names; the values are the same either way. (Only a body's first
    // `input.… == constant` is considered here.)
    if (node.complete.some((r) => r.inputEq !== null) && node.complete.length > 1) {
      const freq = new Map<string, { n: number; first: number }>();
      node.complete.forEach((r, i) => {
        if (r.inputEq === null) return;
        const k = r.inputEq.path.join("\u0000");
        const f = freq.get(k);
        if (f) f.n++;
        else freq.set(k, { n: 1, first: i });
      });
      const refs = [...freq].sort(([, a], [, b]) => b.n - a.n || a.first - b.first).map(([k]) => k);
      const rank = (r: CompiledRule) => (r.inputEq === null ? Infinity : refs.indexOf(r.inputEq.path.join("\u0000")));
      node.complete = node.complete
        .map((r, i) => ({ r, i, k: rank(r) }))
        .sort((a, b) => (a.k === b.k ? a.i - b.i : b.k - a.k))
        .map((x) => x.r);
    }
    // Functions too: OPA indexes their constant parameters, so definitions without one run first.
    if (node.funcs.length > 1 && node.funcs.some((r) => r.argEq != null)) {
      const fs = node.funcs;
      const freq = new Map<number, { n: number; first: number }>();
      fs.forEach((r, i) => {
        if (r.argEq == null) return;
        const f = freq.get(r.argEq);
        if (f) f.n++;
        else freq.set(r.argEq, { n: 1, first: i });
      });
      const refs = [...freq].sort(([, a], [, b]) => b.n - a.n || a.first - b.first).map(([k]) => k);
      const rank = (r: CompiledRule) => (r.argEq == null ? Infinity : refs.indexOf(r.argEq));
      node.funcs = fs
        .map((r, i) => ({ r, i, k: rank(r) }))
        .sort((a, b) => (a.k === b.k ? a.i - b.i : b.k - a.k))
        .map((x) => x.r);
    }
    const rules = node.complete;
    if (rules.length > 0 && rules.every((r) => r.constValue && r.elses.length === 0)) {
      const first = rules[0].constVal;
      node.earlyExit = rules.every((r) => equal(r.constVal as Value, first as Value));
    }
    // Functions whose definitions all return the same constant stop at the first that applies.
    const fns = node.funcs;
    if (fns.length > 0 && fns.every((r) => r.constValue && r.elses.length === 0)) {
      const first = fns[0].constVal;
      node.fnEarlyExit = fns.every((r) => equal(r.constVal as Value, first as Value));
    }
    if (rules.length >= 4) {
      const counts = new Map<string, number>();
      for (const r of rules) if (r.inputEq) counts.set(r.inputEq.path.join("\u0000"), (counts.get(r.inputEq.path.join("\u0000")) ?? 0) + 1);
      let best: string | null = null;
      let bestN = 1;
      for (const [p, n] of counts) if (n > bestN) (best = p), (bestN = n);
      if (best !== null) {
        const path = best.split("\u0000");
        const rest = rules.filter((r) => !r.inputEq || r.inputEq.path.join("\u0000") !== best);
        const byValue = new Map<unknown, CompiledRule[]>();
        for (const r of rules) {
          if (!r.inputEq || r.inputEq.path.join("\u0000") !== best) continue;
          if (!byValue.has(r.inputEq.key)) byValue.set(r.inputEq.key, []);
        }
        for (const [key, list] of byValue) {
          for (const r of rules) {
            if (!r.inputEq || r.inputEq.path.join("\u0000") !== best || r.inputEq.key === key) list.push(r);
          }
        }
        node.index = { path, byValue, rest };
      }
    }
  }

  /** finish every node of the tree (without recursion: package paths may be thousands deep). */
  private finishAll(root: TreeNode): void {
    const todo = [root];
    while (todo.length > 0) {
      const n = todo.pop()!;
      this.finish(n);
      for (const c of n.children.values()) todo.push(c);
    }
  }

  /**
   * Depend on every rule whose path matches a reference pattern (null = any key): rules along the
   * path, and everything below where the pattern ends.
   */
  private addDepPattern(st: { owner: TreeNode | null }, pattern: (string | null)[], graph = this.deps): void {
    if (st.owner === null || (this.depsKnown && graph === this.deps)) return;
    const todo: [TreeNode, number][] = [[this.root, 0]];
    while (todo.length > 0) {
      const [n, i] = todo.pop()!;
      if (n.hasDocRules) {
        this.addDep(st, n, false, graph);
        continue;
      }
      if (i === pattern.length) {
        this.addDep(st, n, true, graph);
        continue;
      }
      const p = pattern[i];
      if (p !== null) {
        const c = n.children.get(p);
        if (c) todo.push([c, i + 1]);
      } else for (const c of n.children.values()) todo.push([c, i + 1]);
    }
  }

  private addDep(st: { owner: TreeNode | null }, target: TreeNode, whole: boolean, graph = this.deps): void {
    if (st.owner === null || (this.depsKnown && graph === this.deps)) return;
    const before = graph.get(st.owner);
    let set: DepSet = before === undefined ? [target] : addDepTo(before, target);
    if (whole) {
      const todo = [target];
      while (todo.length > 0) {
        for (const c of todo.pop()!.children.values()) {
          set = addDepTo(set, c);
          todo.push(c);
        }
      }
    }
    if (set !== before) graph.set(st.owner, set);
  }

  /**
   * The rule graph read from the rules' terms, before their bodies are compiled (OPA builds its
   * graph from the rules too, and checks recursion on it before types): so that a cycle through
   * tens of thousands of rules is refused without compiling every body first. Only for programs
   * where that reading is certain — no functions, no imports of data, no `with`, `else` or
   * ref-head variables, no local variables (`:=`, `some`, `every`, comprehensions, names that are
   * no rule, wildcards), calls to builtins only: there every variable is a rule name, `input` or
   * `data`, compiling a body adds exactly these dependencies (the same patterns, addDepPattern),
   * and nothing that OPA reports before recursion (unsafe variables, undefined functions) can
   * occur in a body. Null otherwise: the recursion check then runs after pass 2.
   */
  private ruleGraph(placed: { rule: Rule; mod: ModCtx; node: TreeNode; suffix: Term[] }[]): { deps: Map<TreeNode, DepSet>; locs: Map<TreeNode, Location> } | null {
    if (placed.some((p) => p.rule.head.kind === "function")) return null; // (no node is a function below)
    const graph = new Map<TreeNode, DepSet>();
    // Where a recursion error points: the node's first complete rule, else its first multi-value
    // rule (as checkRecursion finds them once compiled).
    const complete = new Map<TreeNode, Location>();
    const multi = new Map<TreeNode, Location>();
    const builtinCall = (op: RefTerm, nargs: number, statement: boolean, mod: ModCtx): boolean => {
      const first = op.terms[0];
      if (first.type !== "var" || first.name === "data" || mod.ruleNames.has(first.name)) return false;
      const name = opName(op);
      if (name === "assign" || name === "print" || name.startsWith("rego.metadata.")) return false;
      const b = this.builtins.get(name);
      if (b === undefined || b.deprecated) return false;
      const arity = b.decl.args?.length ?? 0;
      return b.decl.variadic !== undefined || nargs === arity || (statement && nargs === arity + 1);
    };
    for (const { rule, mod, node, suffix } of placed) {
      if (suffix.length > 0 || rule.elses.length > 0 || mod.imports.size > 0) return null;
      const first = rule.head.kind === "multi" ? multi : rule.isDefault ? null : complete;
      if (first !== null && !first.has(node)) first.set(node, rule.loc);
      if (rule.body.length === 0) {
        // A rule with a scalar value (or none) depends on nothing: the common case of large programs.
        const hv = rule.head.kind === "multi" ? rule.head.key : rule.head.value;
        if (hv === null) continue;
        if (isScalar(hv)) {
          if (hv.type === "number" && numberLiteral(hv.value) === undefined) return null;
          continue;
        }
      }
      const owner = { owner: node };
      const terms: Term[] = [];
      for (const e of rule.body) {
        if (e.with.length > 0) return null;
        const x = e.node;
        if (x.type === "term") terms.push(x.term);
        else if (x.type === "call" && builtinCall(x.op, x.args.length, true, mod)) terms.push(...x.args);
        else return null;
      }
      const head = rule.head.kind === "multi" ? rule.head.key : rule.head.value;
      if (head !== null) terms.push(head);
      const todo = terms.reverse();
      while (todo.length > 0) {
        const t = todo.pop()!;
        switch (t.type) {
          case "null":
          case "boolean":
          case "string":
            break;
          case "number":
            if (numberLiteral(t.value) === undefined) return null;
            break;
          case "var":
          case "ref": {
            const ts = t.type === "var" ? [t] : t.terms;
            const h = ts[0];
            if (h.type !== "var") return null;
            const rest = ts.slice(1);
            if (!rest.every((r) => r.type === "string" || r.type === "number" || r.type === "boolean" || r.type === "null")) return null;
            if (h.name === "input") break;
            let path: string[];
            if (h.name === "data") path = [];
            else if (mod.ruleNames.has(h.name)) path = [...mod.pkg, h.name];
            else return null;
            // As compileDataRef: leading string operands extend the path, the others are keys.
            let i = 0;
            while (i < rest.length && rest[i].type === "string") path.push((rest[i++] as { value: string }).value);
            const keys = rest.slice(i).map((r) => {
              const cv = constValueOf(r);
              return typeof cv === "string" || typeof cv === "number" ? String(cv) : null;
            });
            this.addDepPattern(owner, [...path, ...keys], graph);
            break;
          }
          case "array":
          case "set":
            for (let i = t.items.length - 1; i >= 0; i--) todo.push(t.items[i]);
            break;
          case "object":
            for (let i = t.items.length - 1; i >= 0; i--) todo.push(t.items[i][1], t.items[i][0]);
            break;
          case "call":
            if (!builtinCall(t.op, t.args.length, false, mod)) return null;
            for (let i = t.args.length - 1; i >= 0; i--) todo.push(t.args[i]);
            break;
          default:
            return null;
        }
      }
    }
    for (const [n, l] of multi) if (!complete.has(n)) complete.set(n, l);
    return { deps: graph, locs: complete };
  }

  private checkRecursion(deps = this.deps, locOf = (d: TreeNode): Location | undefined => [...d.complete, ...d.multi, ...d.suffixRules, ...d.funcs][0]?.loc): void {
    const state = new Map<TreeNode, number>(); // 1 visiting, 2 done
    const stack: TreeNode[] = [];
    const errs: ErrorDetail[] = [];
    const reported = new Set<TreeNode>();
    // Depth-first, with an explicit stack of dependency iterators (chains may be thousands long).
    const iters: Iterator<TreeNode>[] = [];
    const visit = (start: TreeNode) => {
      state.set(start, 1);
      stack.push(start);
      iters.push((deps.get(start) ?? EMPTY_NODES).values());
      while (iters.length > 0) {
        const next = iters[iters.length - 1].next();
        if (next.done) {
          iters.pop();
          state.set(stack.pop()!, 2);
          continue;
        }
        const d = next.value;
        const s = state.get(d);
        if (s === 1) {
          const cycle = stack.slice(stack.indexOf(d));
          if (!reported.has(d)) {
            reported.add(d);
            errs.push({
              code: "rego_recursion_error",
              message: `rule ${d.dataPath()} is recursive: ${[...cycle, d].map((x) => x.dataPath()).join(" -> ")}`,
              location: locOf(d),
            });
          }
        } else if (s === undefined) {
          state.set(d, 1);
          stack.push(d);
          iters.push((deps.get(d) ?? EMPTY_NODES).values());
        }
      }
    };
    for (const n of deps.keys()) if (!state.has(n)) visit(n);
    if (errs.length) throw new RegoError(errs);
  }

  // ---- Bodies --------------------------------------------------------------------------------

  compileBody(body: Body, st: State, captures?: Map<Expr, number>): ExprFn {
    if (body.length === 0) return (_c, _f, k) => k();
    this.enter(body[0].loc);
    try {
      return this.compileExprs(body, st, captures);
    } finally {
      this.nest--;
    }
  }

  /**
   * Compile a body's expressions in OPA's safe order: again and again the first expression (in
   * source order) that compiles, the others waiting. An expression that failed (Unsafe) is tried
   * again only once an expression naming one of its variables has compiled (nothing else changes
   * its outcome), the candidates kept in a heap of their positions: a long body in an order that
   * needs reordering (`b0 = b1; b1 = b2; …; bn = 1`) compiles in n·log n, not n² attempts.
   */
  private compileExprs(body: Body, st: State, captures?: Map<Expr, number>): ExprFn {
    const n = body.length;
    if (n === 1) {
      // One expression (most bodies): compiled at once, without the reordering's bookkeeping;
      // when it is unsafe, reported as the general case below reports it (not compiled again
      // first: nested bodies would multiply the attempts).
      const e = body[0];
      const snap = st.mark();
      try {
        return withOrder(this.compileExpr(e, st, captures?.get(e) ?? -1), ORDER_ONE);
      } catch (err) {
        if (!(err instanceof Unsafe)) throw err;
        st.undo(snap);
      }
      throw this.unsafeError(this.unsafeVarsOf(e, st));
    }
    const fns: ExprFn[] = [];
    // done[i]: 0 while expression i is not compiled, then its place in the compiled order (from 1).
    const done = new Uint32Array(n);
    const names: (Set<string> | null)[] = new Array(n).fill(null);
    const namesOf = (i: number) => names[i] ?? (names[i] = exprVarNames(body[i]));
    const waiting = new Map<string, number[]>();
    // The candidates: a binary min-heap of positions (all of them at first, in order).
    const heap: number[] = Array.from({ length: n }, (_, i) => i);
    const queued = new Uint8Array(n).fill(1);
    const push = (x: number) => {
      if (queued[x] || done[x]) return;
      queued[x] = 1;
      let i = heap.push(x) - 1;
      while (i > 0) {
        const p = (i - 1) >> 1;
        if (heap[p] <= x) break;
        heap[i] = heap[p];
        i = p;
      }
      heap[i] = x;
    };
    const pop = (): number => {
      const top = heap[0];
      const last = heap.pop()!;
      if (heap.length > 0) {
        let i = 0;
        for (;;) {
          const l = 2 * i + 1;
          if (l >= heap.length) break;
          const c = l + 1 < heap.length && heap[l + 1] < heap[l] ? l + 1 : l;
          if (heap[c] >= last) break;
          heap[i] = heap[c];
          i = c;
        }
        heap[i] = last;
      }
      queued[top] = 0;
      return top;
    };
    let left = n;
    while (heap.length > 0) {
      const i = pop();
      const e = body[i];
      const snap = st.mark();
      try {
        fns.push(this.compileExpr(e, st, captures?.get(e) ?? -1));
      } catch (err) {
        if (!(err instanceof Unsafe)) throw err;
        st.undo(snap);
        for (const name of namesOf(i)) {
          const w = waiting.get(name);
          if (w) w.push(i);
          else waiting.set(name, [i]);
        }
        continue;
      }
      done[i] = n - left + 1;
      left--;
      if (left === 0) break;
      for (const name of namesOf(i)) {
        const w = waiting.get(name);
        if (w === undefined) continue;
        waiting.delete(name);
        for (const j of w) push(j);
      }
    }
    if (left > 0) {
      const vars: VarTerm[] = [];
      for (let i = 0; i < n; i++) if (!done[i]) vars.push(...this.unsafeVarsOf(body[i], st));
      throw this.unsafeError(vars);
    }
    const fn = chain(fns);
    if (fns.every((x) => (x as Tagged)[DET] !== undefined)) (fn as Tagged)[DIRECT] = directBody(fns.map((x) => (x as Tagged)[DET]!));
    return withOrder(fn, done);
  }

  /** The unsafe variables of an expression that did not compile, at the expression (as OPA reports them). */
  private unsafeVarsOf(e: Expr, st: State): VarTerm[] {
    const vars: VarTerm[] = [];
    try {
      this.compileExpr(e, st.child(), -1);
    } catch (err) {
      if (err instanceof Unsafe) for (const v of err.vars) vars.push({ ...v, loc: e.loc });
      else throw err;
    }
    return vars;
  }

  // compileExpr, compileExprNode, compileCallExpr and compileTerm are on the path of every nested
  // comprehension: they keep few locals (small stack frames) and leave the rest to helpers.
  private compileExpr(e: Expr, st: State, capture: number): ExprFn {
    const boundBefore = this.tracing ? new Set(st.bound) : null;
    // OPA rewrites a print statement into a fresh call of internal.print, dropping the
    // expression's `not` and `with` modifiers: `not print(x)` prints and succeeds.
    if ((e.negated || e.with.length > 0) && e.node.type === "call" && isPrintOp(e.node.op)) e = { ...e, negated: false, with: [] };
    let fn: ExprFn;
    if (e.negated) fn = this.compileNegated(e, st, capture);
    else {
      const n = e.node;
      // `x := …` and `x = …` directly (the common case, and two stack frames fewer).
      const op = n.type === "call" && n.op.terms.length === 1 && n.op.terms[0].type === "var" ? n.op.terms[0].name : "";
      if ((op === "eq" || (op === "equal" && !st.mod.query)) && n.type === "call" && n.args.length === 2) this.checkUnifiable(n.args[0], n.args[1], st, e.loc);
      if (e.with.length > 0) fn = this.compileModified(e, st, capture, op);
      else if (op === "assign" && n.type === "call") fn = this.withCapture(this.compileAssign(n.args[0], n.args[1], st, e.loc), capture);
      else if (this.isUnify(op, e, st)) fn = this.withCapture(this.compileUnify((n as CallTerm).args[0], (n as CallTerm).args[1], st), capture);
      else fn = this.compileExprNode(e, st, capture);
    }
    if (this.tracing && e.node.type !== "some") {
      const text = capture >= 0 ? queryExprText(e) : exprText(e, st);
      fn = traceExpr(fn, { kind: "expr", text, expr: e }, e.loc, exprSlots(e, st, true), this.unifyOf(e, st, capture, boundBefore!));
    }
    return this.hooks === null ? fn : hookExpr(this.hooks, fn, e.loc);
  }

  /**
   * `x = …`. In a comprehension's index body (see comprehensionIndex), `==` of a module too, as
   * OPA has rewritten it to `=` by then: it binds a key there. Where both sides are bound the
   * two are the same test.
   */
  private isUnify(op: string, e: Expr, st: State): boolean {
    if (e.node.type !== "call") return false;
    return op === "eq" || (op === "equal" && this.indexing > 0 && !st.mod.query && e.node.args.length === 2);
  }

  /** An expression with `with` modifiers; comprehensions in it are not indexed (see comprehensionIndex). */
  private compileModified(e: Expr, st: State, capture: number, op: string): ExprFn {
    const n = e.node;
    this.withDepth++;
    try {
      let fn: ExprFn;
      if (op === "assign" && n.type === "call") fn = this.withCapture(this.compileAssign(n.args[0], n.args[1], st, e.loc), capture);
      else if (this.isUnify(op, e, st)) fn = this.withCapture(this.compileUnify((n as CallTerm).args[0], (n as CallTerm).args[1], st), capture);
      else fn = this.compileExprNode(e, st, capture);
      return this.compileWith(e.with, fn, st);
    } finally {
      this.withDepth--;
    }
  }

  private compileNegated(e: Expr, st: State, capture: number): ExprFn {
    let fn: ExprFn;
    if (e.negated) {
      // As in OPA (its rewriting of dynamic terms and of nested calls), the dynamic parts of a
      // negated expression are evaluated outside the negation: an undefined one makes the whole
      // expression undefined, and they may bind nothing. A module with `import
      // future.keywords.not` negates the whole expression instead (OPA's `not` bodies).
      const hoisted: { slot: number; ct: CTerm }[] = [];
      if (!st.mod.notBodies) e = this.hoistNegated(e, st, hoisted);
      const inner = st.child();
      const before = new Set(st.bound);
      const body = this.compileExprNode(e, inner, -1);
      // A named variable first bound inside `not` is unsafe (it cannot escape the negation).
      const unsafe: VarTerm[] = [];
      for (const s of inner.bound) {
        if (before.has(s)) continue;
        const name = st.counter.names[s];
        if (!isWildcard(name) && !name.startsWith("$") && (st.scope.find(name) === s || inner.scope.find(name) === s)) unsafe.push({ type: "var", name, loc: e.loc });
      }
      if (unsafe.length) throw new Unsafe(unsafe);
      if (hoisted.length > 0) {
        const neg = body;
        // The values must exist for the expression to be evaluated at all.
        const evs = hoisted.map((h) => h.ct.ev);
        const fnH: ExprFn = evs.every((x) => x !== null) ? singleHoisted(evs as ValFn[], hoisted.map((h) => h.slot), neg) : (c, f, k) => {
          let defined = false;
          let found = false;
          const walk = (i: number): boolean => {
            if (i === hoisted.length) {
              defined = true;
              found = neg(c, f, K_TRUE);
              return found;
            }
            const h = hoisted[i];
            return h.ct.en(c, f, (v) => {
              f[h.slot] = v;
              const r = walk(i + 1);
              f[h.slot] = undefined;
              return r;
            });
          };
          walk(0);
          return defined && !found ? k() : false;
        };
        fn = capture >= 0 ? (c, f, k) => fnH(c, f, () => ((f[capture] = true), k())) : fnH;
        if (e.with.length > 0) fn = this.compileWith(e.with, fn, st);
        return fn;
      }
      let negBody = body;
      if (this.tracing) {
        const inner: Expr = { ...e, negated: false, with: [] };
        const text = exprText(inner, st);
        negBody = traceChild(traceExpr(body, { kind: "expr", text, expr: inner }, e.loc, exprSlots(inner, st, true), this.unifyOf(inner, st, -1, new Set(st.bound))), { kind: "body", text, body: [inner] }, e.loc);
      }
      if (negBody === body) {
        // At most one solution, binding nothing: a run of negations is evaluated in a loop (see Det).
        const test = (c: Ctx, f: Frame): boolean => !body(c, f, K_TRUE);
        fn = (c, f, k) => (body(c, f, K_TRUE) ? false : k());
        if (capture < 0 && e.with.length === 0) det(fn, test);
      } else {
        // Traced: as OPA's, the negated body is enumerated to its end (Exit, then Redo), not stopped at its first solution.
        const traced = negBody;
        fn = (c, f, k) => {
          let found = false;
          traced(c, f, () => ((found = true), false));
          return found ? false : k();
        };
      }
      if (capture >= 0) {
        const inner2 = fn;
        fn = (c, f, k) => inner2(c, f, () => ((f[capture] = true), k()));
      }
    } else {
      fn = this.compileExprNode(e, st, capture);
    }
    if (e.with.length > 0) fn = this.compileWith(e.with, fn, st);
    return fn;
  }

  /** Does a term mention a local variable (or `_`)? Roots (input, data, rules, imports) do not count. */
  private hasLocalVars(t: Term, st: State): boolean {
    // Without recursion: terms may be nested thousands deep.
    const todo: Term[] = [t];
    while (todo.length > 0) {
      const x = todo.pop()!;
      switch (x.type) {
        case "var":
          if (isWildcard(x.name) || !this.isNonLocal(x.name, st)) return true;
          break;
        case "ref":
          for (const y of x.terms) if (y.type !== "string") todo.push(y);
          break;
        case "array":
        case "set":
          if (constValueOf(x) === undefined) todo.push(...x.items);
          break;
        case "object":
          if (constValueOf(x) === undefined) for (const [k, v] of x.items) todo.push(k, v);
          break;
        case "call":
          todo.push(...x.args);
          break;
      }
    }
    return false;
  }

  /**
   * The negated expression with its dynamic parts replaced by fresh variables whose values are
   * computed outside the negation (into `out`), as OPA's compiler rewrites it: nested calls
   * (rewriteExprTerms); then the operands of a call, both sides of `=`/`==` and a lone term
   * (rewriteDynamicTerms), where a reference stays inside but its non-head parts that are
   * references, calls or comprehensions go out, and a call, comprehension or composite head of
   * a reference goes out.
   */
  private hoistNegated(e: Expr, st: State, out: { slot: number; ct: CTerm }[]): Expr {
    const n = e.node;
    if (n.type === "term") return { ...e, node: { type: "term", term: this.hoistInTerm(n.term, st, out) } };
    if (n.type !== "call") return e;
    const op = opName(n.op);
    if (op === "print") return e;
    const side = op === "eq" || op === "assign" || op === "equal";
    const args = n.args.map((a) => (side ? this.hoistInTerm(a, st, out) : this.hoistOne(a, st, out)));
    return { ...e, node: { ...n, args } };
  }

  /** A term that stays inside the negation (OPA's rewriteDynamicsInTerm). */
  private hoistInTerm(t: Term, st: State, out: { slot: number; ct: CTerm }[]): Term {
    switch (t.type) {
      case "ref":
        return this.hoistRefParts(t, st, out);
      case "arraycomp":
      case "setcomp":
      case "objectcomp":
        return t;
      case "call":
        return this.hoistArg(t, st, out);
      case "var":
        return t; // a rule or import name is a reference: it stays
      default:
        return this.hoistOne(t, st, out);
    }
  }

  private hoistRefParts(t: RefTerm, st: State, out: { slot: number; ct: CTerm }[]): RefTerm {
    const h = t.terms[0];
    const head = h.type === "var" ? h : this.hoistArg(h, st, out);
    const rest = t.terms.slice(1).map((x) => this.hoistOne(x, st, out));
    return { ...t, terms: [head, ...rest] };
  }

  /** A term computed outside the negation where it is dynamic (OPA's rewriteDynamicsOne). */
  private hoistOne(t: Term, st: State, out: { slot: number; ct: CTerm }[]): Term {
    switch (t.type) {
      case "null":
      case "boolean":
      case "number":
      case "string":
        return t;
      case "var":
        // A rule or import name is a reference to data.
        return !isWildcard(t.name) && this.isNonLocal(t.name, st) ? this.hoistArg(t, st, out) : t;
      case "ref": {
        return this.hoistArg(this.hoistRefParts(t, st, out), st, out);
      }
      case "array":
      case "set":
        if (constValueOf(t) !== undefined) return t;
        return { ...t, items: t.items.map((x) => this.hoistOne(x, st, out)) };
      case "object":
        if (constValueOf(t) !== undefined) return t;
        return { ...t, items: t.items.map(([k, v]) => [this.hoistOne(k, st, out), this.hoistOne(v, st, out)] as [Term, Term]) };
      default:
        return this.hoistArg(t, st, out);
    }
  }

  private hoistArg(a: Term, st: State, out: { slot: number; ct: CTerm }[]): VarTerm {
    const before = st.mark();
    const ct = this.compileTerm(a, st);
    const fresh: VarTerm[] = [];
    for (const s2 of st.bound.since(before.b)) {
      fresh.push({ type: "var", name: isWildcard(st.counter.names[s2]) ? "_" : st.counter.names[s2], loc: a.loc });
    }
    if (fresh.length > 0) {
      st.undo(before);
      throw new Unsafe(fresh);
    }
    const slot = st.newSlot("$hoist");
    const name = `$hoist${slot}`;
    st.scope.vars.set(name, slot);
    st.bound.add(slot);
    st.types.set(slot, this.typeOf(a, st));
    out.push({ slot, ct });
    return { type: "var", name, loc: a.loc };
  }

  private compileExprNode(e: Expr, st: State, capture: number): ExprFn {
    const n = e.node;
    switch (n.type) {
      case "term": {
        const t = n.term;
        if (t.type === "var" && !this.isNonLocal(t.name, st)) {
          const slot = this.varSlot(t, st);
          if (!st.bound.has(slot)) throw new Unsafe([t]);
        }
        const ct = this.compileTerm(t, st);
        // A ground single-expression query reports false; one that enumerates drops false rows (as opa eval).
        if (capture >= 0 && this.queryKeepsFalse && !this.hasLocalVars(t, st)) return (c, f, k) => ct.en(c, f, (v) => ((f[capture] = v), k()));
        if (capture >= 0) return (c, f, k) => ct.en(c, f, (v) => (v === false ? false : ((f[capture] = v), k())));
        if (ct.ev !== null) {
          const ev = ct.ev;
          const test = (c: Ctx, f: Frame): boolean => {
            const v = ev(c, f);
            return v !== undefined && v !== false;
          };
          return det((c, f, k) => (test(c, f) ? k() : false), test);
        }
        return (c, f, k) => ct.en(c, f, (v) => (v === false ? false : k()));
      }
      case "some": {
        for (const v of n.vars) this.declare(v, st);
        return capture >= 0 ? (_c, f, k) => ((f[capture] = true), k()) : (_c, _f, k) => k();
      }
      case "somein":
        return this.withCapture(this.compileSomeIn(n.key, n.value, n.collection, st, e), capture);
      case "every":
        return this.withCapture(this.compileEvery(n.key, n.value, n.domain, n.body, st, e), capture);
      case "call":
        return this.compileCallExpr(n.op, n.args, st, e.loc, capture);
    }
  }

  private withCapture(fn: ExprFn, capture: number): ExprFn {
    if (capture < 0) return fn;
    return (c, f, k) => fn(c, f, () => ((f[capture] = true), k()));
  }

  private declare(v: VarTerm, st: State): number {
    if (isWildcard(v.name)) return st.newSlot("$_");
    if (st.scope.declared.has(v.name)) {
      throw RegoError.single("rego_compile_error", `var ${v.name} assigned above`, v.loc);
    }
    const slot = st.newSlot(v.name);
    st.scope.vars.set(v.name, slot);
    st.scope.declared.add(v.name);
    return slot;
  }

  // ---- Names ---------------------------------------------------------------------------------

  private isNonLocal(name: string, st: State): boolean {
    if (st.scope.find(name) !== undefined) return false;
    return name === "input" || name === "data" || st.mod.ruleNames.has(name) || st.mod.imports.has(name);
  }

  private resolve(v: VarTerm, st: State): Resolved {
    if (isWildcard(v.name)) return { kind: "local", slot: st.newSlot("$_") };
    const slot = st.scope.find(v.name);
    if (slot !== undefined) return { kind: "local", slot };
    if (v.name === "input") return { kind: "input" };
    if (v.name === "data") return { kind: "data", path: [] };
    if (st.mod.ruleNames.has(v.name)) return { kind: "data", path: [...st.mod.pkg, v.name] };
    const imp = st.mod.imports.get(v.name);
    if (imp) return { kind: "ref", terms: imp };
    const ns = st.newSlot(v.name);
    st.scope.vars.set(v.name, ns);
    return { kind: "local", slot: ns };
  }

  private varSlot(v: VarTerm, st: State): number {
    const r = this.resolve(v, st);
    if (r.kind !== "local") throw new Error("internal: not a local");
    return r.slot;
  }

  /** Does the term contain variables that are unbound (outside reference operands)? Without recursion: patterns may be nested thousands deep. */
  private needsBinding(t: Term, st: State): boolean {
    const todo: Term[] = [t];
    while (todo.length > 0) {
      const x = todo.pop()!;
      switch (x.type) {
        case "var": {
          if (isWildcard(x.name)) return true;
          if (this.isNonLocal(x.name, st)) break;
          const s = st.scope.find(x.name);
          if (s === undefined || !st.bound.has(s)) return true;
          break;
        }
        case "array":
          if (constValueOf(x) === undefined) for (const i of x.items) todo.push(i);
          break;
        case "object":
          if (constValueOf(x) === undefined) for (const [, v] of x.items) todo.push(v);
          break;
      }
    }
    return false;
  }

  // ---- Terms ---------------------------------------------------------------------------------

  compileTerm(t: Term, st: State): CTerm {
    switch (t.type) {
      case "array":
      case "set":
      case "object": {
        const cv = constValueOf(t);
        if (cv !== undefined) return constTerm(cv);
        if (deeperThan(t, FLAT_DEPTH)) return this.compileFlat(t, st) ?? this.compileNested(t, st);
        return this.compileNested(t, st);
      }
      case "call":
        // compileFlat leaves print calls to compileTerm: flattening one would come back here
        if (!isPrintOp(t.op) && deeperThan(t, FLAT_DEPTH)) return this.compileFlat(t, st) ?? this.compileNested(t, st);
        return this.compileNested(t, st);
      case "arraycomp":
      case "setcomp":
      case "objectcomp":
        this.enter(t.loc);
        try {
          return this.compileComprehension(t, st);
        } finally {
          this.nest--;
        }
      default:
        return this.compileTermInner(t, st);
    }
  }

  /** compileTerm for terms that contain terms: counts the nesting, and stops before the stack runs out. */
  private compileNested(t: Term, st: State): CTerm {
    this.enter(t.loc);
    try {
      return this.compileTermInner(t, st);
    } finally {
      this.nest--;
    }
  }

  /** One level deeper in the compiler's recursion; a coded error when the JavaScript stack runs low. */
  private enter(loc: Location): void {
    if ((++this.nest & 15) === 0 && stackLow()) {
      this.nest--;
      throw RegoError.single("rego_compile_error", "expression nested too deeply to compile (the JavaScript stack is exhausted)", loc);
    }
  }

  private compileTermInner(t: Term, st: State): CTerm {
    switch (t.type) {
      case "null":
        return constTerm(null);
      case "boolean":
        return constTerm(t.value);
      case "number": {
        const v = numberLiteral(t.value);
        if (v === undefined) throw RegoError.single("rego_parse_error", `invalid number ${t.value}`, t.loc);
        return constTerm(v);
      }
      case "string":
        return constTerm(t.value);
      case "var":
        return this.compileRef({ type: "ref", terms: [t], loc: t.loc }, st);
      case "ref":
        return this.compileRef(t, st);
      case "array":
      case "set": {
        const isSet = t.type === "set";
        // OPA builds a set literal with dynamic elements from its elements in term order, number
        // literals before variables and refs: of equal numbers that differ in text (`{input.v, 1}`
        // with input.v = 1.0), the literal is the one kept.
        const terms = isSet && t.items.some((i) => i.type === "number") ? [...t.items.filter((i) => i.type === "number"), ...t.items.filter((i) => i.type !== "number")] : t.items;
        const items = terms.map((i) => this.compileTerm(i, st));
        if (items.every((i) => i.ev !== null)) {
          const evs = items.map((i) => i.ev!);
          const n = evs.length;
          const ev: ValFn = (c, f) => {
            const out: Value[] = new Array(n);
            for (let i = 0; i < n; i++) {
              const v = evs[i](c, f);
              if (v === undefined) return undefined;
              out[i] = v;
            }
            return isSet ? new RSet(out) : out;
          };
          return { ev, en: evToEn(ev) };
        }
        const en: EnumFn = (c, f, k) => {
          const out: Value[] = [];
          const step = (i: number): boolean => {
            if (i === items.length) return k(isSet ? new RSet(out) : out.slice());
            return items[i].en(c, f, (v) => {
              out[i] = v;
              return step(i + 1);
            });
          };
          return step(0);
        };
        return { ev: null, en };
      }
      case "object": {
        const pairs = t.items.map(([kt, vt]) => [this.compileTerm(kt, st), this.compileTerm(vt, st)] as const);
        const en: EnumFn = (c, f, k) => {
          const out: [Value, Value][] = [];
          const step = (i: number): boolean => {
            if (i === pairs.length) return k(makeObject(out));
            return pairs[i][0].en(c, f, (kv) =>
              pairs[i][1].en(c, f, (vv) => {
                out[i] = [kv, vv];
                const r = step(i + 1);
                out.length = i;
                return r;
              }),
            );
          };
          return step(0);
        };
        if (pairs.every(([a, b]) => a.ev !== null && b.ev !== null)) {
          const keys = t.items.map(([kt]) => (kt.type === "string" ? kt.value : null));
          if (keys.length > 0 && keys.every((x) => x !== null) && new Set(keys).size === keys.length) {
            // Distinct constant string keys (most literals): the object is built directly, without
            // a list of entries (makeObject gives the same plain object for string keys).
            return constKeyObject(keys as string[], pairs.map(([, b]) => b.ev!));
          }
          const ev: ValFn = (c, f) => {
            const out: [Value, Value][] = [];
            for (const [a, b] of pairs) {
              const kv = a.ev!(c, f);
              if (kv === undefined) return undefined;
              const vv = b.ev!(c, f);
              if (vv === undefined) return undefined;
              out.push([kv, vv]);
            }
            return makeObject(out);
          };
          return { ev, en: evToEn(ev) };
        }
        return { ev: null, en };
      }
      case "arraycomp":
      case "setcomp":
      case "objectcomp":
        return this.compileComprehension(t, st);
      case "call":
        return this.compileCallTerm(t, st);
    }
  }

  /**
   * A deeply nested expression (a chain of thousands of operators `1 + 2 + …`, calls nested
   * thousands deep, collections of such) as a flat list of steps run over a stack of values:
   * neither compiling nor evaluating it recurses with its depth. Arguments are evaluated left to
   * right and an undefined one makes the whole expression undefined, as in the nested form.
   * Null when some part cannot be evaluated this way (it enumerates values or binds variables);
   * the nested compilation is used then.
   */
  private compileFlat(root: Term, st: State): CTerm | null {
    type Call = (c: Ctx, vals: Value[], loc: Location) => Value | undefined;
    // (A chain `{0} | {1} | … | {n}` takes linear time through the union builtin itself, whose
    // results share an append-only log: src/builtins/sets.ts. Adding to the left operand in place
    // here would be wrong: `s | set()` returns s itself, a set a rule holds.)
    type Step = { kind: 0; ev: ValFn } | { kind: 1; n: number; call: Call; loc: Location } | { kind: 2; n: number; set: boolean } | { kind: 3; n: number };
    // A long chain names the same few functions over and over: resolve each name once.
    const targets = new Map<string, CallTarget>();
    const calls = new Map<CallTarget, Call>();
    const steps: Step[] = [];
    const snap = st.mark();
    const snapChecks = this.checks.length;
    const giveUp = (): null => {
      st.undo(snap);
      this.checks.length = snapChecks;
      return null;
    };
    // Post-order: a node is pushed again (expanded) under its children, and emitted after them.
    const todo: { t: Term; expanded: boolean; call?: Call }[] = [{ t: root, expanded: false }];
    while (todo.length > 0) {
      const { t, expanded, call: fc } = todo.pop()!;
      if (expanded) {
        if (fc !== undefined) steps.push({ kind: 1, n: (t as CallTerm).args.length, call: fc, loc: t.loc });
        else if (t.type === "object") steps.push({ kind: 3, n: t.items.length });
        else steps.push({ kind: 2, n: (t as { items: Term[] }).items.length, set: t.type === "set" });
        continue;
      }
      const cv = constValueOf(t);
      if (cv !== undefined) {
        steps.push({ kind: 0, ev: constFn(cv) });
        continue;
      }
      let kids: Term[] | null = null;
      let call: Call | undefined;
      if (t.type === "call") {
        const name = opName(t.op);
        if (name !== "print" && name !== "rego.metadata.rule" && name !== "rego.metadata.chain") {
          const key = `${name}/${t.op.terms.length}/${t.args.length}`;
          let target = targets.get(key);
          if (target === undefined) targets.set(key, (target = this.resolveCall(t.op, st, t.loc, t.args.length)));
          if (target.kind === "builtin" && target.b.relation === true) return giveUp();
          const variadic = target.kind === "builtin" && target.b.decl.variadic !== undefined;
          if (!variadic && t.args.length !== this.arityOf(target)) throw this.arityError(target, name, t.args.length, t.loc);
          this.typeCheckArgs(target, t.args, name, t.loc, st);
          kids = t.args;
          call = calls.get(target);
          if (call === undefined) calls.set(target, (call = this.flatCall(target)));
        }
      } else if (t.type === "array" || t.type === "set") kids = t.items;
      else if (t.type === "object") kids = t.items.flat();
      if (kids !== null) {
        todo.push({ t, expanded: true, call });
        for (let i = kids.length - 1; i >= 0; i--) todo.push({ t: kids[i], expanded: false });
        continue;
      }
      const ct = this.compileTerm(t, st);
      if (ct.ev === null) return giveUp();
      steps.push({ kind: 0, ev: ct.ev });
    }
    const ev: ValFn = (c, f) => {
      const vals: Value[] = [];
      for (let i = 0; i < steps.length; i++) {
        const s = steps[i];
        switch (s.kind) {
          case 0: {
            const v = s.ev(c, f);
            if (v === undefined) return undefined;
            vals.push(v);
            break;
          }
          case 1: {
            const out = s.call(c, vals.splice(vals.length - s.n, s.n), s.loc);
            if (out === undefined) return undefined;
            vals.push(out);
            break;
          }
          case 2: {
            const items = vals.splice(vals.length - s.n, s.n);
            vals.push(s.set ? new RSet(items) : items);
            break;
          }
          case 3: {
            const kv = vals.splice(vals.length - 2 * s.n, 2 * s.n);
            const pairs: [Value, Value][] = [];
            for (let j = 0; j < kv.length; j += 2) pairs.push([kv[j], kv[j + 1]]);
            vals.push(makeObject(pairs));
            break;
          }
        }
      }
      return vals[0];
    };
    return { ev, en: evToEn(ev) };
  }

  /**
   * The Unify events of an expression, as far as they can be told from the outside of its
   * closure: OPA's first one repeats the expression (`x = input.a`, `t = _` for a term), and on
   * a solution one with the values (`1 = x`, `true = _`). Only for unifications and terms whose
   * values can be read again without side effects (no calls, comprehensions or iteration).
   */
  private unifyOf(e: Expr, st: State, capture: number, before: Set<number>): Unify | null {
    if (e.negated || e.with.length > 0) return null;
    const n = e.node;
    const quiet = (t: Term): ValFn | null => {
      if (!plainTerm(t)) return null;
      try {
        return this.compileTerm(t, st).ev;
      } catch {
        return null;
      }
    };
    // The first Unify is the expression with the variables bound before it replaced by their values (`1 = 1` for `x = 1`).
    const bound = exprSlots(e, st).filter(([, slot]) => before.has(slot));
    const resolve = resolverOf(st);
    const plugged = (render: () => string): Unify["text"] => {
      if (bound.length === 0) return withResolver(resolve, render);
      const slots = new Map(bound);
      return (_c, f) =>
        withPlug(
          (name) => {
            const slot = slots.get(name);
            const v = slot === undefined ? undefined : f[slot];
            return v === undefined ? null : formatValue(v);
          },
          () => withResolver(resolve, render),
        );
    };
    if (n.type === "term") {
      const keys = this.refKeys([n.term], st, before);
      if (capture >= 0) return { text: rawQueryExprText(e), keys, value: (_c, f) => (f[capture] === undefined ? null : `${formatValue(f[capture] as Value)} = _`) };
      const ev = n.term.type === "ref" ? quiet(n.term) : null;
      return { text: plugged(() => `${rawExprText(e)} = _`), keys, value: ev === null ? null : (c, f) => valueText(ev(c, f), "_") };
    }
    if (n.type === "somein") {
      const v = n.value;
      const slot = v.type === "var" && !isWildcard(v.name) ? st.scope.find(v.name) : undefined;
      const keys = this.refKeys([n.collection], st, before);
      const ks = this.someKeySlots.get(e);
      const kname = st.mod.traceKeys?.get(e);
      if (n.key === null && ks !== undefined && kname !== undefined) keys.push([kname, ks]);
      else if (n.key !== null && n.key.type === "var") {
        const s2 = st.scope.find(n.key.name);
        if (s2 !== undefined && !before.has(s2)) keys.push([isWildcard(n.key.name) ? "_" : n.key.name, s2]);
      }
      return { text: plugged(() => rawExprText(e)), keys, value: slot === undefined ? null : (_c, f) => valueText(f[slot], (v as VarTerm).name) };
    }
    if (n.type !== "call") return null;
    const op = opName(n.op);
    if (op !== "eq" && op !== "assign" && op !== "equal") {
      // A builtin's result is unified with its output argument: `__local3__ = "a"`.
      const b = this.builtins.get(op);
      const out = n.args[n.args.length - 1];
      if (b === undefined || b.decl.variadic !== undefined || b.decl.result === undefined || n.args.length !== (b.decl.args?.length ?? 0) + 1) return null;
      if (st.mod.ruleNames.has(n.op.terms[0].type === "var" ? n.op.terms[0].name : "")) return null;
      const slot = out.type === "var" && !isWildcard(out.name) ? st.scope.find(out.name) : undefined;
      if (slot === undefined || before.has(slot)) return null;
      const name = (out as VarTerm).name;
      return { text: null, value: (_c, f) => (f[slot] === undefined ? null : `${name} = ${formatValue(f[slot] as Value)}`) };
    }
    if (n.args.length !== 2) return null;
    const [a, b] = n.args;
    // `x = f(…)`: OPA's compiler has moved the call out (`f(…, __localN__); x = __localN__`), whose Unify is `x = <value>`.
    for (const [v, call] of [
      [a, b],
      [b, a],
    ] as const) {
      const slot = v.type === "var" && !isWildcard(v.name) ? st.scope.find(v.name) : undefined;
      if (call.type !== "call" || slot === undefined || before.has(slot)) continue;
      const name = (v as VarTerm).name;
      return { text: null, value: (_c, f) => (f[slot] === undefined ? null : `${name} = ${formatValue(f[slot] as Value)}`) };
    }
    const text = plugged(() => rawExprText(e));
    const keys = this.refKeys([a, b], st, before);
    const withKeys = (u: Unify): Unify => (keys.length > 0 ? { ...u, keys } : u);
    // A ref (or comprehension) side is evaluated, then its value unified with the other side: `1 = x`, `"n" = "n"`.
    const evaluated = (t: Term) => t.type === "ref" || t.type === "arraycomp" || t.type === "setcomp" || t.type === "objectcomp";
    const other = evaluated(b) ? a : evaluated(a) ? b : null;
    if (other === null) return withKeys({ text, value: null });
    const side = other === a ? b : a;
    const slot = other.type === "var" && !isWildcard(other.name) ? st.scope.find(other.name) : undefined;
    if (slot !== undefined && !before.has(slot)) {
      const name = (other as VarTerm).name;
      return withKeys({ text, value: (_c, f) => valueText(f[slot], name) });
    }
    const es = quiet(side);
    const eo = slot !== undefined ? (_c: Ctx, f: Frame) => f[slot] : quiet(other);
    if (es === null || eo === null) return withKeys({ text, value: null });
    return withKeys({
      text,
      value: (c, f) => {
        const vs = es(c, f);
        const vo = eo(c, f);
        return vs === undefined || vo === undefined ? null : `${formatValue(vs)} = ${formatValue(vo)}`;
      },
    });
  }

  /**
   * The variables a ref of these terms iterates with (operands not bound before the expression),
   * in order: OPA unifies each key it enumerates with them (`Unify 0 = i`).
   */
  private refKeys(ts: Term[], st: State, before: Set<number>): [string, number][] {
    const out: [string, number][] = [];
    const walk = (t: Term): void => {
      if (t.type === "ref") {
        t.terms.forEach((x, i) => {
          if (i > 0 && x.type === "var") {
            const slot = st.scope.find(x.name);
            if (slot !== undefined && !before.has(slot) && !out.some(([, s]) => s === slot)) out.push([isWildcard(x.name) ? "_" : x.name, slot]);
          } else walk(x);
        });
      } else if (t.type === "array" || t.type === "set") t.items.forEach(walk);
      else if (t.type === "object") for (const [k, v] of t.items) (walk(k), walk(v));
    };
    ts.forEach(walk);
    return out;
  }

  /** A comprehension body as a child query of the trace (when tracing). */
  private traceComp(body: ExprFn, b: Body, loc: Location, st: State): ExprFn {
    return this.tracing ? traceChild(body, { kind: "body", text: bodyText(b, st), body: b }, loc) : body;
  }

  private compileComprehension(t: Term, st: State): CTerm {
    switch (t.type) {
      case "arraycomp":
      case "setcomp": {
        const cst = st.child();
        const [hd, bd] = this.headIntoBody([t.head], t.body, cst);
        const body = this.traceComp(this.compileBody(bd, cst), t.body, t.loc, st);
        const head = this.compileTermSafe(hd[0], cst);
        if (this.indexing === 0) this.compTypes.set(t, this.typeOf(t.head, cst));
        const isSet = t.type === "setcomp";
        const ev: ValFn = (c, f) => {
          const out: Value[] = [];
          body(c, f, () => head.en(c, f, (v) => (c.hold(v), out.push(v), false)));
          return isSet ? new RSet(out) : out;
        };
        return this.indexedComprehension(t, st, body) ?? { ev, en: evToEn(ev) };
      }
      case "objectcomp": {
        const cst = st.child();
        const [[kt, vt], bd] = this.headIntoBody([t.key, t.value], t.body, cst);
        const body = this.traceComp(this.compileBody(bd, cst), t.body, t.loc, st);
        const key = this.compileTermSafe(kt, cst);
        const val = this.compileTermSafe(vt, cst);
        if (this.indexing === 0) this.compTypes.set(t, this.typeOf(t.value, cst));
        // OPA names the key of a conflict (object keys must be unique).
        const loc = t.key.loc ?? t.loc;
        const ev: ValFn = (c, f) => {
          const seen = new Map<unknown, [Value, Value]>();
          body(c, f, () =>
            key.en(c, f, (kv) =>
              val.en(c, f, (vv) => {
                const hk = hashKey(kv);
                const prev = seen.get(hk);
                if (prev !== undefined && !equal(prev[1], vv)) throw conflict("object keys must be unique", loc);
                c.hold(kv);
                c.hold(vv);
                seen.set(hk, [kv, vv]);
                return false;
              }),
            ),
          );
          return makeObject(seen.values());
        };
        return this.indexedComprehension(t, st, body) ?? { ev, en: evToEn(ev) };
      }
      default:
        throw new Error(`not a comprehension: ${t.type}`);
    }
  }

  /** The comprehension compiled for indexing, if it qualifies (comprehensionIndex) and its body runs in `order` (the unindexed body's) both ways. */
  private indexedComprehension(t: ArrayComprehension | SetComprehension | ObjectComprehension, st: State, body: ExprFn): CTerm | null {
    // (Few arguments: this is called on the compiler's path through nested comprehensions, where
    // every register of compileComprehension's frame counts.)
    const ix = this.comprehensionIndex(t, t.type === "objectcomp" ? [t.key, t.value] : [t.head], st);
    if (ix === null || !sameOrder((ix.plan.body as Tagged)[ORDER], (body as Tagged)[ORDER])) return null;
    const ev =
      t.type === "objectcomp"
        ? indexedObject(ix.plan, ix.heads[0].en, ix.heads[1].en, t.key.loc ?? t.loc)
        : indexedCollection(ix.plan, ix.heads[0].en, t.type === "setcomp");
    return { ev, en: evToEn(ev) };
  }

  /**
   * Comprehension indexing (compindex.ts): when the comprehension closes over variables of the
   * enclosing body bound before it, and only over those, and its body binds them itself, compile
   * the body (and head) once more with those keys unbound, for an index built once per query. As
   * OPA: not within an expression with `with` (a fresh scope each time: the index would be built
   * for every evaluation), not when a nested comprehension names a key, not when the body would
   * have to enumerate a reference it looks a key up in (`input.a[team]`). Not with coverage hooks
   * or tracing (their events follow the unindexed evaluation). The caller uses the plan only if
   * the body's expressions run in the same order both ways, so every key's solutions, and an
   * array's elements, come in the order the unindexed comprehension gives them.
   */
  private comprehensionIndex(t: Term & { body: Body }, heads: Term[], st: State): { plan: IndexPlan; heads: CTerm[] } | null {
    if (this.hooks !== null || this.tracing || this.withDepth > 0 || this.indexing > 0 || this.nest > COMP_INDEX_NEST) return null;
    const cand = new Map<string, number>();
    for (const name of varNamesIn([t.body, heads])) {
      if (isWildcard(name)) continue;
      const slot = st.scope.find(name);
      if (slot !== undefined && st.bound.has(slot)) cand.set(name, slot);
    }
    if (cand.size === 0) return null;
    const names = new Set(cand.keys());
    if (nestedMentions([t.body, heads], names) || keysEnumerated(t.body, names)) return null;
    const snapChecks = this.checks.length;
    this.indexing++;
    try {
      const cst = st.child();
      for (const s of cand.values()) {
        cst.bound.delete(s);
        cst.types.delete(s);
      }
      const [hd, bd] = this.headIntoBody(heads, t.body, cst);
      const body = this.compileBody(bd, cst);
      const keys = [...cand.values()].filter((s) => cst.bound.has(s)).sort((a, b) => a - b);
      if (keys.length === 0) return null;
      const hts = hd.map((h) => this.compileTermSafe(h, cst));
      return { plan: { keys, body }, heads: hts };
    } catch (e) {
      // Not indexable (a key the body does not bind is unsafe there); the comprehension is
      // compiled as it stands next, and reports any real error itself.
      if (e instanceof Unsafe || e instanceof RegoError) return null;
      throw e;
    } finally {
      this.indexing--;
      this.checks.length = snapChecks;
    }
  }

  /**
   * OPA's rewriting of comprehension heads: a head term with a reference, a call or a
   * comprehension in it becomes a fresh variable, unified with the term by a last expression of
   * the body, so the head's variables are bound (and the body reordered) like any other.
   */
  private headIntoBody(heads: Term[], body: Body, st: State): [Term[], Body] {
    let out = body;
    const hs = heads.map((h) => {
      if (!this.requiresEval(h, st)) return h;
      const name = `$head${st.counter.n}`;
      const slot = st.newSlot(name);
      st.scope.vars.set(name, slot);
      const v: VarTerm = { type: "var", name, loc: h.loc };
      const eq: RefTerm = { type: "ref", terms: [{ type: "var", name: "eq", loc: h.loc }], loc: h.loc };
      out = [...out, { node: { type: "call", op: eq, args: [v, h] }, negated: false, with: [], loc: h.loc }];
      return v;
    });
    return [hs, out];
  }

  /** Does a term contain a reference (a rule, import, input or data name counts), a call or a comprehension? */
  private requiresEval(t: Term, st: State): boolean {
    const todo: Term[] = [t];
    while (todo.length > 0) {
      const x = todo.pop()!;
      switch (x.type) {
        case "var":
          if (!isWildcard(x.name) && this.isNonLocal(x.name, st)) return true;
          break;
        case "ref":
        case "call":
        case "arraycomp":
        case "setcomp":
        case "objectcomp":
          return true;
        case "array":
        case "set":
          todo.push(...x.items);
          break;
        case "object":
          for (const [k, v] of x.items) todo.push(k, v);
          break;
      }
    }
    return false;
  }

  private compileTermSafe(t: Term, st: State): CTerm {
    try {
      return this.compileTerm(t, st);
    } catch (e) {
      if (e instanceof Unsafe) throw e;
      throw e;
    }
  }

  private compileRef(ref: RefTerm, st: State): CTerm {
    const head = ref.terms[0];
    const rest = ref.terms.slice(1);
    if (rest.length > 0) this.checkRefDefined(ref, st);
    if (head.type === "var") {
      const r = this.resolve(head, st);
      if (r.kind === "ref") return this.compileRef({ type: "ref", terms: [...r.terms, ...rest], loc: ref.loc }, st);
      if (r.kind === "data") return this.compileDataRef(r.path, rest, st, ref);
      if (r.kind === "local") {
        if (!st.bound.has(r.slot)) throw new Unsafe([head]);
        if (rest.length === 0) return slotTerm(r.slot);
        return this.refOps(slotEv(r.slot), rest, st);
      }
      return this.refOps((c) => c.input, rest, st);
    }
    const base = this.compileTerm(head, st);
    if (base.ev !== null) return this.refOps(base.ev, rest, st);
    const ops = rest.map((t) => this.compileOperand(t, st));
    const en: EnumFn = (c, f, k) => base.en(c, f, (v) => navigate(c, f, v, ops, 0, k));
    return { ev: null, en };
  }

  /** A reference from a base value through operands. */
  private refOps(base: ValFn, rest: Term[], st: State): CTerm {
    const ops = rest.map((t) => this.compileOperand(t, st));
    if (ops.every((o) => o.kind === "val" && o.en === null)) {
      const keys = rest.map(scalarValueOf);
      if (keys.every((x) => x !== undefined)) {
        // `input.review.object.spec`: constant keys, looked up without calling a closure for each.
        const ks = keys as Value[];
        const n = ks.length;
        const ev: ValFn = (c, f) => {
          let v = base(c, f);
          for (let i = 0; i < n && v !== undefined; i++) v = lookup(v, ks[i]);
          return v;
        };
        return { ev, en: evToEn(ev) };
      }
      const fns = ops.map((o) => (o as { fn: ValFn }).fn);
      const n = fns.length;
      const ev: ValFn = (c, f) => {
        let v = base(c, f);
        for (let i = 0; i < n && v !== undefined; i++) {
          const key = fns[i](c, f);
          if (key === undefined) return undefined;
          v = lookup(v, key);
        }
        return v;
      };
      return { ev, en: evToEn(ev) };
    }
    const en: EnumFn = (c, f, k) => navigate(c, f, base(c, f), ops, 0, k);
    return { ev: null, en };
  }

  private compileDataRef(path: string[], rest: Term[], st: State, ref: RefTerm): CTerm {
    // Consume leading string operands into the static path while the tree has nodes for them.
    const full = path.slice();
    let i = 0;
    while (i < rest.length && rest[i].type === "string") {
      full.push((rest[i] as { value: string }).value);
      i++;
    }
    let node: TreeNode | null = this.root;
    let depth = 0;
    for (; depth < full.length && node !== null; depth++) {
      if (node.hasDocRules) break;
      node = node.children.get(full[depth]) ?? null;
    }
    if (node !== null && node.isFunction && !node.hasDocRules) {
      if (node.declArity !== 0 || depth !== full.length) {
        throw RegoError.single("rego_type_error", `function ${node.dataPath()} must be called with arguments`, ref.loc);
      }
      // A zero-argument function read as a document: its value.
      this.addDep(st, node, false);
      const fnode = node;
      const restOps = rest.slice(i).map((t) => this.compileOperand(t, st));
      const loc = ref.loc;
      return { ev: null, en: (c, f, k) => navigate(c, f, callFunction(c, fnode, [], loc), restOps, 0, k) };
    }
    this.addDepPattern(st, [...full, ...rest.slice(i).map((t) => {
      const cv = constValueOf(t);
      return typeof cv === "string" || typeof cv === "number" ? String(cv) : null;
    })]);
    // A rule's whole document (`data.p.q`, a rule's name): a cached lookup, built apart so that
    // its closures hold only the node and the path (programs may hold tens of thousands).
    if (node !== null && node.hasDocRules && depth === full.length && i === rest.length) return docTerm(this.root, node, full);
    const prefix = full.slice(0, depth);
    const dynamic = [...full.slice(depth).map((s) => ({ type: "string", value: s, loc: ref.loc }) as Term), ...rest.slice(i)];
    const ops = dynamic.map((t) => {
      const o = this.compileOperand(t, st);
      return o.kind === "val" ? valOperand(o.fn, o.en, true) : o;
    });
    const allOps: Operand[] = [...full.slice(0, depth).map((s) => valOperand(() => s, null)), ...ops];
    const root = this.root;
    const staticNode = node;
    const en: EnumFn = (c, f, k) => {
      if (c.overrides !== null) return dataRef(c, f, root, c.data, c.overrides, allOps, 0, k);
      let base: Value | undefined = c.data;
      for (let j = 0; j < prefix.length && base !== undefined; j++) base = lookup(base, prefix[j]);
      if (staticNode === null) return navigate(c, f, base, ops, 0, k);
      return dataRef(c, f, staticNode, base, null, ops, 0, k);
    };
    // Fast path: a reference to a rule's document (data.pkg.allow) is a cached lookup.
    if (staticNode !== null && staticNode.hasDocRules && ops.every((o) => o.kind === "val" && o.en === null)) {
      const fns = ops.map((o) => (o as { fn: ValFn }).fn);
      const ev: ValFn = (c, f) => {
        if (c.overrides !== null) return enToEv(en)(c, f);
        if (fns.length > 0 && staticNode.suffixRules.length > 0 && !c.docCache.has(staticNode)) {
          // Keys into an object built by rules with variable keys, not yet computed whole: only
          // their path is read (docValueAt). Once the whole object is cached, a lookup below.
          const keys: Value[] = [];
          for (let j = 0; j < fns.length; j++) {
            const key = fns[j](c, f);
            if (key === undefined) return undefined;
            keys.push(key);
          }
          return docValueAt(c, staticNode, undefined, keys);
        }
        let v = docValue(c, staticNode, undefined);
        for (let j = 0; j < fns.length && v !== undefined; j++) {
          const key = fns[j](c, f);
          if (key === undefined) return undefined;
          v = lookup(v, key);
        }
        return v;
      };
      return { ev, en: evToEn(ev) };
    }
    return { ev: null, en };
  }

  private compileOperand(t: Term, st: State): Operand {
    if (t.type === "var" && !this.isNonLocal(t.name, st)) {
      const slot = this.varSlot(t, st);
      if (st.bound.has(slot)) return valOperand((_c, f) => f[slot], null);
      st.bound.add(slot);
      return varOperand(slot);
    }
    if (this.needsBinding(t, st)) return patternOperand(this.compilePattern(t, st, false));
    const ct = this.compileTerm(t, st);
    return valOperand(ct.ev ?? enToEv(ct.en), ct.ev ? null : ct.en);
  }

  // ---- Patterns and unification --------------------------------------------------------------

  /** The slot a pattern variable binds: a fresh local (unless the same pattern already bound the name: f(x, x)), or the variable's own. */
  private patternSlot(t: VarTerm, st: State, declareFresh: boolean): number {
    if (!declareFresh) return this.varSlot(t, st);
    const existing = st.scope.vars.get(t.name);
    if (existing !== undefined && st.bound.has(existing)) return existing;
    const slot = st.newSlot(t.name);
    st.scope.vars.set(t.name, slot);
    st.scope.declared.add(t.name);
    return slot;
  }

  /** Compile a pattern that matches a value, binding its unbound variables. */
  private compilePattern(t: Term, st: State, declareFresh: boolean, valTy?: TyFn): MatchFn {
    if ((t.type === "array" || t.type === "object") && deeperThan(t, FLAT_DEPTH)) return this.compileDeepPattern(t, st, declareFresh, valTy);
    switch (t.type) {
      case "var": {
        if (isWildcard(t.name)) return simplePattern((_c, _f, _v, k) => k(), PAT_ANY, -1, null);
        if (!declareFresh && this.isNonLocal(t.name, st)) break;
        const slot = this.patternSlot(t, st, declareFresh);
        if (st.bound.has(slot)) {
          return simplePattern((_c, f, v, k) => (equal(f[slot] as Value, v) ? k() : false), PAT_SAME, slot, null);
        }
        st.bound.add(slot);
        if (valTy) st.types.set(slot, valTy);
        return simplePattern(
          (_c, f, v, k) => {
            f[slot] = v;
            const r = k();
            f[slot] = undefined;
            return r;
          },
          PAT_BIND,
          slot,
          null,
        );
      }
      case "array": {
        if (!t.items.some((i) => declareFresh || this.needsBinding(i, st))) break;
        const items = t.items.map((i, idx) => this.compilePattern(i, st, declareFresh, valTy ? () => Ty.indexOf(valTy(), idx) : undefined));
        const n = items.length;
        const step = (c: Ctx, f: Frame, v: Value[], i: number, k: K): boolean =>
          i === n ? k() : items[i](c, f, v[i], () => step(c, f, v, i + 1, k));
        return (c, f, v, k) => (Array.isArray(v) && v.length === n ? step(c, f, v, 0, k) : false);
      }
      case "object": {
        if (!t.items.some(([, i]) => declareFresh || this.needsBinding(i, st))) break;
        const keys = t.items.map(([kt]) => {
          const ct = this.compileTerm(kt, st);
          return ct.ev ?? enToEv(ct.en);
        });
        const vals = t.items.map(([kt, vt]) => {
          const kv = constValueOf(kt);
          return this.compilePattern(vt, st, declareFresh, valTy ? () => Ty.indexOf(valTy(), kv) : undefined);
        });
        const n = keys.length;
        if (vals.every((m) => (m as SimpleTagged)[SIMPLE] !== undefined)) return directObjectPattern(keys, vals.map((m) => (m as SimpleTagged)[SIMPLE]!));
        const step = (c: Ctx, f: Frame, v: Value, i: number, k: K): boolean => {
          if (i === n) return k();
          const key = keys[i](c, f);
          if (key === undefined) return false;
          const x = lookup(v, key);
          if (x === undefined) return false;
          return vals[i](c, f, x, () => step(c, f, v, i + 1, k));
        };
        return (c, f, v, k) => {
          if (!isObject(v) || objectSize(v) !== n) return false;
          return step(c, f, v, 0, k);
        };
      }
    }
    const ct = this.compileTerm(t, st);
    if (ct.ev !== null) {
      const ev = ct.ev;
      return simplePattern(
        (c, f, v, k) => {
          const x = ev(c, f);
          return x !== undefined && equal(x, v) ? k() : false;
        },
        PAT_EQ,
        -1,
        ev,
      );
    }
    return (c, f, v, k) => ct.en(c, f, (x) => (equal(x, v) ? k() : false));
  }

  /**
   * compilePattern for a pattern nested deeper than FLAT_DEPTH (`[[[…[v]…]]] = …` thousands
   * deep), without recursion at compile time or when matching: the pattern becomes a list of
   * steps in the order compilePattern would match its parts (depth first, left to right), each
   * reading the value it checks from a register that an earlier step filled. Only a part whose
   * value is enumerated (not computed) continues the match from a callback.
   */
  private compileDeepPattern(root: Term, st: State, declareFresh: boolean, valTy?: TyFn): MatchFn {
    // Which parts contain variables to bind (needsBinding, computed bottom-up once).
    const needs = new Map<Term, boolean>();
    const post: Term[] = [];
    const todo: Term[] = [root];
    while (todo.length > 0) {
      const x = todo.pop()!;
      post.push(x);
      if (x.type === "array") for (const i of x.items) todo.push(i);
      else if (x.type === "object") for (const [, v] of x.items) todo.push(v);
    }
    for (let i = post.length - 1; i >= 0; i--) {
      const x = post[i];
      if (x.type === "var") needs.set(x, this.needsBinding(x, st));
      else if (x.type === "array") needs.set(x, constValueOf(x) === undefined && x.items.some((y) => needs.get(y)!));
      else if (x.type === "object") needs.set(x, constValueOf(x) === undefined && x.items.some(([, y]) => needs.get(y)!));
      else needs.set(x, false);
    }
    type Path = { up: Path | null; key: unknown } | null;
    const tyAt = valTy === undefined ? () => undefined : (path: Path): TyFn => () => {
      const keys: unknown[] = [];
      for (let p = path; p !== null; p = p.up) keys.push(p.key);
      let ty = valTy();
      for (let i = keys.length - 1; i >= 0; i--) ty = Ty.indexOf(ty, keys[i]);
      return ty;
    };
    type Step =
      | { k: 0; src: number; n: number; dst: number }
      | { k: 1; src: number; keys: ((c: Ctx, f: Frame) => Value | undefined)[]; dst: number }
      | { k: 2; src: number; slot: number }
      | { k: 3; src: number; slot: number }
      | { k: 4; src: number; ev: (c: Ctx, f: Frame) => Value | undefined }
      | { k: 5; src: number; en: CTerm["en"] };
    const steps: Step[] = [];
    const bindSlots: number[] = [];
    let nregs = 1;
    const work: { t: Term; reg: number; path: Path }[] = [{ t: root, reg: 0, path: null }];
    while (work.length > 0) {
      const { t, reg, path } = work.pop()!;
      if (t.type === "array" && t.items.some((i) => declareFresh || needs.get(i)!)) {
        const dst = nregs;
        nregs += t.items.length;
        steps.push({ k: 0, src: reg, n: t.items.length, dst });
        for (let i = t.items.length - 1; i >= 0; i--) work.push({ t: t.items[i], reg: dst + i, path: { up: path, key: i } });
        continue;
      }
      if (t.type === "object" && t.items.some(([, i]) => declareFresh || needs.get(i)!)) {
        const keys = t.items.map(([kt]) => {
          const ct = this.compileTerm(kt, st);
          return ct.ev ?? enToEv(ct.en);
        });
        const dst = nregs;
        nregs += t.items.length;
        steps.push({ k: 1, src: reg, keys, dst });
        for (let i = t.items.length - 1; i >= 0; i--) work.push({ t: t.items[i][1], reg: dst + i, path: { up: path, key: constValueOf(t.items[i][0]) } });
        continue;
      }
      if (t.type === "var" && (declareFresh || !this.isNonLocal(t.name, st))) {
        if (isWildcard(t.name)) continue;
        const slot = this.patternSlot(t, st, declareFresh);
        if (st.bound.has(slot)) {
          steps.push({ k: 3, src: reg, slot });
          continue;
        }
        st.bound.add(slot);
        if (valTy) st.types.set(slot, tyAt(path)!);
        steps.push({ k: 2, src: reg, slot });
        bindSlots.push(slot);
        continue;
      }
      const ct = this.compileTerm(t, st);
      steps.push(ct.ev !== null ? { k: 4, src: reg, ev: ct.ev } : { k: 5, src: reg, en: ct.en });
    }
    const n = steps.length;
    return (c, f, v, k) => {
      const regs: Value[] = new Array(nregs);
      regs[0] = v;
      const run = (from: number): boolean => {
        for (let i = from; i < n; i++) {
          const s = steps[i];
          const x = regs[s.src];
          switch (s.k) {
            case 0:
              if (!Array.isArray(x) || x.length !== s.n) return false;
              for (let j = 0; j < s.n; j++) regs[s.dst + j] = x[j];
              break;
            case 1: {
              if (!isObject(x) || objectSize(x) !== s.keys.length) return false;
              for (let j = 0; j < s.keys.length; j++) {
                const key = s.keys[j](c, f);
                if (key === undefined) return false;
                const y = lookup(x, key);
                if (y === undefined) return false;
                regs[s.dst + j] = y;
              }
              break;
            }
            case 2:
              f[s.slot] = x;
              break;
            case 3:
              if (!equal(f[s.slot] as Value, x)) return false;
              break;
            case 4: {
              const y = s.ev(c, f);
              if (y === undefined || !equal(y, x)) return false;
              break;
            }
            case 5:
              return s.en(c, f, (y) => (equal(y, x) ? run(i + 1) : false));
          }
        }
        return k();
      };
      try {
        return run(0);
      } finally {
        for (const slot of bindSlots) f[slot] = undefined;
      }
    };
  }

  private compileUnify(a: Term, b: Term, st: State): ExprFn {
    const na = this.needsBinding(a, st);
    const nb = this.needsBinding(b, st);
    if (!na && !nb) {
      const ca = this.compileTerm(a, st);
      const cb = this.compileTerm(b, st);
      if (ca.ev !== null && cb.ev !== null) {
        const ea = ca.ev;
        const eb = cb.ev;
        const test = (c: Ctx, f: Frame): boolean => {
          const x = ea(c, f);
          if (x === undefined) return false;
          const y = eb(c, f);
          return y !== undefined && equal(x, y);
        };
        return det((c, f, k) => (test(c, f) ? k() : false), test);
      }
      return (c, f, k) => ca.en(c, f, (x) => cb.en(c, f, (y) => (equal(x, y) ? k() : false)));
    }
    if (na && nb) {
      if (a.type === "array" && b.type === "array" && a.items.length === b.items.length) {
        return this.unifyPairs(a.items.map((x, i) => [x, b.items[i]] as [Term, Term]), st);
      }
      if (a.type === "object" && b.type === "object" && a.items.length === b.items.length) {
        if (constKeys(a) && constKeys(b)) return this.unifyObjects(a, b, st);
        const pairs: [Term, Term][] = [];
        for (const [ka, va] of a.items) {
          const kv = constValueOf(ka);
          const other = b.items.find(([kb]) => kv !== undefined && equal(constValueOf(kb) as Value, kv));
          if (!other) return () => false;
          pairs.push([va, other[1]]);
        }
        return this.unifyPairs(pairs, st);
      }
      // x = [y] with both unbound: neither side can be evaluated.
      const vars: VarTerm[] = [];
      this.collectUnbound(a, st, vars);
      this.collectUnbound(b, st, vars);
      throw new Unsafe(vars);
    }
    const [pat, val] = na ? [a, b] : [b, a];
    // Objects whose constant keys differ: OPA binds what the common keys bind (then fails).
    if (pat.type === "object" && val.type === "object" && pat.items.length === val.items.length && constKeys(pat) && constKeys(val) && !shapesCanUnify(pat, val)) {
      return this.unifyObjects(pat, val, st);
    }
    if (!shapesCanUnify(pat, val)) {
      // Literals of different shapes never unify, so the pattern's variables are never bound.
      const vars: VarTerm[] = [];
      this.collectUnbound(pat, st, vars);
      throw new Unsafe(vars);
    }
    const cv = this.compileTerm(val, st);
    // `x = v` with x an unbound variable binds it, with one solution at most: a direct form (as
    // `x := v`), so that a run of them is evaluated in a loop rather than one continuation
    // inside the other (a chain of 40,000 `b0 = b1` exhausted the stack).
    const pv = pat.type === "ref" && pat.terms.length === 1 && pat.terms[0].type === "var" ? pat.terms[0] : pat;
    const named = pv.type === "var" && !isWildcard(pv.name);
    const before = named ? st.scope.find(pv.name) : undefined;
    const boundBefore = before !== undefined && st.bound.has(before);
    const pm = this.compilePattern(pat, st, false, this.typeOf(val, st));
    // (the pattern declares a variable it meets first)
    const slot = named ? st.scope.find(pv.name) : undefined;
    const binds = slot !== undefined && !boundBefore;
    return matchValue(cv, pm, binds ? slot! : -1);
  }

  /**
   * Two object literals of the same size. As OPA's safety analysis (ast/unify.go), only the values
   * under keys both objects have are unified; a variable only under a key of one side is never
   * bound (unsafe), and objects whose keys differ never unify (OPA's type check: match error).
   */
  private unifyObjects(a: Term & { type: "object" }, b: Term & { type: "object" }, st: State): ExprFn {
    const pairs: [Term, Term][] = [];
    const lone: Term[] = [];
    const matched = new Set<number>();
    for (const [ka, va] of a.items) {
      const kv = constValueOf(ka);
      const j = kv === undefined ? -1 : b.items.findIndex(([kb], i) => !matched.has(i) && equal(constValueOf(kb) as Value, kv));
      if (j < 0) lone.push(va);
      else {
        matched.add(j);
        pairs.push([va, b.items[j][1]]);
      }
    }
    if (lone.length === 0) return this.unifyPairs(pairs, st);
    b.items.forEach(([, vb], i) => matched.has(i) || lone.push(vb));
    // What the common keys bind is bound for the expressions after this one.
    this.unifyPairs(pairs, st);
    const vars: VarTerm[] = [];
    for (const t of lone) this.collectUnbound(t, st, vars);
    if (vars.length > 0) throw new Unsafe(vars);
    return () => false;
  }

  private unifyPairs(pairs: [Term, Term][], st: State): ExprFn {
    const pending = pairs.slice();
    const fns: ExprFn[] = [];
    while (pending.length) {
      let ok = false;
      for (let i = 0; i < pending.length; i++) {
        const snap = st.mark();
        try {
          fns.push(this.compileUnify(pending[i][0], pending[i][1], st));
          pending.splice(i, 1);
          ok = true;
          break;
        } catch (e) {
          if (!(e instanceof Unsafe)) throw e;
          st.undo(snap);
        }
      }
      if (!ok) return this.compileUnify(pending[0][0], pending[0][1], st);
    }
    if (fns.length === 0) return (_c, _f, k) => k();
    let fn = fns[fns.length - 1];
    for (let i = fns.length - 2; i >= 0; i--) fn = seq(fns[i], fn);
    return fn;
  }

  private collectUnbound(t: Term, st: State, out: VarTerm[]): void {
    if (t.type === "var") {
      if (isWildcard(t.name)) return;
      if (!this.isNonLocal(t.name, st)) {
        const s = st.scope.find(t.name);
        if (s === undefined || !st.bound.has(s)) out.push(t);
      }
    } else if (t.type === "array") t.items.forEach((i) => this.collectUnbound(i, st, out));
    else if (t.type === "object") t.items.forEach(([, v]) => this.collectUnbound(v, st, out));
  }

  private compileAssign(a: Term, b: Term, st: State, loc: Location): ExprFn {
    // Variables on the left are new locals: declare them (shadowing outer ones).
    const vars: VarTerm[] = [];
    if (a.type === "ref" && a.terms.length === 1 && a.terms[0].type === "var") a = a.terms[0];
    const collect = (t: Term) => {
      if (t.type === "var") vars.push(t);
      else if (t.type === "array") t.items.forEach(collect);
      else if (t.type === "object") t.items.forEach(([, v]) => collect(v));
    };
    collect(a);
    if (vars.length === 0 && a.type !== "array" && a.type !== "object") {
      throw RegoError.single("rego_compile_error", `cannot assign to ${a.type}`, loc);
    }
    const cv = this.compileTerm(b, st);
    for (const v of vars) {
      if (isWildcard(v.name)) continue;
      if ((v.name === "input" || v.name === "data") && st.mod.v1) {
        throw RegoError.single("rego_compile_error", `variables must not shadow ${v.name} (use a different variable name)`, v.loc);
      }
      this.declare(v, st);
    }
    const slot = a.type === "var" && !isWildcard(a.name) ? st.scope.find(a.name) : undefined;
    const binds = slot !== undefined && !st.bound.has(slot);
    const pm = this.compilePattern(a, st, false, this.typeOf(b, st));
    return matchValue(cv, pm, binds ? slot! : -1);
  }

  // ---- some … in, every ----------------------------------------------------------------------

  /** Traced trees: the slot that keeps the key of `some v in xs` (for its Unify event, see unifyOf). */
  private someKeySlots = new Map<Expr, number>();

  private compileSomeIn(key: Term | null, value: Term, coll: Term, st: State, e?: Expr): ExprFn {
    // `some x in xs` declares x: naming a variable already used in this body is an error.
    const declared: VarTerm[] = [];
    const collectVars = (t: Term | null) => {
      if (!t) return;
      if (t.type === "var") declared.push(t);
      else if (t.type === "array") t.items.forEach(collectVars);
      else if (t.type === "object") t.items.forEach(([, v]) => collectVars(v));
    };
    collectVars(key);
    collectVars(value);
    for (const v of declared) {
      if (!isWildcard(v.name) && st.scope.vars.has(v.name) && st.bound.has(st.scope.vars.get(v.name)!)) {
        throw RegoError.single("rego_compile_error", `var ${v.name} referenced above`, v.loc);
      }
    }
    const cc = this.compileTerm(coll, st);
    const ct = this.typeOf(coll, st);
    const loc = coll.loc;
    this.checks.push(() => {
      const t = ct();
      if (t.k !== 0 && (t.k & (Ty.K_ARR | Ty.K_OBJ | Ty.K_SET)) === 0) {
        return { code: "rego_type_error", message: `match error\n\tleft  : ???\n\tright : ${Ty.tyString(t)}`, location: loc };
      }
      // `some [x, y] in [[1, 2, 3]]`: an array pattern whose length no element can have.
      const el = Ty.elemOf(t);
      if (value.type === "array" && el.k === Ty.K_ARR && el.items && el.items.length !== value.items.length) {
        return { code: "rego_type_error", message: `match error\n\tleft  : array<${value.items.map(() => "any").join(", ")}>\n\tright : ${Ty.tyString(el)}`, location: value.loc };
      }
      return null;
    });
    const kp = key ? this.compilePattern(key, st, true, () => (ct().k === Ty.K_ARR ? Ty.T_NUM : ct().k === Ty.K_SET ? Ty.elemOf(ct()) : Ty.ANY)) : null;
    const vp = this.compilePattern(value, st, true, () => Ty.elemOf(ct()));
    if (kp === null && this.tracing && e !== undefined) {
      const ks = st.newSlot("$key");
      this.someKeySlots.set(e, ks);
      return (c, f, k) => cc.en(c, f, (cv) => enumerate(c, cv, (kk, val) => ((f[ks] = kk), vp(c, f, val, k))));
    }
    if (kp === null) {
      const fn: ExprFn = (c, f, k) => cc.en(c, f, (cv) => enumerate(c, cv, (_key, val) => vp(c, f, val, k)));
      const sp = (vp as SimpleTagged)[SIMPLE];
      if (sp === undefined || sp.kind !== PAT_BIND) return fn;
      const ccen = cc.en;
      return iter(fn, (c, f, g) => ccen(c, f, (cv) => enumerate(c, cv, (_key, val) => g(val))), sp.slot);
    }
    return (c, f, k) => cc.en(c, f, (cv) => enumerate(c, cv, (kk, val) => kp(c, f, kk, () => vp(c, f, val, k))));
  }

  private compileEvery(key: VarTerm | null, value: VarTerm, domain: Term, body: Body, st: State, e: Expr): ExprFn {
    const dom = this.compileTerm(domain, st);
    const est = st.child();
    const ks = key ? this.declare(key, est) : -1;
    const vs = this.declare(value, est);
    if (ks >= 0) est.bound.add(ks);
    est.bound.add(vs);
    const b = this.compileBody(body, est);
    if (this.tracing) {
      const every: TraceNode = { kind: "expr", text: exprText({ ...e, negated: false, with: [] }, st), expr: e };
      const gen: TraceNode = { kind: "expr", text: `${withResolver(resolverOf(st), () => rawExprText({ node: { type: "term", term: domain }, negated: false, with: [], loc: domain.loc }))}[${key ? key.name : (st.mod.traceKeys?.get(e) ?? "_")}] = ${value.name}`, expr: null };
      const bnode: TraceNode = { kind: "body", text: bodyText(body, st), body };
      const names: [string, string] = [key ? (isWildcard(key.name) ? "_" : key.name) : (st.mod.traceKeys?.get(e) ?? "_"), value.name];
      return tracedEvery(dom, b, ks, vs, every, gen, bnode, e.loc, body.length > 0 ? body[0].loc : e.loc, names);
    }
    return (c, f, k) =>
      dom.en(c, f, (d) => {
        // Over a value that is not a collection, `every` is undefined (as in OPA).
        if (d === null || typeof d !== "object" || d instanceof BigDec) return false;
        const failed = enumerate(c, d, (kk, vv) => {
          if (ks >= 0) f[ks] = kk;
          f[vs] = vv;
          const found = b(c, f, K_TRUE);
          if (ks >= 0) f[ks] = undefined;
          f[vs] = undefined;
          return !found;
        });
        return failed ? false : k();
      });
  }

  // ---- Calls ---------------------------------------------------------------------------------

  /**
   * `f()` where f is a rule of complete documents, not a function: OPA evaluates the rule (a
   * Gatekeeper library template calls `allowed_sysctl_string()` so) when the type checker cannot
   * tell the rule's type, and reports `undefined function` when it can. The node, or null.
   */
  private zeroArgRule(op: RefTerm, st: State): TreeNode | null {
    const path = this.callPath(op, st);
    if (path === null) return null;
    let node: TreeNode | null = this.root;
    for (const p of path) {
      node = node.children.get(p) ?? null;
      if (node === null) return null;
    }
    if (node.isFunction || !node.hasDocRules || node.multi.length > 0 || node.suffixRules.length > 0 || node.children.size > 0) return null;
    return node;
  }

  /** `f()` of a complete rule (see zeroArgRule): its value, after a type check. */
  private ruleCallTerm(op: RefTerm, node: TreeNode, st: State, loc: Location): RefTerm {
    this.checks.push(() => {
      const t = this.nodeType(node, false);
      return t.k === Ty.K_ANY ? null : { code: "rego_type_error", message: `undefined function ${node.dataPath()}`, location: loc };
    });
    return { type: "ref", terms: op.terms, loc };
  }

  /** The data path a call's operator names (a rule, an import, data.…), or null (a builtin). */
  private callPath(op: RefTerm, st: State): string[] | null {
    const parts = op.terms.map((t) => (t.type === "var" ? t.name : t.type === "string" ? t.value : ""));
    const first = parts[0];
    if (first === "data") return parts.slice(1);
    if (st.scope.find(first) === undefined && st.mod.ruleNames.has(first)) return [...st.mod.pkg, ...parts];
    if (st.mod.imports.has(first)) {
      const imp = st.mod.imports.get(first)!;
      const head = imp[0];
      if (head.type === "var" && head.name === "data") {
        const path: string[] = [];
        for (let i = 1; i < imp.length; i++) {
          const t = imp[i];
          if (t.type === "string") path.push(t.value);
        }
        path.push(...parts.slice(1));
        return path;
      }
    }
    return null;
  }

  private resolveCall(op: RefTerm, st: State, loc: Location, nargs = 0): CallTarget {
    const name = opName(op);
    // Segments as written: data.x["a.b"](…) has the segment "a.b".
    const parts = op.terms.map((t) => (t.type === "var" ? t.name : t.type === "string" ? t.value : ""));
    let path: string[] | null = null;
    const first = parts[0];
    if (first === "data") path = parts.slice(1);
    else if (st.scope.find(first) === undefined && st.mod.ruleNames.has(first)) path = [...st.mod.pkg, ...parts];
    else if (st.mod.imports.has(first)) {
      const imp = st.mod.imports.get(first)!;
      const head = imp[0];
      if (head.type === "var" && head.name === "data") {
        path = [];
        for (let i = 1; i < imp.length; i++) {
          const t = imp[i];
          if (t.type === "string") path.push(t.value);
        }
        path.push(...parts.slice(1));
      }
    }
    if (path !== null) {
      let node: TreeNode | null = this.root;
      for (const p of path) {
        node = node.children.get(p) ?? null;
        if (node === null) break;
      }
      if (node !== null && node.isFunction) {
        this.addDep(st, node, false);
        return { kind: "func", node, name: node.dataPath(), arity: node.declArity };
      }
      if (node !== null && node.hasDocRules) {
        // A rule that is not a function, called (even through an operator named like it: a rule
        // `lt` makes `a < b` call it, as in OPA).
        // `f()` of a rule `f() := 1` (a plain rule, as in OPA) names no function at all.
        if (nargs === 0) throw RegoError.single("rego_type_error", `undefined function ${node.dataPath()}`, loc);
        throw RegoError.single("rego_type_error", `function ${node.dataPath()} has arity 0, got ${nargs} argument${nargs === 1 ? "" : "s"}`, loc);
      }
      if (first !== "data" || !this.builtins.has(name)) {
        throw RegoError.single("rego_type_error", `undefined function ${["data", ...path].join(".")}`, loc);
      }
    }
    let b = this.builtins.get(name);
    if (!b) throw RegoError.single("rego_type_error", `undefined function ${name}`, loc);
    if (this.tracing && name === "trace") b = noteBuiltin(b);
    // Rego v1 modules may not call the deprecated builtins (re_match, set_diff, cast_*, any, all,
    // net.cidr_overlap); queries still may, as in OPA.
    if (b.deprecated && st.mod.v1 && st.mod.module) {
      throw RegoError.single("rego_type_error", `deprecated built-in function calls in expression: ${name}`, loc);
    }
    return { kind: "builtin", b, name };
  }

  /** OPA's wording: "count: arity mismatch" for builtins, "function data.p.f has arity 1, got 2 arguments" for functions. */
  private arityError(target: CallTarget, name: string, got: number, loc: Location): RegoError {
    if (target.kind === "func") {
      return RegoError.single("rego_type_error", `function ${target.name} has arity ${target.arity}, got ${got} argument${got === 1 ? "" : "s"}`, loc);
    }
    return RegoError.single("rego_type_error", `${name}: arity mismatch`, loc);
  }

  private arityOf(t: CallTarget): number {
    if (t.kind === "func") return t.arity;
    return t.b.decl.args?.length ?? 0;
  }

  /** Compile the argument terms and produce a function that calls the target with their values. */
  private compileInvoke(target: CallTarget, args: Term[], st: State, loc: Location): CTerm {
    // Arguments that bind variables in reference operands go first (`x == input.xs[x]`).
    const cargs: CTerm[] = new Array(args.length);
    const order: number[] = [];
    let pending = args.map((_, i) => i);
    while (pending.length) {
      const next: number[] = [];
      let lastErr: Unsafe | null = null;
      for (const i of pending) {
        const snap = st.mark();
        try {
          cargs[i] = this.compileTerm(args[i], st);
          order.push(i);
        } catch (e) {
          if (!(e instanceof Unsafe)) throw e;
          st.undo(snap);
          lastErr = e;
          next.push(i);
        }
      }
      if (next.length === pending.length) throw lastErr!;
      pending = next;
    }
    const invoke = this.invoker(target, loc);
    const isRelation = target.kind === "builtin" && target.b.relation === true;
    if (cargs.every((a) => a.ev !== null) && !isRelation) return invokeValues(cargs.map((a) => a.ev!), invoke, target.name, directCall(target, loc));
    return invokeEnum(cargs, order, invoke);
  }

  /** For compileFlat: a single-valued call of the target (or of its `with` replacement). */
  private flatCall(target: CallTarget): (c: Ctx, vals: Value[], loc: Location) => Value | undefined {
    const mockKey = target.name;
    return (c, vals, loc) => {
      if (c.mocks !== null && c.mocks.has(mockKey)) {
        let out: Value | undefined;
        this.invoker(target, loc)(c, vals, (v) => ((out = v), true));
        return out;
      }
      return target.kind === "func" ? callFunction(c, target.node, vals, loc) : callBuiltin(c, target.b, vals, loc);
    };
  }

  /** Calls the target with argument values (or the `with` replacement in effect for it). */
  private invoker(target: CallTarget, loc: Location): (c: Ctx, vals: Value[], k: (v: Value) => boolean) => boolean {
    const mockKey = target.name;
    const direct = this.directInvoker(target, loc);
    return (c, vals, k) => {
      if (c.mocks !== null) {
        const m = c.mocks.get(mockKey);
        if (m !== undefined) {
          // Inside a replacement no mock applies: the replaced function is the original again,
          // and one mock never calls another (as in OPA).
          const saved = c.mocks;
          const scoped = null;
          c.mocks = scoped;
          try {
            return this.invokeMock(c, m, vals, loc, (v) => {
              c.mocks = saved;
              try {
                return k(v);
              } finally {
                c.mocks = scoped;
              }
            });
          } finally {
            c.mocks = saved;
          }
        }
      }
      return direct(c, vals, k);
    };
  }

  private directInvoker(target: CallTarget, loc: Location): (c: Ctx, vals: Value[], k: (v: Value) => boolean) => boolean {
    if (target.kind === "func") {
      const node = target.node;
      return (c, vals, k) => {
        const v = callFunction(c, node, vals, loc);
        return v === undefined ? false : k(v);
      };
    }
    const b = target.b;
    if (b.relation) {
      return (c, vals, k) => {
        const out = callBuiltin(c, b, vals, loc);
        if (!Array.isArray(out)) return false;
        for (const v of out) if (k(v)) return true;
        return false;
      };
    }
    return (c, vals, k) => {
      const v = callBuiltin(c, b, vals, loc);
      return v === undefined ? false : k(v);
    };
  }

  private invokeMock(c: Ctx, m: Mock, vals: Value[], loc: Location, k: (v: Value) => boolean): boolean {
    if ("value" in m) return k(m.value);
    if ("node" in m) {
      const v = callFunction(c, m.node, vals, loc);
      return v === undefined ? false : k(v);
    }
    if (m.builtin.relation) {
      const out = callBuiltin(c, m.builtin, vals, loc);
      if (!Array.isArray(out)) return false;
      for (const v of out) if (k(v)) return true;
      return false;
    }
    const v = callBuiltin(c, m.builtin, vals, loc);
    return v === undefined ? false : k(v);
  }

  /** rego.metadata.rule() and rego.metadata.chain(): constants of the rule that calls them. */
  private metadataValue(name: string, st: State): Value | undefined {
    if (st.rule === null || !st.mod.module) return undefined;
    const r = st.rule;
    const strip = (a: Annotation) => fromJS(annotationJSON(a));
    const ruleAnn = r.annotations.find((a) => a.scope === "rule");
    if (name === "rego.metadata.rule") return ruleAnn ? strip(ruleAnn) : fromJS({});
    // As OPA's AnnotationSet.Chain: the rule's own annotations, the document's (from any rule
    // at the same path, in any module), the package's (from any module of the package), then
    // the subpackages annotations of the package and of each enclosing package, innermost first.
    const chain: Value[] = [];
    const groundPrefix = (rule: Rule): string[] => {
      const out: string[] = [];
      for (let i = 0; i < rule.head.ref.length; i++) {
        const t = rule.head.ref[i];
        if (i === 0 && t.type === "var") out.push(t.name);
        else if (t.type === "string") out.push(t.value);
        else break;
      }
      return out;
    };
    const path = [...st.mod.pkg, ...groundPrefix(r)];
    const same = (a: string[], b: string[]) => a.length === b.length && a.every((x, i) => x === b[i]);
    const ruleAnns = r.annotations.filter((a) => a.scope === "rule");
    if (ruleAnns.length === 0) chain.push(makeObject([["path", path]]));
    for (const a of ruleAnns) chain.push(makeObject([["path", path], ["annotations", strip(a)]]));
    let doc: Annotation | undefined;
    for (const m of this.modules) {
      const mp = this.pkgPath(m);
      for (const r2 of m.rules) {
        const d = r2.annotations.find((a) => a.scope === "document");
        if (d && doc === undefined && same([...mp, ...groundPrefix(r2)], path)) doc = d;
      }
    }
    if (doc) chain.push(makeObject([["path", path], ["annotations", strip(doc)]]));
    const pkgAnn = this.modules.filter((m) => same(this.pkgPath(m), st.mod.pkg)).flatMap((m) => m.annotations.filter((a) => a.scope === "package"))[0];
    if (pkgAnn) chain.push(makeObject([["path", [...st.mod.pkg]], ["annotations", strip(pkgAnn)]]));
    for (let n = st.mod.pkg.length; n >= 0; n--) {
      const prefix = st.mod.pkg.slice(0, n);
      for (const m of this.modules) {
        if (!same(this.pkgPath(m), prefix)) continue;
        for (const a of m.annotations) if (a.scope === "subpackages") chain.push(makeObject([["path", prefix], ["annotations", strip(a)]]));
      }
    }
    return chain;
  }

  private compileCallTerm(t: CallTerm, st: State): CTerm {
    const name = opName(t.op);
    if (t.args.length === 0) {
      const rule = this.zeroArgRule(t.op, st);
      if (rule !== null) return this.compileTerm(this.ruleCallTerm(t.op, rule, st, t.loc), st);
    }
    if ((name === "rego.metadata.rule" || name === "rego.metadata.chain") && t.args.length === 0) {
      const v = this.metadataValue(name, st);
      if (v !== undefined) return constTerm(v);
    }
    // print has no value (OPA's type check: "print(x) used as value"); as a statement it is
    // compiled by compileCall
    if (name === "print") throw RegoError.single("rego_type_error", `${termString(t)} used as value`, t.loc);
    const target = this.resolveCall(t.op, st, t.loc, t.args.length);
    const arity = this.arityOf(target);
    const variadic = target.kind === "builtin" && target.b.decl.variadic !== undefined;
    if (!variadic && t.args.length !== arity) {
      throw this.arityError(target, name, t.args.length, t.loc);
    }
    this.typeCheckArgs(target, t.args, name, t.loc, st);
    return this.compileInvoke(target, t.args, st, t.loc);
  }

  private compileCallExpr(op: RefTerm, args: Term[], st: State, loc: Location, capture: number): ExprFn {
    const name = opName(op);
    if (name === "eq") return this.withCapture(this.compileUnify(args[0], args[1], st), capture);
    if (name === "assign") return this.withCapture(this.compileAssign(args[0], args[1], st, loc), capture);
    if (name === "print") return this.withCapture(this.compilePrint(args, st, loc), capture);
    if (name === "internal.print" && this.tracing && args.length === 1) return this.withCapture(this.compileInternalPrint(args[0], st, loc), capture);
    return this.compileCallOf(name, op, args, st, loc, capture);
  }

  private compileCallOf(name: string, op: RefTerm, args: Term[], st: State, loc: Location, capture: number): ExprFn {
    if (args.length === 0) {
      const rule = this.zeroArgRule(op, st);
      if (rule !== null) return this.compileExprNode({ node: { type: "term", term: this.ruleCallTerm(op, rule, st, loc) }, negated: false, with: [], loc }, st, capture);
    }
    const target = this.resolveCall(op, st, loc, args.length);
    const arity = this.arityOf(target);
    const variadic = target.kind === "builtin" && target.b.decl.variadic !== undefined;
    const hasResult = target.kind === "func" || target.b.decl.result !== undefined;
    if (!variadic && args.length === arity + 1 && hasResult) {
      // The last argument receives the result: f(x, y) binds y to f(x).
      this.typeCheckArgs(target, args.slice(0, arity), name, loc, st);
      const call = this.compileInvoke(target, args.slice(0, arity), st, loc);
      const out = args[arity];
      const resTy: TyFn = target.kind === "builtin" ? () => Ty.fromDecl(target.b.decl.result) : () => this.nodeType(target.node, true);
      const pm = this.compilePattern(out, st, false, resTy);
      let fn: ExprFn = (c, f, k) => call.en(c, f, (v) => pm(c, f, v, k));
      if (this.tracing && target.kind === "func" && out.type === "var") {
        // the function's Unify of its value with this output (see functionUnify)
        const inner = fn;
        const outName = isWildcard(out.name) ? "_" : out.name;
        fn = (c, f, k) => {
          c.traceOut = c.tracer !== null ? outName : null;
          try {
            return inner(c, f, k);
          } finally {
            c.traceOut = null;
          }
        };
      }
      return this.withCapture(fn, capture);
    }
    if (!variadic && args.length !== arity) {
      throw this.arityError(target, name, args.length, loc);
    }
    this.typeCheckArgs(target, args, name, loc, st);
    const call = this.compileInvoke(target, args, st, loc);
    if (capture >= 0 && this.queryKeepsFalse && !args.some((a) => this.hasLocalVars(a, st))) return (c, f, k) => call.en(c, f, (v) => ((f[capture] = v), k()));
    if (capture >= 0) return (c, f, k) => call.en(c, f, (v) => (v === false ? false : ((f[capture] = v), k())));
    return call.ev !== null ? testExpr(call.ev) : testEnum(call.en);
  }

  /** Builtin arguments are checked against the declaration (after all rules are compiled). */
  private typeCheckArgs(target: CallTarget, args: Term[], name: string, loc: Location, st?: State): void {
    if (target.kind === "func") {
      if (st) this.typeCheckFuncArgs(target.node, target.name, args, loc, st);
      return;
    }
    const decl = target.b.decl;
    const want = decl.args ?? [];
    if (!st) return;
    const tys = args.map((a) => this.typeOf(a, st));
    this.checks.push(() => {
      const have = tys.map((f) => f());
      for (let i = 0; i < have.length && i < want.length; i++) {
        if (!Ty.compatible(have[i], want[i])) {
          const haveS = have.map(Ty.tyString);
          const wantS = want.map(Ty.declString);
          if (decl.result) {
            haveS.push("???");
            wantS.push(Ty.declString(decl.result));
          }
          return {
            code: "rego_type_error",
            message: `${name}: invalid argument(s)\n\thave: (${haveS.join(", ")})\n\twant: (${wantS.join(", ")})`,
            location: loc,
          };
        }
      }
      return null;
    });
  }

  /** Each definition's inferred parameter types (null: any), by function node. */
  private fnParams = new Map<TreeNode, (() => (Ty.Ty | null)[])[]>();
  private paramTyping = new Set<TreeNode>();
  private paramMemo: Map<TreeNode, (Ty.Ty | null)[]> | null = null;

  /**
   * OPA's inference of a function parameter's type from the definition's body (and head value):
   * the declared type of the first builtin (or function) argument position the parameter is
   * passed to directly, or of a literal it is unified with, that says more than `any`. Uses
   * inside comprehensions, `every` bodies and `some … in` say nothing, as in OPA.
   */
  private inferParams(args: Term[], body: Body, value: Term | null, st: State): () => (Ty.Ty | null)[] {
    const names = args.map((a) => (a.type === "var" && !isWildcard(a.name) ? a.name : null));
    const uses: TyFn[][] = names.map(() => []);
    const param = (t: Term): number => {
      const v = t.type === "var" ? t : t.type === "ref" && t.terms.length === 1 && t.terms[0].type === "var" ? t.terms[0] : null;
      return v === null ? -1 : names.indexOf(v.name);
    };
    const visitCall = (op: RefTerm, cargs: Term[]) => {
      const name = opName(op);
      // (`==` too: OPA rewrites it to `=` before the type check.)
      if (name === "eq" || name === "assign" || name === "equal") {
        for (const [a, b] of [[cargs[0], cargs[1]], [cargs[1], cargs[0]]]) {
          const i = param(a);
          if (i >= 0 && b !== undefined && constValueOf(b) !== undefined) uses[i].push(this.typeOf(b, st));
        }
        return;
      }
      const fnNode = this.funcNode(name, st);
      const b = fnNode === null ? this.builtins.get(name) : undefined;
      cargs.forEach((a, j) => {
        const i = param(a);
        if (i < 0) return;
        if (fnNode !== null) uses[i].push(() => this.paramTypesOf(fnNode)[j] ?? Ty.ANY);
        else if (b && b.decl.args && j < b.decl.args.length) {
          const d = Ty.fromDecl(b.decl.args[j]);
          uses[i].push(() => d);
        }
      });
    };
    // Nested calls first, as OPA moves them before the expression that contains them.
    const walk = (t: Term): void => {
      const todo: [Term, boolean][] = [[t, false]];
      while (todo.length > 0) {
        const [x, done] = todo.pop()!;
        if (x.type === "call") {
          if (done) visitCall(x.op, x.args);
          else {
            todo.push([x, true]);
            for (let i = x.args.length - 1; i >= 0; i--) todo.push([x.args[i], false]);
          }
        } else if (x.type === "array" || x.type === "set") for (let i = x.items.length - 1; i >= 0; i--) todo.push([x.items[i], false]);
        else if (x.type === "object") for (let i = x.items.length - 1; i >= 0; i--) todo.push([x.items[i][1], false], [x.items[i][0], false]);
        else if (x.type === "ref") for (let i = x.terms.length - 1; i >= 0; i--) todo.push([x.terms[i], false]);
      }
    };
    if (names.some((n) => n !== null)) {
      for (const e of body) {
        const n = e.node;
        if (n.type === "term") walk(n.term);
        else if (n.type === "call") {
          n.args.forEach(walk);
          visitCall(n.op, n.args);
        }
      }
      if (value) walk(value);
    }
    return paramTypesFn(uses);
  }

  /** A function's parameter types: the union over its definitions (any where one says nothing). */
  private paramTypesOf(node: TreeNode): (Ty.Ty | null)[] {
    const known = this.paramMemo?.get(node);
    if (known !== undefined) return known;
    if (this.paramMemo !== null && !this.warming && this.typing.size === 0 && this.paramTyping.size === 0 && !this.warmed.has(node)) {
      this.warmFrom(node);
      const warm = this.paramMemo.get(node);
      if (warm !== undefined) return warm;
    }
    const defs = this.fnParams.get(node);
    if (!defs || this.paramTyping.has(node)) return [];
    this.paramTyping.add(node);
    try {
      const all = defs.map((d) => d());
      const out: (Ty.Ty | null)[] = [];
      for (let i = 0; i < node.declArity; i++) {
        out.push(all.some((d) => !d[i]) ? null : all.map((d) => d[i]!).reduce(Ty.union, { k: 0 } as Ty.Ty));
      }
      // Memoised once all rules are compiled (warmTypes computes callees first, so no chain of
      // functions recurses deeply), and not while a cycle is being cut short.
      if (this.paramMemo !== null && this.paramTyping.size === 1) this.paramMemo.set(node, out);
      return out;
    } finally {
      this.paramTyping.delete(node);
    }
  }

  /** A call of a function whose inferred parameter types an argument cannot meet (OPA's message). */
  private typeCheckFuncArgs(node: TreeNode, name: string, args: Term[], loc: Location, st: State): void {
    const tys = args.map((a) => this.typeOf(a, st));
    this.checks.push(() => {
      const want = this.paramTypesOf(node);
      const have = tys.map((f) => f());
      if (!have.some((h, i) => want[i] && !Ty.compatibleTy(h, want[i]!))) return null;
      const wantS = have.map((_, i) => (want[i] ? Ty.tyString(want[i]!) : "any"));
      return {
        code: "rego_type_error",
        message: `${name}: invalid argument(s)\n\thave: (${[...have.map(Ty.tyString), "???"].join(", ")})\n\twant: (${[...wantS, Ty.tyString(this.nodeType(node, true))].join(", ")})`,
        location: loc,
      };
    });
  }

  /**
   * OPA's `match error`: `a = b` or `a == b` (which OPA rewrites to `=`) whose sides' static
   * types have no value in common (`input.age == "x"` with a schema saying number).
   */
  private checkUnifiable(a: Term, b: Term, st: State, loc: Location): void {
    const ta = this.typeOf(a, st);
    const tb = this.typeOf(b, st);
    if (ta === TY_ANY || tb === TY_ANY) return;
    this.checks.push(() => {
      const x = ta();
      const y = tb();
      if (Ty.unifiable(x, y)) return null;
      return {
        code: "rego_type_error",
        message: `match error\n\tleft  : ${Ty.tyString(x)}\n\tright : ${Ty.tyString(y)}`,
        location: loc,
        details: { a: Ty.tyJSON(x), b: Ty.tyJSON(y) },
      };
    });
  }

  private runChecks(): void {
    const checks = this.checks;
    this.checks = [];
    const errs: ErrorDetail[] = [];
    for (const c of checks) {
      const e = c();
      if (e) errs.push(e);
    }
    if (errs.length) throw new RegoError(this.dedupe(errs));
  }

  /** Types of the calls of set-operator chains, per term (see chainType). */
  private chainTypes = new Map<Term, { st: State; fn: TyFn }>();

  /** The builtin of a `-`, `&` or `|` call (a link of a chain), or undefined. */
  private chainLink(t: Term): Builtin | undefined {
    if (t.type !== "call" || t.args.length !== 2) return undefined;
    const lt = t.op.terms;
    const name = lt.length === 1 && lt[0].type === "var" ? lt[0].name : opName(t.op);
    if (name !== "minus" && name !== "and" && name !== "or") return undefined;
    const b = this.builtins.get(name);
    if (b === undefined || b.infix === undefined) return undefined;
    return b;
  }

  /**
   * The type of a chain of set operators (`{0} | {1} | …`, nested to the left): a set when the
   * leftmost operand is one, a number for numbers, else the operator's declared result. The
   * links' types are computed once for the whole chain, bottom up and without recursion, and
   * kept per term, so that type-checking each of a chain's n calls costs O(1), not O(n).
   */
  private chainType(t: CallTerm, st: State, depth: number): TyFn {
    const known = this.chainTypes.get(t);
    if (known !== undefined && known.st === st) return known.fn;
    // The links above the first one already typed (or the chain's leftmost operand).
    const links: CallTerm[] = [];
    let left: Term = t;
    for (;;) {
      const k = this.chainTypes.get(left);
      if (k !== undefined && k.st === st) break;
      if (links.length > 0 && this.chainLink(left) === undefined) break;
      links.push(left as CallTerm);
      left = (left as CallTerm).args[0];
    }
    const below = this.chainTypes.get(left);
    const base: TyFn = below !== undefined && below.st === st ? below.fn : this.typeOf(left, st, depth + 1);
    // Bottom up: results[i] is the type of links[n - 1 - i].
    const n = links.length;
    const decl = links.map((l) => resultTy(this.chainLink(l) ?? this.builtins.get(opName(l.op))!)).reverse();
    const results: (Ty.Ty | undefined)[] = new Array(n);
    const typeAt = (i: number): Ty.Ty => {
      if (results[i] !== undefined) return results[i]!;
      let j = i;
      while (j >= 0 && results[j] === undefined) j--;
      let at = j >= 0 ? results[j]! : base();
      for (let k = j + 1; k <= i; k++) {
        at = at.k === Ty.K_SET ? at : at.k === Ty.K_NUM ? Ty.T_NUM : decl[k];
        results[k] = at;
      }
      return at;
    };
    // (Thunks made by a function, not written in the object literal: under tsx/esbuild's
    // keepNames every arrow function written as a property value is named at run time.)
    const at = (i: number): TyFn => () => typeAt(i);
    for (let i = 0; i < n; i++) this.chainTypes.set(links[n - 1 - i], { st, fn: at(i) });
    return this.chainTypes.get(t)!.fn;
  }

  /** The static type of a term at this point of compilation (a thunk: rule types resolve later). */
  /** typeOf, worked out when the type is first asked for (for a State that no longer changes). */
  private lazyTypeOf(t: Term, st: State): TyFn {
    let fn: TyFn | null = null;
    return () => (fn ??= this.typeOf(t, st))();
  }

  private typeOf(t: Term, st: State, depth = 0): TyFn {
    const any = TY_ANY;
    // Types of deeply nested terms are cut off (as any) at TYPE_DEPTH levels.
    if (depth > TYPE_DEPTH) return any;
    switch (t.type) {
      case "null":
        return TY_NULL;
      case "boolean":
        return TY_BOOL;
      case "number":
        return TY_NUM;
      case "string":
        return TY_STR;
      case "array": {
        const items = t.items.map((i) => this.typeOf(i, st, depth + 1));
        return () => ({ k: Ty.K_ARR, items: items.map((f) => f()) });
      }
      case "set": {
        const items = t.items.map((i) => this.typeOf(i, st, depth + 1));
        return () => Ty.setOf(items.map((f) => f()).reduce(Ty.union, { k: 0 } as Ty.Ty));
      }
      case "object": {
        const keys = t.items.map(([k]) => constValueOf(k));
        const vals = t.items.map(([, v]) => this.typeOf(v, st, depth + 1));
        if (keys.some((k) => typeof k !== "string")) return () => Ty.objectOf(vals.map((f) => f()).reduce(Ty.union, { k: 0 } as Ty.Ty));
        return () => ({ k: Ty.K_OBJ, props: new Map(keys.map((k, i) => [k as string, vals[i]()])) });
      }
      case "arraycomp":
      case "setcomp":
      case "objectcomp": {
        const head = this.compTypes.get(t) ?? any;
        if (t.type === "arraycomp") return () => Ty.arrayOf(head());
        if (t.type === "setcomp") return () => Ty.setOf(head());
        return () => Ty.objectOf(head());
      }
      case "call": {
        const name = opName(t.op);
        const b = this.builtins.get(name);
        if (b && (b.infix !== undefined || (st.scope.find(name.split(".")[0]) === undefined && !st.mod.ruleNames.has(name.split(".")[0]) && !st.mod.imports.has(name.split(".")[0])))) {
          // minus/plus-like operators on sets keep the set type
          if ((name === "minus" || name === "and" || name === "or") && t.args.length === 2) return this.chainType(t, st, depth);
          let rf = resultTypes.get(b);
          if (rf === undefined) {
            const r = Ty.fromDecl(b.decl.result);
            resultTypes.set(b, (rf = () => r));
          }
          return rf;
        }
        const node = this.funcNode(name, st);
        if (node) return () => this.nodeType(node, true);
        return any;
      }
      case "var":
        // A variable not bound (nor declared) yet has no type: OPA prints it as ???.
        if (isWildcard(t.name) || (st.scope.find(t.name) === undefined && t.name !== "input" && t.name !== "data" && !this.isNonLocal(t.name, st))) return TY_UNKNOWN;
        return this.typeOf({ type: "ref", terms: [t], loc: t.loc }, st, depth + 1);
      case "ref": {
        const parts = this.refTypeParts(t, st, depth);
        if (parts === null) return any;
        const { base, ops } = parts;
        // A bare variable has the type of what it was bound to: the same function, not a call to
        // it (`b0 = b1`, `b1 = b2`, … 20,000 links made a chain of calls 20,000 deep).
        if (ops.length === 0) return base;
        const keys = ops.map((o) => constValueOf(o));
        return () => {
          let ty = base();
          for (const k of keys) {
            if (ty.k === Ty.K_ANY) return Ty.ANY;
            ty = k === undefined ? Ty.elemOf(ty) : Ty.indexOf(ty, k);
          }
          return ty;
        };
      }
    }
  }

  /**
   * A reference's static type as a base type and the operands applied to it, with the base's
   * text as OPA prints it (`data.t.obj`, `x`); null when nothing is known (input, base data).
   */
  private refTypeParts(t: RefTerm, st: State, depth: number): { base: TyFn; ops: Term[]; text: string; prefix: Term[] } | null {
    const head = t.terms[0];
    const rest = t.terms.slice(1);
    if (head.type !== "var") return { base: this.typeOf(head, st, depth + 1), ops: rest, text: "", prefix: [head] };
    if (isWildcard(head.name)) return null;
    const slot = st.scope.find(head.name);
    if (slot !== undefined) return { base: st.types.get(slot) ?? (st.bound.has(slot) ? TY_ANY : TY_UNKNOWN), ops: rest, text: head.name, prefix: [head] };
    if (head.name === "input") {
      // The input's type comes from a schema (eval -s, a rule's `schemas:` annotation), if any.
      const it = st.inputType ?? this.inputType;
      return it === null ? null : { base: () => it, ops: rest, text: "input", prefix: [head] };
    }
    if (!(head.name === "data" || st.mod.ruleNames.has(head.name) || st.mod.imports.has(head.name))) return null;
    let path: string[] = [];
    const terms = rest;
    if (head.name === "data") path = [];
    else if (st.mod.ruleNames.has(head.name)) path = [...st.mod.pkg, head.name];
    else {
      const imp = st.mod.imports.get(head.name)!;
      if (imp[0].type !== "var" || imp[0].name !== "data") return null;
      path = imp.slice(1).map((x) => (x.type === "string" ? x.value : "?"));
    }
    let node: TreeNode | null = this.root;
    for (const p of path) node = node?.children.get(p) ?? null;
    let i = 0;
    const walked = [...path];
    while (node !== null && !node.hasDocRules && i < terms.length && terms[i].type === "string") {
      walked.push((terms[i] as { value: string }).value);
      node = node.children.get((terms[i] as { value: string }).value) ?? null;
      i++;
    }
    if (node === null || !node.hasDocRules) return null;
    const n = node;
    const prefix: Term[] = [{ type: "var", name: "data", loc: head.loc }, ...walked.map((w): Term => ({ type: "string", value: w, loc: head.loc }))];
    return { base: () => this.nodeType(n, false), ops: terms.slice(i), text: "data" + walked.map(refPartText).join(""), prefix };
  }

  /**
   * OPA's `undefined ref` type error: a constant key that the static type of what it indexes
   * cannot have (a key missing from a literal object, an index beyond a literal array, any key
   * of a scalar). Open types (partial rules, unions of objects, input, base data) never fail.
   */
  private checkRefDefined(t: RefTerm, st: State): void {
    const parts = this.refTypeParts(t, st, 0);
    if (parts === null || parts.ops.length === 0 || parts.text === "") return;
    const { base, ops, text, prefix } = parts;
    const keys = ops.map((o) => constValueOf(o));
    this.checks.push(() => {
      let ty = base();
      for (let i = 0; i < keys.length; i++) {
        const k = keys[i];
        if (ty.k === Ty.K_ANY || ty.k === 0) return null;
        if (k !== undefined && Ty.lacksKey(ty, k)) return undefinedRefError(t.loc, text, prefix, ops, i, ty);
        ty = k === undefined ? Ty.elemOf(ty) : Ty.indexOf(ty, k);
      }
      return null;
    });
  }

  private funcNode(name: string, st: State): TreeNode | null {
    const parts = name.split(".");
    let path: string[] | null = null;
    if (parts[0] === "data") path = parts.slice(1);
    else if (st.mod.ruleNames.has(parts[0])) path = [...st.mod.pkg, ...parts];
    if (!path) return null;
    let node: TreeNode | null = this.root;
    for (const p of path) node = node?.children.get(p) ?? null;
    return node && node.isFunction ? node : null;
  }

  private typing = new Set<TreeNode>();
  /** nodeType results, once all rules are compiled (types no longer change then). */
  private typeMemo: Map<TreeNode, Ty.Ty>[] | null = null;
  /** Nodes whose types (and those of their dependencies) warmFrom has computed. */
  private warmed = new Set<TreeNode>();
  private warming = false;

  /**
   * Once all rules are compiled, types are memoised; each is computed when first asked for (a
   * type check, a call's result type), its dependencies first (warmFrom). A program no check asks
   * about (`r1 := 1`, … 50,000 times) computes no type at all.
   */
  private warmTypes(): void {
    this.typeMemo = [new Map(), new Map()];
    this.paramMemo = new Map();
  }

  /**
   * Compute the types of start's dependencies, dependencies first, then its own, so that nodeType
   * never recurses deeply: the type of `r2000 := r1999` needs that of r1999, and so on down a
   * chain of any length. Only the kinds a node has are computed (a document's type for rules, a
   * result type for functions, parameter types for functions with parameters); the other kind is
   * trivial and computed when asked for.
   */
  private warmFrom(start: TreeNode): void {
    if (this.warming || this.warmed.has(start)) return;
    this.warming = true;
    try {
      const stack: [TreeNode, Iterator<TreeNode>][] = [[start, (this.deps.get(start) ?? EMPTY_NODES).values()]];
      this.warmed.add(start);
      while (stack.length > 0) {
        const [n, it] = stack[stack.length - 1];
        const next = it.next();
        if (!next.done) {
          const d = next.value;
          if (!this.warmed.has(d)) {
            this.warmed.add(d);
            stack.push([d, (this.deps.get(d) ?? EMPTY_NODES).values()]);
          }
          continue;
        }
        stack.pop();
        const nt = this.nodeTypes.get(n);
        if (nt === undefined) continue;
        if (nt.doc.length > 0 || nt.multi.length > 0) this.nodeType(n, false);
        if (nt.fn.length > 0) this.nodeType(n, true);
        if (this.fnParams.has(n)) this.paramTypesOf(n);
      }
    } finally {
      this.warming = false;
    }
  }

  /** The type of a rule's document (or a function's result): the union of its head types. */
  private nodeType(node: TreeNode, fn: boolean): Ty.Ty {
    const memo = this.typeMemo?.[fn ? 1 : 0];
    if (memo !== undefined) {
      const known = memo.get(node);
      if (known !== undefined) return known;
      if (!this.warming && this.typing.size === 0 && this.paramTyping.size === 0 && !this.warmed.has(node)) {
        this.warmFrom(node);
        const warm = memo.get(node);
        if (warm !== undefined) return warm;
      }
    }
    const t = this.nodeTypeOf(node, fn);
    if (memo !== undefined && this.typing.size === 0) memo.set(node, t);
    return t;
  }

  private nodeTypeOf(node: TreeNode, fn: boolean): Ty.Ty {
    const nt = this.nodeTypes.get(node);
    if (!nt || this.typing.has(node)) return Ty.ANY;
    this.typing.add(node);
    try {
      if (fn) return nt.fn.map((f) => f()).reduce(Ty.union, { k: 0 } as Ty.Ty);
      if (nt.obj || node.children.size > 0) return Ty.objectOf(Ty.ANY);
      if (nt.multi.length > 0) return Ty.setOf(nt.multi.map((f) => f()).reduce(Ty.union, { k: 0 } as Ty.Ty));
      const u = nt.doc.map((f) => f()).reduce(Ty.union, { k: 0 } as Ty.Ty);
      return u.k === 0 ? Ty.ANY : u;
    } finally {
      this.typing.delete(node);
    }
  }

  private compilePrint(args: Term[], st: State, loc: Location): ExprFn {
    const cargs = args.map((a) => {
      const child = st.child();
      const ct = this.compileTerm(a, child);
      return ct;
    });
    return (c, f, k) => {
      const lists: Value[][] = cargs.map((ct) => {
        const out: Value[] = [];
        try {
          ct.en(c, f, (v) => (out.push(v), false));
        } catch (e) {
          if (!(e instanceof RegoError) || e.code === "eval_conflict_error") throw e;
        }
        return out;
      });
      const emit = (i: number, acc: string[]) => {
        if (i === lists.length) {
          c.bctx.location = loc;
          c.bctx.print(acc.join(" "));
          return;
        }
        if (lists[i].length === 0) {
          emit(i + 1, [...acc, "<undefined>"]);
          return;
        }
        for (const v of lists[i]) emit(i + 1, [...acc, typeof v === "string" ? v : formatValue(v)]);
      };
      emit(0, []);
      return k();
    };
  }

  /**
   * Traced trees: `internal.print([s1, s2])`, the form OPA's compiler gives `print(a, b)`
   * (tracerewrite.ts): each set holds its argument's values (empty: `<undefined>`), one line per
   * combination, as compilePrint prints.
   */
  private compileInternalPrint(arg: Term, st: State, loc: Location): ExprFn {
    const ct = this.compileTerm(arg, st);
    return (c, f, k) =>
      ct.en(c, f, (arr) => {
        if (!Array.isArray(arr)) return false;
        const lists: string[][] = arr.map((x) => {
          const vs = x instanceof RSet ? x.sorted() : [x];
          return vs.length === 0 ? ["<undefined>"] : vs.map((v) => (typeof v === "string" ? v : formatValue(v)));
        });
        const emit = (i: number, acc: string[]): void => {
          if (i === lists.length) {
            c.bctx.location = loc;
            c.bctx.print(acc.join(" "));
            return;
          }
          for (const s of lists[i]) emit(i + 1, [...acc, s]);
        };
        emit(0, []);
        return k();
      });
  }

  // ---- with ----------------------------------------------------------------------------------

  private compileWith(ws: With[], inner: ExprFn, st: State): ExprFn {
    type Applied = (c: Ctx, v: Value) => void;
    const mods: { value: CTerm | null; mock: Mock | null; apply: Applied | null; mockKey: string | null }[] = [];
    for (const w of ws) {
      const target = w.target;
      const head = target.terms[0];
      if (head.type !== "var") throw RegoError.single("rego_compile_error", "with keyword target must reference existing input, data, or a function", w.loc);
      const path: Value[] = [];
      for (let i = 1; i < target.terms.length; i++) {
        const t = target.terms[i];
        const cv = constValueOf(t);
        if (cv === undefined) throw RegoError.single("rego_compile_error", "with keyword target must be a ground reference", w.loc);
        path.push(cv);
      }
      // A function or builtin being replaced?
      const fnTarget = this.mockTarget(target, st);
      if (fnTarget !== null) {
        const replacement = this.mockReplacement(w.value, st);
        if (replacement !== null) {
          mods.push({ value: null, mock: replacement, apply: null, mockKey: fnTarget });
          continue;
        }
        const cv = this.compileTerm(w.value, st);
        mods.push({ value: cv, mock: null, apply: null, mockKey: fnTarget });
        continue;
      }
      const cv = this.compileTerm(w.value, st);
      if (head.name === "input") {
        mods.push({ value: cv, mock: null, mockKey: null, apply: (c, v) => (c.input = path.length === 0 ? v : setPath(c.input, path, v)) });
        continue;
      }
      let dataPath: Value[] | null = null;
      if (head.name === "data") dataPath = path;
      else if (st.scope.find(head.name) === undefined && st.mod.ruleNames.has(head.name)) dataPath = [...st.mod.pkg, head.name, ...path];
      else if (st.mod.imports.has(head.name)) {
        const imp = st.mod.imports.get(head.name)!;
        const ih = imp[0];
        const ip = imp.slice(1).map((t) => constValueOf(t) as Value);
        if (ih.type === "var" && ih.name === "input") {
          const full = [...ip, ...path];
          mods.push({ value: cv, mock: null, mockKey: null, apply: (c, v) => (c.input = full.length === 0 ? v : setPath(c.input, full, v)) });
          continue;
        }
        dataPath = [...ip, ...path];
      }
      if (dataPath === null || dataPath.some((p) => typeof p !== "string")) {
        throw RegoError.single("rego_compile_error", `with keyword target must reference existing input, data, or a function`, w.loc);
      }
      const dp = dataPath as string[];
      // Below a node that holds rules, a target would replace part of a document rules make: OPA
      // refuses it (strict.ts checks modules at its stage; this is the query's check).
      for (let i = 0, n: TreeNode | null = this.root; i < dp.length - 1 && n !== null; i++) {
        n = n.children.get(dp[i]) ?? null;
        if (n !== null && (n.hasDocRules || n.isFunction)) throw RegoError.single("rego_compile_error", "with keyword cannot partially replace virtual document(s)", target.loc);
      }
      mods.push({
        value: cv,
        mock: null,
        mockKey: null,
        apply: (c, v) => {
          c.overrides = addOverride(c.overrides, dp, v);
        },
      });
    }
    return (c, f, k) => {
      const vals: Value[] = [];
      const run = (i: number): boolean => {
        if (i < mods.length) {
          const m = mods[i];
          if (m.value === null) return run(i + 1);
          return m.value.en(c, f, (v) => {
            vals[i] = v;
            return run(i + 1);
          });
        }
        const saved = { input: c.input, overrides: c.overrides, mocks: c.mocks, doc: c.docCache, keyed: c.keyedCache, fn: c.fnCache, comp: c.compIndex, seg: c.segBase };
        for (let j = 0; j < mods.length; j++) {
          const m = mods[j];
          if (m.mockKey !== null) {
            c.mocks = new Map(c.mocks ?? []);
            c.mocks.set(m.mockKey, m.mock ?? { value: vals[j] });
          } else m.apply!(c, vals[j]);
        }
        // A new scope of caches starts a new stack segment (see evalSegment in eval.ts).
        const scoped = { input: c.input, overrides: c.overrides, mocks: c.mocks, doc: new Map(), keyed: new Map(), fn: new Map(), comp: null, seg: c.depth } as typeof saved;
        const enter = (s: typeof saved) => {
          c.input = s.input;
          c.overrides = s.overrides;
          c.mocks = s.mocks;
          c.docCache = s.doc;
          c.keyedCache = s.keyed;
          c.fnCache = s.fn;
          c.compIndex = s.comp;
          c.segBase = s.seg;
        };
        enter(scoped);
        try {
          return inner(c, f, () => {
            enter(saved);
            try {
              return k();
            } finally {
              enter(scoped);
            }
          });
        } finally {
          enter(saved);
        }
      };
      return run(0);
    };
  }

  /** If a with target names a function or builtin, its mock key. */
  private mockTarget(target: RefTerm, st: State): string | null {
    const name = opName(target);
    if (!name) return null;
    let parts = name.split(".");
    if (parts[0] === "input") return null;
    const imp = st.mod.imports.get(parts[0]);
    if (imp && st.scope.find(parts[0]) === undefined && !st.mod.ruleNames.has(parts[0])) {
      const ip = imp.map((t) => (t.type === "var" ? t.name : t.type === "string" ? t.value : "?"));
      parts = [...ip, ...parts.slice(1)];
    }
    let path: string[] | null = null;
    if (parts[0] === "data") path = parts.slice(1);
    else if (st.mod.ruleNames.has(parts[0])) path = [...st.mod.pkg, ...parts];
    if (path !== null) {
      let node: TreeNode | null = this.root;
      for (const p of path) {
        node = node?.children.get(p) ?? null;
      }
      if (node !== null && node.isFunction) return node.dataPath();
      if (parts[0] === "data" || node !== null) return null;
    }
    if (this.builtins.has(name)) return name;
    return null;
  }

  /** A with value that names a function or builtin (`with f as g`). */
  private mockReplacement(t: Term, st: State): Mock | null {
    let ref: RefTerm | null = null;
    if (t.type === "var") ref = { type: "ref", terms: [t], loc: t.loc };
    else if (t.type === "ref") ref = t;
    if (ref === null) return null;
    const name = opName(ref);
    if (!name) return null;
    const first = name.split(".")[0];
    if (st.scope.find(first) !== undefined || first === "input") return null;
    if (st.mod.imports.get(first)?.[0]?.type === "var" && (st.mod.imports.get(first)![0] as VarTerm).name === "input") return null;
    const key = this.mockTarget(ref, st);
    if (key === null) return null;
    if (key.startsWith("data.")) {
      let node: TreeNode | null = this.root;
      for (const p of key.split(".").slice(1)) node = node?.children.get(p) ?? null;
      return node ? { node } : null;
    }
    const b = this.builtins.get(key);
    return b ? { builtin: b } : null;
  }
}

// ---- Instrumentation (only when the compiler has hooks) ---------------------------------------

/**
 * compileDataRef's term for the whole document of a rule node at `path`: the cached value; under
 * `with` overrides of data, the reference is resolved through them (as compileDataRef's general
 * case, with the path's keys as constant operands).
 */
function docTerm(root: TreeNode, node: TreeNode, path: string[]): CTerm {
  let viaOverrides: ValFn | null = null;
  const ev: ValFn = (c, f) => {
    if (c.overrides === null) return docValue(c, node, undefined);
    if (viaOverrides === null) {
      const ops = path.map((s) => valOperand(() => s, null));
      viaOverrides = enToEv((c2, f2, k) => dataRef(c2, f2, root, c2.data, c2.overrides, ops, 0, k));
    }
    return viaOverrides(c, f);
  };
  return { ev, en: evToEn(ev) };
}

function hookExpr(h: EvalHooks, fn: ExprFn, loc: Location): ExprFn {
  if (h.fail === undefined && h.redo === undefined) {
    return (c, f, k) => {
      h.expr?.(loc);
      return fn(c, f, k);
    };
  }
  return (c, f, k) => {
    h.expr?.(loc);
    let ok = false;
    const r = fn(c, f, () => {
      ok = true;
      const stop = k();
      h.redo?.(loc);
      return stop;
    });
    if (!ok) h.fail?.(loc);
    return r;
  };
}

function hookRule(h: EvalHooks, body: ExprFn, loc: Location): ExprFn {
  return (c, f, k) => {
    h.enter?.(loc);
    let produced = false;
    try {
      return body(c, f, () => {
        produced = true;
        return k();
      });
    } finally {
      h.leave?.(loc, produced);
    }
  };
}

function hookDefaultFunc(h: EvalHooks, value: ValFn, loc: Location): ValFn {
  return (c, f) => {
    h.enter?.(loc);
    let v: Value | undefined;
    try {
      v = value(c, f);
    } finally {
      h.leave?.(loc, v !== undefined);
    }
    return v;
  };
}

// ---- Trace events (only in an engine's traced tree: see trace.ts) -----------------------------

type Bindings = readonly (readonly [string, Value])[] | null;

/** An expression's Unify events: its text first, then (on each solution) its values' text. */
interface Unify {
  text: string | ((c: Ctx, f: Frame) => string) | null;
  value: ((c: Ctx, f: Frame) => string | null) | null;
  /** Variables of refs the expression iterates with: each new key is unified with them first (`0 = i`). */
  keys?: [string, number][];
}

function valueText(v: Value | undefined, other: string): string | null {
  return v === undefined ? null : `${formatValue(v)} = ${other}`;
}

/** A term whose value can be read again without side effects: no calls, comprehensions or wildcards. */
function plainTerm(t: Term): boolean {
  const todo: Term[] = [t];
  while (todo.length > 0) {
    const x = todo.pop()!;
    switch (x.type) {
      case "call":
      case "arraycomp":
      case "setcomp":
      case "objectcomp":
        return false;
      case "var":
        if (isWildcard(x.name)) return false;
        break;
      case "ref":
        todo.push(...x.terms);
        break;
      case "array":
      case "set":
        todo.push(...x.items);
        break;
      case "object":
        for (const [k, v] of x.items) todo.push(k, v);
        break;
    }
  }
  return true;
}

/** Ref heads as OPA's compiler resolves them: rule names and imports to data paths; locals kept. */
function resolverOf(st: State): RefResolver {
  const r: RefResolver = (name) => {
    if (name === "input" || name === "data" || st.scope.find(name) !== undefined) return null;
    const imp = st.mod.imports.get(name);
    if (imp !== undefined) return rawExprText({ node: { type: "term", term: { type: "ref", terms: imp, loc: imp[0].loc } }, negated: false, with: [], loc: imp[0].loc });
    if (st.mod.ruleNames.has(name)) return ["data", ...st.mod.pkg, name].map((p, i) => (i === 0 || /^[A-Za-z_][A-Za-z0-9_]*$/.test(p) ? p : JSON.stringify(p))).join(".").replace(/\.(".*?")/g, "[$1]");
    return null;
  };
  if (st.mod.traceKeys !== undefined) r.keys = st.mod.traceKeys;
  return r;
}

function exprText(e: Expr, st: State): string {
  return withResolver(resolverOf(st), () => rawExprText(e));
}

function bodyText(b: Body, st: State): string {
  return withResolver(resolverOf(st), () => rawBodyText(b));
}

function queryExprText(e: Expr): string {
  return rawQueryExprText(e);
}

/** The variables an expression names (outside nested bodies), with their slots. */
function exprSlots(e: Expr, st: State, withValues = false): [string, number][] {
  const out = new Map<string, number>();
  const todo: Term[] = [];
  const n = e.node;
  // the values of `with` modifiers too, for the bindings trace events carry (OPA's locals of the expression)
  if (withValues) for (const w of e.with) todo.push(w.value);
  if (n.type === "term") todo.push(n.term);
  else if (n.type === "call") todo.push(...n.args);
  else if (n.type === "somein") todo.push(n.value, n.collection, ...(n.key ? [n.key] : []));
  else if (n.type === "every") todo.push(n.domain);
  while (todo.length > 0 && out.size < 64) {
    const t = todo.pop()!;
    if (t.type === "var") {
      const s = isWildcard(t.name) ? undefined : st.scope.find(t.name);
      if (s !== undefined) out.set(t.name, s);
    } else if (t.type === "ref") todo.push(...t.terms);
    else if (t.type === "call") todo.push(...t.args);
    else if (t.type === "array" || t.type === "set") todo.push(...t.items);
    else if (t.type === "object") for (const [k, v] of t.items) todo.push(k, v);
  }
  return [...out];
}

function bindingsOf(f: Frame, slots: [string, number][]): Bindings {
  if (slots.length === 0) return null;
  const out: [string, Value][] = [];
  for (const [name, s] of slots) {
    const v = f[s];
    if (v !== undefined) out.push([name, v]);
  }
  return out;
}

const NO_NOTE = "";

/**
 * OPA evaluates a complete rule or a function inside its caller: the rule's body is still open
 * when the caller goes on, and its Redo events come when the caller comes back to the expression
 * that referenced it (after that expression's Redo, or before its Fail). Portcullis computes
 * the document first, so the events of the rule's body after its first Exit are kept aside (its
 * "tail") and given to the frame of the calling expression, which emits them there. A rule that
 * stops at its first value (`Exit … early`) has no more events of its own: its tail is the one
 * OPA prints, a Redo of the rule and of each expression of the body still open, last first.
 * Only traced evaluations keep this state (one per evaluation context).
 */
interface OpenExpr {
  node: TraceNode;
  loc: Location;
  qid: number;
  pid: number;
  f: Frame;
  slots: [string, number][];
  /** The tails given to this expression, emitted after its Redo. */
  frame: TraceEvent[];
}

interface TraceState {
  /** The frames of the expressions being evaluated (not those whose continuation runs), innermost last. */
  frames: TraceEvent[][];
  /** Expressions that produced a solution and whose continuation runs, innermost last. */
  open: OpenExpr[];
}

const traceStates = new WeakMap<Ctx, TraceState>();

function traceState(c: Ctx): TraceState {
  let s = traceStates.get(c);
  if (s === undefined) {
    s = { frames: [], open: [] };
    traceStates.set(c, s);
  }
  return s;
}

/** Emit a frame's tails and empty it. */
function flushFrame(c: Ctx, frame: TraceEvent[]): void {
  if (frame.length === 0) return;
  const t = c.tracer!;
  for (const e of frame) t.trace(e);
  frame.length = 0;
}

/** Eval before the expression, Redo each time evaluation comes back to it, Fail when it produced nothing. */
function traceExpr(fn: ExprFn, node: TraceNode, loc: Location, slots: [string, number][], unify: Unify | null): ExprFn {
  const negated = node.kind === "expr" && node.expr !== null && node.expr.negated;
  return (c, f, k) => {
    if (c.tracer === null) return fn(c, f, k);
    const qid = c.qid;
    const pid = c.pqid;
    const ts = traceState(c);
    const frame: TraceEvent[] = [];
    c.tracer.trace({ op: "Eval", node, location: loc, queryId: qid, parentId: pid, message: NO_NOTE, bindings: bindingsOf(f, slots) });
    if (unify !== null && unify.text !== null) {
      const text = typeof unify.text === "string" ? unify.text : unify.text(c, f);
      c.tracer.trace({ op: "Unify", node: { kind: "expr", text, expr: null }, location: loc, queryId: qid, parentId: pid, message: NO_NOTE, bindings: null });
    }
    c.traceLoc = loc;
    let ok = false;
    ts.frames.push(frame);
    let r: boolean;
    const keys = unify?.keys;
    const prev: (Value | undefined)[] | null = keys !== undefined && keys.length > 0 ? [] : null;
    try {
      r = fn(c, f, () => {
        ok = true;
        if (prev !== null) {
          // the keys from the first one that changed since the last solution (the inner ones are enumerated again)
          let i = 0;
          while (i < keys!.length && prev.length > 0 && prev[i] === f[keys![i][1]]) i++;
          for (let j = 0; j < keys!.length; j++) {
            const v = f[keys![j][1]];
            if (j >= i && v !== undefined) c.tracer!.trace({ op: "Unify", node: { kind: "expr", text: `${formatValue(v)} = ${keys![j][0]}`, expr: null }, location: loc, queryId: qid, parentId: pid, message: NO_NOTE, bindings: null });
            prev[j] = v;
          }
        }
        if (unify !== null && unify.value !== null) {
          const text = unify.value(c, f);
          if (text !== null) c.tracer!.trace({ op: "Unify", node: { kind: "expr", text, expr: null }, location: loc, queryId: qid, parentId: pid, message: NO_NOTE, bindings: null });
        }
        ts.frames.pop();
        ts.open.push({ node, loc, qid, pid, f, slots, frame });
        let stop: boolean;
        try {
          stop = k();
        } finally {
          ts.open.pop();
          ts.frames.push(frame);
        }
        if (stop) {
          frame.length = 0;
          return true;
        }
        // A negation has one solution and nothing to redo (OPA traces no Redo for it).
        // (the tails of rules evaluated for it come when it has no more solutions: OPA evaluated
        // them under the expression, which backtracks into them once it is exhausted)
        if (!negated) c.tracer!.trace({ op: "Redo", node, location: loc, queryId: qid, parentId: pid, message: NO_NOTE, bindings: bindingsOf(f, slots) });
        return false;
      });
    } finally {
      ts.frames.pop();
    }
    flushFrame(c, frame);
    if (!ok) c.tracer.trace({ op: "Fail", node, location: loc, queryId: qid, parentId: pid, message: NO_NOTE, bindings: bindingsOf(f, slots) });
    return r;
  };
}

/**
 * A new query: Enter, then Exit for each solution, Redo when evaluation comes back into it. A
 * child body's continuation runs in the caller's query; a rule's continuation only evaluates the
 * rule's head (documents are computed whole), so it stays in the rule's query and its Exit comes
 * after it, as OPA's does after the head's expressions. `exitNote` gives the Exit's message.
 * `defer`: a complete rule's or a function's body, whose events after its first Exit go to the
 * calling expression (see OpenExpr).
 */
function traceNested(body: ExprFn, node: TraceNode, loc: Location, exitNote: () => string, kind: "top" | "child" | "rule", defer = false): ExprFn {
  return (c, f, k) => {
    if (c.tracer === null) return body(c, f, k);
    const outerQ = c.qid;
    const outerP = c.pqid;
    const qid = kind === "top" ? 0 : ++c.qcount;
    const pid = kind === "top" ? 0 : outerQ;
    c.qid = qid;
    c.pqid = pid;
    if (kind === "rule") c.traceLoc = loc;
    c.tracer.trace({ op: "Enter", node, location: loc, queryId: qid, parentId: pid, message: NO_NOTE, bindings: null });
    const ts = defer ? traceState(c) : null;
    const caller = ts !== null && ts.frames.length > 0 ? ts.frames[ts.frames.length - 1] : null;
    const openMark = ts !== null ? ts.open.length : 0;
    const real = c.tracer;
    let tail = null as TraceEvent[] | null;
    try {
      return body(c, f, () => {
        let stop: boolean;
        if (kind === "rule") {
          stop = k();
          c.tracer!.trace({ op: "Exit", node, location: loc, queryId: qid, parentId: pid, message: exitNote(), bindings: null });
          if (caller !== null && tail === null) {
            if (stop) {
              // Stopped at its first value: OPA's Redo of the rule and of its open expressions.
              caller.push({ op: "Redo", node, location: loc, queryId: qid, parentId: pid, message: NO_NOTE, bindings: null });
              for (let i = ts!.open.length - 1; i >= openMark; i--) {
                const o = ts!.open[i];
                // a negation has nothing to redo (see traceExpr)
                if (o.node.kind === "expr" && o.node.expr !== null && o.node.expr.negated) continue;
                caller.push({ op: "Redo", node: o.node, location: o.loc, queryId: o.qid, parentId: o.pid, message: NO_NOTE, bindings: bindingsOf(o.f, o.slots) });
                // OPA unwinds these with its early-exit error: the rules they referenced skip their own Redo
                for (const x of o.frame) if (x.op !== "Redo" || x.node.kind !== "rule") caller.push(x);
                o.frame.length = 0;
              }
              return stop;
            }
            const buffer: TraceEvent[] = [];
            tail = buffer;
            c.tracer = { trace: (e) => void buffer.push(e) };
          }
        } else {
          c.tracer!.trace({ op: "Exit", node, location: loc, queryId: qid, parentId: pid, message: exitNote(), bindings: null });
          c.qid = outerQ;
          c.pqid = outerP;
          stop = k();
          c.qid = qid;
          c.pqid = pid;
        }
        if (!stop) c.tracer!.trace({ op: "Redo", node, location: loc, queryId: qid, parentId: pid, message: NO_NOTE, bindings: null });
        return stop;
      });
    } finally {
      if (tail !== null) {
        c.tracer = real;
        caller!.push(...tail);
      }
      c.qid = outerQ;
      c.pqid = outerP;
    }
  };
}

/**
 * `every` as OPA traces it: a query of its own (Enter with the every expression), in which the
 * domain is enumerated (`dom[k] = v`, Eval and Redo per element); each element's body is a query
 * that stops at its first solution (`Exit … early`, then Redo of the body and of its open
 * expressions), followed by a Redo of the every expression. When every element passed, the caller
 * goes on and the every query's Exit comes when the caller comes back (it is given to the
 * expression's frame, see OpenExpr); otherwise the every query fails.
 */
/**
 * OPA unifies a function's arguments with its parameters when it enters a definition, then the
 * call's output variable with the definition's value: `Unify 2 = y`, `Unify __local6__ = z`.
 */
function functionUnify(body: ExprFn, params: Term[], value: Term | null, loc: Location, st: State): ExprFn {
  const resolve = resolverOf(st);
  const termOf = (t: Term) => withResolver(resolve, () => rawExprText({ node: { type: "term", term: t }, negated: false, with: [], loc: t.loc }));
  const paramText = params.map((p) => (p.type === "var" && isWildcard(p.name) ? "_" : termOf(p)));
  // the value as OPA prints it after the arguments are bound: a parameter is its argument's value
  const valueParam = value !== null && value.type === "var" ? params.findIndex((p) => p.type === "var" && p.name === value.name) : -1;
  const valueText = value === null ? "true" : termOf(value);
  return (c, f, k) => {
    const call = c.traceCall;
    c.traceCall = null;
    if (c.tracer !== null && call !== null) {
      const ev = (text: string) => c.tracer!.trace({ op: "Unify", node: { kind: "expr", text, expr: null }, location: loc, queryId: c.qid, parentId: c.pqid, message: NO_NOTE, bindings: null });
      for (let i = 0; i < params.length && i < call.args.length; i++) ev(`${formatValue(call.args[i])} = ${paramText[i]}`);
      if (call.out !== null) ev(`${call.out} = ${valueParam >= 0 ? formatValue(call.args[valueParam]) : valueText}`);
    }
    return body(c, f, k);
  };
}

function tracedEvery(dom: CTerm, body: ExprFn, ks: number, vs: number, every: TraceNode, gen: TraceNode, bnode: TraceNode, loc: Location, bodyLoc: Location, names: [string, string]): ExprFn {
  return (c, f, k) => {
    if (c.tracer === null) throw new Error("tracedEvery evaluated without a tracer");
    const ts = traceState(c);
    return dom.en(c, f, (d) => {
      const outerQ = c.qid;
      const outerP = c.pqid;
      if (d === null || typeof d !== "object" || d instanceof BigDec) {
        c.tracer!.trace({ op: "Fail", node: every, location: loc, queryId: outerQ, parentId: outerP, message: NO_NOTE, bindings: null });
        return false;
      }
      const dq = ++c.qcount;
      const ev = (op: TraceEvent["op"], node: TraceNode, l: Location, qid: number, pid: number, message = NO_NOTE): TraceEvent => ({ op, node, location: l, queryId: qid, parentId: pid, message, bindings: null });
      c.tracer!.trace(ev("Enter", every, loc, dq, outerQ));
      let all = true;
      let first = true;
      try {
        enumerate(c, d, (kk, vv) => {
          c.qid = dq;
          c.pqid = outerQ;
          // one expression enumerating the domain: evaluated once, redone for each next element
          if (first) {
            c.tracer!.trace(ev("Eval", gen, loc, dq, outerQ));
            c.tracer!.trace(ev("Unify", gen, loc, dq, outerQ));
          }
          first = false;
          if (all) {
            // each element's key and value unified with the every's variables
            c.tracer!.trace(ev("Unify", { kind: "expr", text: `${formatValue(kk)} = ${names[0]}`, expr: null }, loc, dq, outerQ));
            c.tracer!.trace(ev("Unify", { kind: "expr", text: `${formatValue(vv)} = ${names[1]}`, expr: null }, loc, dq, outerQ));
            if (ks >= 0) f[ks] = kk;
            f[vs] = vv;
            const bq = ++c.qcount;
            c.qid = bq;
            c.pqid = dq;
            c.tracer!.trace(ev("Enter", bnode, bodyLoc, bq, dq));
            const mark = ts.open.length;
            const found = body(c, f, () => {
              c.tracer!.trace(ev("Exit", bnode, bodyLoc, bq, dq, "early"));
              c.tracer!.trace(ev("Redo", bnode, bodyLoc, bq, dq));
              for (let i = ts.open.length - 1; i >= mark; i--) {
                const o = ts.open[i];
                if (o.node.kind === "expr" && o.node.expr !== null && o.node.expr.negated) continue;
                c.tracer!.trace({ op: "Redo", node: o.node, location: o.loc, queryId: o.qid, parentId: o.pid, message: NO_NOTE, bindings: bindingsOf(o.f, o.slots) });
                for (const x of o.frame) if (x.op !== "Redo" || x.node.kind !== "rule") c.tracer!.trace(x);
                o.frame.length = 0;
              }
              return true;
            });
            if (ks >= 0) f[ks] = undefined;
            f[vs] = undefined;
            if (!found) all = false;
            c.tracer!.trace(ev("Redo", every, loc, dq, outerQ));
          }
          c.tracer!.trace(ev("Redo", gen, loc, dq, outerQ));
          return false;
        });
      } finally {
        c.qid = outerQ;
        c.pqid = outerP;
      }
      if (!all) {
        c.tracer!.trace(ev("Fail", every, loc, dq, outerQ));
        return false;
      }
      const frame = ts.frames.length > 0 ? ts.frames[ts.frames.length - 1] : null;
      const exit = ev("Exit", every, loc, dq, outerQ);
      if (frame === null) c.tracer!.trace(exit);
      else frame.push(exit);
      return k();
    });
  };
}

const noNote = () => NO_NOTE;

function traceQuery(body: ExprFn, node: TraceNode, loc: Location): ExprFn {
  return traceNested(body, node, loc, noNote, "top");
}

function traceChild(body: ExprFn, node: TraceNode, loc: Location): ExprFn {
  return traceNested(body, node, loc, noNote, "child");
}

function traceRule(body: ExprFn, node: TraceNode, loc: Location, early: () => boolean, defer: boolean): ExprFn {
  return traceNested(body, node, loc, () => (early() ? "early" : NO_NOTE), "rule", defer);
}

/** `trace(msg)` that also emits a Note event (in traced trees only). */
function noteBuiltin(b: Builtin): Builtin {
  return {
    ...b,
    impl: (args, ctx) => {
      const r = b.impl(args, ctx);
      if (r === true && typeof args[0] === "string") (ctx as NoteContext).traceNote?.(args[0]);
      return r;
    },
  };
}

/**
 * Could two terms unify at all, judging by their literal shapes (array lengths, object keys)?
 * Without recursion: patterns may be nested thousands deep.
 */
/** The position of a function's first scalar constant parameter (what OPA's index tests), or null. */
/** The first constant parameter's value as a key, when it is a string, boolean or null (what the call index in eval.ts uses). */
function firstConstArgKey(rule: Rule): unknown {
  const i = firstConstArg(rule);
  if (i === null) return undefined;
  const t = rule.head.args![i];
  if (t.type !== "string" && t.type !== "boolean" && t.type !== "null") return undefined;
  return hashKey(constValueOf(t) as Value);
}

function firstConstArg(rule: Rule): number | null {
  const args = rule.head.args ?? [];
  for (let i = 0; i < args.length; i++) {
    const t = args[i].type;
    if (t === "number" || t === "string" || t === "boolean" || t === "null") return i;
  }
  return null;
}

/** An `input.a.b in {constants}` expression of a body, which OPA's rule index tests (traces only). */
function findInputIn(body: Body): { path: string[]; keys: Set<unknown> } | null {
  // `x = input.a.b` before (as OPA's compiler moves refs out of calls): x stands for the ref
  const refOf = new Map<string, Term>();
  const inputPath = (t: Term): string[] | null => {
    const r = t.type === "var" ? refOf.get(t.name) : t;
    if (r === undefined || r.type !== "ref" || r.terms[0].type !== "var" || r.terms[0].name !== "input" || r.terms.length < 2) return null;
    if (!r.terms.slice(1).every((x) => x.type === "string")) return null;
    return r.terms.slice(1).map((x) => (x as { value: string }).value);
  };
  const scalar = (t: Term): unknown => {
    const v = constValueOf(t);
    return v === undefined || (typeof v === "object" && v !== null) ? undefined : hashKey(v);
  };
  for (const e of body) {
    if (e.negated || e.with.length > 0 || e.node.type !== "call") continue;
    const op = opName(e.node.op);
    if (op === "eq" && e.node.args.length === 2 && e.node.args[0].type === "var" && e.node.args[1].type === "ref") refOf.set(e.node.args[0].name, e.node.args[1]);
    if (op !== "internal.member_2") continue;
    const [a, b] = e.node.args;
    const ap = inputPath(a);
    if (ap !== null && b.type === "set") {
      // `input.x in {constants}`
      const keys = new Set<unknown>();
      for (const t of b.items) {
        const k = scalar(t);
        if (k === undefined) return null;
        keys.add(k);
      }
      return { path: ap, keys };
    }
    // `constant in input.xs`
    const bp = inputPath(b);
    const k = scalar(a);
    if (bp !== null && k !== undefined) return { path: bp, keys: new Set([k]) };
  }
  return null;
}

/** Are all the keys of an object literal constants? */
function constKeys(o: Term & { type: "object" }): boolean {
  return o.items.every(([k]) => constValueOf(k) !== undefined);
}

function shapesCanUnify(a0: Term, b0: Term): boolean {
  const lit = (t: Term) => t.type === "array" || t.type === "object" || t.type === "set" || t.type === "string" || t.type === "number" || t.type === "boolean" || t.type === "null";
  const todo: [Term, Term][] = [[a0, b0]];
  while (todo.length > 0) {
    const [a, b] = todo.pop()!;
    if (a.type === "array" && b.type === "array") {
      if (a.items.length !== b.items.length) return false;
      for (let i = 0; i < a.items.length; i++) todo.push([a.items[i], b.items[i]]);
      continue;
    }
    if (a.type === "object" && b.type === "object") {
      if (a.items.length !== b.items.length) return false;
      for (const [ka, va] of a.items) {
        const kv = constValueOf(ka);
        // a key that is not constant: nothing more is known about this pair
        if (kv === undefined) break;
        const other = b.items.find(([kb]) => equal(constValueOf(kb) as Value, kv));
        if (!other) return false;
        todo.push([va, other[1]]);
      }
      continue;
    }
    if ((a.type === "array" || a.type === "object") && lit(b) && a.type !== b.type) return false;
    if ((b.type === "array" || b.type === "object") && lit(a) && a.type !== b.type) return false;
  }
  return true;
}

// ---- with helpers ----------------------------------------------------------------------------

function setPath(base: Value | undefined, path: Value[], v: Value): Value {
  const [head, ...rest] = path;
  const cur = lookup(base, head);
  const nv = rest.length === 0 ? v : setPath(cur, rest, v);
  const entries: [Value, Value][] = isObject(base as Value) ? objectEntries(base as never).filter(([k]) => !equal(k, head)) : [];
  entries.push([head, nv]);
  return makeObject(entries);
}

function addOverride(ov: OverrideNode | null, path: string[], v: Value): OverrideNode {
  const root: OverrideNode = cloneOv(ov);
  let n = root;
  for (const p of path) {
    let c = n.children.get(p);
    if (!c) {
      c = { children: new Map() };
      n.children.set(p, c);
    } else {
      c = cloneOv(c);
      n.children.set(p, c);
    }
    n = c;
  }
  n.value = v;
  n.children = new Map();
  return root;
}

function cloneOv(ov: OverrideNode | null): OverrideNode {
  if (ov === null) return { children: new Map() };
  return { value: ov.value, children: new Map(ov.children) };
}

// ---- Literal type checks ---------------------------------------------------------------------

type TypeLike = { type: string; of?: TypeLike[] | TypeLike; static?: unknown; dynamic?: unknown };

function literalType(t: Term): string | null {
  switch (t.type) {
    case "null":
      return "null";
    case "boolean":
      return "boolean";
    case "number":
      return "number";
    case "string":
      return "string";
    case "array":
    case "arraycomp":
      return "array";
    case "object":
    case "objectcomp":
      return "object";
    case "set":
    case "setcomp":
      return "set";
    default:
      return null;
  }
}

function accepts(want: TypeLike, have: string): boolean {
  if (want.type === "any") {
    const of = want.of as TypeLike[] | undefined;
    if (!of || of.length === 0) return true;
    return of.some((o) => accepts(o, have));
  }
  return want.type === have;
}

function typeString(t: TypeLike): string {
  if (t.type === "any") {
    const of = t.of as TypeLike[] | undefined;
    if (!of || of.length === 0) return "any";
    return `any<${of.map(typeString).join(", ")}>`;
  }
  if (t.type === "array") return "array[any]";
  if (t.type === "object") return "object[any: any]";
  if (t.type === "set") return "set[any]";
  return t.type;
}

export { isTruthy };

/**
 * A template string in a function parameter (`f($"{x} {y}") := …`) is, as in OPA (which rewrites
 * template strings after checking parameters for calls, then moves calls out of the head), a
 * fresh parameter variable compared with the string at the end of the body (and of each else).
 */
function templateArgsToBody(rule: Rule): Rule {
  const eqs: Expr[] = [];
  let n = 0;
  const rewrite = (t: Term): Term => {
    switch (t.type) {
      case "call":
        if (opName(t.op) === "internal.template_string") {
          const v: VarTerm = { type: "var", name: `$targ${n++}`, loc: t.loc };
          const eq: RefTerm = { type: "ref", terms: [{ type: "var", name: "eq", loc: t.loc }], loc: t.loc };
          eqs.push({ node: { type: "call", op: eq, args: [v, t] }, negated: false, with: [], loc: t.loc });
          return v;
        }
        return t;
      case "array":
      case "set":
        return { ...t, items: t.items.map(rewrite) };
      case "object":
        return { ...t, items: t.items.map(([k, v]) => [rewrite(k), rewrite(v)] as [Term, Term]) };
      default:
        return t;
    }
  };
  const args = (rule.head.args ?? []).map(rewrite);
  if (eqs.length === 0) return rule;
  return { ...rule, head: { ...rule.head, args }, body: [...rule.body, ...eqs], elses: rule.elses.map((e) => ({ ...e, body: [...e.body, ...eqs] })) };
}

/** A reference operand as OPA prints it: `.name`, `["a b"]`, `[5]`, `[x]`. */
/** `base` with the type at `path` replaced by `t` (parts of an unknown type become open objects). */
function withTypeAt(base: Ty.Ty, path: string[], t: Ty.Ty): Ty.Ty {
  if (path.length === 0) return t;
  const [k, ...rest] = path;
  const obj = base.k === Ty.K_OBJ;
  const props = new Map(obj && base.props ? base.props : []);
  props.set(k, withTypeAt(props.get(k) ?? (obj && base.elem ? base.elem : Ty.ANY), rest, t));
  return { k: Ty.K_OBJ, props, elem: obj && base.props && base.props.size > 0 && !base.elem ? undefined : obj && base.elem ? base.elem : Ty.ANY };
}

/**
 * OPA's `undefined ref` error for the constant key ops[i] that type `ty` cannot have, with its
 * details: for an object or array the ref, a caret under the key, the key and the keys there are
 * (or the key type); for a scalar the ref, carets under the scalar's part, and its type.
 */
function undefinedRefError(loc: Location, text: string, prefix: Term[], ops: Term[], i: number, ty: Ty.Ty): ErrorDetail {
  const refText = text + ops.map(refPartText).join("");
  const ref = [...prefix, ...ops].map((x) => termJSON(x));
  const collection = (ty.k & (Ty.K_ARR | Ty.K_OBJ | Ty.K_SET)) !== 0;
  if (!collection) {
    // The part before the key is a scalar: OPA's "unsupported" detail, at that part.
    const pos = prefix.length + i - 1;
    const upTo = text + ops.slice(0, i).map(refPartText).join("");
    const lines = [refText, "^".repeat(upTo.length), `have: ${Ty.tyString(ty)}`];
    return { code: "rego_type_error", message: `undefined ref: ${refText}\n\t${lines.join("\n\t")}`, location: loc, details: { ref, pos, have: Ty.tyJSON(ty) } };
  }
  const pos = prefix.length + i;
  const pad = " ".repeat((text + ops.slice(0, i).map(refPartText).join("")).length + 1);
  const isObj = ty.k === Ty.K_OBJ;
  const oneOf = isObj && ty.props ? Array.from(ty.props.keys()).sort() : [];
  const want = isObj ? Ty.T_STR : ty.k === Ty.K_ARR ? Ty.T_NUM : Ty.ANY;
  const lines = [refText, `${pad}^`, `${pad}have: ${termString(ops[i])}`];
  lines.push(oneOf.length > 0 ? `${pad}want (one of): [${oneOf.map((k) => goQuoteString(k)).join(" ")}]` : `${pad}want (type): ${Ty.tyString(want)}`);
  return {
    code: "rego_type_error",
    message: `undefined ref: ${refText}\n\t${lines.join("\n\t")}`,
    location: loc,
    details: { ref, pos, want: Ty.tyJSON(want), oneOf: oneOf.length > 0 ? oneOf : null },
  };
}

/** A string as Go's %v prints an ast.String (strconv.Quote; the keys here are plain text). */
function goQuoteString(s: string): string {
  return goQuote(s);
}

function refPartText(t: Term | string): string {
  if (typeof t === "string") return /^[A-Za-z_][A-Za-z0-9_]*$/.test(t) ? `.${t}` : `[${JSON.stringify(t)}]`;
  switch (t.type) {
    case "string":
      return refPartText(t.value);
    case "number":
      return `[${t.value}]`;
    case "var":
      return `[${t.name}]`;
    case "boolean":
      return `[${t.value}]`;
    case "null":
      return "[null]";
    default:
      return "[...]";
  }
}
