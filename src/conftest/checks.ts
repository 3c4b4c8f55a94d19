// Policy checks conftest applies at load time on request:
//  * --strict (OPA's strict compiler checks, the common ones): unused imports, unused function
//    arguments, variables assigned with := and never used.
//  * --capabilities FILE: calls to builtins the capabilities file does not list are
//    "undefined function" errors.

import { readFileSync } from "node:fs";
import type { Module, Term, Body, Expr, Rule, RefTerm } from "../rego/ast.ts";
import type { ErrorDetail } from "../rego/errors.ts";
import { BUILTINS } from "../builtins/index.ts";
import { ConftestError } from "./inputs.ts";

type Visitor = { term?(t: Term): void; expr?(e: Expr): void };

function walkTerm(t: Term, v: Visitor): void {
  v.term?.(t);
  switch (t.type) {
    case "ref":
      t.terms.forEach((x) => walkTerm(x, v));
      break;
    case "array":
    case "set":
      t.items.forEach((x) => walkTerm(x, v));
      break;
    case "object":
      t.items.forEach(([k, x]) => (walkTerm(k, v), walkTerm(x, v)));
      break;
    case "arraycomp":
    case "setcomp":
      walkTerm(t.head, v);
      walkBody(t.body, v);
      break;
    case "objectcomp":
      walkTerm(t.key, v);
      walkTerm(t.value, v);
      walkBody(t.body, v);
      break;
    case "call":
      walkTerm(t.op, v);
      t.args.forEach((x) => walkTerm(x, v));
      break;
  }
}

function walkBody(b: Body, v: Visitor): void {
  for (const e of b) {
    v.expr?.(e);
    const n = e.node;
    switch (n.type) {
      case "term":
        walkTerm(n.term, v);
        break;
      case "call":
        walkTerm(n.op, v);
        n.args.forEach((x) => walkTerm(x, v));
        break;
      case "some":
        n.vars.forEach((x) => walkTerm(x, v));
        break;
      case "somein":
        if (n.key) walkTerm(n.key, v);
        walkTerm(n.value, v);
        walkTerm(n.collection, v);
        break;
      case "every":
        if (n.key) walkTerm(n.key, v);
        walkTerm(n.value, v);
        walkTerm(n.domain, v);
        walkBody(n.body, v);
        break;
    }
    for (const w of e.with) {
      walkTerm(w.target, v);
      walkTerm(w.value, v);
    }
  }
}

function walkRule(r: Rule, v: Visitor): void {
  r.head.ref.forEach((x) => walkTerm(x, v));
  r.head.args?.forEach((x) => walkTerm(x, v));
  if (r.head.key) walkTerm(r.head.key, v);
  if (r.head.value) walkTerm(r.head.value, v);
  walkBody(r.body, v);
  for (const e of r.elses) {
    if (e.value) walkTerm(e.value, v);
    walkBody(e.body, v);
  }
}

function refName(op: RefTerm): string {
  return op.terms.map((t) => (t.type === "var" ? t.name : t.type === "string" ? t.value : "?")).join(".");
}

function importText(path: RefTerm): string {
  let s = "";
  path.terms.forEach((t, i) => {
    if (t.type === "var") s += i === 0 ? t.name : `[${t.name}]`;
    else if (t.type === "string") s += /^[A-Za-z_][A-Za-z0-9_]*$/.test(t.value) ? `.${t.value}` : `[${JSON.stringify(t.value)}]`;
  });
  return s;
}

const byLocation = (a: ErrorDetail, b: ErrorDetail) =>
  (a.location?.file ?? "").localeCompare(b.location?.file ?? "") || (a.location?.row ?? 0) - (b.location?.row ?? 0) || (a.location?.col ?? 0) - (b.location?.col ?? 0);

/** OPA's strict-mode errors for the modules, sorted by location as conftest reports them. */
export function checkStrict(modules: Module[]): ErrorDetail[] {
  const imports: ErrorDetail[] = [];
  for (const m of modules) {
    const used = new Set<string>();
    for (const r of m.rules) walkRule(r, { term: (t) => t.type === "var" && used.add(t.name) });
    for (const im of m.imports) {
      const root = im.path.terms[0];
      if (root.type !== "var" || (root.name !== "data" && root.name !== "input")) continue;
      const last = im.path.terms[im.path.terms.length - 1];
      const name = im.alias ?? (last.type === "string" ? last.value : last.type === "var" ? last.name : "");
      if (im.path.terms.length === 1 && !im.alias) continue;
      if (!used.has(name)) {
        imports.push({ code: "rego_compile_error", message: `import ${importText(im.path)}${im.alias ? ` as ${im.alias}` : ""} unused`, location: im.loc });
      }
    }
  }
  const errs: ErrorDetail[] = imports;
  for (const m of modules) {
    for (const r of m.rules) {
      const counts = new Map<string, number>();
      walkRule(r, { term: (t) => t.type === "var" && counts.set(t.name, (counts.get(t.name) ?? 0) + 1) });
      if (r.head.kind === "function") {
        for (const a of r.head.args ?? []) {
          if (a.type === "var" && a.name !== "_" && !a.name.startsWith("$") && (counts.get(a.name) ?? 0) <= 1) {
            errs.push({ code: "rego_compile_error", message: `unused argument ${a.name}. (hint: use _ (wildcard variable) instead)`, location: a.loc });
          }
        }
      }
      const assigned = (b: Body) =>
        walkBody(b, {
          expr: (e) => {
            const n = e.node;
            if (n.type !== "call" || refName(n.op) !== "assign") return;
            const lhs: Term[] = [];
            walkTerm(n.args[0], { term: (t) => t.type === "var" && lhs.push(t) });
            for (const v of lhs) {
              if (v.type === "var" && v.name !== "_" && (counts.get(v.name) ?? 0) <= 1) {
                errs.push({ code: "rego_compile_error", message: `assigned var ${v.name} unused`, location: v.loc });
              }
            }
          },
        });
      assigned(r.body);
      r.elses.forEach((e) => assigned(e.body));
      walkRule(r, {
        expr: (e) => {
          const names: string[] = [];
          const note = (op: RefTerm) => {
            const b = BUILTINS.get(refName(op));
            if (b?.deprecated && !names.includes(b.name)) names.push(b.name);
          };
          const n = e.node;
          if (n.type === "call") note(n.op);
          const scan = (t: Term) => walkTerm(t, { term: (x) => x.type === "call" && note(x.op) });
          if (n.type === "call") n.args.forEach(scan);
          else if (n.type === "term") scan(n.term);
          if (names.length) errs.push({ code: "rego_type_error", message: `deprecated built-in function calls in expression: ${names.join(", ")}`, location: e.loc });
        },
      });
    }
  }
  return errs.sort(byLocation);
}

/** "undefined function" errors for calls to builtins the capabilities file leaves out. */
export function checkCapabilities(modules: Module[], file: string): ErrorDetail[] {
  let caps: { builtins?: { name: string }[] };
  try {
    caps = JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ConftestError(`load capabilities: ${code === "ENOENT" ? `open ${file}: no such file or directory` : (e as Error).message}`);
  }
  const allowed = new Set((caps.builtins ?? []).map((b) => b.name));
  // Internal helpers the parser introduces for syntax (`x in xs`, `print`, templates) are always there.
  for (const n of BUILTINS.keys()) if (n.startsWith("internal.")) allowed.add(n);
  for (const n of ["eq", "assign", "equal"]) allowed.add(n);
  const errs: ErrorDetail[] = [];
  const check = (name: string, loc: Term["loc"]) => {
    if (BUILTINS.has(name) && !allowed.has(name)) errs.push({ code: "rego_type_error", message: `undefined function ${name}`, location: loc });
  };
  for (const m of modules) {
    for (const r of m.rules) {
      walkRule(r, {
        term: (t) => t.type === "call" && check(refName(t.op), t.loc),
        expr: (e) => e.node.type === "call" && check(refName(e.node.op), e.loc),
      });
    }
  }
  return errs;
}

/** conftest's error when the policy paths hold no .rego file: the paths as Go prints a list. */
export function noPoliciesFound(paths: string[]): string {
  return `no policies found in [${paths.join(" ")}]`;
}

export { problematicIf } from "./evaluate.ts";
