// Coverage for `portcullis verify --coverage`, reported as `opa test --coverage` does: for each
// module, the ranges of expressions and rule heads that were evaluated (covered) and those that
// were not, the line counts of each and a percentage; then totals.
//
// Collection uses the engine's evaluation hooks (EngineOptions.hooks): an expression is covered
// when it is evaluated (whether or not it succeeds); a rule head when its body produces a value.
//
// OPA's rule index decides, before entering a rule, whether conditions such as
// `input.kind == "Pod"` can hold; a rule excluded that way is not entered, so none of its
// expressions count as evaluated. Portcullis enters every rule, so the collector undoes what a
// rule invocation covered when the rule produced nothing and one of its index-like conditions
// (an `==`/`=` comparison of input, data base documents or function arguments with a constant,
// or a bare such reference) failed.

import type { Module, Rule, Expr, Term, Location, Body } from "../rego/ast.ts";
import { eachPart } from "../rego/ast.ts";
import type { EvalHooks } from "../rego/eval.ts";
import { opName } from "../rego/compiler.ts";
import { SourceIndex, rowsOf, type Range } from "./extent.ts";
import { packagePath } from "./discover.ts";

const key = (l: Location) => `${l.file}:${l.row}:${l.col}`;

interface Frame {
  rule: string;
  guards: Set<string> | null;
  /** What this invocation covered (rules with guards, or skipped function rules), so it can be undone. */
  hits: Set<string> | null;
  guardFailed: boolean;
  /** A function rule OPA would not have entered (an earlier rule of the same call succeeded). */
  skipped: boolean;
  group: { id: string; index: number } | null;
  /** Per function called from this frame: the last rule index entered, and whether one succeeded. */
  calls: Map<string, { last: number; done: boolean }> | null;
}

export class CoverageCollector implements EvalHooks {
  /** Only collect while a test runs (not while probing sub-results). */
  enabled = false;
  readonly covered = new Set<string>();
  private stack: Frame[] = [];
  private rootCalls = new Map<string, { last: number; done: boolean }>();
  private target: Set<string> = this.covered;
  private guards: Map<string, Set<string>>;
  private groups: Map<string, { id: string; index: number }>;

  constructor(modules: Module[], skip: Set<Rule> = new Set()) {
    this.guards = findGuards(modules, skip);
    this.groups = earlyExitFunctions(modules, skip);
  }

  expr(loc: Location): void {
    if (this.enabled) this.target.add(key(loc));
  }

  fail(loc: Location): void {
    if (!this.enabled) return;
    const top = this.stack[this.stack.length - 1];
    if (top && top.guards !== null && top.guards.has(key(loc))) top.guardFailed = true;
  }

  enter(loc: Location): void {
    if (!this.enabled) return;
    const k = key(loc);
    const guards = this.guards.get(k) ?? null;
    const group = this.groups.get(k) ?? null;
    let skipped = false;
    if (group) {
      // Functions whose rules all have the same constant value stop at the first rule that
      // succeeds (OPA's early exit): later rules of that call are not entered.
      const calls = this.callsOf(this.stack[this.stack.length - 1]);
      const st = calls.get(group.id);
      if (st && group.index <= st.last) st.done = false; // a new call
      skipped = !!st && st.done;
    }
    const f: Frame = { rule: k, guards, hits: guards || skipped ? new Set() : null, guardFailed: false, skipped, group, calls: null };
    this.stack.push(f);
    if (f.hits) this.target = f.hits;
    this.target.add("B" + k);
  }

  leave(loc: Location, produced: boolean): void {
    if (!this.enabled) return;
    const f = this.stack.pop();
    if (!f) return;
    this.target = this.currentTarget();
    if (f.group) {
      const calls = this.callsOf(this.stack[this.stack.length - 1]);
      const st = calls.get(f.group.id) ?? { last: -1, done: false };
      st.last = f.group.index;
      if (produced && !f.skipped) st.done = true;
      calls.set(f.group.id, st);
    }
    if (f.skipped) return;
    if (produced) (f.hits ?? this.target).add("H" + key(loc));
    if (f.hits) {
      if (!produced && f.guardFailed) return;
      for (const h of f.hits) this.target.add(h);
    }
  }

  /** Drop any frames left by an evaluation that threw. */
  reset(): void {
    this.stack = [];
    this.rootCalls = new Map();
    this.target = this.covered;
  }

  private callsOf(f: Frame | undefined): Map<string, { last: number; done: boolean }> {
    if (!f) return this.rootCalls;
    return (f.calls ??= new Map());
  }

  private currentTarget(): Set<string> {
    for (let i = this.stack.length - 1; i >= 0; i--) {
      const h = this.stack[i].hits;
      if (h) return h;
    }
    return this.covered;
  }
}

/** Function rules that OPA evaluates with early exit: every rule of the function has the same constant value. */
function earlyExitFunctions(modules: Module[], skip: Set<Rule>): Map<string, { id: string; index: number }> {
  const byFn = new Map<string, Rule[]>();
  for (const m of modules) {
    const pkg = packagePath(m).join(".");
    for (const r of m.rules) {
      if (skip.has(r) || r.head.kind !== "function" || r.isDefault) continue;
      const name = r.head.ref.map((t) => (t.type === "var" ? t.name : t.type === "string" ? t.value : "?")).join(".");
      const id = `${pkg}.${name}/${r.head.args?.length ?? 0}`;
      if (!byFn.has(id)) byFn.set(id, []);
      byFn.get(id)!.push(r);
    }
  }
  const out = new Map<string, { id: string; index: number }>();
  for (const [id, rules] of byFn) {
    if (rules.length < 2) continue;
    const values = rules.map((r) => (r.elses.length === 0 && (!r.head.value || constant(r.head.value)) ? (r.head.value ? termText(r.head.value) : "true") : null));
    if (values.some((v) => v === null) || new Set(values).size !== 1) continue;
    rules.forEach((r, index) => out.set(key(r.loc), { id, index }));
  }
  return out;
}

function termText(t: Term): string {
  switch (t.type) {
    case "null":
      return "null";
    case "boolean":
      return String(t.value);
    case "number":
      return `n:${Number(t.value)}`;
    case "string":
      return JSON.stringify(t.value);
    case "array":
      return `[${t.items.map(termText).join(",")}]`;
    case "set":
      return `{${t.items.map(termText).sort().join(",")}}`;
    case "object":
      return `{${t.items.map(([k, v]) => `${termText(k)}:${termText(v)}`).sort().join(",")}}`;
    default:
      return "?";
  }
}

// ---- Index-like conditions ---------------------------------------------------------------------

function findGuards(modules: Module[], skip: Set<Rule>): Map<string, Set<string>> {
  // Paths of rules: a data ref that reaches one reads a virtual document, which OPA does not index.
  const rulePaths: string[][] = [];
  for (const m of modules) {
    const pkg = packagePath(m);
    for (const r of m.rules) {
      const path = [...pkg];
      for (const t of r.head.ref) {
        if (t.type === "var" && path.length === pkg.length) path.push(t.name);
        else if (t.type === "string") path.push(t.value);
        else break;
      }
      rulePaths.push(path);
    }
  }
  const virtual = (path: string[]) =>
    rulePaths.some((rp) => {
      const n = Math.min(rp.length, path.length);
      for (let i = 0; i < n; i++) if (rp[i] !== path[i]) return false;
      return true;
    });
  const out = new Map<string, Set<string>>();
  for (const m of modules) {
    const aliases = new Map<string, "input" | "data">();
    const aliasPath = new Map<string, string[]>();
    for (const im of m.imports) {
      const ts = im.path.terms;
      const head = ts[0];
      if (head.type !== "var" || (head.name !== "input" && head.name !== "data")) continue;
      const parts = ts.slice(1).map((t) => (t.type === "string" ? t.value : null));
      if (parts.some((p) => p === null)) continue;
      const last = ts[ts.length - 1];
      const alias = im.alias ?? (ts.length === 1 ? head.name : last.type === "string" ? last.value : null);
      if (!alias) continue;
      aliases.set(alias, head.name);
      aliasPath.set(alias, parts as string[]);
    }
    for (const r of m.rules) {
      if (skip.has(r)) continue;
      const args = new Set<string>();
      if (r.head.kind === "function") for (const a of r.head.args ?? []) if (a.type === "var") args.add(a.name);
      const add = (loc: Location, body: Body) => {
        const g = guardsOf(body, args, aliases, aliasPath, virtual);
        if (g.size > 0) out.set(key(loc), g);
      };
      add(r.loc, r.body);
      for (const e of r.elses) add(e.loc, e.body);
    }
  }
  return out;
}

function guardsOf(
  body: Body,
  args: Set<string>,
  aliases: Map<string, "input" | "data">,
  aliasPath: Map<string, string[]>,
  virtual: (path: string[]) => boolean,
): Set<string> {
  const out = new Set<string>();
  const locals = new Set<string>();
  const indexable = (t: Term): boolean => {
    if (t.type === "var") return args.has(t.name) || locals.has(t.name);
    if (t.type !== "ref") return false;
    const head = t.terms[0];
    if (head.type !== "var") return false;
    const rest = t.terms.slice(1);
    if (!rest.every((x) => x.type === "string" || x.type === "number" || (x.type === "var" && (x.name === "_" || x.name.startsWith("$"))))) return false;
    // References into function arguments or locals are not indexed (only the bare variables are).
    let root: string | undefined = head.name === "input" || head.name === "data" ? head.name : aliases.get(head.name);
    if (root === undefined) return false;
    if (root === "data") {
      const path = [...(aliasPath.get(head.name) ?? [])];
      for (const x of rest) {
        if (x.type !== "string") break;
        path.push(x.value);
      }
      if (virtual(path)) return false;
    }
    root = root as string;
    return true;
  };
  for (const e of body) {
    if (e.negated || e.with.length > 0) continue;
    const n = e.node;
    if (n.type === "term") {
      if (n.term.type === "ref" && indexable(n.term)) out.add(key(e.loc));
      continue;
    }
    if (n.type !== "call" || n.args.length !== 2) continue;
    const op = opName(n.op);
    const [a, b] = n.args;
    if ((op === "assign" || op === "eq") && a.type === "var" && b.type === "ref" && indexable(b)) {
      locals.add(a.name);
      continue;
    }
    if (op !== "eq" && op !== "equal") continue;
    if ((indexable(a) && constant(b)) || (indexable(b) && constant(a))) out.add(key(e.loc));
  }
  return out;
}

function constant(t: Term): boolean {
  switch (t.type) {
    case "null":
    case "boolean":
    case "number":
    case "string":
      return true;
    case "array":
    case "set":
      return t.items.every(constant);
    case "object":
      return t.items.every(([k, v]) => constant(k) && constant(v));
    default:
      return false;
  }
}

// ---- The report --------------------------------------------------------------------------------

export interface FileCoverage {
  covered?: Range[];
  not_covered?: Range[];
  covered_lines?: number;
  not_covered_lines?: number;
  coverage?: number;
}

export interface CoverageReport {
  files: Record<string, FileCoverage>;
  covered_lines: number;
  not_covered_lines: number;
  coverage: number;
}

export function coverageReport(modules: Module[], sources: Map<string, string>, covered: Set<string>, skip: Set<Rule> = new Set()): CoverageReport {
  const files: Record<string, FileCoverage> = {};
  let totalCovered = 0;
  let totalNot = 0;
  const names = modules.map((m) => m.file).sort();
  const byFile = new Map(modules.map((m) => [m.file, m]));
  for (const file of names) {
    const m = byFile.get(file)!;
    const src = new SourceIndex(sources.get(file) ?? "");
    const cov: Range[] = [];
    const not: Range[] = [];
    const add = (hit: boolean, ranges: Range[]) => (hit ? cov : not).push(...ranges);
    const exprs = (body: Body) => {
      for (const e of body) walkExpr(e, (x) => {
        if (x.node.type === "some") return;
        const r = src.exprRange(x.loc.row, x.loc.col);
        if (r) add(covered.has(key(x.loc)), [r]);
      });
    };
    for (const r of m.rules) {
      if (skip.has(r)) continue;
      add(covered.has("H" + key(r.loc)), src.headRanges(r.loc.row, r.loc.col));
      if (!r.hasBody && !r.isDefault) {
        // A rule without a body has the body `true`, placed at its value.
        const v = r.head.kind === "multi" ? r.head.key : r.head.value;
        const vr = v ? src.exprRange(v.loc.row, v.loc.col) : null;
        if (vr) add(covered.has("B" + key(r.loc)), [vr]);
      }
      for (const t of headTerms(r)) walkTerm(t, (b) => exprs(b));
      exprs(r.body);
      for (const e of r.elses) {
        add(covered.has("H" + key(e.loc)), src.headRanges(e.loc.row, e.loc.col));
        if (e.value) walkTerm(e.value, (b) => exprs(b));
        exprs(e.body);
      }
    }
    const fc: FileCoverage = {};
    const sortRanges = (rs: Range[]) => {
      const seen = new Set<string>();
      return rs
        .filter((r) => {
          const k = `${r.start.row}:${r.start.col}:${r.end.row}:${r.end.col}`;
          if (seen.has(k)) return false;
          seen.add(k);
          return true;
        })
        .sort((a, b) => a.start.row - b.start.row || a.start.col - b.start.col || a.end.row - b.end.row || a.end.col - b.end.col);
    };
    const c = sortRanges(cov);
    const n = sortRanges(not);
    const cRows = new Set(c.flatMap(rowsOf));
    const nRows = new Set(n.flatMap(rowsOf));
    if (c.length) fc.covered = c;
    if (n.length) fc.not_covered = n;
    if (cRows.size) fc.covered_lines = cRows.size;
    if (nRows.size) fc.not_covered_lines = nRows.size;
    const pct = cRows.size + nRows.size > 0 ? (100 * cRows.size) / (cRows.size + nRows.size) : 0;
    if (pct) fc.coverage = pct;
    totalCovered += cRows.size;
    totalNot += nRows.size;
    files[file] = fc;
  }
  const coverage = totalCovered + totalNot > 0 ? (100 * totalCovered) / (totalCovered + totalNot) : 0;
  return { files, covered_lines: totalCovered, not_covered_lines: totalNot, coverage };
}

/** Covered and not-covered line numbers of one file (for comparisons). */
export function coveredLines(fc: FileCoverage): { covered: number[]; notCovered: number[] } {
  const rows = (rs?: Range[]) => [...new Set((rs ?? []).flatMap(rowsOf))].sort((a, b) => a - b);
  return { covered: rows(fc.covered), notCovered: rows(fc.not_covered) };
}

function headTerms(r: Rule): Term[] {
  const out: Term[] = [];
  if (r.head.value) out.push(r.head.value);
  if (r.head.key) out.push(r.head.key);
  for (const a of r.head.args ?? []) out.push(a);
  for (const t of r.head.ref.slice(1)) out.push(t);
  return out;
}

/** Visit an expression and every expression nested in it (comprehension and `every` bodies). */
function walkExpr(e: Expr, visit: (x: Expr) => void): void {
  visit(e);
  const nested = (b: Body) => b.forEach((x) => walkExpr(x, visit));
  const n = e.node;
  switch (n.type) {
    case "term":
      walkTerm(n.term, nested);
      break;
    case "call":
      n.args.forEach((a) => walkTerm(a, nested));
      break;
    case "somein":
      if (n.key) walkTerm(n.key, nested);
      walkTerm(n.value, nested);
      walkTerm(n.collection, nested);
      break;
    case "every":
      walkTerm(n.domain, nested);
      nested(n.body);
      break;
  }
  for (const w of e.with) walkTerm(w.value, nested);
}

function walkTerm(t: Term, body: (b: Body) => void): void {
  switch (t.type) {
    case "arraycomp":
    case "setcomp":
      walkTerm(t.head, body);
      body(t.body);
      return;
    case "objectcomp":
      walkTerm(t.key, body);
      walkTerm(t.value, body);
      body(t.body);
      return;
    default:
      eachPart(t, (x) => walkTerm(x, body));
  }
}
