// Strict-mode checks (`portcullis check --strict`, OPA's compiler strict mode), on the parsed AST.
//
// OPA's compiler runs in stages and stops after the first stage that found errors, so the
// checks here are grouped by the stage they belong to (see STAGE): a caller merges them with
// the compiler's own errors and reports only the earliest stage's.
//
//  - STAGE.resolveRefs: unused imports (strict); function arguments named input/data (always).
//  - STAGE.keywords: rules named input/data, `input := …` locals (v1 always; v0 strict).
//  - STAGE.duplicateImports: two imports binding the same name (v1 always; v0 strict).
//  - STAGE.localVars: what rewriting local variables finds: assigned-but-unused locals, unused
//    function arguments (strict); unused `some`/`every` declarations and redeclarations
//    (`var x assigned above`, `arg x redeclared`, …) always.
//  - STAGE.deprecated: calls to deprecated builtins (v1 always; v0 strict).
//
// Behaviour was learnt by running `opa check --strict` on small modules; each rule of thumb is
// noted where it is implemented.

import type { Body, Expr, Location, Module, Rule, Term, VarTerm, RefTerm } from "./ast.ts";
import type { ErrorDetail } from "./errors.ts";
import { termString } from "./parser.ts";
import type { BuiltinTable } from "./builtin.ts";

/** Stage ranks, in OPA's compile order; compiler errors are ranked by classifyStage. */
export const STAGE = {
  resolveRefs: 10,
  keywords: 20,
  duplicateImports: 30,
  localVars: 40,
  withTargets: 50,
  ruleConflicts: 55,
  undefinedFunctions: 60,
  safety: 70,
  recursion: 80,
  types: 90,
  deprecated: 100,
} as const;

export interface StagedError extends ErrorDetail {
  stage: number;
}

export interface StrictOptions {
  /** Strict mode (opa check --strict). */
  strict: boolean;
  /** The builtins the checked modules may call (an engine's table). */
  builtins: BuiltinTable;
}

function err(stage: number, message: string, location: Location | undefined, code: ErrorDetail["code"] = "rego_compile_error"): StagedError {
  return { stage, code, message, location };
}

function opName(op: RefTerm): string {
  const parts: string[] = [];
  for (const t of op.terms) {
    if (t.type === "var") parts.push(t.name);
    else if (t.type === "string") parts.push(t.value);
    else return "";
  }
  return parts.join(".");
}

const isWildcard = (name: string) => name === "_" || name.startsWith("$");

/** Modules in the order OPA's compiler visits them (sorted by file name). */
function sorted(modules: Module[]): Module[] {
  return [...modules].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
}

function isV1(m: Module): boolean {
  return m.regoVersion === "v1" || m.imports.some((im) => opName(im.path) === "rego.v1");
}

/** Every check of this module, in OPA's order within each stage. */
export function strictErrors(modules: Module[], o: StrictOptions): StagedError[] {
  const ms = sorted(modules);
  const out: StagedError[] = [];
  for (const m of ms) out.push(...resolveRefsErrors(m, o));
  for (const m of ms) out.push(...keywordErrors(m, o));
  for (const m of ms) out.push(...duplicateImportErrors(m, o));
  out.push(...localVarErrors(ms, o));
  // Rules of a package may come from several modules.
  const byPkg = new Map<string, Set<string>>();
  for (const m of ms) {
    const k = termString(m.package);
    let names = byPkg.get(k);
    if (!names) byPkg.set(k, (names = new Set()));
    for (const r of m.rules) if (r.head.ref[0].type === "var") names.add((r.head.ref[0] as VarTerm).name);
  }
  const ruleNodes = ruleNodePaths(ms);
  for (const m of ms) out.push(...withTargetErrors(m, byPkg.get(termString(m.package))!, o, ruleNodes));
  out.push(...ruleConflictErrors(ms));
  for (const m of ms) out.push(...deprecatedErrors(m, o, byPkg.get(termString(m.package))!));
  return out;
}

// ---- Walking terms -------------------------------------------------------------------------

/** Calls f on every term directly inside t (not t itself), comprehension bodies excluded. */
function children(t: Term, f: (x: Term) => void): void {
  switch (t.type) {
    case "ref":
      t.terms.forEach(f);
      return;
    case "array":
    case "set":
      t.items.forEach(f);
      return;
    case "object":
      t.items.forEach(([k, v]) => (f(k), f(v)));
      return;
    case "call":
      f(t.op);
      t.args.forEach(f);
      return;
    default:
      return;
  }
}

/**
 * Visits t and the terms nested in it through refs, collections and calls, in source order
 * (pre-order), without recursion: modules may nest terms far deeper than the JavaScript stack
 * allows (OPA parses 100,000 levels). f returns true for a term it handled itself, whose
 * children are then not visited (comprehensions: their bodies are the caller's business).
 */
function walkTerms(t: Term, f: (x: Term) => boolean): void {
  const stack: Term[] = [t];
  while (stack.length > 0) {
    const x = stack.pop()!;
    if (f(x)) continue;
    // The children of x (as `children` gives them), pushed last first.
    switch (x.type) {
      case "ref":
        for (let i = x.terms.length - 1; i >= 0; i--) stack.push(x.terms[i]);
        break;
      case "array":
      case "set":
        for (let i = x.items.length - 1; i >= 0; i--) stack.push(x.items[i]);
        break;
      case "object":
        for (let i = x.items.length - 1; i >= 0; i--) stack.push(x.items[i][1], x.items[i][0]);
        break;
      case "call":
        for (let i = x.args.length - 1; i >= 0; i--) stack.push(x.args[i]);
        stack.push(x.op);
        break;
      default:
        break;
    }
  }
}

/** A scalar literal (null, boolean, number, string): no variables, calls or bodies within. */
function isScalarTerm(t: Term | null): boolean {
  return t === null || t.type === "string" || t.type === "number" || t.type === "boolean" || t.type === "null";
}

/**
 * A rule without parameters, body or `else` whose head holds scalars only (`r := 1`,
 * `s contains "a"`, `p.q["k"] := true`): the per-rule walks of these stages find nothing in it
 * (no variable, call, comprehension or `with`), so they skip it. Programs of tens of thousands of
 * such rules are checked in time proportional to their other rules.
 */
function plainRule(r: Rule): boolean {
  const h = r.head;
  if (r.body.length > 0 || r.elses.length > 0 || h.args || !isScalarTerm(h.key) || !isScalarTerm(h.value)) return false;
  for (let i = 1; i < h.ref.length; i++) if (!isScalarTerm(h.ref[i])) return false;
  return true;
}

/** A term without calls, comprehensions or collections: a scalar, a variable, or a ref of those. */
function flatTerm(t: Term | null): boolean {
  if (t === null || isScalarTerm(t) || t.type === "var") return true;
  if (t.type !== "ref") return false;
  for (const x of t.terms) if (!(isScalarTerm(x) || x.type === "var")) return false;
  return true;
}

/**
 * A rule without parameters, body or `else` whose head terms are flat (`r2 := r1`, `allow :=
 * data.x.allow`, `p[k] := v`…, and every plainRule): the keyword, local variable, `with` target
 * and deprecation stages find nothing in it (they look at bodies, comprehensions, calls and
 * `with`), so they skip it. (Unsafe or unknown head variables are the compiler's errors.)
 */
function headOnlyRule(r: Rule): boolean {
  const h = r.head;
  if (r.body.length > 0 || r.elses.length > 0 || h.args || !flatTerm(h.key) || !flatTerm(h.value)) return false;
  for (let i = 1; i < h.ref.length; i++) if (!flatTerm(h.ref[i])) return false;
  return true;
}

/** The terms of an expression (with values included, targets optional), in source order. */
function exprTerms(e: Expr, targets: boolean): Term[] {
  const n = e.node;
  const out: Term[] = [];
  switch (n.type) {
    case "term":
      out.push(n.term);
      break;
    case "call":
      out.push(n.op, ...n.args);
      break;
    case "some":
      out.push(...n.vars);
      break;
    case "somein":
      if (n.key) out.push(n.key);
      out.push(n.value, n.collection);
      break;
    case "every":
      if (n.key) out.push(n.key);
      out.push(n.value, n.domain);
      break;
  }
  for (const w of e.with) {
    if (targets) out.push(w.target);
    out.push(w.value);
  }
  return out;
}

/** Variables an assignment's left-hand side declares (vars, array items, object values). */
function patternVars(t: Term | null, out: VarTerm[] = []): VarTerm[] {
  if (!t) return out;
  if (t.type === "var") out.push(t);
  else if (t.type === "ref" && t.terms.length === 1 && t.terms[0].type === "var") out.push(t.terms[0]);
  else if (t.type === "array") t.items.forEach((x) => patternVars(x, out));
  else if (t.type === "object") t.items.forEach(([, v]) => patternVars(v, out));
  return out;
}

function isAssign(e: Expr): e is Expr & { node: { type: "call"; op: RefTerm; args: Term[] } } {
  return e.node.type === "call" && opName(e.node.op) === "assign" && e.node.args.length === 2;
}

// ---- Stage: resolve refs (unused imports, args named input/data) ---------------------------

function importName(m: Module["imports"][number]): string | null {
  if (im_alias(m)) return m.alias;
  const ts = m.path.terms;
  const last = ts[ts.length - 1];
  if (ts.length === 1) return last.type === "var" ? last.name : null;
  return last.type === "string" ? last.value : last.type === "var" ? last.name : null;
}
function im_alias(m: Module["imports"][number]): m is Module["imports"][number] & { alias: string } {
  return !!m.alias;
}

function importString(im: Module["imports"][number]): string {
  return `import ${termString(im.path)}${im.alias ? " as " + im.alias : ""}`;
}

/** Vars declared anywhere in a body, `every` bodies included, comprehensions not (as OPA resolves imports). */
function declaredIn(body: Body, out: Set<string>): Set<string> {
  for (const e of body) {
    const n = e.node;
    if (n.type === "some") n.vars.forEach((v) => out.add(v.name));
    else if (n.type === "somein") patternVars(n.key).concat(patternVars(n.value)).forEach((v) => out.add(v.name));
    else if (n.type === "every") {
      if (n.key) out.add(n.key.name);
      out.add(n.value.name);
      declaredIn(n.body, out);
    } else if (isAssign(e)) patternVars(e.node.args[0]).forEach((v) => out.add(v.name));
  }
  return out;
}

function allVarNames(t: Term | null, out: Set<string>): Set<string> {
  if (!t) return out;
  walkTerms(t, (x) => {
    if (x.type === "var") out.add(x.name);
    else if (x.type === "arraycomp" || x.type === "setcomp") allVarNames(x.head, out);
    else if (x.type === "objectcomp") (allVarNames(x.key, out), allVarNames(x.value, out));
    else return false;
    return true;
  });
  return out;
}

function resolveRefsErrors(m: Module, o: StrictOptions): StagedError[] {
  const out: StagedError[] = [];
  const used = new Set<string>();
  const names = new Set(m.imports.map(importName).filter((n): n is string => n !== null));

  const useTerm = (t0: Term, declared: Set<string>) =>
    walkTerms(t0, (t) => {
      if (t.type === "var") {
        if (!declared.has(t.name) && names.has(t.name)) used.add(t.name);
        return true;
      }
      if (t.type === "arraycomp" || t.type === "setcomp" || t.type === "objectcomp") {
        const inner = declaredIn(t.body, new Set(declared));
        if (t.type === "objectcomp") (useTerm(t.key, inner), useTerm(t.value, inner));
        else useTerm(t.head, inner);
        useBody(t.body, inner);
        return true;
      }
      return false;
    });
  const useBody = (body: Body, declared: Set<string>) => {
    for (const e of body) {
      for (const t of exprTerms(e, true)) useTerm(t, declared);
      if (e.node.type === "every") useBody(e.node.body, declared);
    }
  };

  for (const r of m.rules) {
    const h = r.head;
    if (h.args) {
        for (let a of h.args) {
        if (a.type === "ref" && a.terms.length === 1) a = a.terms[0];
        if (a.type === "var" && (a.name === "input" || a.name === "data")) {
          out.push(err(STAGE.resolveRefs, `args must not shadow ${a.name} (use a different variable name)`, r.loc));
        }
      }
    }
    // Uses of imported names matter only for strict mode's `unused import` (and only when there
    // are imports): otherwise the walk is skipped (the Engine runs these checks at every compile).
    if (!o.strict || names.size === 0 || plainRule(r)) continue;
    const argNames = new Set<string>();
    for (const a of h.args ?? []) allVarNames(a, argNames);
    const declared = declaredIn(r.body, new Set(argNames));
    // Head: ref operands after the name, key, value (the rule's name itself is not a use).
    for (const t of h.ref.slice(1)) useTerm(t, declared);
    if (h.key) useTerm(h.key, declared);
    if (h.value) useTerm(h.value, declared);
    useBody(r.body, declared);
    for (const e of r.elses) {
      const d = declaredIn(e.body, new Set(argNames));
      if (e.value) useTerm(e.value, d);
      useBody(e.body, d);
    }
  }
  if (o.strict) {
    for (const im of m.imports) {
      const root = im.path.terms[0];
      if (root.type === "var" && (root.name === "future" || root.name === "rego")) continue;
      const n = importName(im);
      if (n !== null && !used.has(n)) out.push(err(STAGE.resolveRefs, `${importString(im)} unused`, im.loc));
    }
  }
  return out;
}

// ---- Stage: keyword overrides --------------------------------------------------------------

function keywordErrors(m: Module, o: StrictOptions): StagedError[] {
  if (!o.strict && !isV1(m)) return [];
  const out: StagedError[] = [];
  const isKw = (n: string) => n === "input" || n === "data";
  for (const r of m.rules) {
    const h = r.head.ref[0];
    if (h.type === "var" && isKw(h.name)) out.push(err(STAGE.keywords, `rules must not shadow ${h.name} (use a different rule name)`, r.loc));
  }
  // `input := …` / `data := …` (a plain variable on the left), comprehension bodies included.
  const visitTerm = (t0: Term) =>
    walkTerms(t0, (t) => {
      if (t.type !== "arraycomp" && t.type !== "setcomp" && t.type !== "objectcomp") return false;
      visitBody(t.body);
      return true;
    });
  const visitBody = (body: Body) => {
    for (const e of body) {
      if (isAssign(e)) {
        let lhs = e.node.args[0];
        if (lhs.type === "ref" && lhs.terms.length === 1) lhs = lhs.terms[0];
        if (lhs.type === "var" && isKw(lhs.name)) out.push(err(STAGE.keywords, `variables must not shadow ${lhs.name} (use a different variable name)`, lhs.loc));
      }
      for (const t of exprTerms(e, false)) visitTerm(t);
      if (e.node.type === "every") visitBody(e.node.body);
    }
  };
  for (const r of m.rules) {
    if (headOnlyRule(r)) continue;
    for (const t of [...r.head.ref.slice(1), r.head.key, r.head.value]) if (t) visitTerm(t);
    visitBody(r.body);
    for (const e of r.elses) {
      if (e.value) visitTerm(e.value);
      visitBody(e.body);
    }
  }
  return out;
}

// ---- Stage: duplicate imports ----------------------------------------------------------------

function duplicateImportErrors(m: Module, o: StrictOptions): StagedError[] {
  if (!o.strict && !isV1(m)) return [];
  const out: StagedError[] = [];
  const seen = new Map<string, Module["imports"][number]>();
  for (const im of m.imports) {
    const n = importName(im);
    if (n === null) continue;
    const first = seen.get(n);
    if (first) out.push(err(STAGE.duplicateImports, `import must not shadow ${importString(first)}`, im.loc));
    else seen.set(n, im);
  }
  return out;
}

// ---- Stage: local variables ------------------------------------------------------------------

type DeclKind = "assign" | "some" | "every" | "somein" | "arg";

interface Decl {
  name: string;
  kind: DeclKind;
  /** Where an unused-declaration error points. */
  loc: Location;
  uses: number;
  /** OPA renames locals to __localN__ in declaration order; unused ones are reported in that name's order. */
  num: number;
}

class Level {
  vars = new Map<string, Decl>();
  order: Decl[] = [];
  /** Names used before any declaration in this level (free or outer variables). */
  referenced = new Set<string>();
  constructor(readonly parent: Level | null, readonly isArgs = false) {}

  declare(d: Decl): void {
    this.vars.set(d.name, d);
    this.order.push(d);
  }

  find(name: string): Decl | undefined {
    for (let l: Level | null = this; l; l = l.parent) {
      const d = l.vars.get(name);
      if (d) return d;
    }
    return undefined;
  }
}

/** Order of OPA's generated names __localN__ (as strings: __local10__ before __local2__). */
function cmpLocal(a: number, b: number): number {
  const x = `__local${a}__`;
  const y = `__local${b}__`;
  return x < y ? -1 : x > y ? 1 : 0;
}

class LocalVars {
  out: StagedError[] = [];
  private counter = 0;
  constructor(private strict: boolean) {}

  private use(t0: Term | null, level: Level, errs: StagedError[]): void {
    if (!t0) return;
    walkTerms(t0, (t) => {
      switch (t.type) {
        case "var": {
          if (isWildcard(t.name)) return true;
          const d = level.find(t.name);
          if (d) d.uses++;
          else level.referenced.add(t.name);
          return true;
        }
        case "arraycomp":
        case "setcomp":
          this.body(t.body, new Level(level), errs, [t.head]);
          return true;
        case "objectcomp":
          this.body(t.body, new Level(level), errs, [t.key, t.value]);
          return true;
        default:
          return false;
      }
    });
  }

  /** Declare `v` in `level`, reporting redeclarations as OPA does. */
  private declare(v: VarTerm, kind: DeclKind, loc: Location, level: Level, errs: StagedError[]): void {
    if (isWildcard(v.name)) return;
    const here = level.vars.get(v.name);
    if (here) {
      // Named after how the variable was first introduced.
      const msg = here.kind === "assign" ? `var ${v.name} assigned above` : `var ${v.name} declared above`;
      errs.push(err(STAGE.localVars, msg, v.loc));
      return;
    }
    const outer = level.parent?.find(v.name);
    if (outer && outer.kind === "arg" && level.parent?.isArgs) {
      // Redeclaring a function argument in the rule's own body (comprehensions and `every`
      // bodies may shadow it).
      errs.push(err(STAGE.localVars, `arg ${v.name} redeclared`, v.loc));
      return;
    }
    if (level.referenced.has(v.name) && kind !== "every") {
      errs.push(err(STAGE.localVars, `var ${v.name} referenced above`, v.loc));
      return;
    }
    level.declare({ name: v.name, kind, loc, uses: 0, num: this.counter++ });
  }

  /**
   * One body: its expressions in order, then `extra` (head terms that may use its variables),
   * then — only while no error has been found in this rule body so far (nested bodies
   * included) — unused assignments (strict mode only), then unused `some`/`every`
   * declarations (always an error).
   */
  body(body: Body, level: Level, errs: StagedError[], extra: (Term | null)[]): void {
    for (const e of body) this.expr(e, level, errs);
    for (const t of extra) this.use(t, level, errs);
    const order = [...level.order].sort((a, b) => cmpLocal(a.num, b.num));
    if (this.strict && errs.length === 0) {
      for (const d of order) if (d.kind === "assign" && d.uses === 0) errs.push(err(STAGE.localVars, `assigned var ${d.name} unused`, d.loc));
    }
    if (errs.length === 0) {
      for (const d of order) if ((d.kind === "some" || d.kind === "every") && d.uses === 0) errs.push(err(STAGE.localVars, `declared var ${d.name} unused`, d.loc));
    }
  }

  private expr(e: Expr, level: Level, errs: StagedError[]): void {
    const n = e.node;
    const withs = () => e.with.forEach((w) => this.use(w.value, level, errs));
    if (n.type === "some") {
      for (const v of n.vars) this.declare(v, "some", e.loc, level, errs);
      return;
    }
    if (n.type === "somein") {
      this.use(n.collection, level, errs);
      withs();
      for (const v of [...patternVars(n.key), ...patternVars(n.value)]) this.declare(v, "somein", e.loc, level, errs);
      // Non-variable parts of the patterns (refs, nested terms) are uses.
      for (const t of [n.key, n.value]) if (t && t.type !== "var") this.usePatternNonVars(t, level, errs);
      return;
    }
    if (n.type === "every") {
      this.use(n.domain, level, errs);
      withs();
      const inner = new Level(level);
      const loc = n.body[0]?.loc ?? e.loc;
      if (n.key) this.declare(n.key, "every", loc, inner, errs);
      this.declare(n.value, "every", loc, inner, errs);
      this.body(n.body, inner, errs, []);
      return;
    }
    if (isAssign(e)) {
      if (e.negated) {
        errs.push(err(STAGE.localVars, "cannot assign vars inside negated expression", e.loc));
        return;
      }
      this.use(e.node.args[1], level, errs);
      withs();
      const lhs = e.node.args[0];
      this.usePatternNonVars(lhs, level, errs);
      for (const v of patternVars(lhs)) {
        if (v.name === "input" || v.name === "data") continue; // an earlier stage reports these
        this.declare(v, "assign", e.loc, level, errs);
      }
      return;
    }
    for (const t of exprTerms(e, false)) this.use(t, level, errs);
  }

  /** Terms of a pattern that are not its declared variables (object keys, refs, calls). */
  private usePatternNonVars(t: Term, level: Level, errs: StagedError[]): void {
    if (t.type === "var") return;
    if (t.type === "ref" && t.terms.length === 1 && t.terms[0].type === "var") return;
    if (t.type === "array") return t.items.forEach((x) => this.usePatternNonVars(x, level, errs));
    if (t.type === "object") {
      for (const [k, v] of t.items) {
        this.use(k, level, errs);
        this.usePatternNonVars(v, level, errs);
      }
      return;
    }
    this.use(t, level, errs);
  }

  rule(r: Rule): void {
    const h = r.head;
    const args = new Level(null, true);
    const checked: Decl[] = [];
    const argCount = new Map<string, number>();
    // Function arguments: every variable in them (patterns included) must be used.
    const declareArg = (t: Term, inObject: boolean) => {
      if (t.type === "ref" && t.terms.length === 1) t = t.terms[0];
      if (t.type === "var") {
        if (isWildcard(t.name)) return;
        argCount.set(t.name, (argCount.get(t.name) ?? 0) + 1);
        if (args.vars.has(t.name)) return;
        const d: Decl = { name: t.name, kind: "arg", loc: r.loc, uses: 0, num: this.counter++ };
        args.declare(d);
        checked.push(d);
      } else if (t.type === "ref") {
        declareArg(t.terms[0], inObject);
        t.terms.slice(1).forEach((x) => declareArg(x, inObject));
      } else if (t.type === "array") t.items.forEach((x) => declareArg(x, inObject));
      else if (t.type === "object") t.items.forEach(([, v]) => declareArg(v, true));
      else if (t.type === "set") t.items.forEach((x) => declareArg(x, inObject));
    };
    for (const a of h.args ?? []) declareArg(a, false);

    const headTerms: (Term | null)[] = [...h.ref.slice(1), h.key, h.value];
    {
      const errs: StagedError[] = [];
      this.body(r.body, new Level(args), errs, headTerms);
      this.out.push(...errs);
    }
    for (const e of r.elses) {
      const errs: StagedError[] = [];
      this.body(e.body, new Level(args), errs, [e.value]);
      this.out.push(...errs);
    }
    if (this.strict) {
      // (OPA's order among one function's unused arguments varies from run to run; source order here.)
      for (const d of checked) {
        if (d.uses === 0 && (argCount.get(d.name) ?? 0) < 2) {
          this.out.push(err(STAGE.localVars, `unused argument ${d.name}. (hint: use _ (wildcard variable) instead)`, r.loc));
        }
      }
    }
  }
}

function localVarErrors(ms: Module[], o: StrictOptions): StagedError[] {
  // One counter for all modules, as OPA's local variable names are unique across them.
  const lv = new LocalVars(o.strict);
  for (const m of ms) for (const r of m.rules) if (!headOnlyRule(r)) lv.rule(r);
  return lv.out;
}

// ---- Stage: with targets ----------------------------------------------------------------------

/** The leading names of a ref: its head variable, then its string parts up to the first other term. */
function refParts(terms: Term[]): string[] {
  const head = terms[0];
  return head?.type === "var" ? [head.name, ...stringParts(terms.slice(1))] : [];
}
function stringParts(terms: Term[]): string[] {
  const out: string[] = [];
  for (const t of terms) {
    if (t.type !== "string") break;
    out.push(t.value);
  }
  return out;
}

/**
 * The data paths (`data.p.q`, names joined by NUL) of the nodes that hold rules in OPA's rule
 * tree: a rule sits at its package's path followed by the ground start of its head (`q[k] := v`
 * and `q contains x` at q, `q.a := 1` at q.a, `f(x)` at f).
 */
function ruleNodePaths(ms: Module[]): Set<string> {
  const out = new Set<string>();
  for (const m of ms) {
    const pkg = refParts(m.package.terms);
    for (const r of m.rules) {
      const head = refParts(r.head.ref);
      if (head.length > 0) out.add([...pkg, ...head].join("\0"));
    }
  }
  return out;
}

/**
 * `with` targets must be input…, data… (package rules and imports are data), or a builtin
 * function; anything else is a type error at the target. A data target may replace a rule's
 * whole document, or data beside the rules, but not a part of a document rules make: a target
 * below a node that holds rules (`with data.p.q.b` where `q[k] := …` is a rule) is OPA's compile
 * error `with keyword cannot partially replace virtual document(s)`.
 */
function withTargetErrors(m: Module, pkgRules: Set<string>, o: StrictOptions, ruleNodes: Set<string>): StagedError[] {
  const out: StagedError[] = [];
  const known = new Set<string>(["input", "data", ...pkgRules]);
  for (const im of m.imports) {
    const n = importName(im);
    if (n) known.add(n);
  }
  // A target's data path starts at `data`, at a rule of the package or at a data import; it
  // partly replaces a virtual document when a node above its last part holds rules.
  const pkgPath = refParts(m.package.terms);
  const dataImports = new Map<string, string[]>();
  for (const im of m.imports) {
    const n = importName(im);
    const root = im.path.terms[0];
    if (n && root.type === "var" && root.name === "data") dataImports.set(n, refParts(im.path.terms));
  }
  const partialVirtualTarget = (target: RefTerm): boolean => {
    const head = (target.terms[0] as VarTerm).name;
    const root = head === "data" ? ["data"] : (dataImports.get(head) ?? (pkgRules.has(head) ? [...pkgPath, head] : null));
    if (root === null) return false;
    const rest = target.terms.slice(1);
    const path = [...root, ...stringParts(rest)];
    const above = Math.min(path.length, root.length + rest.length - 1);
    let key = path[0];
    for (let i = 1; i < above; i++) {
      key += `\0${path[i]}`;
      if (ruleNodes.has(key)) return true;
    }
    return false;
  };
  const visitTerm = (t0: Term | null): void => {
    if (!t0) return;
    walkTerms(t0, (t) => {
      if (t.type === "arraycomp" || t.type === "setcomp") (visitTerm(t.head), visitBody(t.body));
      else if (t.type === "objectcomp") (visitTerm(t.key), visitTerm(t.value), visitBody(t.body));
      else return false;
      return true;
    });
  };
  const visitBody = (body: Body) => {
    for (const e of body) {
      for (const w of e.with) {
        const head = w.target.terms[0];
        if (head.type === "var" && known.has(head.name)) {
          if (partialVirtualTarget(w.target)) out.push(err(STAGE.withTargets, "with keyword cannot partially replace virtual document(s)", w.target.loc));
          continue;
        }
        if (o.builtins.has(opName(w.target))) continue;
        out.push(err(STAGE.withTargets, "with keyword target must reference existing input, data, or a function", w.target.loc, "rego_type_error"));
      }
      exprTerms(e, false).forEach(visitTerm);
      if (e.node.type === "every") visitBody(e.node.body);
    }
  };
  for (const r of m.rules) {
    if (headOnlyRule(r)) continue;
    for (const t of [...r.head.ref.slice(1), r.head.key, r.head.value]) visitTerm(t);
    visitBody(r.body);
    for (const e of r.elses) (visitTerm(e.value), visitBody(e.body));
  }
  return out;
}

// ---- Stage: rule conflicts ------------------------------------------------------------------

interface Placed {
  rule: Rule;
  module: Module;
  /** The module's package path (shared by its rules). */
  pkg: string[];
  /** The rule's node in ruleConflictErrors' trie of paths. */
  node: PathNode;
  /** The whole ref is ground (no variable parts after the prefix). */
  ground: boolean;
}

/** A node of the trie of rule paths: the rules placed at it (indexes), the nodes below. */
interface PathNode {
  kids: Map<string, PathNode> | null;
  here: number[];
}

function packagePath(m: Module): string[] {
  const path: string[] = [];
  for (const t of m.package.terms.slice(1)) {
    if (t.type === "string") path.push(t.value);
    else if (t.type === "var") path.push(t.name);
  }
  return path;
}

/** The data path of a placed rule's ground prefix (package + name + leading string parts). */
function placedPath(p: Placed): string[] {
  const path = p.pkg.slice();
  const ref = p.rule.head.ref;
  path.push((ref[0] as VarTerm).name);
  for (let i = 1; i < ref.length && ref[i].type === "string"; i++) path.push((ref[i] as { value: string }).value);
  return path;
}

const where = (p: Placed) => `${p.rule.loc.file}:${p.rule.loc.row}`;

/**
 * Rules that cannot live together (OPA checks these at compile time): more than one default
 * rule for a path, functions next to other rules or with different arities, single- next to
 * multi-value rules, and a complete rule with rules below its path.
 */
function ruleConflictErrors(ms: Module[]): StagedError[] {
  const out: StagedError[] = [];
  // Every rule placed in a trie of its path's segments: the rules at one path are a node's, and
  // what lies below a path is the node's subtree, found without comparing it with every rule
  // (programs may have tens of thousands).
  const child = (n: PathNode, seg: string): PathNode => {
    if (n.kids === null) n.kids = new Map();
    let c = n.kids.get(seg);
    if (!c) n.kids.set(seg, (c = { kids: null, here: [] }));
    return c;
  };
  const trie: PathNode = { kids: null, here: [] };
  const placed: Placed[] = [];
  // Nodes in the order their first rule was placed (the order of the errors).
  const nodes: PathNode[] = [];
  for (const m of ms) {
    const pkg = packagePath(m);
    let pn = trie;
    for (const seg of pkg) pn = child(pn, seg);
    for (const r of m.rules) {
      const ref = r.head.ref;
      const h = ref[0];
      if (h.type !== "var") continue;
      let n = child(pn, h.name);
      let i = 1;
      for (; i < ref.length && ref[i].type === "string"; i++) n = child(n, (ref[i] as { value: string }).value);
      if (n.here.length === 0) nodes.push(n);
      n.here.push(placed.length);
      placed.push({ rule: r, module: m, pkg, node: n, ground: i === ref.length });
    }
  }
  const dataPath = (p: Placed) => "data." + placedPath(p).join(".");
  for (const node of nodes) {
    // One rule at a path conflicts with nothing there.
    if (node.here.length === 1) continue;
    const rs = node.here.map((i) => placed[i]);
    const fns = rs.filter((p) => p.rule.head.kind === "function");
    const multi = rs.filter((p) => p.rule.head.kind === "multi");
    const single = rs.filter((p) => p.rule.head.kind === "single");
    const arities = new Set(fns.map((p) => p.rule.head.args?.length ?? 0));
    if ((fns.length > 0 && fns.length < rs.length) || arities.size > 1 || (multi.length > 0 && single.length > 0)) {
      out.push(err(STAGE.ruleConflicts, `conflicting rules ${dataPath(rs[0])} found`, rs[0].rule.loc, "rego_type_error"));
    }
    // Defaults conflict when their whole refs are equal (`default p[true]` and `default p[false]` do not).
    const defaults = new Map<string, Placed[]>();
    for (const p of rs) {
      if (!p.rule.isDefault) continue;
      const k = p.rule.head.ref.slice(1).map((t) => termString(t)).join(",");
      defaults.set(k, [...(defaults.get(k) ?? []), p]);
    }
    for (const ds of defaults.values()) {
      if (ds.length < 2) continue;
      out.push(err(STAGE.ruleConflicts, `multiple default rules ${dataPath(rs[0])} found at ${ds.map(where).join(", ")}`, { ...ds[0].module.package.loc, col: 1 }, "rego_type_error"));
    }
  }
  // A rule with a ground ref and rules at paths below it.
  const reported = new Set<PathNode>();
  for (const p of placed) {
    const node = p.node;
    if (!p.ground || node.kids === null || reported.has(node)) continue;
    const idx: number[] = [];
    const todo = [...node.kids.values()];
    while (todo.length > 0) {
      const n = todo.pop()!;
      idx.push(...n.here);
      if (n.kids !== null) for (const c of n.kids.values()) todo.push(c);
    }
    const below = idx.sort((a, b) => a - b).map((i) => placed[i]);
    if (below.length === 0) continue;
    reported.add(node);
    const lines = below.map((q) => `\n  rule ${dataPath(q)} at ${where(q)}`).join("");
    out.push(err(STAGE.ruleConflicts, `rule ${dataPath(p)} conflicts with:${lines}`, p.rule.loc, "rego_type_error"));
  }
  return out;
}

// ---- Stage: deprecated builtins ------------------------------------------------------------

function deprecatedErrors(m: Module, o: StrictOptions, pkgRules: Set<string>): StagedError[] {
  if (!o.strict && !isV1(m)) return [];
  const out: StagedError[] = [];
  // A package's own rule, or a name the module imports, named like a builtin is not the builtin.
  const local = new Set(pkgRules);
  for (const im of m.imports) {
    const n = importName(im);
    if (n !== null) local.add(n);
  }
  const check = (op: RefTerm, loc: Location) => {
    const name = opName(op);
    if (local.has(name)) return;
    if (o.builtins.get(name)?.deprecated) out.push(err(STAGE.deprecated, `deprecated built-in function calls in expression: ${name}`, loc, "rego_type_error"));
  };
  const visitTerm = (t0: Term | null): void => {
    if (!t0) return;
    walkTerms(t0, (t) => {
      if (t.type === "call") check(t.op, t.loc);
      if (t.type === "arraycomp" || t.type === "setcomp") (visitTerm(t.head), visitBody(t.body));
      else if (t.type === "objectcomp") (visitTerm(t.key), visitTerm(t.value), visitBody(t.body));
      else return false;
      return true;
    });
  };
  const visitBody = (body: Body) => {
    for (const e of body) {
      if (e.node.type === "call") check(e.node.op, e.loc);
      exprTerms(e, false).forEach(visitTerm);
      if (e.node.type === "every") visitBody(e.node.body);
    }
  };
  for (const r of m.rules) {
    if (headOnlyRule(r)) continue;
    visitTerm(r.head.value);
    visitTerm(r.head.key);
    visitBody(r.body);
    for (const e of r.elses) (visitTerm(e.value), visitBody(e.body));
  }
  return out;
}

// ---- Ranking compiler errors -----------------------------------------------------------------

/** The OPA compile stage a compiler error belongs to (for reporting only the earliest stage). */
/** Compiler messages that strict.ts reports in OPA's words instead. */
export const SUPERSEDED = /^(multiple default rules |with keyword target must reference)/;

/**
 * OPA's compiler stops after the first stage that found errors: merge the checks made here
 * (`ours`) with the compiler's own errors (`compiler`, each ranked by classifyStage) and keep the
 * earliest stage's, ours first (OPA's wording), then the compiler's on other rows, module by
 * module in OPA's order (`ordered`: the modules sorted by file name).
 */
export function pickStagedErrors(ours: StagedError[], compiler: StagedError[], ordered: Module[]): StagedError[] {
  const all = [...ours, ...compiler];
  if (all.length === 0) return [];
  const stage = Math.min(...all.map((x) => x.stage));
  const picked: StagedError[] = [];
  const seen = new Set<string>();
  const key = (x: ErrorDetail) => `${x.location?.file}|${x.location?.row}|${x.message.split("\n")[0]}`;
  for (const x of ours) if (x.stage === stage && !seen.has(key(x))) (seen.add(key(x)), picked.push(x));
  const fileRank = new Map(ordered.map((m, i) => [m.file, i]));
  const extra = compiler.filter((x) => x.stage === stage && !seen.has(key(x)));
  extra.sort((a, b) => (fileRank.get(a.location?.file ?? "") ?? 0) - (fileRank.get(b.location?.file ?? "") ?? 0));
  const rows = new Set(picked.map((x) => `${x.location?.file}|${x.location?.row}`));
  for (const x of extra) if (!seen.has(key(x)) && !rows.has(`${x.location?.file}|${x.location?.row}`)) (seen.add(key(x)), picked.push(x));
  return picked;
}

export function classifyStage(e: ErrorDetail): number {
  const m = e.message;
  if (e.code === "rego_unsafe_var_error") return STAGE.safety;
  if (e.code === "rego_recursion_error") return STAGE.recursion;
  if (/^args must not shadow|^import .* unused$/.test(m)) return STAGE.resolveRefs;
  if (/^(rules|variables) must not shadow/.test(m)) return STAGE.keywords;
  if (/^import must not shadow/.test(m)) return STAGE.duplicateImports;
  if (/^(var \S+ (assigned|declared|referenced) above|arg \S+ redeclared|cannot assign|assigned var|declared var|unused argument)/.test(m)) return STAGE.localVars;
  if (/^with keyword/.test(m)) return STAGE.withTargets;
  if (/^(multiple default rules|conflicting rules|rule .* conflicts)/.test(m)) return STAGE.ruleConflicts;
  if (/^(undefined function|function .* must be called|function .* has arity)/.test(m)) return STAGE.undefinedFunctions;
  if (/^deprecated built-in/.test(m)) return STAGE.deprecated;
  if (e.code === "rego_type_error") return STAGE.types;
  return STAGE.types;
}
