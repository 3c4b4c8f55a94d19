// The names OPA's compiler gives the variables it generates, for traces (trace.ts prints them).
//
// OPA's compiler renames every declared variable to `__localN__` and generates more, from one
// counter over all modules (sorted by name) and its rewriting stages; its trace printer shows
// declared variables under their own names again, but generated ones as they are. The first
// stage to draw numbers, RewriteLocalVars, is reproduced here, which names the key OPA generates
// for `some v in xs` (`v = xs[__local2__]`). Per module, per rule with its `else` rules, in order:
// function arguments, comprehensions in the head, then each body expression: `x := …` (its right-hand side's comprehensions
// first, then the assigned variables), `some x, y`, `some v in xs` (a generated key, then the
// expression's output variables in name order, the generated key among them: three numbers),
// `some k, v in xs` (the output variables in name order), `every` (key or a generated one, value,
// then its body), comprehension bodies where they occur. Each `_` of a pattern or an argument
// is a variable of its own and is numbered too. The later stages continue from the number this
// one ends at (tracerewrite.ts).

import type { Body, Expr, Module, Rule, Term, VarTerm } from "./ast.ts";
import { eachPart } from "./ast.ts";

function isWildcard(name: string): boolean {
  return name === "_" || name.startsWith("$");
}

/** The generated key of each `some v in xs` expression (without a key), as OPA names it. */
export function opaGeneratedKeys(modules: readonly Module[]): Map<Expr, string> {
  return opaLocalVars(modules).keys;
}

/**
 * OPA's RewriteLocalVars numbering: the generated key of each `some v in xs` and of each
 * `every v in xs` without a key, and the next number the later stages draw (tracerewrite.ts).
 */
export function opaLocalVars(modules: readonly Module[], prefix = "__local"): { keys: Map<Expr, string>; next: number; names: Map<Rule, Map<string, string>> } {
  const keys = new Map<Expr, string>();
  const names = new Map<Rule, Map<string, string>>();
  let cur = new Map<string, string>();
  /** A declared variable's new name (the first declaration of a name in the rule is kept). */
  const declare = (name: string): string => {
    const g = gen();
    if (!isWildcard(name) && !cur.has(name)) cur.set(name, g);
    return g;
  };
  let n = 0;
  const gen = () => `${prefix}${n++}__`;

  const term = (t: Term): void => {
    // comprehension bodies (and their heads' comprehensions), in the order of the term's parts
    switch (t.type) {
      case "arraycomp":
      case "setcomp":
        body(t.body);
        term(t.head);
        break;
      case "objectcomp":
        body(t.body);
        term(t.key);
        term(t.value);
        break;
      default:
        eachPart(t, term);
    }
  };

  // (each `_` is a variable of its own, which OPA numbers too)
  const lhsVars = (t: Term, out: string[]): void => {
    if (t.type === "var") out.push(t.name);
    else if (t.type === "array") t.items.forEach((x) => lhsVars(x, out));
    else if (t.type === "object") for (const [, v] of t.items) lhsVars(v, out);
  };

  let wild = 0;
  const varsOf = (t: Term, out: Set<string>): void => {
    if (t.type === "var") out.add(isWildcard(t.name) ? `$w${wild++}` : t.name);
    else if (t.type === "ref") t.terms.forEach((x) => varsOf(x, out));
    else if (t.type === "array" || t.type === "set") t.items.forEach((x) => varsOf(x, out));
    else if (t.type === "object") for (const [k, v] of t.items) (varsOf(k, out), varsOf(v, out));
  };

  const expr = (e: Expr): void => {
    const x = e.node;
    switch (x.type) {
      case "call": {
        const op = x.op.terms.length === 1 && x.op.terms[0].type === "var" ? x.op.terms[0].name : "";
        if (op === "assign" && x.args.length === 2 && !e.negated) {
          term(x.args[1]);
          for (const w of e.with) term(w.value);
          const vs: string[] = [];
          lhsVars(x.args[0], vs);
          for (const v of vs) declare(v);
          return;
        }
        x.args.forEach(term);
        break;
      }
      case "term":
        term(x.term);
        break;
      case "some":
        for (const v of x.vars) if (!isWildcard(v.name)) declare(v.name);
        return;
      case "somein": {
        const out = new Set<string>();
        varsOf(x.value, out);
        let key: string | null = null;
        if (x.key === null) {
          key = gen();
          keys.set(e, key);
          out.add(key);
        } else varsOf(x.key, out);
        const inContainer = new Set<string>();
        varsOf(x.collection, inContainer);
        // the output variables in Go's string order (the generated key among them)
        for (const v of [...out].filter((v) => !inContainer.has(v)).sort(goLess)) declare(v);
        term(x.collection);
        return;
      }
      case "every": {
        term(x.domain);
        if (x.key === null) keys.set(e, gen());
        else if (!isWildcard((x.key as VarTerm).name)) declare((x.key as VarTerm).name);
        if (!isWildcard(x.value.name)) declare(x.value.name);
        body(x.body);
        return;
      }
    }
    for (const w of e.with) term(w.value);
  };

  const body = (b: Body): void => b.forEach(expr);

  const argVars = (r: Rule): string[] => {
    const vs: string[] = [];
    const walk = (t: Term): void => {
      if (t.type === "var") vs.push(isWildcard(t.name) ? `$w${vs.length}` : t.name);
      else if (t.type === "ref" || t.type === "array") (t.type === "ref" ? t.terms : t.items).forEach(walk);
      else if (t.type === "object") for (const [, v] of t.items) walk(v);
    };
    (r.head.args ?? []).forEach(walk);
    // a variable named twice is one argument
    return [...new Set(vs)];
  };

  const sorted = [...modules].sort((a, b) => goLess(a.file, b.file));
  for (const m of sorted) {
    for (const r of m.rules) {
      cur = new Map();
      names.set(r, cur);
      for (const v of argVars(r)) declare(v);
      // comprehensions in the head (their variables are declared before the body's), then the body
      for (const t of r.head.ref.slice(1)) term(t);
      if (r.head.key !== null) term(r.head.key);
      if (r.head.value !== null) term(r.head.value);
      body(r.body);
      for (const e of r.elses) {
        if (e.value !== null) term(e.value);
        body(e.body);
      }
    }
  }
  return { keys, next: n, names };
}

/** Go's string order (bytes; the names here are ASCII). */
function goLess(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
