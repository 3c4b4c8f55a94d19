// OPA's compiler rewrites, for traced evaluations only: OPA's traces show the expressions its
// compiler produced, not the ones written, so an engine's traced tree (engine.ts compiles it only
// when an evaluation asks for a tracer) is compiled from copies of the modules and queries
// rewritten as OPA's stages rewrite them. Untraced evaluation never sees these copies.
//
// The stages, in OPA 1.19's order, each over all modules (sorted by file name) before the next,
// drawing `__localN__` names from one counter that RewriteLocalVars started (traceview.ts):
//  - RewritePrintCalls: `print(a)` → `internal.print([{__local1__ | __local1__ = a}])`.
//  - RewriteExprTerms: a call nested in an expression or a rule head is moved out into an
//    expression of its own with an output variable: `y := count(x)` → `count(x, __local3__);
//    y := __local3__`; a literal collection indexed by a ref is assigned first; `every`'s
//    domain becomes a variable (`__local4__ = input.xs; every v in __local4__ {…}`).
//  - RewriteComprehensionTerms: a comprehension's head that needs evaluating (refs,
//    comprehensions) is assigned at the end of its body.
//  - RewriteRefsInHead: the same for a rule's key, value and arguments.
//  - RewriteWithValues: a `with` value that needs evaluating is assigned before its expression.
//  - RewriteDynamicTerms: refs and comprehensions given to calls (and refs inside refs) are
//    assigned first: `startswith(input.name, "n")` → `__local9__ = input.name;
//    startswith(__local9__, "n")`. `==` counts as `=` here (OPA's RewriteEquals).
// A query is rewritten by the same ExprTerms, ComprehensionTerms and DynamicTerms stages with its
// own counter (`__localq0__`). Declared variables keep their own names (OPA's traces print them
// so), and each rewrite keeps the meaning of the body: the untraced and traced trees give the
// same answers (test/rego/trace-conformance.test.ts).
// Not reproduced: a `with` value for a data document that is a ref stays (it may name a mock
// function).

import type { Body, Expr, Module, RefTerm, Rule, Term, VarTerm, With } from "./ast.ts";
import { eachPart } from "./ast.ts";
import { opaLocalVars } from "./traceview.ts";

class Gen {
  readonly names = new Set<string>();
  constructor(
    private readonly prefix: string,
    private n: number,
  ) {}
  next(): string {
    const name = `${this.prefix}${this.n++}__`;
    this.names.add(name);
    return name;
  }
}

interface Ctx {
  gen: Gen;
  /** Is this variable a ref in OPA's eyes (input, data, a rule of the package, an import)? */
  isRef: (name: string) => boolean;
  /** `==` counts as `=` (rule bodies: OPA's RewriteEquals), not in queries. */
  equalIsEq: boolean;
}

function opName(op: RefTerm): string {
  return op.terms.map((t) => (t.type === "var" ? t.name : t.type === "string" ? t.value : "?")).join(".");
}

function isEquality(e: Expr, equalIsEq: boolean): boolean {
  const n = e.node;
  if (n.type !== "call" || n.args.length !== 2) return false;
  const op = opName(n.op);
  return op === "eq" || op === "assign" || (equalIsEq && op === "equal");
}

function varTerm(name: string, t: Term): VarTerm {
  return { type: "var", name, loc: t.loc };
}

function eqExpr(lhs: Term, rhs: Term, withs: With[]): Expr {
  return { node: { type: "call", op: { type: "ref", terms: [{ type: "var", name: "eq", loc: rhs.loc }], loc: rhs.loc }, args: [lhs, rhs] }, negated: false, with: withs, loc: rhs.loc };
}

/** `name = term`, with a new name. */
function assignNew(cx: Ctx, t: Term, withs: With[]): [Expr, VarTerm] {
  const v = varTerm(cx.gen.next(), t);
  return [eqExpr(v, t, withs), v];
}

// ---- RewritePrintCalls ------------------------------------------------------------------------

function isPrint(e: Expr): boolean {
  const n = e.node;
  return n.type === "call" && n.op.terms.length === 1 && n.op.terms[0].type === "var" && n.op.terms[0].name === "print";
}

/**
 * `print(a, b)` → `internal.print([{__local1__ | __local1__ = a}, {__local2__ | __local2__ = b}])`
 * (an undefined argument is an empty set, printed `<undefined>`); the expression's `not` and
 * `with` are dropped, as OPA's compiler drops them. The traced tree compiles internal.print as
 * OPA's print (compiler.ts).
 */
function printCalls(gen: Gen, b: Body): Body {
  // (the prints of nested bodies first, then the body's own: OPA's order)
  for (const e of b) nestedBodies(e, (x) => printCalls(gen, x));
  return b.map((e) => {
    if (!isPrint(e)) return e;
    const n = e.node as Extract<Expr["node"], { type: "call" }>;
    const items: Term[] = n.args.map((a) => {
      const v = varTerm(gen.next(), a);
      return { type: "setcomp", head: v, body: [eqExpr(v, a, [])], loc: a.loc };
    });
    const op: RefTerm = { type: "ref", terms: [{ type: "var", name: "internal", loc: n.op.loc }, { type: "string", value: "print", loc: n.op.loc }], loc: n.op.loc };
    return { node: { type: "call", op, args: [{ type: "array", items, loc: e.loc }] }, negated: false, with: [], loc: e.loc };
  });
}

// ---- RewriteExprTerms ----------------------------------------------------------------------

function expandTerm(cx: Ctx, t: Term): [Expr[], Term] {
  const support: Expr[] = [];
  switch (t.type) {
    case "call": {
      for (let i = 0; i < t.args.length; i++) {
        const [s, a] = expandTerm(cx, t.args[i]);
        support.push(...s);
        t.args[i] = a;
      }
      const out = varTerm(cx.gen.next(), t);
      support.push({ node: { type: "call", op: t.op, args: [...t.args, out] }, negated: false, with: [], loc: t.loc });
      return [support, out];
    }
    case "ref": {
      for (let i = 0; i < t.terms.length; i++) {
        const [s, a] = expandTerm(cx, t.terms[i]);
        support.push(...s);
        t.terms[i] = a;
      }
      const head = t.terms[0];
      if (head.type !== "var" && head.type !== "ref") {
        const [e, v] = assignNew(cx, head, []);
        support.push(e);
        t.terms[0] = v;
      }
      return [support, t];
    }
    case "array":
    case "set":
      for (let i = 0; i < t.items.length; i++) {
        const [s, a] = expandTerm(cx, t.items[i]);
        support.push(...s);
        t.items[i] = a;
      }
      return [support, t];
    case "object":
      for (const kv of t.items) {
        const [s1, k] = expandTerm(cx, kv[0]);
        const [s2, v] = expandTerm(cx, kv[1]);
        support.push(...s1, ...s2);
        kv[0] = k;
        kv[1] = v;
      }
      return [support, t];
    case "arraycomp":
    case "setcomp": {
      const [s, h] = expandTerm(cx, t.head);
      t.head = h;
      t.body = expandBody(cx, [...t.body, ...s]);
      return [[], t];
    }
    case "objectcomp": {
      const [s1, k] = expandTerm(cx, t.key);
      t.key = k;
      const [s2, v] = expandTerm(cx, t.value);
      t.value = v;
      t.body = expandBody(cx, [...t.body, ...s1, ...s2]);
      return [[], t];
    }
    default:
      return [[], t];
  }
}

function withSupport(s: Expr[], withs: With[]): Expr[] {
  if (withs.length > 0) for (const x of s) x.with = withs;
  return s;
}

function expandExpr(cx: Ctx, e: Expr): Expr[] {
  const out: Expr[] = [];
  for (const w of e.with) {
    const [s, v] = expandTerm(cx, w.value);
    w.value = v;
    out.push(...s);
  }
  const n = e.node;
  switch (n.type) {
    case "term": {
      const [s, t] = expandTerm(cx, n.term);
      n.term = t;
      out.push(...withSupport(s, e.with), e);
      break;
    }
    case "call":
      for (let i = 0; i < n.args.length; i++) {
        const [s, a] = expandTerm(cx, n.args[i]);
        n.args[i] = a;
        out.push(...withSupport(s, e.with));
      }
      out.push(e);
      break;
    case "somein": {
      // OPA has made it `value = collection[key]` by now: the value, then the ref's terms
      const [s1, v] = expandTerm(cx, n.value);
      n.value = v;
      out.push(...withSupport(s1, e.with));
      if (n.key !== null) {
        const [s0, k] = expandTerm(cx, n.key);
        n.key = k;
        out.push(...withSupport(s0, e.with));
      }
      const coll = n.collection;
      const [s2, c] = expandTerm(cx, coll);
      out.push(...withSupport(s2, e.with));
      if (c.type !== "var" && c.type !== "ref" && c.type !== "string" && c.type !== "number" && c.type !== "boolean" && c.type !== "null") {
        const [a, v2] = assignNew(cx, c, e.with);
        out.push(a);
        n.collection = v2;
      } else n.collection = c;
      out.push(e);
      break;
    }
    case "every": {
      const [a, v] = assignNew(cx, n.domain, e.with);
      n.domain = v;
      const extras = expandExpr(cx, a);
      n.body = expandBody(cx, n.body);
      out.push(...extras, e);
      break;
    }
    default:
      out.push(e);
  }
  return out;
}

function expandBody(cx: Ctx, b: Body): Body {
  const out: Body = [];
  for (const e of b) out.push(...expandExpr(cx, e));
  return out;
}

// ---- RewriteComprehensionTerms, RewriteRefsInHead ----------------------------------------------

/** Needs evaluating: contains a ref (or a variable OPA resolved to one) or a comprehension. */
function requiresEval(cx: Ctx, t: Term | null): boolean {
  if (t === null) return false;
  switch (t.type) {
    case "ref":
    case "arraycomp":
    case "setcomp":
    case "objectcomp":
    case "call":
      return true;
    case "var":
      return cx.isRef(t.name);
    case "array":
    case "set":
      return t.items.some((x) => requiresEval(cx, x));
    case "object":
      return t.items.some(([k, v]) => requiresEval(cx, k) || requiresEval(cx, v));
    default:
      return false;
  }
}

/** Comprehensions in a term, outer ones first (their heads assigned in their bodies). */
function compTerms(cx: Ctx, t: Term): void {
  switch (t.type) {
    case "arraycomp":
    case "setcomp":
      if (requiresEval(cx, t.head)) {
        const [e, v] = assignNew(cx, t.head, []);
        t.head = v;
        t.body = [...t.body, e];
      }
      compTerms(cx, t.head);
      compBody(cx, t.body);
      break;
    case "objectcomp":
      if (requiresEval(cx, t.key)) {
        const [e, v] = assignNew(cx, t.key, []);
        t.key = v;
        t.body = [...t.body, e];
      }
      if (requiresEval(cx, t.value)) {
        const [e, v] = assignNew(cx, t.value, []);
        t.value = v;
        t.body = [...t.body, e];
      }
      compTerms(cx, t.key);
      compTerms(cx, t.value);
      compBody(cx, t.body);
      break;
    case "ref":
      t.terms.forEach((x) => compTerms(cx, x));
      break;
    case "call":
      t.args.forEach((x) => compTerms(cx, x));
      break;
    case "array":
    case "set":
      t.items.forEach((x) => compTerms(cx, x));
      break;
    case "object":
      for (const [k, v] of t.items) {
        compTerms(cx, k);
        compTerms(cx, v);
      }
      break;
  }
}

function compExpr(cx: Ctx, e: Expr): void {
  const n = e.node;
  switch (n.type) {
    case "term":
      compTerms(cx, n.term);
      break;
    case "call":
      n.args.forEach((x) => compTerms(cx, x));
      break;
    case "somein":
      if (n.key) compTerms(cx, n.key);
      compTerms(cx, n.value);
      compTerms(cx, n.collection);
      break;
    case "every":
      compTerms(cx, n.domain);
      compBody(cx, n.body);
      break;
  }
  for (const w of e.with) compTerms(cx, w.value);
}

function compBody(cx: Ctx, b: Body): void {
  b.forEach((e) => compExpr(cx, e));
}

// ---- RewriteWithValues ----------------------------------------------------------------------

function withValues(cx: Ctx, b: Body): Body {
  const out: Body = [];
  for (const e of b) {
    for (const w of e.with) {
      const target = w.target.terms[0];
      // (a ref given for a data document may name a function that mocks one: left as it is)
      const isDoc = target.type === "var" && (target.name === "input" || (target.name === "data" && w.value.type !== "ref" && w.value.type !== "var"));
      if (isDoc && requiresEval(cx, w.value)) {
        const [a, v] = assignNew(cx, w.value, []);
        out.push(a);
        w.value = v;
      }
    }
    nestedBodies(e, (x) => withValues(cx, x));
    out.push(e);
  }
  return out;
}

/** Replace each body nested in an expression (comprehensions, `every`) by fn's result. */
function nestedBodies(e: Expr, fn: (b: Body) => Body): void {
  const term = (t: Term): void => {
    switch (t.type) {
      case "arraycomp":
      case "setcomp":
        term(t.head);
        t.body = fn(t.body);
        break;
      case "objectcomp":
        term(t.key);
        term(t.value);
        t.body = fn(t.body);
        break;
      default:
        eachPart(t, term);
    }
  };
  const n = e.node;
  if (n.type === "term") term(n.term);
  else if (n.type === "call") n.args.forEach(term);
  else if (n.type === "somein") (term(n.value), term(n.collection));
  else if (n.type === "every") (term(n.domain), (n.body = fn(n.body)));
  for (const w of e.with) term(w.value);
}

// ---- RewriteDynamicTerms --------------------------------------------------------------------

function dynOne(cx: Ctx, e: Expr, t: Term, out: Body): Term {
  switch (t.type) {
    case "ref": {
      for (let i = 1; i < t.terms.length; i++) t.terms[i] = dynOne(cx, e, t.terms[i], out);
      const [a, v] = assignNew(cx, t, e.with);
      out.push(a);
      return v;
    }
    case "var": {
      if (!cx.isRef(t.name)) return t;
      const [a, v] = assignNew(cx, t, e.with);
      out.push(a);
      return v;
    }
    case "array":
    case "set":
      for (let i = 0; i < t.items.length; i++) t.items[i] = dynOne(cx, e, t.items[i], out);
      return t;
    case "object":
      for (const kv of t.items) {
        kv[0] = dynOne(cx, e, kv[0], out);
        kv[1] = dynOne(cx, e, kv[1], out);
      }
      return t;
    case "arraycomp":
    case "setcomp":
    case "objectcomp": {
      t.body = dynBody(cx, t.body);
      const [a, v] = assignNew(cx, t, e.with);
      out.push(a);
      return v;
    }
    default:
      return t;
  }
}

function dynInTerm(cx: Ctx, e: Expr, t: Term, out: Body): Term {
  switch (t.type) {
    case "ref":
      for (let i = 1; i < t.terms.length; i++) t.terms[i] = dynOne(cx, e, t.terms[i], out);
      return t;
    case "var":
      return t;
    case "arraycomp":
    case "setcomp":
    case "objectcomp":
      t.body = dynBody(cx, t.body);
      return t;
    default:
      return dynOne(cx, e, t, out);
  }
}

function dynBody(cx: Ctx, b: Body): Body {
  const out: Body = [];
  for (const e of b) {
    const n = e.node;
    if (isEquality(e, cx.equalIsEq)) {
      const call = n as Extract<typeof n, { type: "call" }>;
      call.args[0] = dynInTerm(cx, e, call.args[0], out);
      call.args[1] = dynInTerm(cx, e, call.args[1], out);
    } else if (n.type === "call") {
      for (let i = 0; i < n.args.length; i++) n.args[i] = dynOne(cx, e, n.args[i], out);
    } else if (n.type === "every") {
      n.domain = dynOne(cx, e, n.domain, out);
      n.body = dynBody(cx, n.body);
    } else if (n.type === "term") {
      n.term = dynInTerm(cx, e, n.term, out);
    } else if (n.type === "somein") {
      // `value = collection[key]`: the value, then the operands of the ref
      n.value = dynInTerm(cx, e, n.value, out);
      if (n.collection.type === "ref") dynInTerm(cx, e, n.collection, out);
      if (n.key !== null) n.key = dynOne(cx, e, n.key, out);
    }
    out.push(e);
  }
  return out;
}

// ---- Modules and queries ----------------------------------------------------------------------

/** Names a rule body declares (`:=`, `some`, `every`, function arguments): never refs to rules. */
function declaredNames(r: Rule): Set<string> {
  const out = new Set<string>();
  const pattern = (t: Term): void => {
    if (t.type === "var") out.add(t.name);
    else if (t.type === "array") t.items.forEach(pattern);
    else if (t.type === "object") for (const [, v] of t.items) pattern(v);
  };
  const term = (t: Term): void => {
    switch (t.type) {
      case "arraycomp":
      case "setcomp":
      case "objectcomp":
        body(t.body);
        break;
      default:
        eachPart(t, term);
    }
  };
  const body = (b: Body): void => {
    for (const e of b) {
      const n = e.node;
      if (n.type === "call") {
        if (opName(n.op) === "assign" && n.args.length === 2) pattern(n.args[0]);
        n.args.forEach(term);
      } else if (n.type === "some") n.vars.forEach((v) => out.add(v.name));
      else if (n.type === "somein") {
        pattern(n.value);
        if (n.key) pattern(n.key);
        term(n.collection);
      } else if (n.type === "every") {
        if (n.key) out.add(n.key.name);
        out.add(n.value.name);
        term(n.domain);
        body(n.body);
      } else if (n.type === "term") term(n.term);
    }
  };
  (r.head.args ?? []).forEach(pattern);
  body(r.body);
  for (const e of r.elses) body(e.body);
  return out;
}

/** A rule and its `else` rules, as OPA's WalkRules visits them. */
interface Part {
  rule: Rule;
  /** Index in rule.elses, or -1 for the rule itself. */
  els: number;
}

/** A rule Portcullis added (named `__portcullis_…`), not the user's. */
function internalRule(r: Rule): boolean {
  const h = r.head.ref[0];
  return h.type === "var" && h.name.startsWith("__portcullis_");
}

function partsOf(m: Module): Part[] {
  const out: Part[] = [];
  for (const r of m.rules) {
    if (internalRule(r)) continue;
    out.push({ rule: r, els: -1 });
    r.elses.forEach((_, i) => out.push({ rule: r, els: i }));
  }
  return out;
}

function getBody(p: Part): Body {
  return p.els < 0 ? p.rule.body : p.rule.elses[p.els].body;
}

function setBody(p: Part, b: Body): void {
  if (p.els < 0) {
    p.rule.body = b;
    if (b.length > 0) p.rule.hasBody = true;
  } else p.rule.elses[p.els].body = b;
}

export interface RewrittenModules {
  modules: Module[];
  /** The names OPA generates for the keys of `some v in xs` and `every v in xs`. */
  keys: Map<Expr, string>;
  /** The names OPA gives each rule's declared variables (its traces print a rule's head with them). */
  names: Map<Rule, Map<string, string>>;
}

/** Copies of the modules, rewritten as OPA's compiler rewrites them (see the top of this file). */
export function opaRewriteModules(modules: readonly Module[]): RewrittenModules {
  const copies = structuredClone(modules as Module[]);
  const pkgKey = (m: Module) => m.package.terms.map((t) => (t.type === "string" ? t.value : t.type === "var" ? t.name : "")).join("\u0000");
  const byPkg = new Map<string, Set<string>>();
  for (const m of copies) {
    let names = byPkg.get(pkgKey(m));
    if (names === undefined) byPkg.set(pkgKey(m), (names = new Set()));
    for (const r of m.rules) if (r.head.ref[0].type === "var") names.add(r.head.ref[0].name);
  }
  const ruleNames = (m: Module): ReadonlySet<string> => byPkg.get(pkgKey(m))!;
  const importNames = (m: Module): ReadonlySet<string> => {
    const out = new Set<string>();
    for (const im of m.imports) {
      const head = im.path.terms[0];
      if (head.type !== "var" || (head.name !== "data" && head.name !== "input")) continue;
      const last = im.path.terms[im.path.terms.length - 1];
      const name = im.alias ?? (last.type === "string" ? last.value : last.type === "var" ? last.name : null);
      if (name !== null) out.add(name);
    }
    return out;
  };
  // Rules Portcullis adds of its own (verify's probes) are not OPA's: they draw no names.
  const own = (m: Module): Module => ({ ...m, rules: m.rules.filter((r) => !internalRule(r)) });
  const { keys, next, names } = opaLocalVars(copies.map(own));
  const gen = new Gen("__local", next);
  const sorted = [...copies].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  const ctxs = new Map<Rule, Ctx>();
  const cxOf = (m: Module, r: Rule): Ctx => {
    let cx = ctxs.get(r);
    if (cx === undefined) {
      const declared = declaredNames(r);
      const rules = ruleNames(m);
      const imports = importNames(m);
      cx = { gen, equalIsEq: true, isRef: (name) => !declared.has(name) && (name === "input" || name === "data" || rules.has(name) || imports.has(name)) };
      ctxs.set(r, cx);
    }
    return cx;
  };
  // RewritePrintCalls: OPA makes `print(a, b)` `internal.print([{__local1__ | __local1__ = a}, …])`.
  for (const m of sorted) for (const p of partsOf(m)) setBody(p, printCalls(gen, getBody(p)));
  // RewriteExprTerms: the head (arguments, key, value), then the body
  for (const m of sorted) {
    for (const p of partsOf(m)) {
      const cx = cxOf(m, p.rule);
      const support: Expr[] = [];
      const h = p.rule.head;
      if (p.els < 0) {
        if (h.args !== null)
          for (let i = 0; i < h.args.length; i++) {
            const [s, a] = expandTerm(cx, h.args[i]);
            support.push(...s);
            h.args[i] = a;
          }
        if (h.key !== null) {
          const [s, k] = expandTerm(cx, h.key);
          support.push(...s);
          h.key = k;
        }
        if (h.value !== null && !p.rule.isDefault) {
          const [s, v] = expandTerm(cx, h.value);
          support.push(...s);
          h.value = v;
        }
      } else {
        const el = p.rule.elses[p.els];
        if (el.value !== null) {
          const [s, v] = expandTerm(cx, el.value);
          support.push(...s);
          el.value = v;
        }
      }
      setBody(p, expandBody(cx, [...getBody(p), ...support]));
    }
  }
  // RewriteComprehensionTerms
  for (const m of sorted) {
    for (const r of m.rules) {
      if (internalRule(r)) continue;
      const cx = cxOf(m, r);
      for (const t of r.head.ref.slice(1)) compTerms(cx, t);
      if (r.head.key !== null) compTerms(cx, r.head.key);
      if (r.head.value !== null) compTerms(cx, r.head.value);
      compBody(cx, r.body);
      for (const e of r.elses) {
        if (e.value !== null) compTerms(cx, e.value);
        compBody(cx, e.body);
      }
    }
  }
  // RewriteRefsInHead
  for (const m of sorted) {
    for (const p of partsOf(m)) {
      if (p.rule.isDefault) continue;
      const cx = cxOf(m, p.rule);
      const extra: Expr[] = [];
      const h = p.rule.head;
      if (p.els < 0) {
        if (requiresEval(cx, h.key)) {
          const [a, v] = assignNew(cx, h.key!, []);
          extra.push(a);
          h.key = v;
        }
        if (requiresEval(cx, h.value)) {
          const [a, v] = assignNew(cx, h.value!, []);
          extra.push(a);
          h.value = v;
        }
        if (h.args !== null)
          for (let i = 0; i < h.args.length; i++)
            if (requiresEval(cx, h.args[i])) {
              const [a, v] = assignNew(cx, h.args[i], []);
              extra.push(a);
              h.args[i] = v;
            }
      } else {
        const el = p.rule.elses[p.els];
        if (requiresEval(cx, el.value)) {
          const [a, v] = assignNew(cx, el.value!, []);
          extra.push(a);
          el.value = v;
        }
      }
      if (extra.length > 0) setBody(p, [...getBody(p), ...extra]);
    }
  }
  // RewriteWithValues
  for (const m of sorted) for (const p of partsOf(m)) setBody(p, withValues(cxOf(m, p.rule), getBody(p)));
  // RewriteDynamicTerms
  for (const m of sorted) for (const p of partsOf(m)) setBody(p, dynBody(cxOf(m, p.rule), getBody(p)));
  return { modules: copies, keys, names };
}

/**
 * A copy of a query rewritten as OPA's query compiler rewrites it (`__localqN__`), and the names
 * it generated (not the query's own variables: they are left out of its results).
 */
export function opaRewriteQuery(body: Body): { body: Body; originals: Body; generated: ReadonlySet<string>; keys: Map<Expr, string> } {
  const copy = structuredClone(body);
  const originals = [...copy];
  // the query's declared variables are numbered first (RewriteLocalVars), as a rule body's are
  const loc = body[0]?.loc ?? { file: "query", row: 1, col: 1 };
  const pseudo: Rule = { head: { kind: "single", ref: [], args: null, key: null, value: null, assign: false, loc }, body: copy, isDefault: false, elses: [], hasBody: true, annotations: [], loc };
  const lv = opaLocalVars([{ file: "query", package: { type: "ref", terms: [], loc }, imports: [], rules: [pseudo], comments: [], annotations: [], regoVersion: "v1", loc }], "__localq");
  const gen = new Gen("__localq", lv.next);
  const cx: Ctx = { gen, isRef: (name) => name === "input" || name === "data", equalIsEq: false };
  let b = expandBody(cx, copy);
  compBody(cx, b);
  b = withValues(cx, b);
  b = dynBody(cx, b);
  return { body: b, originals, generated: gen.names, keys: lv.keys };
}
