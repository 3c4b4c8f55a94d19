// Partial evaluation (OPA's `opa eval --partial`, `POST /v1/compile`): a query is evaluated with
// some documents unknown (`input`, or refs such as `input.user`, `data.acl`); what cannot be
// decided is saved, and the answer is a set of residual queries (a disjunction of conjunctions)
// plus support modules (`package partial.…`) for rules that are not inlined.
//
// The evaluator walks the AST (the compiled closures of compiler.ts only answer total queries),
// in the order OPA's top-down evaluator does, so the saved expressions, the renamed variables
// (`user2`: a rule body's variables carry the number of the evaluation that ran it) and the
// order of the queries are OPA's. What is known is evaluated by the engine itself (ground
// builtin calls, rules that do not depend on an unknown), so values are exactly the engine's.
//
// The constructs it covers are listed in docs/partial.md; anything else is refused with a
// `PartialUnsupported` error naming the construct rather than answering a residual query that
// might not be equivalent.

import type { Body, Expr, ExprNode, Location, Module, RefTerm, Rule, Term, VarTerm } from "./ast.ts";
import { INFIX_OPS, eachPart } from "./ast.ts";
import type { Engine } from "./engine.ts";
import { compareTerms } from "./astprint.ts";
import { exprJSON } from "./astjson.ts";
import { formatSource } from "./format.ts";
import { parseQuery, parseTerm } from "./parser.ts";
import { RSet, ObjMap, isNumber, numberText, objectEntries, type Value, numberFromText, makeObject, compare as compareValues } from "./value.ts";
import { RegoError } from "./errors.ts";
import { tooDeep } from "./eval.ts";
import { goJSON, goString } from "../gotext/plainjson.ts";

export interface PartialOptions {
  /** Unknown documents as refs (`input`, `input.user`, `data.acl`); default `input`. */
  unknowns?: string[];
  /** Rules (refs) never inlined: a support rule is written for them. */
  disableInlining?: string[];
  /** Write a support rule for every rule that depends on an unknown (OPA's shallow inlining). */
  shallowInlining?: boolean;
  /** Evaluate nondeterministic builtins whose arguments are known (default: save them). */
  nondeterministicBuiltins?: boolean;
  /** The known input, when `input` is not (wholly) unknown. */
  input?: unknown;
  /** Evaluation steps before the evaluation stops (default 1,000,000). */
  maxSteps?: number;
  /** Residual queries before the evaluation stops (default 10,000). */
  maxQueries?: number;
  /** Stop at this time (milliseconds since the epoch): eval_cancel_error. */
  deadline?: number;
  /** Stop once element 0 is non-zero (a flag shared with another thread): eval_cancel_error. */
  cancel?: Int32Array;
}

export interface PartialResult {
  /** Residual queries; an empty list: the query is undefined for every value of the unknowns. */
  queries: Body[];
  support: Module[];
}

/** A construct this partial evaluator does not handle (the caller answers an error). */
export class PartialUnsupported extends RegoError {
  constructor(what: string, loc?: Location) {
    super([{ code: "eval_internal_error", message: `partial evaluation: ${what} is not supported by portcullis`, location: loc && loc.row > 0 ? loc : undefined }]);
  }
}

const NOLOC: Location = { file: "", row: 0, col: 0 };

/** An expression the compiler generated (OPA marks them: `"generated": true` in the JSON). */
type GExpr = Expr & { generated?: boolean };
function generated(e: Expr): Expr {
  (e as GExpr).generated = true;
  return e;
}
const v = (name: string): VarTerm => ({ type: "var", name, loc: NOLOC });
const str = (s: string): Term => ({ type: "string", value: s, loc: NOLOC });
const TRUE: Term = { type: "boolean", value: true, loc: NOLOC };
const eqOp = (): RefTerm => ({ type: "ref", terms: [v("eq")], loc: NOLOC });
const mkExpr = (node: ExprNode, negated = false): Expr => ({ node, negated, with: [], loc: NOLOC });

// ---- terms ---------------------------------------------------------------------------------

export function valueToTerm(x: Value): Term {
  if (x === null) return { type: "null", loc: NOLOC };
  if (typeof x === "boolean") return { type: "boolean", value: x, loc: NOLOC };
  if (typeof x === "string") return str(x);
  if (isNumber(x)) return { type: "number", value: numberText(x), loc: NOLOC };
  if (Array.isArray(x)) return { type: "array", items: x.map(valueToTerm), loc: NOLOC };
  if (x instanceof RSet) return { type: "set", items: x.sorted().map(valueToTerm), loc: NOLOC };
  const entries = objectEntries(x as never).sort((a, b) => compareValues(a[0], b[0]));
  return { type: "object", items: entries.map(([k, val]) => [valueToTerm(k), valueToTerm(val)]), loc: NOLOC };
}

/** The value of a ground term (null when it is not ground). */
function termToValue(t: Term): Value | undefined {
  switch (t.type) {
    case "null":
      return null;
    case "boolean":
      return t.value;
    case "string":
      return t.value;
    case "number":
      return numberFromText(t.value);
    case "array": {
      const out: Value[] = [];
      for (const x of t.items) {
        const y = termToValue(x);
        if (y === undefined) return undefined;
        out.push(y);
      }
      return out;
    }
    case "set": {
      const s = new RSet();
      for (const x of t.items) {
        const y = termToValue(x);
        if (y === undefined) return undefined;
        s.add(y);
      }
      return s;
    }
    case "object": {
      const es: [Value, Value][] = [];
      for (const [k, x] of t.items) {
        const a = termToValue(k);
        const b = termToValue(x);
        if (a === undefined || b === undefined) return undefined;
        es.push([a, b]);
      }
      return makeObject(es);
    }
    default:
      return undefined;
  }
}

function isGround(t: Term): boolean {
  return termToValue(t) !== undefined;
}

function isScalar(t: Term): boolean {
  return t.type === "null" || t.type === "boolean" || t.type === "number" || t.type === "string";
}

/** Apply f to every direct sub-term (not into comprehension bodies). */
function mapTerm(t: Term, f: (x: Term) => Term): Term {
  switch (t.type) {
    case "ref":
      return { ...t, terms: t.terms.map(f) };
    case "array":
      return { ...t, items: t.items.map(f) };
    case "set":
      return { ...t, items: t.items.map(f) };
    case "object":
      return { ...t, items: t.items.map(([k, x]) => [f(k), f(x)] as [Term, Term]) };
    case "call":
      return { ...t, op: t.op, args: t.args.map(f) };
    default:
      return t;
  }
}

function walkTerms(t: Term, f: (x: Term) => void): void {
  f(t);
  switch (t.type) {
    case "arraycomp":
    case "setcomp":
      walkTerms(t.head, f);
      for (const e of t.body) for (const x of exprTerms(e)) walkTerms(x, f);
      break;
    case "objectcomp":
      walkTerms(t.key, f);
      walkTerms(t.value, f);
      for (const e of t.body) for (const x of exprTerms(e)) walkTerms(x, f);
      break;
    default:
      eachPart(t, (x) => walkTerms(x, f));
  }
}

/** An expression's terms, those of `every` bodies and `with` values included. */
function exprTerms(e: Expr): Term[] {
  const n = e.node;
  const ws = e.with.map((w) => w.value);
  switch (n.type) {
    case "term":
      return [n.term, ...ws];
    case "call":
      return [...n.args, ...ws];
    case "every":
      return [n.domain, ...(n.key ? [n.key] : []), n.value, ...n.body.flatMap(exprTerms), ...ws];
    default:
      return ws;
  }
}

/** Apply f to every term of an expression (f decides how to descend). */
function mapExpr(e: Expr, f: (t: Term) => Term): Expr {
  const n = e.node;
  const withs = e.with.length > 0 ? e.with.map((w) => ({ ...w, value: f(w.value) })) : e.with;
  if (n.type === "term") return { ...e, node: { type: "term", term: f(n.term) }, with: withs };
  if (n.type === "call") return { ...e, node: { type: "call", op: n.op, args: n.args.map(f) }, with: withs };
  if (n.type === "every")
    return { ...e, node: { ...n, domain: f(n.domain), key: n.key ? (f(n.key) as VarTerm) : null, value: f(n.value) as VarTerm, body: n.body.map((x) => mapExpr(x, f)) }, with: withs };
  return e;
}

/** Substitute variables (into comprehension bodies too). */
function substitute(t: Term, sub: (name: string) => Term | undefined): Term {
  switch (t.type) {
    case "var":
      return sub(t.name) ?? t;
    case "arraycomp":
    case "setcomp":
      return { ...t, head: substitute(t.head, sub), body: t.body.map((e) => mapExpr(e, (x) => substitute(x, sub))) };
    case "objectcomp":
      return { ...t, key: substitute(t.key, sub), value: substitute(t.value, sub), body: t.body.map((e) => mapExpr(e, (x) => substitute(x, sub))) };
    default: {
      const m = mapTerm(t, (x) => substitute(x, sub));
      if (m.type === "ref" && m.terms[0].type === "ref") return { ...m, terms: [...m.terms[0].terms, ...m.terms.slice(1)] };
      return m;
    }
  }
}

function termVars(t: Term, out: Set<string> = new Set()): Set<string> {
  walkTerms(t, (x) => {
    if (x.type === "var") out.add(x.name);
  });
  return out;
}

// ---- OPA's String() of terms and expressions (what the pretty output shows) -----------------

const INFIX_BY_NAME: Record<string, string> = Object.fromEntries(Object.entries(INFIX_OPS).map(([a, b]) => [b, a]));
const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

function goQuote(s: string): string {
  return JSON.stringify(s).replace(/[\u007f-\u009f\u2028\u2029]/g, (c) => "\\u" + c.charCodeAt(0).toString(16).padStart(4, "0"));
}

/**
 * A term as OPA prints it in residual queries. `ev`: as Rego text the engine can evaluate
 * (generated wildcards get names, nested infix calls get parentheses, `in` as a call).
 */
export function termText(t: Term, ev = false): string {
  const tt = (x: Term) => termText(x, ev);
  switch (t.type) {
    case "null":
      return "null";
    case "boolean":
      return String(t.value);
    case "number":
      return t.value;
    case "string":
      return goQuote(t.value);
    case "var":
      // OPA's formatter prints a generated `$` variable as `_` where it occurs once in its body,
      // and with `_` for `$` where it occurs more often ($02 → _02, $_term_0_0 → _term_0_0)
      if (!t.name.startsWith("$")) return t.name;
      if (ev) return `__wild${t.name.slice(1).replace(/[^A-Za-z0-9_]/g, "")}__`;
      return displayRepeated?.has(t.name) ? "_" + t.name.slice(1) : "_";
    case "ref": {
      let s = t.terms[0].type === "var" ? tt(t.terms[0]) : ev ? "(" + tt(t.terms[0]) + ")" : tt(t.terms[0]);
      for (let i = 1; i < t.terms.length; i++) {
        const x = t.terms[i];
        s += x.type === "string" && IDENT.test(x.value) ? "." + x.value : "[" + tt(x) + "]";
      }
      return s;
    }
    case "array":
      return "[" + t.items.map(tt).join(", ") + "]";
    case "set":
      return t.items.length === 0 ? "set()" : "{" + t.items.map(tt).join(", ") + "}";
    case "object":
      return "{" + t.items.map(([k, x]) => tt(k) + ": " + tt(x)).join(", ") + "}";
    case "call":
      return callText(t.op, t.args, ev, true);
    case "arraycomp":
      return "[" + tt(t.head) + " | " + bodyText(t.body, ev) + "]";
    case "setcomp":
      return "{" + tt(t.head) + " | " + bodyText(t.body, ev) + "}";
    case "objectcomp":
      return "{" + tt(t.key) + ": " + tt(t.value) + " | " + bodyText(t.body, ev) + "}";
  }
}

function callText(op: RefTerm, args: Term[], ev: boolean, nested: boolean): string {
  const name = refName(op);
  const tt = (x: Term) => termText(x, ev);
  const wrap = (s: string) => (ev && nested ? "(" + s + ")" : s);
  if (name === "internal.member_2" && args.length === 2 && !ev) return tt(args[0]) + " in " + tt(args[1]);
  if (name === "internal.member_3" && args.length === 3 && !ev) return tt(args[0]) + ", " + tt(args[1]) + " in " + tt(args[2]);
  const infix = INFIX_BY_NAME[name];
  if (infix && args.length === 2) return wrap(tt(args[0]) + " " + infix + " " + tt(args[1]));
  return termText(op, ev) + "(" + args.map(tt).join(", ") + ")";
}

function bodyText(b: Body, ev: boolean): string {
  return b.map((e) => exprText(e, ev)).join("; ");
}

function refName(r: RefTerm): string {
  return r.terms.map((x, i) => (i === 0 && x.type === "var" ? x.name : x.type === "string" ? x.value : "?")).join(".");
}

export function exprText(e: Expr, ev = false): string {
  const n = e.node;
  const tt = (x: Term) => termText(x, ev);
  let s: string;
  if (n.type === "term") s = tt(n.term);
  else if (n.type === "call") {
    const name = refName(n.op);
    const infix = name === "eq" ? "=" : INFIX_BY_NAME[name];
    if (infix && n.args.length === 2) s = tt(n.args[0]) + " " + infix + " " + tt(n.args[1]);
    else if (infix && n.args.length === 3) s = tt(n.args[2]) + " = " + tt(n.args[0]) + " " + infix + " " + tt(n.args[1]);
    else s = callText(n.op, n.args, ev, false);
  } else if (n.type === "every") {
    // OPA's formatter leaves out the space before `}` after a body of several expressions
    s = "every " + (n.key ? tt(n.key) + ", " : "") + tt(n.value) + " in " + tt(n.domain) + " { " + bodyText(n.body, ev) + (n.body.length > 1 && !ev ? "}" : " }");
  } else throw new PartialUnsupported("`some`", e.loc);
  s = (e.negated ? "not " : "") + s;
  for (const w of e.with) s += " with " + tt(w.target) + " as " + tt(w.value);
  return s;
}

// ---- OPA's order of expressions (sorting bindings and support rules) ------------------------

function compareExprs(a: Expr, b: Expr): number {
  const ord = (e: Expr) => (e.node.type === "term" ? 1 : e.node.type === "call" ? 2 : 3);
  if (ord(a) !== ord(b)) return ord(a) - ord(b);
  if (a.negated !== b.negated) return a.negated ? 1 : -1;
  const ta = a.node.type === "term" ? [a.node.term] : a.node.type === "call" ? [a.node.op, ...a.node.args] : [];
  const tb = b.node.type === "term" ? [b.node.term] : b.node.type === "call" ? [b.node.op, ...b.node.args] : [];
  for (let i = 0; i < Math.min(ta.length, tb.length); i++) {
    const c = compareTerms(ta[i], tb[i]);
    if (c !== 0) return c;
  }
  return ta.length - tb.length;
}

function compareBodies(a: Body, b: Body): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const c = compareExprs(a[i], b[i]);
    if (c !== 0) return c;
  }
  return a.length - b.length;
}

// ---- copy propagation (after OPA's: removes the intermediate variables of a residual query) --

const RESERVED = new Set(["input", "data"]);

function termsEqual(a: Term, b: Term): boolean {
  return compareTerms(a, b) === 0;
}

/** Variables of a term outside closures (comprehension bodies), as OPA's safety check counts them. */
function freeVars(t: Term, out: Set<string> = new Set()): Set<string> {
  switch (t.type) {
    case "var":
      if (!RESERVED.has(t.name)) out.add(t.name);
      break;
    case "arraycomp":
    case "setcomp":
    case "objectcomp":
      break;
    case "call":
      t.args.forEach((x) => freeVars(x, out));
      break;
    default:
      mapTerm(t, (x) => (freeVars(x, out), x));
  }
  return out;
}

function exprVarsAll(e: Expr, out: Set<string>): void {
  const n = e.node;
  if (n.type === "every") {
    freeVars(n.domain, out);
    return;
  }
  for (const t of exprTerms(e)) freeVars(t, out);
}

/** Variables an expression binds when the variables in `safe` are bound (as OPA's safety check). */
function outputVars(e: Expr, safe: Set<string>, arity: (op: string) => number | undefined): Set<string> {
  const out = new Set<string>();
  if (e.negated) return out;
  const refOperands = (t: Term) =>
    walkTerms(t, (x) => {
      if (x.type === "ref") for (let i = 1; i < x.terms.length; i++) termVars(x.terms[i], out);
    });
  const allSafe = (t: Term) => [...freeVars(t)].every((n) => safe.has(n) || out.has(n) || RESERVED.has(n));
  const n = e.node;
  if (n.type === "term") refOperands(n.term);
  else if (n.type === "call") {
    const name = refName(n.op);
    n.args.forEach(refOperands);
    if (name === "eq") {
      const [a, b] = n.args;
      const headsOk = (t: Term) => t.type !== "ref" || t.terms[0].type !== "var" || RESERVED.has(t.terms[0].name) || safe.has(t.terms[0].name);
      if (allSafe(b) && headsOk(b) && a.type !== "ref" && a.type !== "call") freeVars(a, out);
      if (allSafe(a) && headsOk(a) && b.type !== "ref" && b.type !== "call") freeVars(b, out);
    } else {
      const ar = arity(name);
      if (ar !== undefined && n.args.length === ar + 1) freeVars(n.args[ar], out);
    }
  }
  return out;
}

function bodyOutputVars(body: Body, safe: Set<string>, arity: (op: string) => number | undefined): Set<string> {
  const s = new Set(safe);
  for (let changed = true; changed; ) {
    changed = false;
    for (const e of body) for (const x of outputVars(e, s, arity)) if (!s.has(x)) (s.add(x), (changed = true));
  }
  for (const x of safe) s.delete(x);
  return s;
}

interface UFRoot {
  key: string;
  constant: Term | null;
}

export function copyPropagate(query: Body, live: Set<string>, ensureNonEmpty: boolean, arity: (op: string) => number | undefined): Body {
  const parents = new Map<string, string>();
  const roots = new Map<string, UFRoot>();
  const find = (x: string): UFRoot | undefined => {
    let p = parents.get(x);
    if (p === undefined) return undefined;
    let cur = x;
    while (p !== cur) {
      cur = p!;
      p = parents.get(cur);
    }
    return roots.get(cur);
  };
  const makeSet = (x: string): UFRoot => {
    const r = find(x);
    if (r) return r;
    const nr = { key: x, constant: null };
    parents.set(x, x);
    roots.set(x, nr);
    return nr;
  };
  const isConst = (t: Term) => isGround(t);
  for (const e of query) {
    if (e.negated || e.with.length > 0 || e.node.type !== "call" || refName(e.node.op) !== "eq") continue;
    const [a, b] = e.node.args;
    if (a.type === "var" && b.type === "var") {
      let r1 = makeSet(a.name);
      let r2 = makeSet(b.name);
      if (r1 !== r2) {
        if (!live.has(r1.key)) [r1, r2] = [r2, r1];
        parents.set(r2.key, r1.key);
        roots.delete(r2.key);
        if (r1.constant && r2.constant && !termsEqual(r1.constant, r2.constant)) return query;
        if (!r1.constant) r1.constant = r2.constant;
      }
    } else if (a.type === "var" && isConst(b)) {
      const r = makeSet(a.name);
      if (r.constant && !termsEqual(r.constant, b)) return query;
      r.constant = b;
    } else if (b.type === "var" && isConst(a)) {
      const r = makeSet(b.name);
      if (r.constant && !termsEqual(r.constant, a)) return query;
      r.constant = a;
    }
  }
  const headvars = new Set<string>();
  for (const e of query)
    for (const t of exprTerms(e))
      walkTerms(t, (x) => {
        if (x.type === "ref" && x.terms[0].type === "var") {
          const r = find(x.terms[0].name);
          if (r) {
            r.constant = null;
            headvars.add(r.key);
          } else headvars.add(x.terms[0].name);
        }
      });
  const removed = new Map<string, Term>();
  const placeholders = new Set<string>();
  let cpn = 0;
  const plug = (t: Term, negated: boolean): Term => {
    if (t.type === "var") {
      const r = find(t.name);
      const val: Term = r ? (r.constant ?? v(r.key)) : t;
      if (val.type !== "var") return val;
      const b = removed.get(val.name);
      if (!b || (negated && !isGround(b)) || termVars(b).has(val.name)) return val;
      return b;
    }
    if (t.type === "ref") {
      let terms = t.terms;
      const h = terms[0];
      if (h.type === "var") {
        const r = find(h.name);
        if (r) terms = [r.constant ?? v(r.key), ...terms.slice(1)];
        const hv = terms[0];
        const b = hv.type === "var" ? removed.get(hv.name) : undefined;
        if (b && (!negated || isGround(b))) terms = [...(b.type === "ref" ? b.terms : [b]), ...terms.slice(1)];
      }
      return { ...t, terms: terms.map((x, i) => (i === 0 && x.type === "var" ? x : plug(x, negated))) };
    }
    if (t.type === "arraycomp" || t.type === "setcomp") return { ...t, head: plug(t.head, negated), body: t.body.map((e) => mapExpr(e, (x) => plug(x, negated || e.negated))) };
    if (t.type === "objectcomp") return { ...t, key: plug(t.key, negated), value: plug(t.value, negated), body: t.body.map((e) => mapExpr(e, (x) => plug(x, negated || e.negated))) };
    return mapTerm(t, (x) => plug(x, negated));
  };
  const plugExpr = (e: Expr): Expr => mapExpr(e, (x) => plug(x, e.negated));
  const asym = (a: Term, b: Term): [string, Term] | null => {
    if (a.type !== "var" || live.has(a.name)) return null;
    if (b.type === "ref" || b.type === "call") return [a.name, b];
    return null;
  };
  const result: Body = [];
  for (const e0 of query) {
    const e = plugExpr(e0);
    let keep = true;
    const n = e.node;
    if (e.negated || e.with.length > 0) keep = true;
    else if (n.type === "call" && refName(n.op) === "eq") {
      const [a, b] = n.args;
      if (termsEqual(a, b)) {
        if (a.type === "ref" && a.terms[0].type === "var" && live.has(a.terms[0].name)) {
          const ph = `__localcp${cpn++}__`;
          placeholders.add(ph);
          removed.set(ph, a);
        }
        keep = false;
      } else {
        const kv = asym(a, b) ?? asym(b, a);
        if (kv) {
          removed.set(kv[0], kv[1]);
          keep = false;
        }
      }
    } else if (n.type === "call") {
      const ar = arity(refName(n.op));
      if (ar !== undefined && n.args.length === ar + 1) {
        const out = n.args[ar];
        if (out.type === "var" && !live.has(out.name) && !headvars.has(out.name)) {
          removed.set(out.name, { type: "call", op: n.op, args: n.args.slice(0, ar), loc: NOLOC });
          keep = false;
        }
      }
    }
    if (keep && !isNoop(e)) result.push(e);
  }
  for (const name of [...live].sort()) {
    const r = find(name);
    if (!r) continue;
    if (r.constant) result.push(eqExpr(v(name), r.constant));
    else if (removed.has(r.key)) result.push(eqExpr(v(name), removed.get(r.key)!));
    else if (r.key !== name) result.push(eqExpr(v(name), v(r.key)));
  }
  const safe = new Set<string>(live);
  for (const x of bodyOutputVars(result, safe, arity)) safe.add(x);
  const all = new Set<string>();
  for (const e of result) exprVarsAll(e, all);
  let unsafe = [...all].filter((x) => !safe.has(x));
  const sorted = [...removed.entries()].sort((p, q) => -cmpStr(p[0], q[0]));
  for (const [k, val] of sorted) {
    const removedEq = eqExpr(v(k), val);
    const outs = outputVars(removedEq, safe, arity);
    let providesSafety = false;
    if (unsafe.some((x) => outs.has(x))) {
      unsafe = unsafe.filter((x) => !outs.has(x));
      providesSafety = true;
    }
    const safevarRef = val.type === "ref" && val.terms.length === 1 && val.terms[0].type === "var" && safe.has(val.terms[0].name);
    if (providesSafety || (!safevarRef && !containedIn(val, result))) {
      if (placeholders.has(k) && val.type === "ref") result.push(mkExpr({ type: "term", term: val }));
      else result.push(removedEq);
      for (const x of outs) safe.add(x);
    }
  }
  if (unsafe.length > 0) return query;
  if (ensureNonEmpty && result.length === 0) result.push(mkExpr({ type: "term", term: TRUE }));
  return result;
}

function cmpStr(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function eqExpr(a: Term, b: Term): Expr {
  return mkExpr({ type: "call", op: eqOp(), args: [a, b] });
}

function isNoop(e: Expr): boolean {
  const n = e.node;
  if (n.type === "call") return refName(n.op) === "equal" && n.args.length === 2 && termsEqual(n.args[0], n.args[1]);
  if (n.type === "term") return isGround(n.term) && !(n.term.type === "boolean" && n.term.value === false);
  return false;
}

function containedIn(val: Term, body: Body): boolean {
  let found = false;
  for (const e of body)
    for (const t of exprTerms(e))
      walkTerms(t, (x) => {
        if (found) return;
        if (x.type === "ref" && val.type === "ref") {
          if (x.terms.length >= val.terms.length && val.terms.every((y, i) => termsEqual(y, x.terms[i]))) found = true;
        } else if (termsEqual(x, val)) found = true;
      });
  return found;
}

// ---- OPA's compiler rewrites that show in residual queries ---------------------------------

interface RuleInfo {
  pkg: string[]; // package path without `data`
  rule: Rule;
}

/** Numbering of generated variables, shared the way OPA's compiler shares it (one counter for all modules). */
interface VarGen {
  prefix: string; // "__local" in modules, "__localq" in queries
  n: number;
}

/**
 * Rename a body's variables as OPA's compiler does: `:=`/`some`/`every` locals and function
 * arguments to `__localN__`, `_` to `$N` (numbered per module, in source order, as OPA's parser
 * does), `==` to `=`, rule names and imports to `data` refs. Constructs the evaluator does not
 * handle are rewritten too (so the numbering stays OPA's) and refused when evaluated.
 */
class Rewriter {
  wild = 0;
  constructor(
    private gen: VarGen,
    private ruleNames: Set<string>,
    private pkg: string[],
    private imports: Map<string, Term[]>,
  ) {}
  private fresh(): string {
    return `${this.gen.prefix}${this.gen.n++}__`;
  }
  rewriteBody(body: Body, scope: Map<string, string>): Body {
    const out: Body = [];
    for (const e of body) {
      const withs = e.with.map((w) => ({ ...w, target: w.target, value: this.term(w.value, scope) }));
      const n = e.node;
      const put = (node: ExprNode) => out.push({ ...e, node, with: withs });
      switch (n.type) {
        case "some":
          for (const x of n.vars) scope.set(x.name, this.fresh());
          break;
        case "somein": {
          // OPA's rewriteSomeDeclStatement: `some [k,] v in xs` is `v = xs[k]` (a generated key when
          // none is given), its output variables declared in sorted order
          const coll = this.term(n.collection, scope);
          const wild = (t: Term): Term => (t.type === "var" && t.name === "_" ? v(`$${this.wild++}`) : mapTerm(t, wild));
          const key = n.key ? wild(n.key) : v(this.fresh());
          const val = wild(n.value);
          const inColl = termVars(coll);
          const outs = new Set<string>();
          termVars(key, outs);
          termVars(val, outs);
          for (const x of [...outs].filter((x) => !inColl.has(x)).sort(cmpStr)) scope.set(x, this.fresh());
          const rk = this.term(key, scope);
          const rv = this.term(val, scope);
          const rhs: Term = coll.type === "ref" ? { ...coll, terms: [...coll.terms, rk] } : { type: "ref", terms: [coll, rk], loc: NOLOC };
          put({ type: "call", op: eqOp(), args: [rv, rhs] });
          break;
        }
        case "every": {
          const domain = this.term(n.domain, scope);
          const inner = new Map(scope);
          const key = n.key ? (inner.set(n.key.name, this.fresh()), this.term(n.key, inner)) : v(this.fresh());
          inner.set(n.value.name, this.fresh());
          const value = this.term(n.value, inner);
          put({ type: "every", key: key as VarTerm | null, value: value as VarTerm, domain, body: this.rewriteBody(n.body, inner) });
          break;
        }
        case "call": {
          let name = refName(n.op);
          if (name === "assign") {
            const rhs = this.term(n.args[1], scope);
            for (const x of termVars(n.args[0])) if (x !== "_") scope.set(x, this.fresh());
            put({ type: "call", op: eqOp(), args: [this.term(n.args[0], scope), rhs] });
            break;
          }
          if (name === "equal" && n.args.length === 2) name = "eq";
          const op = name === "eq" ? eqOp() : this.op(n.op, scope);
          put({ type: "call", op, args: n.args.map((a) => this.term(a, scope)) });
          break;
        }
        case "term":
          put({ type: "term", term: this.term(n.term, scope) });
          break;
      }
    }
    return out;
  }
  /** OPA's rewriteExprTerms: calls nested in an expression's terms become call expressions with an output variable. */
  liftCalls(body: Body): Body {
    const out: Body = [];
    const lift = (t: Term): Term => {
      if (t.type === "call") {
        const args = t.args.map(lift);
        const o = v(this.fresh());
        out.push(generated({ ...mkExpr({ type: "call", op: t.op, args: [...args, o] }), with: cur }));
        return o;
      }
      if (t.type === "arraycomp" || t.type === "setcomp") return { ...t, body: this.liftCalls(t.body) };
      if (t.type === "objectcomp") return { ...t, body: this.liftCalls(t.body) };
      if (t.type === "ref" || t.type === "array" || t.type === "set" || t.type === "object") return mapTerm(t, lift);
      return t;
    };
    let cur: Expr["with"] = [];
    for (const e of body) {
      const n = e.node;
      cur = e.with;
      if (n.type === "call") out.push({ ...e, node: { type: "call", op: n.op, args: n.args.map(lift) } });
      else if (n.type === "term") out.push({ ...e, node: { type: "term", term: lift(n.term) } });
      else if (n.type === "every") {
        // OPA's rewriteExprTerms: the domain becomes `__localN__ = domain` (its calls lifted too)
        const d = v(this.fresh());
        const eq = generated({ ...mkExpr({ type: "call", op: eqOp(), args: [d, n.domain] }), with: e.with });
        out.push(...this.liftCalls([eq]));
        out.push({ ...e, node: { ...n, domain: d, body: this.liftCalls(n.body) } });
      }
      else out.push(e);
    }
    return out;
  }
  /** `__localN__ = t` (OPA's equality factory). */
  private genEq(t: Term): [Expr, VarTerm] {
    const x = v(this.fresh());
    return [generated(mkExpr({ type: "call", op: eqOp(), args: [x, t] })), x];
  }
  /** OPA's rewriteComprehensionTerms: a comprehension's head that needs evaluation moves into its body. */
  comprehensionHeads(t: Term): Term {
    const needs = (x: Term) => containsRefOrComprehension(x);
    switch (t.type) {
      case "arraycomp":
      case "setcomp": {
        const body = t.body.map((e) => this.exprMap(e, (x) => this.comprehensionHeads(x)));
        const head = this.comprehensionHeads(t.head);
        if (!needs(head)) return { ...t, head, body };
        const [e, x] = this.genEq(head);
        return { ...t, head: x, body: [...body, e] };
      }
      case "objectcomp": {
        const body = t.body.map((e) => this.exprMap(e, (x) => this.comprehensionHeads(x)));
        let key = this.comprehensionHeads(t.key);
        let value = this.comprehensionHeads(t.value);
        const extra: Expr[] = [];
        if (needs(key)) {
          const [e, x] = this.genEq(key);
          extra.push(e);
          key = x;
        }
        if (needs(value)) {
          const [e, x] = this.genEq(value);
          extra.push(e);
          value = x;
        }
        return { ...t, key, value, body: [...body, ...extra] };
      }
      default:
        return mapTerm(t, (x) => this.comprehensionHeads(x));
    }
  }
  exprMap(e: Expr, f: (t: Term) => Term): Expr {
    const n = e.node;
    if (n.type === "term") return { ...e, node: { type: "term", term: f(n.term) } };
    if (n.type === "call") return { ...e, node: { type: "call", op: n.op, args: n.args.map(f) } };
    if (n.type === "every") return { ...e, node: { ...n, domain: f(n.domain), body: n.body.map((x) => this.exprMap(x, f)) } };
    return e;
  }
  /** OPA's rewriteDynamics: refs and comprehensions among a call's arguments (and inside composite terms) become `__localN__ = …`. */
  rewriteDynamics(body: Body): Body {
    const out: Body = [];
    for (const e of body) {
      const pre: Expr[] = [];
      const one = (t: Term): Term => {
        switch (t.type) {
          case "ref": {
            const r: Term = { ...t, terms: [t.terms[0], ...t.terms.slice(1).map(one)] };
            const [g, x] = this.genEq(r);
            g.with = e.with;
            pre.push(g);
            return x;
          }
          case "array":
          case "set":
          case "object":
            return mapTerm(t, one);
          case "arraycomp":
          case "setcomp":
          case "objectcomp": {
            const c = { ...t, body: this.rewriteDynamics(t.body) } as Term;
            const [g, x] = this.genEq(c);
            g.with = e.with;
            pre.push(g);
            return x;
          }
          default:
            return t;
        }
      };
      const inTerm = (t: Term): Term => {
        switch (t.type) {
          case "ref":
            return { ...t, terms: [t.terms[0], ...t.terms.slice(1).map(one)] };
          case "arraycomp":
          case "setcomp":
          case "objectcomp":
            return { ...t, body: this.rewriteDynamics(t.body) } as Term;
          default:
            return one(t);
        }
      };
      const n = e.node;
      let ne: Expr;
      if (n.type === "call" && refName(n.op) === "eq" && n.args.length === 2) ne = { ...e, node: { type: "call", op: n.op, args: [inTerm(n.args[0]), inTerm(n.args[1])] } };
      else if (n.type === "call") ne = { ...e, node: { type: "call", op: n.op, args: n.args.map(one) } };
      else if (n.type === "every") ne = { ...e, node: { ...n, domain: one(n.domain), body: this.rewriteDynamics(n.body) } };
      else if (n.type === "term") ne = { ...e, node: { type: "term", term: inTerm(n.term) } };
      else ne = e;
      out.push(...pre, ne);
    }
    return out;
  }
  op(op: RefTerm, scope: Map<string, string>): RefTerm {
    const h = op.terms[0];
    if (h.type === "var" && !scope.has(h.name)) {
      if (this.ruleNames.has(h.name)) return { ...op, terms: [v("data"), ...this.pkg.map(str), str(h.name), ...op.terms.slice(1)] };
      const imp = this.imports.get(h.name);
      if (imp) return { ...op, terms: [...imp, ...op.terms.slice(1)] };
    }
    return op;
  }
  term(t: Term, scope: Map<string, string>): Term {
    switch (t.type) {
      case "var": {
        if (t.name === "_") return v(`$${this.wild++}`);
        const s = scope.get(t.name);
        if (t.name.startsWith("$")) return s ? v(s) : t;
        if (s) return v(s);
        if (this.ruleNames.has(t.name)) return { type: "ref", terms: [v("data"), ...this.pkg.map(str), str(t.name)], loc: t.loc };
        const imp = this.imports.get(t.name);
        if (imp) return imp.length === 1 ? imp[0] : { type: "ref", terms: imp, loc: t.loc };
        return t;
      }
      case "ref": {
        const head = this.term(t.terms[0], scope);
        const rest = t.terms.slice(1).map((x) => this.term(x, scope));
        if (head.type === "ref") return { ...t, terms: [...head.terms, ...rest] };
        return { ...t, terms: [head, ...rest] };
      }
      case "call":
        return { ...t, op: this.op(t.op, scope), args: t.args.map((a) => this.term(a, scope)) };
      case "arraycomp":
      case "setcomp": {
        const inner = new Map(scope);
        const body = this.rewriteBody(t.body, inner);
        return { ...t, head: this.term(t.head, inner), body };
      }
      case "objectcomp": {
        const inner = new Map(scope);
        const body = this.rewriteBody(t.body, inner);
        return { ...t, key: this.term(t.key, inner), value: this.term(t.value, inner), body };
      }
      default:
        return mapTerm(t, (x) => this.term(x, scope));
    }
  }
}

function containsRefOrComprehension(t: Term): boolean {
  let found = false;
  walkTerms(t, (x) => {
    if (x.type === "ref" || x.type === "arraycomp" || x.type === "setcomp" || x.type === "objectcomp") found = true;
  });
  return found;
}

/** complete (`p := v`, `a.b.c := v`), set (`p contains x`), object (`p[k] := v`), function, or other ref heads. */
function ruleKind(r: Rule): "complete" | "set" | "object" | "function" | "other" {
  const h = r.head;
  if (h.kind === "function") return "function";
  if (h.kind === "multi") return h.ref.length === 1 ? "set" : "other";
  if (h.ref.slice(1).every((t) => t.type === "string")) return "complete";
  if (h.ref.length === 2) return "object";
  return "other";
}

/** A rule after OPA's rewriting (before its variables are renamed for one evaluation). */
interface RewrittenRule {
  args: Term[] | null;
  head: Term; // the value (true when absent)
  key: Term | null;
  body: Body;
  elses: { value: Term; body: Body }[];
}

/** All modules' rules rewritten as OPA's compiler does, its stages over all modules in file order. */
function rewriteModules(modules: Module[]): Map<Rule, RewrittenRule> {
  const gen: VarGen = { prefix: "__local", n: 0 };
  const sorted = [...modules].sort((a, b) => cmpStr(a.file, b.file));
  const staged: { rw: Rewriter; rule: Rule; rr: RewrittenRule }[] = [];
  // RewriteLocalVars, over all rules
  for (const m of sorted) {
    const pkg = m.package.terms.slice(1).map((t) => (t as { value: string }).value);
    const names = new Set(m.rules.map((r) => (r.head.ref[0] as VarTerm).name));
    const imports = new Map<string, Term[]>();
    for (const im of m.imports) {
      const p = im.path.terms;
      const h = p[0];
      if (h.type !== "var" || (h.name !== "data" && h.name !== "input")) continue;
      const alias = im.alias ?? (p.length > 1 ? (p[p.length - 1] as { value: string }).value : h.name);
      imports.set(alias, p);
    }
    const rw = new Rewriter(gen, names, pkg, imports);
    for (const r of m.rules) {
      const scope = new Map<string, string>();
      const args = r.head.args ? r.head.args.map((a) => {
        for (const x of termVars(a)) if (x !== "_") scope.set(x, `__local${gen.n++}__`);
        return rw.term(a, scope);
      }) : null;
      const key = r.head.key ? r.head.key : null;
      const body = rw.rewriteBody(r.body, scope);
      const refKey = r.head.kind === "single" && r.head.ref.length === 2 && r.head.ref[1].type !== "string" ? r.head.ref[1] : null;
      const rr: RewrittenRule = {
        args,
        key: key ? rw.term(key, scope) : refKey ? rw.term(refKey, scope) : null,
        head: r.head.value ? rw.term(r.head.value, scope) : TRUE,
        body,
        elses: r.elses.map((e) => {
          const s2 = new Map(scope);
          const b = rw.rewriteBody(e.body, s2);
          return { value: e.value ? rw.term(e.value, s2) : TRUE, body: b };
        }),
      };
      staged.push({ rw, rule: r, rr });
    }
  }
  // RewriteExprTerms (bodies and head values), over all rules
  for (const st of staged) {
    const { rw, rr } = st;
    const lift = (body: Body, value: Term): [Body, Term] => {
      const b = rw.liftCalls(body);
      const lifted = rw.liftCalls([mkExpr({ type: "term", term: value })]);
      b.push(...lifted.slice(0, -1));
      return [b, (lifted[lifted.length - 1].node as { term: Term }).term];
    };
    const [body, head] = lift(rr.body, rr.head);
    const elses = rr.elses.map((e) => {
      const [b, val] = lift(e.body, e.value);
      return { value: val, body: b };
    });
    st.rr = { ...rr, body, head, elses };
  }
  // RewriteComprehensionTerms, then RewriteRefsInHead (key, value, args), over all rules
  for (const st of staged) {
    const { rw, rr } = st;
    const ch = (t: Term) => rw.comprehensionHeads(t);
    st.rr = {
      ...rr,
      key: rr.key ? ch(rr.key) : null,
      head: ch(rr.head),
      args: rr.args ? rr.args.map(ch) : null,
      body: rr.body.map((e) => rw.exprMap(e, ch)),
      elses: rr.elses.map((e) => ({ value: ch(e.value), body: e.body.map((x) => rw.exprMap(x, ch)) })),
    };
  }
  for (const st of staged) {
    const { rw, rr } = st;
    const headRefs = (body: Body, value: Term): [Body, Term] => {
      if (!containsRefOrComprehension(value)) return [body, value];
      const x = v(`__local${gen.n++}__`);
      return [[...body, mkExpr({ type: "call", op: eqOp(), args: [x, value] })], x];
    };
    let body = rr.body;
    let key = rr.key;
    if (key && containsRefOrComprehension(key)) [body, key] = headRefs(body, key);
    let head: Term;
    [body, head] = headRefs(body, rr.head);
    const elses = rr.elses.map((e) => {
      const [b, val] = headRefs(e.body, e.value);
      return { value: val, body: b };
    });
    st.rr = { ...rr, key, head, body, elses };
  }
  // RewriteDynamicTerms, over all rules
  const out = new Map<Rule, RewrittenRule>();
  for (const { rw, rule, rr } of staged) {
    out.set(rule, { ...rr, body: rw.rewriteDynamics(rr.body), elses: rr.elses.map((e) => ({ ...e, body: rw.rewriteDynamics(e.body) })) });
  }
  return out;
}

// ---- the evaluator -------------------------------------------------------------------------

const MAX_STEPS = 1_000_000;

interface PreparedRule {
  head: Term; // the value (true when absent)
  key: Term | null; // partial sets and objects
  args: Term[] | null;
  body: Body;
  vars: Set<string>;
  isDefault: boolean;
}

class PartialEval {
  private binds = new Map<string, Term>();
  private unknownVars = new Map<string, number>();
  private saved: Expr[] = [];
  private qid = 0;
  private steps = 0;
  private rulesByPath = new Map<string, RuleInfo[]>();
  private prefixes = new Set<string>();
  private prepared = new Map<RuleInfo, { rule: PreparedRule }>();
  private depCache = new Map<string, boolean>();
  private supportPkgs = new Map<string, { pkg: string[]; rules: { name: string; rule: PreparedRule; body: Body; value: Term; multi?: boolean }[] }>();
  private supportDone = new Set<string>();
  private unknowns: Term[][];
  private disabled: Term[][];
  readonly queries: Body[] = [];

  constructor(
    private engine: Engine,
    private modules: Module[],
    private opts: PartialOptions,
  ) {
    this.unknowns = (opts.unknowns ?? ["input"]).map(parseRefText);
    this.disabled = (opts.disableInlining ?? []).map(parseRefText);
    for (const m of modules) {
      const pkg = m.package.terms.slice(1).map((t) => (t as { value: string }).value);
      for (const r of m.rules) {
        const ref = r.head.ref;
        const path = [...pkg];
        for (const [i, t] of ref.entries()) {
          if (i === 0 && t.type === "var") path.push(t.name);
          else if (t.type === "string") path.push(t.value);
          else break;
        }
        const key = path.join("\u0000");
        let l = this.rulesByPath.get(key);
        if (!l) this.rulesByPath.set(key, (l = []));
        l.push({ pkg, rule: r });
        for (let i = 0; i <= path.length; i++) this.prefixes.add(path.slice(0, i).join("\u0000"));
      }
    }
  }

  private step(): void {
    if (++this.steps > (this.opts.maxSteps ?? MAX_STEPS)) throw RegoError.single("eval_cancel_error", "partial evaluation: step limit exceeded");
    if ((this.steps & 1023) === 0) {
      if (this.opts.deadline !== undefined && Date.now() > this.opts.deadline) throw RegoError.single("eval_cancel_error", "caller cancelled query execution");
      if (this.opts.cancel !== undefined && Atomics.load(this.opts.cancel, 0) !== 0) throw RegoError.single("eval_cancel_error", "caller cancelled query execution");
    }
  }

  // -- bindings

  plug(t: Term): Term {
    if (this.binds.size === 0) return t;
    return substitute(t, (name) => {
      const b = this.binds.get(name);
      return b === undefined ? undefined : this.plug(b);
    });
  }
  private plugExpr(e: Expr): Expr {
    return mapExpr(e, (t) => this.plug(t));
  }
  private bind(name: string, t: Term, k: () => void): void {
    this.binds.set(name, t);
    try {
      k();
    } finally {
      this.binds.delete(name);
    }
  }
  private markUnknown(ts: Term[], k: () => void): void {
    const names: string[] = [];
    for (const t of ts) for (const n of termVars(this.plug(t))) if (!RESERVED.has(n) && !this.binds.has(n)) names.push(n);
    for (const n of names) this.unknownVars.set(n, (this.unknownVars.get(n) ?? 0) + 1);
    try {
      k();
    } finally {
      for (const n of names) {
        const c = this.unknownVars.get(n)! - 1;
        if (c === 0) this.unknownVars.delete(n);
        else this.unknownVars.set(n, c);
      }
    }
  }
  private save(e: Expr, outs: Term[], k: () => void): void {
    if (this.withMode !== null) e = { node: e.node, negated: e.negated, with: this.withMode, loc: e.loc };
    this.saved.push(e);
    try {
      this.markUnknown(outs, k);
    } finally {
      this.saved.pop();
    }
  }

  // -- unknowns

  private refMatchesUnknown(terms: Term[]): boolean {
    for (const u of this.unknowns) {
      const n = Math.min(u.length, terms.length);
      let ok = true;
      for (let i = 0; i < n && ok; i++) {
        const t = terms[i];
        if (t.type === "var" && i > 0) continue;
        ok = termsEqual(t, u[i]);
      }
      if (ok) return true;
    }
    return false;
  }
  /** Is the ref (so far) at or under an unknown (an unknown is a prefix of it)? */
  private coveredByUnknown(terms: Term[]): boolean {
    return this.unknowns.some((u) => u.length <= terms.length && u.every((x, i) => (terms[i].type === "var" && i > 0) || termsEqual(x, terms[i])));
  }

  /** Does a plugged term hold something unknown (a ref under an unknown, a saved variable, a call left in place)? */
  isUnknown(t: Term): boolean {
    let found = false;
    walkTerms(t, (x) => {
      if (found) return;
      if (x.type === "var" && this.unknownVars.has(x.name)) found = true;
      else if (x.type === "call") found = true;
      else if (x.type === "ref" && x.terms[0].type === "var" && (x.terms[0].name === "input" || x.terms[0].name === "data") && this.refMatchesUnknown(x.terms)) found = true;
      else if (x.type === "ref" && x.terms[0].type === "var" && x.terms[0].name === "data" && x.terms[1]?.type === "string" && x.terms[1].value === "partial") found = true;
    });
    return found;
  }

  /** OPA's amendComprehension: bindings of the comprehension's variables become equalities at the end of its body. */
  private amend(t: Term): Term {
    if (!isComprehension(t)) return t;
    const vars = termVars(t);
    const extra: Expr[] = [];
    for (const [name, val] of this.binds) if (vars.has(name)) extra.push(eqExpr(v(name), this.plug(val)));
    return extra.length === 0 ? t : { ...t, body: [...t.body, ...extra] };
  }

  /** As OPA's saveSet.Contains: a side of a unification that is itself unknown (a saved variable, a ref under an unknown; a set: anywhere in it). */
  directUnknown(t: Term): boolean {
    return t.type === "set" ? this.isUnknown(t) : t.type === "var" ? this.unknownVars.has(t.name) : (t.type === "ref" || t.type === "call") && this.isUnknown(t);
  }

  /** Does a comprehension or `every` (plugged) need an unknown: an unknown ref or variable, a rule or function that depends on one, a nondeterministic builtin? */
  private needsUnknown(terms0: Term[], bodies: Body[]): boolean {
    const terms = [...terms0, ...bodies.flatMap((b) => b.flatMap(exprTerms))];
    for (const t of terms) {
      if (this.isUnknown(t)) return true;
      let dep = false;
      walkTerms(t, (x) => {
        if (dep || x.type !== "ref" || x.terms[0].type !== "var" || x.terms[0].name !== "data") return;
        const p: string[] = [];
        for (const y of x.terms.slice(1)) {
          if (y.type !== "string") break;
          p.push(y.value);
        }
        for (let i = p.length; i >= 0 && !dep; i--) if (this.rulesAt(p.slice(0, i)) || (i === p.length && this.prefixes.has(p.join("\u0000")))) dep = this.depends(p.slice(0, i));
      });
      if (dep) return true;
    }
    const calls = (b: Body): boolean =>
      b.some((e) => {
        const n = e.node;
        if (e.with.length > 0) return true;
        if (n.type === "every") return calls(n.body);
        if (n.type !== "call") return false;
        const name = refName(n.op);
        if (n.op.terms[0].type === "var" && n.op.terms[0].name === "data") return this.depends(n.op.terms.slice(1).map((y) => (y as { value: string }).value));
        return !this.opts.nondeterministicBuiltins && this.engine.builtins.get(name)?.nondeterministic === true;
      });
    const sub = (t: Term): Body[] => {
      const out: Body[] = [];
      walkTerms(t, (x) => {
        if (isComprehension(x)) out.push(x.body);
      });
      return out;
    };
    return [...bodies, ...terms.flatMap(sub)].some(calls);
  }

  // -- rules and their dependence on unknowns

  private rulesAt(path: string[]): RuleInfo[] | undefined {
    return this.rulesByPath.get(path.join("\u0000"));
  }
  private rewritten: Map<Rule, RewrittenRule> | null = null;
  private prepare(ri: RuleInfo, id: number | null, fn = false): PreparedRule {
    this.rewritten ??= rewriteModules(this.modules);
    const rr = this.rewritten.get(ri.rule)!;
    const r = ri.rule;
    const kind = ruleKind(r);
    if (fn ? kind !== "function" : kind === "function" || kind === "other")
      throw new PartialUnsupported("a rule of this kind (ref head with several variables) that depends on an unknown", r.loc);
    if (r.elses.length > 0) throw new PartialUnsupported("`else` in a rule that depends on an unknown", r.loc);
    const body = rr.body;
    const head = rr.head;
    const vars = new Set<string>();
    for (const e of body) for (const t of exprTerms(e)) termVars(t, vars);
    termVars(head, vars);
    for (const a of rr.args ?? []) termVars(a, vars);
    if (rr.key) termVars(rr.key, vars);
    for (const x of RESERVED) vars.delete(x);
    if (id === null) return { head, key: rr.key, args: rr.args, body, vars, isDefault: r.isDefault };
    const ren = (t: Term): Term => renameVars(t, vars, id);
    return {
      key: rr.key ? ren(rr.key) : null,
      head: ren(head),
      args: rr.args ? rr.args.map(ren) : null,
      body: body.map((e) => renameExpr(e, ren)),
      vars,
      isDefault: r.isDefault,
    };
  }
  /** Does evaluating the document at this path need an unknown? (OPA's saveRequired, statically.) */
  private depends(path: string[], seen = new Set<string>()): boolean {
    const key = path.join("\u0000");
    const c = this.depCache.get(key);
    if (c !== undefined) return c;
    if (seen.has(key)) return false;
    seen.add(key);
    if (this.refMatchesUnknown([v("data"), ...path.map(str)])) return true;
    if (this.disabled.some((d) => this.prefixMatch(d, path))) return true;
    let dep = false;
    const check = (t: Term) =>
      walkTerms(t, (x) => {
        if (dep) return;
        if (x.type === "ref" && x.terms[0].type === "var") {
          const h = x.terms[0].name;
          if (h === "input" && this.refMatchesUnknown(x.terms)) dep = true;
          else if (h === "data") {
            const p: string[] = [];
            for (const y of x.terms.slice(1)) {
              if (y.type !== "string") break;
              p.push(y.value);
            }
            if (this.refMatchesUnknown(x.terms)) dep = true;
            else for (let i = p.length; i >= 1 && !dep; i--) if (this.rulesAt(p.slice(0, i))) dep = this.depends(p.slice(0, i), seen);
            if (!dep && this.prefixes.has(p.join("\u0000")) && !this.rulesAt(p)) {
              for (const k of this.rulesByPath.keys()) if (k.startsWith(p.join("\u0000") + "\u0000") && this.depends(k.split("\u0000"), seen)) dep = true;
            }
          }
        }
        if (x.type === "call") {
          const name = refName(x.op);
          if (x.op.terms[0].type === "var" && x.op.terms[0].name === "data") {
            const p = x.op.terms.slice(1).map((y) => (y as { value: string }).value);
            if (this.rulesAt(p) && this.depends(p, seen)) dep = true;
          } else if (!this.opts.nondeterministicBuiltins && this.engine.builtins.get(name)?.nondeterministic) dep = true;
        }
      });
    for (const ri of this.rulesAt(path) ?? []) {
      if (dep) break;
      const r = ri.rule;
      if (r.body.some((e) => e.with.length > 0)) {
        dep = true;
        break;
      }
      let pr: PreparedRule;
      try {
        pr = this.prepare(ri, null);
      } catch (e) {
        if (!(e instanceof PartialUnsupported)) throw e;
        // a rule outside what the inliner handles: it depends on an unknown if its text names one
        dep = this.mentionsUnknown(r);
        continue;
      }
      for (const e of pr.body) for (const t of exprTerms(e)) check(t);
      if (pr.body.some((e) => e.node.type === "call" && !this.opts.nondeterministicBuiltins && this.engine.builtins.get(refName(e.node.op))?.nondeterministic)) dep = true;
      check(pr.head);
    }
    this.depCache.set(key, dep);
    return dep;
  }
  private mentionsUnknown(r: Rule): boolean {
    const s = JSON.stringify(r, (k, x) => (k === "loc" ? undefined : x));
    return this.unknowns.some((u) => s.includes(`"name":"${(u[0] as VarTerm).name}"`));
  }
  private prefixMatch(d: Term[], path: string[]): boolean {
    const p = [v("data"), ...path.map(str)];
    const n = Math.min(d.length, p.length);
    for (let i = 0; i < n; i++) if (!termsEqual(d[i], p[i])) return false;
    return true;
  }

  // -- ground evaluation by the engine

  private evalGround(text: string): Value | undefined {
    const r = this.engine.queryRaw(`__partial_value__ = ${text}`, this.opts.input === undefined ? {} : { input: this.opts.input });
    if (r instanceof Promise) throw new PartialUnsupported(`an asynchronous builtin in \`${text}\``);
    if (r.length === 0) return undefined;
    return r[0].bindings.get("__partial_value__");
  }

  // -- evaluation

  run(query: Body): void {
    const qvars = new Set<string>();
    for (const e of query) for (const t of exprTerms(e)) termVars(t, qvars);
    const live = new Set<string>();
    for (const u of this.unknowns) if (u[0].type === "var") live.add(u[0].name);
    for (const x of qvars) if (!x.startsWith("__")) live.add(x);
    this.qid = 1;
    this.evalBodyFrom(query, 0, () => {
      const body: Body = this.saved.map((e) => this.plugExpr(e));
      const bindings: Expr[] = [];
      for (const x of qvars) if (!RESERVED.has(x) && this.binds.has(x)) bindings.push(eqExpr(v(x), this.plug(v(x))));
      bindings.sort(compareExprs);
      body.push(...bindings);
      this.queries.push(copyPropagate(body, live, false, (op) => this.arity(op)));
      if (this.queries.length > (this.opts.maxQueries ?? 10_000)) throw RegoError.single("eval_cancel_error", "partial evaluation: too many residual queries");
    });
  }

  arity(op: string): number | undefined {
    const b = this.engine.builtins.get(op);
    if (b) return b.decl.args?.length ?? 0;
    if (op.startsWith("data.")) {
      const l = this.rulesAt(op.split(".").slice(1));
      if (l && l[0].rule.head.args) return l[0].rule.head.args.length;
    }
    return undefined;
  }

  /** Evaluate a body; `qid`: the number of its evaluation (OPA's query id: renamed variables, `__not` rule names). */
  private evalBody(body: Body, i: number, k: () => void, qid: number): void {
    this.step();
    if (i >= body.length) return k();
    this.cur = { qid, index: i };
    this.evalExpr(body[i], () => this.evalBody(body, i + 1, k, qid));
  }
  private cur = { qid: 0, index: 0 };
  private evalBodyFrom(body: Body, qid: number, k: () => void): void {
    this.evalBody(body, 0, k, qid);
  }

  private evalExpr(e: Expr, k: () => void): void {
    if (e.with.length > 0) return this.evalWith(e, k);
    if (e.negated) return this.evalNot(e, k);
    const n = e.node;
    if (n.type === "term") {
      const { qid, index } = this.cur;
      return this.evalTerm(n.term, (t) => {
        if ((t.type === "var" && this.unknownVars.has(t.name)) || isComprehension(t)) {
          // OPA unifies the term with a generated variable and saves both (copy propagation keeps the variable)
          const rt = v(`$_term_${qid}_${index}`);
          return this.save(eqExpr(t, rt), [rt], () => this.save(mkExpr({ type: "term", term: rt }), [], k));
        }
        if (this.isUnknown(t)) return this.save(mkExpr({ type: "term", term: t }), [], k);
        if (!(t.type === "boolean" && t.value === false)) k();
      });
    }
    if (n.type === "every") {
      const pe = this.plugExpr(e);
      const pn = pe.node as typeof n;
      if (this.needsUnknown([pn.domain], [pn.body])) return this.save(pe, [], k);
      const r = this.engine.queryRaw(exprText(pe, true), this.opts.input === undefined ? {} : { input: this.opts.input });
      if (r instanceof Promise) throw new PartialUnsupported("an asynchronous builtin in `every`", e.loc);
      if (r.length > 0) k();
      return;
    }
    if (n.type !== "call") throw new PartialUnsupported(`\`${n.type}\``, e.loc);
    const name = refName(n.op);
    if (name === "eq") return this.unify(n.args[0], n.args[1], k);
    this.evalCall(n.op, n.args, e.loc, k, true);
  }

  /**
   * An expression with `with`: OPA saves it (its modifiers may replace what is unknown), with the
   * known variables plugged. When it reaches a rule or a function OPA evaluates under the
   * modifiers (inlining or support rules), which is not covered here.
   */
  private evalWith(e: Expr, k: () => void): void {
    const pe = this.plugExpr(e);
    let rules = false;
    const check = (t: Term) =>
      walkTerms(t, (x) => {
        if (x.type === "ref" && x.terms[0].type === "var" && x.terms[0].name === "data" && this.refHasRules(x)) rules = true;
      });
    for (const t of exprTerms(pe)) check(t);
    const n = pe.node;
    if (n.type === "call" && n.op.terms[0].type === "var" && n.op.terms[0].name === "data") rules = true;
    if (n.type === "every" || rules) throw new PartialUnsupported("`with` on an expression that reaches a rule, a function or `every`", e.loc);
    // as OPA: an expression with `with` needs saving throughout: refs to base data are evaluated,
    // every unification and call is saved with the expression's (plugged) modifiers
    const withs = pe.with;
    const prev = this.withMode;
    this.withMode = withs;
    try {
      this.evalExpr({ ...e, with: [] }, () => {
        this.withMode = prev;
        try {
          k();
        } finally {
          this.withMode = withs;
        }
      });
    } finally {
      this.withMode = prev;
    }
  }
  private withMode: Expr["with"] | null = null;

  /** `not expr`, as OPA's evalNot: evaluated when it needs no unknown, else its residual negated (De Morgan) or a `__not` support rule. */
  private evalNot(e: Expr, k: () => void): void {
    const { qid, index } = this.cur;
    const childId = this.qid++;
    const pe = this.plugExpr(e);
    const inner: Expr = { ...pe, negated: false, with: [] };
    if (!this.needsUnknown([], [[inner]])) {
      const r = this.engine.queryRaw(exprText(inner, true), this.opts.input === undefined ? {} : { input: this.opts.input });
      if (r instanceof Promise) throw new PartialUnsupported("an asynchronous builtin under `not`", e.loc);
      if (r.length === 0) k();
      return;
    }
    const live = new Set<string>(this.unknownVars.keys());
    for (const u of this.unknowns) if (u[0].type === "var") live.add(u[0].name);
    const results: Body[] = [];
    const before = this.saved;
    this.saved = [];
    try {
      this.evalExpr(inner, () => {
        results.push(copyPropagate(this.saved.map((x) => this.plugExpr(x)), live, true, (op) => this.arity(op)));
      });
    } finally {
      this.saved = before;
    }
    if (results.length === 0) return k();
    if (!this.canInlineNegation(live, results)) return this.notSupport(`__not${qid}_${index}_${childId}__`, e, live, results, k);
    const product = (i: number, curr: Expr[]): void => {
      if (i === results.length) {
        const push = (j: number): void => (j === curr.length ? k() : this.save({ ...curr[j], with: e.with }, [], () => push(j + 1)));
        return push(0);
      }
      for (const x of results[i]) product(i + 1, [...curr, { ...x, negated: !x.negated }]);
    };
    product(0, []);
  }

  private canInlineNegation(safe: Set<string>, queries: Body[]): boolean {
    let size = 1;
    for (const q of queries) {
      size *= q.length;
      for (const x of q) {
        const n = x.node;
        const nested = (t: Term, top: boolean): boolean => {
          let found = false;
          if (top && t.type === "ref") {
            for (const y of t.terms.slice(1)) walkTerms(y, (z) => (found ||= z.type === "ref" || z.type === "call"));
            return found;
          }
          walkTerms(t, (z) => (found ||= z.type === "ref" || z.type === "call"));
          return found;
        };
        if (n.type === "call" && refName(n.op) === "eq" && n.args.length === 2) {
          if (n.args.some((t) => nested(t, true))) return false;
        } else if (n.type === "call") {
          if (n.args.some((t) => nested(t, false))) return false;
        } else if (n.type === "term") {
          if (nested(n.term, true)) return false;
        } else return false;
        if (!x.negated) {
          for (const t of exprTerms(x)) for (const name of freeVars(t)) if (!safe.has(name)) return false;
        }
      }
    }
    return size <= 16;
  }

  /** A negation whose residual cannot be negated in place: `not data.partial.__notQ_I_N__[(args)]` and its support rules. */
  private notSupport(name: string, e: Expr, unknowns: Set<string>, queries: Body[], k: () => void): void {
    const bodyVars = new Set<string>();
    for (const q of queries) for (const x of q) for (const t of exprTerms(x)) termVars(t, bodyVars);
    const args = [...unknowns].filter((x) => bodyVars.has(x)).sort(cmpStr).map(v);
    const key = ["__not"].join("");
    void key;
    let entry = this.supportPkgs.get("partial");
    if (!entry) this.supportPkgs.set("partial", (entry = { pkg: ["partial"], rules: [] }));
    for (const q of queries)
      entry.rules.push({ name, rule: { head: TRUE, key: null, args: args.length > 0 ? args : null, body: q, vars: new Set(), isDefault: false }, body: q, value: TRUE });
    const ref: RefTerm = { type: "ref", terms: [v("data"), str("partial"), str(name)], loc: NOLOC };
    const node: ExprNode = args.length > 0 ? { type: "call", op: ref, args } : { type: "term", term: ref };
    this.save({ node, negated: true, with: e.with, loc: e.loc }, [], k);
  }

  /** Evaluate a call; `stmt`: as an expression (false fails), else as a term (k gets the result). */
  private evalCall(op: RefTerm, args: Term[], loc: Location, k: (t: Term) => void, stmt: boolean): void {
    const name = refName(op);
    const isData = op.terms[0].type === "var" && op.terms[0].name === "data";
    const b = isData ? undefined : this.engine.builtins.get(name);
    if (!isData && !b) throw new PartialUnsupported(`the call of \`${name}\``, loc);
    const ar = this.arity(name);
    if (ar === undefined) throw new PartialUnsupported(`the call of \`${name}\``, loc);
    const inArgs = args.slice(0, ar);
    const out = args.length > ar ? args[ar] : undefined;
    this.evalTerms(inArgs, 0, [], (vals) => {
      if (isData) {
        const path = op.terms.slice(1).map((x) => (x as { value: string }).value);
        if (vals.some((x) => this.isUnknown(x) || !isGround(x)) || this.depends(path)) return this.inlineFunction(path, op, vals, out, loc, k, stmt);
      }
      const unknown = vals.some((x) => this.isUnknown(x)) || (b?.nondeterministic && !this.opts.nondeterministicBuiltins) || this.withMode !== null;
      if (unknown) {
        if (!stmt) return k({ type: "call", op, args: vals, loc: NOLOC });
        const e = mkExpr({ type: "call", op, args: out ? [...vals, this.plug(out)] : vals });
        return this.save(e, out ? [out] : [], () => k(TRUE));
      }
      const res = this.evalGround(`${termText(op, true)}(${vals.map((x) => termText(x, true)).join(", ")})`);
      if (res === undefined) return;
      const rt = valueToTerm(res);
      if (out) return this.unify(out, rt, () => k(TRUE));
      if (stmt && res === false) return;
      k(rt);
    });
  }

  /** A user function's rules evaluated in place (OPA inlines functions during partial evaluation). */
  private inlineFunction(path: string[], op: RefTerm, vals: Term[], out: Term | undefined, loc: Location, k: (t: Term) => void, stmt: boolean): void {
    const rules = this.rulesAt(path) ?? [];
    if (rules.some((r) => r.rule.isDefault)) throw new PartialUnsupported(`the default function \`${path.join(".")}\` with unknown arguments`, loc);
    if (this.opts.shallowInlining || this.disabled.some((d) => this.prefixMatch(d, path))) throw new PartialUnsupported(`a function not inlined (\`${path.join(".")}\`)`, loc);
    for (const ri of this.indexOrder(rules)) {
      const id = this.qid++;
      const pr = this.prepare(ri, id, true);
      const ruleArgs = [...(pr.args ?? [])];
      const callArgs = [...vals];
      if (out) {
        ruleArgs.push(pr.head);
        callArgs.push(out);
      }
      const go = (i: number): void => {
        if (i < callArgs.length) return this.unifyValues(callArgs[i], ruleArgs[i], () => go(i + 1));
        this.evalBodyFrom(pr.body, id, () => {
          if (out) return k(TRUE);
          const val = this.plug(pr.head);
          if (this.directUnknown(val)) return this.save(mkExpr({ type: "term", term: val }), [], () => k(TRUE));
          if (stmt && val.type === "boolean" && val.value === false) return;
          k(val);
        });
      };
      go(0);
    }
    void op;
  }

  private evalTerms(ts: Term[], i: number, acc: Term[], k: (vals: Term[]) => void): void {
    if (i === ts.length) return k(acc);
    this.evalTerm(ts[i], (t) => this.evalTerms(ts, i + 1, [...acc, t], k));
  }

  /** Evaluate a term: refs and calls to their values (or left in place when unknown). */
  evalTerm(t: Term, k: (t: Term) => void, rterm?: Term): void {
    this.step();
    switch (t.type) {
      case "ref":
        return this.evalRef(t, k, rterm);
      case "call":
        return this.evalCall(t.op, t.args, t.loc, k, false);
      case "array":
        return this.evalTerms(t.items, 0, [], (items) => k({ ...t, items }));
      case "set":
        return this.evalTerms(t.items, 0, [], (items) => k({ ...t, items }));
      case "object": {
        const flat = t.items.flat();
        return this.evalTerms(flat, 0, [], (xs) => {
          const items: [Term, Term][] = [];
          for (let i = 0; i < xs.length; i += 2) items.push([xs[i], xs[i + 1]]);
          k({ ...t, items });
        });
      }
      case "var":
        return k(this.plug(t));
      case "arraycomp":
      case "setcomp":
      case "objectcomp": {
        const c = this.plug(t);
        if (this.needsUnknown([c], [])) return k(this.amend(t));
        const val = this.evalGround(termText(c, true));
        if (val === undefined) return;
        return k(valueToTerm(val));
      }
      default:
        return k(t);
    }
  }

  private evalRef(ref: RefTerm, k: (t: Term) => void, rterm?: Term): void {
    const p = this.plug(ref) as RefTerm;
    const h = p.terms[0];
    if (h.type === "var" && h.name === "input") {
      if (this.refMatchesUnknown(p.terms)) return this.markUnknown(p.terms.slice(1), () => k(p));
      if (this.opts.input === undefined) return;
      // the input is unified as a term is (value first), not as base data
      return this.navigate(fromInput(this.opts.input), p.terms, 1, k, false);
    }
    if (h.type === "var" && h.name === "data") return this.evalData(p, k, rterm);
    if (h.type === "var") {
      if (this.unknownVars.has(h.name)) return k(p);
      throw new PartialUnsupported(`the reference \`${termText(p)}\``, ref.loc);
    }
    if (this.isUnknown(h)) throw new PartialUnsupported(`the reference \`${termText(p)}\``, ref.loc);
    this.evalTerm(h, (hv) => {
      if (hv.type === "ref") return this.evalRef({ ...p, terms: [...hv.terms, ...p.terms.slice(1)] }, k);
      const val = termToValue(hv);
      if (val === undefined) throw new PartialUnsupported(`the reference \`${termText(p)}\``, ref.loc);
      this.navigate(val, p.terms, 1, k, false);
    });
  }

  /** Walk a known value along a ref's operands from position i, enumerating unbound variables. */
  private navigate(val: Value, terms: Term[], i: number, k: (t: Term) => void, base = true): void {
    this.step();
    if (i === terms.length) {
      const t = valueToTerm(val);
      if (base) BASE.add(t);
      return k(t);
    }
    const op = this.plug(terms[i]);
    if (op.type === "var" && !this.binds.has(op.name) && !this.unknownVars.has(op.name)) {
      for (const [key, x] of entriesOf(val)) this.bind(op.name, valueToTerm(key), () => this.navigate(x, terms, i + 1, k, base));
      return;
    }
    if (this.isUnknown(op)) {
      // a known collection indexed by an unknown: each key, with the key's unification saved (as OPA)
      for (const [key, x] of entriesOf(val)) this.unifyValues(valueToTerm(key), op, () => this.navigate(x, terms, i + 1, k, base));
      return;
    }
    const kv = termToValue(op);
    if (kv === undefined) {
      // a pattern such as [x, 1]: enumerate and unify
      for (const [key, x] of entriesOf(val)) this.unify(op, valueToTerm(key), () => this.navigate(x, terms, i + 1, k, base));
      return;
    }
    const next = lookup(val, kv);
    if (next !== undefined) this.navigate(next, terms, i + 1, k, base);
  }

  private evalData(p: RefTerm, k: (t: Term) => void, rterm?: Term): void {
    const path: string[] = [];
    let i = 1;
    for (; i < p.terms.length; i++) {
      if (this.coveredByUnknown(p.terms.slice(0, i))) break;
      const key = path.join("\u0000");
      if (this.rulesAt(path)) break;
      if (!this.prefixes.has(key)) break;
      const t = p.terms[i];
      if (t.type !== "string") {
        if (t.type === "var" && !this.binds.has(t.name)) throw new PartialUnsupported(`iteration over rules (\`${termText(p)}\`)`, p.loc);
        throw new PartialUnsupported(`the reference \`${termText(p)}\``, p.loc);
      }
      path.push(t.value);
    }
    if (this.coveredByUnknown(p.terms.slice(0, i))) {
      return this.markUnknown(p.terms.slice(1), () => k(p));
    }
    const rules = this.rulesAt(path);
    const rest = p.terms.slice(i);
    if (!rules) {
      if (this.prefixes.has(path.join("\u0000"))) {
        // a package (or a prefix of rule paths) as a whole
        if (this.depends(path)) throw new PartialUnsupported(`the document \`${termText(p)}\` as a whole`, p.loc);
      }
      const val = this.evalGround(termText({ type: "ref", terms: [v("data"), ...path.map(str)], loc: NOLOC }));
      if (val === undefined) return;
      return this.navigate(val, rest, 0, k, !this.prefixes.has(path.join("\u0000")));
    }
    if (rules.some((r) => r.rule.head.args)) throw new PartialUnsupported(`the function \`${path.join(".")}\` as a value`, p.loc);
    const pathRef: RefTerm = { type: "ref", terms: [v("data"), ...path.map(str)], loc: NOLOC };
    if (!this.depends(path)) {
      const val = this.evalGround(termText(pathRef));
      if (val === undefined) return;
      return this.navigate(val, rest, 0, k, false);
    }
    const defaults = rules.filter((r) => r.rule.isDefault);
    const normal = rules.filter((r) => !r.rule.isDefault);
    const kind = ruleKind(rules[0].rule);
    if (kind === "set" || kind === "object") {
      const disabled = this.opts.shallowInlining === true || this.disabled.some((d) => this.prefixMatch(d, path));
      if (rest.length === 0 || disabled) {
        if (kind !== "set") throw new PartialUnsupported(`the partial object \`${path.join(".")}\` as a whole, where it depends on an unknown`, p.loc);
        this.writeSupport(path, normal, []);
        const ns: RefTerm = { type: "ref", terms: [v("data"), str("partial"), ...path.map(str), ...rest], loc: NOLOC };
        return this.markUnknown(rest, () => k(ns));
      }
      for (const ri of this.indexOrder(normal)) {
        const id = this.qid++;
        const pr = this.prepare(ri, id);
        this.unify(rest[0], pr.key!, () =>
          this.evalBodyFrom(pr.body, id, () => {
            const val = this.plug(kind === "set" ? pr.key! : pr.head);
            const rest2 = rest.slice(1);
            if (rest2.length === 0) return k(val);
            if (val.type === "ref") return this.evalRef({ type: "ref", terms: [...val.terms, ...rest2], loc: NOLOC }, k);
            const gv = termToValue(val);
            if (gv === undefined) throw new PartialUnsupported(`a reference into a value of \`${path.join(".")}\``, p.loc);
            this.navigate(gv, rest2, 0, k, false);
          }),
        );
      }
      return;
    }
    let support = this.opts.shallowInlining === true || this.disabled.some((d) => this.prefixMatch(d, path) && d.length <= path.length + 1);
    if (defaults.length > 0) {
      const dv = this.prepare(defaults[0], null).head;
      const rt = rterm && rest.length === 0 ? this.plug(rterm) : undefined;
      const disabledFalse = dv.type === "boolean" && dv.value === false && false;
      if (!disabledFalse) support ||= !(rt && isGround(rt)) || termsEqual(dv, rt);
    }
    if (support) {
      this.writeSupport(path, normal, defaults);
      const ns: RefTerm = { type: "ref", terms: [v("data"), str("partial"), ...path.map(str), ...rest], loc: NOLOC };
      return this.markUnknown(rest, () => k(ns));
    }
    for (const ri of this.indexOrder(normal)) {
      const id = this.qid++;
      const pr = this.prepare(ri, id);
      this.evalBodyFrom(pr.body, id, () => {
        const val = this.plug(pr.head);
        if (rest.length === 0) return k(val);
        if (val.type === "ref") return this.evalRef({ type: "ref", terms: [...val.terms, ...rest], loc: NOLOC }, k);
        const gv = termToValue(val);
        if (gv === undefined) throw new PartialUnsupported(`a reference into the value of \`${path.join(".")}\``, p.loc);
        this.navigate(gv, rest, 0, k, false);
      });
    }
  }

  /**
   * The order in which OPA's rule index returns rules when the indexed values are unknown: its trie
   * (one level per indexed ref: most frequent first, then by first appearance) walked with rules
   * of a node first, then the "undefined", "any", array and scalar children.
   */
  private indexOrder(rules: RuleInfo[]): RuleInfo[] {
    const isRef = (t: Term) => t.type === "ref" && t.terms[0].type === "var" && (t.terms[0].name === "input" || t.terms[0].name === "data") && t.terms.slice(1).every((x) => x.type === "string") && !(t.terms[0].name === "data" && this.refHasRules(t));
    const isVal = (t: Term): boolean => isScalar(t) || t.type === "var" || (t.type === "array" && t.items.every(isVal));
    const idx = new Map<RuleInfo, { ref: string; value: Term }[]>();
    const freq = new Map<string, number>();
    const refTerms = new Map<string, Term>();
    for (const ri of rules) {
      let body: Body;
      try {
        body = this.prepare(ri, null, ri.rule.head.kind === "function").body;
      } catch {
        continue;
      }
      const out: { ref: string; value: Term }[] = [];
      for (const e of body) {
        if (!e.negated && e.with.length === 0 && e.node.type === "term" && isRef(e.node.term)) {
          // a naked ref: indexed as "any value" (defined)
          const key = termText(e.node.term);
          refTerms.set(key, e.node.term);
          out.push({ ref: key, value: v("_") });
          freq.set(key, (freq.get(key) ?? 0) + 1);
          continue;
        }
        if (e.negated || e.with.length > 0 || e.node.type !== "call" || refName(e.node.op) !== "eq" || e.node.args.length !== 2) continue;
        const [a, b] = e.node.args;
        const pair = isRef(a) && isVal(b) ? [a, b] : isRef(b) && isVal(a) ? [b, a] : null;
        if (!pair) continue;
        const key = termText(pair[0]);
        refTerms.set(key, pair[0]);
        out.push({ ref: key, value: pair[1] });
        freq.set(key, (freq.get(key) ?? 0) + 1);
      }
      if (out.length > 0) idx.set(ri, out);
    }
    const order = [...freq.keys()];
    const sorted = [...order].sort((x, y) => freq.get(y)! - freq.get(x)! || order.indexOf(x) - order.indexOf(y));
    interface TNode {
      rules: RuleInfo[];
      ref?: string;
      next?: TNode;
      undef?: TNode;
      any?: TNode;
      arr?: TNode;
      scalars: Map<string, TNode>;
    }
    const mk = (): TNode => ({ rules: [], scalars: new Map() });
    const root = mk();
    const insertArray = (n: TNode, items: Term[]): TNode => {
      if (items.length === 0) return n;
      const h = items[0];
      if (isScalar(h)) {
        const key = termText(h);
        let c = n.scalars.get(key);
        if (!c) n.scalars.set(key, (c = mk()));
        return insertArray(c, items.slice(1));
      }
      n.any ??= mk();
      return insertArray(n.any, items.slice(1));
    };
    const insertValue = (n: TNode, value: Term | null): TNode => {
      if (value === null) return (n.undef ??= mk());
      if (value.type === "array") return insertArray((n.arr ??= mk()), value.items);
      if (isScalar(value)) {
        const key = termText(value);
        let c = n.scalars.get(key);
        if (!c) n.scalars.set(key, (c = mk()));
        return c;
      }
      return (n.any ??= mk());
    };
    for (const ri of rules) {
      if (ri.rule.isDefault) continue;
      let node = root;
      const ix = idx.get(ri);
      if (ix) {
        for (const ref of sorted) {
          const vals = ix.filter((x) => x.ref === ref);
          node.next ??= { ...mk(), ref };
          node = insertValue(node.next, vals.length === 0 ? null : vals.length === 1 ? vals[0].value : vals.some((x) => x.value.type === "var") ? v("_") : vals[0].value);
        }
      }
      node.rules.push(ri);
    }
    // a known indexed ref (base data, a known input) selects children by its value, as OPA's lookup does
    const resolve = (ref: string): { unknown: true } | { unknown: false; value: Value | undefined } => {
      const t = refTerms.get(ref)!;
      if (t.type !== "ref" || this.refMatchesUnknown(t.terms)) return { unknown: true };
      const h = (t.terms[0] as VarTerm).name;
      if (h === "input" && this.opts.input === undefined) return { unknown: false, value: undefined };
      let val: Value | undefined = h === "input" ? fromInput(this.opts.input) : (this.engine.getData() as Value);
      for (const x of t.terms.slice(1)) {
        if (val === undefined) break;
        val = lookup(val, (x as { value: string }).value);
      }
      return { unknown: false, value: val };
    };
    const out: RuleInfo[] = [];
    const add = (n: TNode) => {
      for (const r of n.rules) if (!out.includes(r)) out.push(r);
    };
    const all = (n: TNode | undefined): void => {
      if (!n) return;
      add(n);
      walkRef(n.next);
      all(n.undef);
      all(n.any);
      all(n.arr);
      for (const c of n.scalars.values()) all(c);
    };
    const traverse = (n: TNode | undefined): void => {
      if (!n) return;
      add(n);
      walkRef(n.next);
    };
    function walkRef(n: TNode | undefined): void {
      if (!n) return;
      const r = resolve(n.ref!);
      if (r.unknown) return all(n);
      traverse(n.undef);
      if (r.value === undefined) return;
      traverse(n.any);
      if (Array.isArray(r.value)) {
        let a: TNode | undefined = n.arr;
        for (const item of r.value) {
          if (!a) break;
          const key = isScalarValue(item) ? termText(valueToTerm(item)) : null;
          a = key !== null ? (a.scalars.get(key) ?? a.any) : a.any;
        }
        traverse(a);
      } else if (isScalarValue(r.value)) traverse(n.scalars.get(termText(valueToTerm(r.value))));
    }
    traverse(root);
    return out;
  }

  /** Does a data ref (ground) reach a rule (a virtual document)? */
  private refHasRules(t: Term): boolean {
    if (t.type !== "ref") return false;
    const p = t.terms.slice(1).map((x) => (x as { value: string }).value);
    for (let i = 0; i <= p.length; i++) if (this.rulesAt(p.slice(0, i))) return true;
    return this.prefixes.has(p.join("\u0000"));
  }

  private writeSupport(path: string[], normal: RuleInfo[], defaults: RuleInfo[]): void {
    const key = path.join("\u0000");
    if (this.supportDone.has(key)) return;
    this.supportDone.add(key);
    const pkg = ["partial", ...path.slice(0, -1)];
    const pkey = pkg.join(".");
    let entry = this.supportPkgs.get(pkey);
    if (!entry) this.supportPkgs.set(pkey, (entry = { pkg, rules: [] }));
    const name = path[path.length - 1];
    for (const ri of [...this.indexOrder(normal), ...defaults]) {
      const id = this.qid++;
      const pr = this.prepare(ri, id);
      const before = this.saved;
      this.saved = [];
      try {
        this.evalBodyFrom(pr.body, id, () => {
          const body = this.saved.map((e) => this.plugExpr(e));
          const value = this.plug(pr.key ?? pr.head);
          const live = termVars(value);
          entry!.rules.push({ name, rule: pr, body: copyPropagate(body, live, true, (op) => this.arity(op)), value, multi: pr.key !== null });
        });
      } finally {
        this.saved = before;
      }
    }
  }

  supportModules(): Module[] {
    const out: Module[] = [];
    for (const { pkg, rules } of [...this.supportPkgs.values()]) {
      rules.sort((a, b) => {
        if (a.name !== b.name) return cmpStr(a.name, b.name);
        const c = compareTerms(a.value, b.value);
        if (c !== 0) return c;
        if (a.rule.isDefault !== b.rule.isDefault) return a.rule.isDefault ? 1 : -1;
        return compareBodies(a.body, b.body);
      });
      const mod: Module = {
        file: "",
        package: { type: "ref", terms: [v("data"), ...pkg.map(str)], loc: NOLOC },
        imports: [],
        rules: rules.map(({ name, rule, body, value, multi }) => ({
          head: multi
            ? { kind: "multi" as const, ref: [v(name)], args: null, key: value, value: null, assign: false, loc: NOLOC }
            : { kind: rule.args ? ("function" as const) : ("single" as const), ref: [v(name)], args: rule.args, key: null, value, assign: false, loc: NOLOC },
          body,
          isDefault: rule.isDefault,
          elses: [],
          hasBody: true,
          annotations: [],
          loc: NOLOC,
        })),
        comments: [],
        annotations: [],
        regoVersion: "v1",
        loc: NOLOC,
      };
      out.push(mod);
    }
    return out;
  }

  // -- unification

  unify(a: Term, b: Term, k: () => void): void {
    this.step();
    const pa = isHeld(a) ? a : this.plug(a);
    const pb = isHeld(b) ? b : this.plug(b);
    const h = (t: Term) => (t.type === "ref" || t.type === "call" ? hold(t) : t);
    // a base document's value is unified as (other side, value), a rule's as (value, other side): OPA's order
    if ((pa.type === "ref" || pa.type === "call") && !(this.isUnknown(pa) && (pb.type === "ref" || pb.type === "call")))
      return this.evalTerm(pa, (ta) => (BASE.has(ta) ? this.unify(pb, ta, k) : this.unify(h(ta), pb, k)), pb);
    if (pb.type === "ref" || pb.type === "call") return this.evalTerm(pb, (tb) => (BASE.has(tb) || tb.type === "ref" || tb.type === "call" ? this.unify(pa, h(tb), k) : this.unify(tb, pa, k)), pa);
    this.unifyValues(unhold(pa), unhold(pb), k);
  }

  private unifyValues(a: Term, b: Term, k: () => void): void {
    a = this.plug(a);
    b = this.plug(b);
    if (this.directUnknown(a) || this.directUnknown(b) || this.withMode !== null) return this.save(eqExpr(a, b), [a, b], k);
    // a comprehension: evaluated when it needs no unknown, else the unification is saved with it (OPA's biunifyComprehension)
    if (isComprehension(a) || isComprehension(b)) {
      const [c, other] = isComprehension(a) ? [a, b] : [b, a];
      return this.evalTerm(c, (cv) => {
        if (isComprehension(cv)) return this.save(eqExpr(a === c ? cv : a, b === c ? cv : b), [other], k);
        this.unifyValues(a === c ? cv : a, b === c ? cv : b, k);
      });
    }
    if (a.type === "var" && !this.binds.has(a.name)) {
      if (b.type === "var" && b.name === a.name) return k();
      return this.bind(a.name, b, k);
    }
    if (b.type === "var" && !this.binds.has(b.name)) return this.bind(b.name, a, k);
    if (isGround(a) && isGround(b)) {
      if (compareValues(termToValue(a)!, termToValue(b)!) === 0) k();
      return;
    }
    if (a.type === "array" && b.type === "array") {
      if (a.items.length !== b.items.length) return;
      const go = (i: number): void => (i === a.items.length ? k() : this.unifyValues(a.items[i], b.items[i], () => go(i + 1)));
      return go(0);
    }
    if (a.type === "object" && b.type === "object") {
      if (a.items.length !== b.items.length) return;
      const pairs: [Term, Term][] = [];
      for (const [ka, va] of a.items) {
        if (!isGround(ka)) throw new PartialUnsupported("an object pattern with a variable key");
        const m = b.items.find(([kb]) => isGround(kb) && termsEqual(kb, ka));
        if (!m) return;
        pairs.push([va, m[1]]);
      }
      const go = (i: number): void => (i === pairs.length ? k() : this.unifyValues(pairs[i][0], pairs[i][1], () => go(i + 1)));
      return go(0);
    }
    if (a.type === "set" || b.type === "set") throw new PartialUnsupported("a set pattern with variables");
  }
}

function isScalarValue(x: Value): boolean {
  return x === null || typeof x === "boolean" || typeof x === "string" || isNumber(x);
}

function isComprehension(t: Term): t is Extract<Term, { type: "arraycomp" | "setcomp" | "objectcomp" }> {
  return t.type === "arraycomp" || t.type === "setcomp" || t.type === "objectcomp";
}

/** Terms that are values of base documents. */
const BASE = new WeakSet<Term>();

/** A ref or call left in place (unknown), wrapped so that unify does not evaluate it again. */
function hold(t: Term): Term {
  return { type: "array", items: [t], loc: { file: "\u0000hold", row: 0, col: 0 } };
}
function isHeld(t: Term): boolean {
  return t.type === "array" && t.loc.file === "\u0000hold";
}
function unhold(t: Term): Term {
  return t.type === "array" && t.loc.file === "\u0000hold" ? t.items[0] : t;
}

function renameVars(t: Term, vars: Set<string>, id: number): Term {
  return substitute(t, (name) => (vars.has(name) ? v(name + id) : undefined));
}
function renameExpr(e: Expr, f: (t: Term) => Term): Expr {
  return mapExpr(e, f);
}

function fromInput(x: unknown): Value {
  return x as Value;
}

function entriesOf(val: Value): [Value, Value][] {
  if (Array.isArray(val)) return val.map((x, i) => [i, x]);
  if (val instanceof RSet) return val.sorted().map((x) => [x, x]);
  if (val !== null && typeof val === "object" && !isNumber(val)) return objectEntries(val as never).sort((a, b) => compareValues(a[0], b[0]));
  return [];
}

function lookup(val: Value, key: Value): Value | undefined {
  if (Array.isArray(val)) {
    if (!isNumber(key)) return undefined;
    const n = Number(typeof key === "object" ? key.toString() : key);
    return Number.isInteger(n) ? val[n] : undefined;
  }
  if (val instanceof RSet) return val.has(key) ? key : undefined;
  if (val instanceof ObjMap) return val.get(key);
  if (val !== null && typeof val === "object" && !isNumber(val)) return typeof key === "string" ? (val as Record<string, Value>)[key] : undefined;
  return undefined;
}

function parseRefText(s: string): Term[] {
  const t = parseTerm(s);
  if (t.type === "var") return [t];
  if (t.type === "ref") return t.terms;
  throw RegoError.single("rego_parse_error", `unknown \`${s}\` is not a reference`);
}

// ---- the API ---------------------------------------------------------------------------------

/** Rewrite a query as OPA's query compiler does for partial evaluation. */
export function compileQueryForPartial(query: string | Body): Body {
  const body = typeof query === "string" ? parseQuery(query) : query;
  const rw = new Rewriter({ prefix: "__localq", n: 0 }, new Set(), [], new Map());
  const lifted = rw.liftCalls(rw.rewriteBody(body, new Map()));
  const ch = (t: Term) => rw.comprehensionHeads(t);
  return rw.rewriteDynamics(lifted.map((e) => rw.exprMap(e, ch)));
}

/** Partially evaluate a query on an engine's modules and data. */
export function partialEval(engine: Engine, query: string | Body, opts: PartialOptions = {}): PartialResult {
  engine.compile();
  // the query is checked as any query is (unsafe variables, unknown functions, types): OPA's errors
  if (typeof query === "string") engine.prepare(query);
  return withinStack(() => {
    const pe = new PartialEval(engine, engine.getModules(), opts);
    pe.run(compileQueryForPartial(query));
    return { queries: pe.queries, support: pe.supportModules() };
  });
}

/**
 * The partial evaluator and its printers recurse over terms: a query or policy nested past the
 * JavaScript stack (~2,000 levels of collections) is the engine's coded "nested too deeply"
 * error, as in total evaluation, never a raw RangeError (OPA answers up to its own limits).
 */
export function withinStack<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof RangeError && /call stack/.test(e.message)) throw tooDeep();
    throw e;
  }
}

/** The result as OPA's JSON: `{"queries": [...], "support": [...]}` (keys left out when empty; `opa eval` names support `modules`). */
export function partialJSON(r: PartialResult, supportKey: "support" | "modules" = "support"): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (r.queries.length > 0) out.queries = r.queries.map(bodyJSON);
  if (r.support.length > 0) out[supportKey] = r.support.map(supportModuleJSON);
  return out;
}

type J = Record<string, unknown>;

function bodyJSON(b: Body): J[] {
  return b.map((e, i) => exprToJSON(e, i));
}

/** An expression in OPA's JSON (`generated`, `index`, `negated`, `terms`, `with`). */
function exprToJSON(e: Expr, index: number): J {
  const j: J = {};
  if ((e as GExpr).generated) j.generated = true;
  j.index = index;
  if (e.negated) j.negated = true;
  const n = e.node;
  if (n.type === "term") j.terms = termToJSON(n.term);
  else if (n.type === "call") j.terms = [termToJSON(n.op), ...n.args.map(termToJSON)];
  else if (n.type === "every") j.terms = { body: bodyJSON(n.body), domain: termToJSON(n.domain), key: n.key ? termToJSON(n.key) : null, value: termToJSON(n.value) };
  else j.terms = (exprJSON(e, index) as J).terms;
  if (e.with.length > 0) j.with = e.with.map((w) => ({ target: termToJSON(w.target), value: termToJSON(w.value) }));
  return j;
}

function termToJSON(t: Term): J {
  switch (t.type) {
    case "ref":
      return { type: "ref", value: t.terms.map(termToJSON) };
    case "array":
      return { type: "array", value: t.items.map(termToJSON) };
    case "set":
      return { type: "set", value: t.items.map(termToJSON) };
    case "object":
      return { type: "object", value: t.items.map(([k, x]) => [termToJSON(k), termToJSON(x)]) };
    case "call":
      return { type: "call", value: [termToJSON(t.op), ...t.args.map(termToJSON)] };
    case "arraycomp":
      return { type: "arraycomprehension", value: { term: termToJSON(t.head), body: bodyJSON(t.body) } };
    case "setcomp":
      return { type: "setcomprehension", value: { term: termToJSON(t.head), body: bodyJSON(t.body) } };
    case "objectcomp":
      return { type: "objectcomprehension", value: { key: termToJSON(t.key), value: termToJSON(t.value), body: bodyJSON(t.body) } };
    default:
      return (exprJSON(mkExpr({ type: "term", term: t }), 0) as { terms: J }).terms;
  }
}

function supportModuleJSON(m: Module): Record<string, unknown> {
  return {
    package: { path: m.package.terms.map((t, i) => (i === 0 ? { type: "var", value: "data" } : { type: "string", value: (t as { value: string }).value })) },
    rules: m.rules.map((r) => {
      const name = (r.head.ref[0] as VarTerm).name;
      const head: Record<string, unknown> = {};
      if (r.head.args) head.args = r.head.args.map(termToJSON);
      head.name = name;
      if (r.head.kind === "multi") head.key = termToJSON(r.head.key!);
      else head.value = termToJSON(r.head.value!);
      head.ref = [{ type: "var", value: name }];
      const j: Record<string, unknown> = { body: bodyJSON(r.body) };
      if (r.isDefault) j.default = true;
      j.head = head;
      return j;
    }),
  };
}


/** A support module as Rego text, as OPA's formatter prints it (`opa eval --partial`'s pretty and source output). */
export function supportModuleText(m: Module): string {
  const lines = ["package " + m.package.terms.slice(1).map((t) => (t as { value: string }).value).join("."), ""];
  for (const r of m.rules) {
    const name = (r.head.ref[0] as VarTerm).name;
    const val = r.head.value ?? TRUE;
    if (r.isDefault) {
      lines.push(`default ${name} := ${termText(val)}`, "");
      continue;
    }
    const fname = r.head.args ? `${name}(${r.head.args.map((a) => termText(a)).join(", ")})` : name;
    const head = r.head.kind === "multi" ? `${name} contains ${termText(r.head.key!)}` : val.type === "boolean" && val.value === true ? fname : `${fname} := ${termText(val)}`;
    const body = r.body.filter((e) => !(e.node.type === "term" && e.node.term.type === "boolean" && e.node.term.value === true && !e.negated));
    withRepeated(body, () => {
      if (body.length === 0) lines.push(head);
      else if (body.length === 1) lines.push(`${head} if ${exprText(body[0])}`);
      else lines.push(`${head} if {`, ...body.map((e) => "\t" + exprText(e)), "}");
    });
    lines.push("");
  }
  return formatSource("support.rego", lines.join("\n"), { parseVersion: "v1" });
}

/** A residual query as OPA's formatter prints it: one expression a line. */
export function queryText(q: Body): string {
  return withRepeated(q, () => q.map((e) => exprText(e)).join("\n"));
}

/** The `$` variables that occur more than once in a body (they keep a name when printed). */
let displayRepeated: Set<string> | null = null;
function withRepeated<T>(b: Body, f: () => T): T {
  const count = new Map<string, number>();
  for (const e of b) for (const t of exprTerms(e)) walkTerms(t, (x) => x.type === "var" && x.name.startsWith("$") && count.set(x.name, (count.get(x.name) ?? 0) + 1));
  const prev = displayRepeated;
  displayRepeated = new Set([...count].filter(([, n]) => n > 1).map(([k]) => k));
  try {
    return f();
  } finally {
    displayRepeated = prev;
  }
}

/** partialJSON as compact JSON text with Go's escaping, members in OPA's order (not sorted). */
export function partialJSONText(r: PartialResult, supportKey: "support" | "modules" = "support"): string {
  return withinStack(() => orderedJSON(partialJSON(r, supportKey)));
}

function orderedJSON(x: unknown): string {
  if (Array.isArray(x)) return "[" + x.map(orderedJSON).join(",") + "]";
  if (x !== null && typeof x === "object" && Object.getPrototypeOf(x) === Object.prototype) {
    return "{" + Object.entries(x as Record<string, unknown>).filter(([, y]) => y !== undefined).map(([k, y]) => goString(k) + ":" + orderedJSON(y)).join(",") + "}";
  }
  return goJSON(x);
}
