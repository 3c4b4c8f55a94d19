// Test discovery for `portcullis verify`, the way `opa test` finds tests:
//
//  - a test is a rule whose name (the first part of its head ref) starts with `test_`; one that
//    starts with `todo_test_` is reported as skipped and not evaluated;
//  - every rule is its own test: when a package defines a test name more than once, the later
//    rules are renamed `test_x#01`, `test_x#02`, … (in load order) so each is evaluated alone;
//  - a plain test passes when its value is exactly `true`;
//  - a test with a ref head that has variable parts (`test_x[name] if …`), or a body-less
//    ground one of two parts (`test_x.y := true`), reports sub-results: one per key path, passing
//    when the leaf value is `true`; key values that were bound while the body failed are failing
//    sub-results too. Ground ref heads with a body, or of more parts, fail as a whole (as opa does);
//  - a function named `test_*` is an error (it cannot be evaluated as a document).

import type { Module, Rule, Term, VarTerm, Expr, Location } from "../rego/ast.ts";
import { termString } from "../rego/parser.ts";
import { SourceIndex } from "./extent.ts";
import { goMatchRegExp, ignoreFilter } from "../load/gomatch.ts";

export { goMatchRegExp, ignoreFilter };

export type TestKind = "plain" | "sub" | "whole-fail" | "function";

export interface TestCase {
  /** "data.a.b" */
  pkg: string;
  pkgPath: string[];
  /** The name opa reports (after renaming duplicates), e.g. "test_x#01". */
  name: string;
  /** `${pkg}.${name}` */
  fullName: string;
  file: string;
  loc: Location;
  skip: boolean;
  kind: TestKind;
  rule: Rule;
  /** Ref parts after the name (sub-result levels). */
  levels: number;
  /** For sub tests with variable keys: probe rule names, one per level that has a variable. */
  probes: { level: number; name: string }[];
}

export interface Discovery {
  tests: TestCase[];
  /** Rules added for sub-result probes (not part of the user's policy). */
  probeRules: Set<Rule>;
}

const PROBE_PREFIX = "__portcullis_probe_";

export function packagePath(m: Module): string[] {
  const out: string[] = [];
  const ts = m.package.terms;
  for (let i = 1; i < ts.length; i++) {
    const t = ts[i];
    if (t.type === "string") out.push(t.value);
    else if (t.type === "var") out.push(t.name);
  }
  return out;
}

export function ruleName(r: Rule): string | null {
  const h = r.head.ref[0];
  return h && h.type === "var" ? h.name : null;
}

export function isTestName(name: string): boolean {
  return name.startsWith("test_") || name.startsWith("todo_test_");
}

/**
 * Find the tests of the modules (in module order, then rule order), renaming duplicate test
 * rules in place and adding probe rules for variable sub-result keys.
 */
export function discover(modules: Module[], opts: { probes?: boolean } = {}): Discovery {
  const tests: TestCase[] = [];
  const probeRules = new Set<Rule>();
  const seen = new Map<string, number>();
  let probeN = 0;
  for (const m of modules) {
    const pkgPath = packagePath(m);
    const pkg = termString(m.package);
    const added: Rule[] = [];
    for (const r of m.rules) {
      const name = ruleName(r);
      if (name === null || !isTestName(name)) continue;
      const key = pkg + "\u0000" + name;
      const n = seen.get(key) ?? 0;
      seen.set(key, n + 1);
      let reported = name;
      if (n > 0) {
        reported = `${name}#${String(n).padStart(2, "0")}`;
        const h = r.head.ref[0] as VarTerm;
        r.head.ref[0] = { ...h, name: reported };
      }
      const skip = name.startsWith("todo_test_");
      const levels = r.head.ref.length - 1;
      let kind: TestKind = "plain";
      if (r.head.kind === "function") kind = "function";
      else if (levels > 0) {
        const ground = r.head.ref.slice(1).every((t) => t.type === "string");
        if (!ground) kind = "sub";
        else kind = !r.hasBody && levels === 1 && !r.isDefault ? "sub" : "whole-fail";
      }
      const tc: TestCase = {
        pkg,
        pkgPath,
        name: reported,
        fullName: `${pkg}.${quoteName(reported)}`,
        file: m.file,
        loc: r.loc,
        skip,
        kind,
        rule: r,
        levels,
        probes: [],
      };
      if (kind === "sub" && !skip && opts.probes !== false) {
        for (let level = 1; level <= levels; level++) {
          const keyTerms = r.head.ref.slice(1, level + 1);
          if (keyTerms.every((t) => t.type === "string")) continue;
          const probe = probeRule(r, keyTerms, `${PROBE_PREFIX}${++probeN}`);
          if (probe === null) continue;
          added.push(probe);
          probeRules.add(probe);
          tc.probes.push({ level, name: (probe.head.ref[0] as VarTerm).name });
        }
      }
      tests.push(tc);
    }
    m.rules.push(...added);
  }
  return { tests, probeRules };
}

/** opa prints names as they are, even with a `#01` suffix. */
function quoteName(name: string): string {
  return name;
}

/** The query that evaluates a test (quoted parts, so `test_x#01` works). */
export function testQuery(tc: { pkgPath: string[]; name: string }): string {
  return "data" + [...tc.pkgPath, tc.name].map((p) => `[${JSON.stringify(p)}]`).join("");
}

/**
 * `probe contains [k1, …, kj] if { prefix }`: the key values bound by the shortest prefix of the
 * body (in source order) in which every variable of the keys occurs. Its results are the keys the
 * body reached; those the rule did not produce are failing sub-results.
 */
function probeRule(r: Rule, keyTerms: Term[], name: string): Rule | null {
  const want = new Set<string>();
  for (const t of keyTerms) collectVars(t, want);
  const body = r.body;
  let end = 0;
  const found = new Set<string>();
  for (; end < body.length && [...want].some((v) => !found.has(v)); end++) collectExprVars(body[end], found);
  if ([...want].some((v) => !found.has(v))) return null;
  return makeProbe(r, keyTerms, name, end);
}

export function makeProbe(r: Rule, keyTerms: Term[], name: string, prefixLen: number): Rule {
  const loc = r.loc;
  const key: Term = { type: "array", items: structuredClone(keyTerms), loc };
  return {
    head: { kind: "multi", ref: [{ type: "var", name, loc }], args: null, key, value: null, assign: false, loc },
    body: structuredClone(r.body.slice(0, prefixLen)),
    isDefault: false,
    elses: [],
    hasBody: true,
    annotations: [],
    loc,
  };
}

/** Lengthen every probe's body by one expression (after a compile error); false when none can grow. */
export function growProbes(d: Discovery, modules: Module[]): boolean {
  let grew = false;
  for (const m of modules) {
    for (let i = 0; i < m.rules.length; i++) {
      const p = m.rules[i];
      if (!d.probeRules.has(p)) continue;
      const tc = d.tests.find((t) => t.probes.some((x) => x.name === (p.head.ref[0] as VarTerm).name));
      if (!tc) continue;
      const orig = tc.rule.body;
      if (p.body.length >= orig.length) continue;
      p.body = structuredClone(orig.slice(0, p.body.length + 1));
      grew = true;
    }
  }
  return grew;
}

/** Drop all probes (when they cannot be compiled). */
export function dropProbes(d: Discovery, modules: Module[]): void {
  for (const m of modules) m.rules = m.rules.filter((r) => !d.probeRules.has(r));
  d.probeRules.clear();
  for (const t of d.tests) t.probes = [];
}

function collectVars(t: Term, out: Set<string>): void {
  switch (t.type) {
    case "var":
      if (t.name !== "_" && !t.name.startsWith("$")) out.add(t.name);
      return;
    case "ref":
      // The head of a ref is a name (input, data, a rule or a local); operands may be variables.
      if (t.terms[0].type !== "var") collectVars(t.terms[0], out);
      for (let i = 1; i < t.terms.length; i++) collectVars(t.terms[i], out);
      return;
    case "array":
    case "set":
      for (const x of t.items) collectVars(x, out);
      return;
    case "object":
      for (const [k, v] of t.items) {
        collectVars(k, out);
        collectVars(v, out);
      }
      return;
    case "call":
      for (const a of t.args) collectVars(a, out);
      return;
    default:
      return;
  }
}

function collectExprVars(e: Expr, out: Set<string>): void {
  const n = e.node;
  switch (n.type) {
    case "term":
      collectVars(n.term, out);
      if (n.term.type === "ref" && n.term.terms[0].type === "var") out.add(n.term.terms[0].name);
      return;
    case "call":
      for (const a of n.args) collectVars(a, out);
      return;
    case "somein":
      if (n.key) collectVars(n.key, out);
      collectVars(n.value, out);
      collectVars(n.collection, out);
      return;
    default:
      return;
  }
}

/**
 * A v0 rule written with several bodies (`p { a } { b }`) becomes one rule per body; opa places
 * each further rule at its body's brace (coverage and explanations tell them apart by that), the
 * parser at the shared head. Move them to their braces.
 */
export function placeExtraBodies(modules: Module[], sources: Map<string, string>): void {
  for (const m of modules) {
    let idx: SourceIndex | null = null;
    const seen = new Set<string>();
    for (const r of m.rules) {
      const k = `${r.loc.row}:${r.loc.col}`;
      if (!seen.has(k)) {
        seen.add(k);
        continue;
      }
      if (r.body.length === 0) continue;
      idx ??= new SourceIndex(sources.get(m.file) ?? "");
      const b = idx.braceBefore(r.body[0].loc.row, r.body[0].loc.col);
      if (b) r.loc = { file: r.loc.file, row: b.row, col: b.col };
    }
  }
}

// ---- Files to skip (opa test --ignore) --------------------------------------------------------

