// conftest's --strict (OPA's strict compile mode), as far as verify needs it: unused imports,
// unused function arguments, unused `every` variables and assigned-but-unused local variables
// are compile errors.

import type { Module, Rule, Term, Expr, Body } from "../rego/ast.ts";
import type { ErrorDetail } from "../rego/errors.ts";

function isWildcard(name: string): boolean {
  return name === "_" || name.startsWith("$");
}

/** Count variable occurrences in terms (comprehension and every bodies included). */
class Uses {
  counts = new Map<string, number>();
  add(name: string): void {
    this.counts.set(name, (this.counts.get(name) ?? 0) + 1);
  }
  term(t: Term): void {
    switch (t.type) {
      case "var":
        this.add(t.name);
        return;
      case "ref":
        t.terms.forEach((x) => this.term(x));
        return;
      case "array":
      case "set":
        t.items.forEach((x) => this.term(x));
        return;
      case "object":
        t.items.forEach(([k, v]) => (this.term(k), this.term(v)));
        return;
      case "call":
        this.term(t.op);
        t.args.forEach((x) => this.term(x));
        return;
      case "arraycomp":
      case "setcomp":
        this.term(t.head);
        this.body(t.body);
        return;
      case "objectcomp":
        this.term(t.key);
        this.term(t.value);
        this.body(t.body);
        return;
      default:
        return;
    }
  }
  expr(e: Expr): void {
    const n = e.node;
    switch (n.type) {
      case "term":
        this.term(n.term);
        break;
      case "call":
        this.term(n.op);
        n.args.forEach((a) => this.term(a));
        break;
      case "some":
        break;
      case "somein":
        if (n.key) this.term(n.key);
        this.term(n.value);
        this.term(n.collection);
        break;
      case "every":
        if (n.key) this.term(n.key);
        this.term(n.value);
        this.term(n.domain);
        this.body(n.body);
        break;
    }
    for (const w of e.with) {
      this.term(w.target);
      this.term(w.value);
    }
  }
  body(b: Body): void {
    b.forEach((e) => this.expr(e));
  }
  rule(r: Rule): void {
    r.head.ref.forEach((t) => this.term(t));
    if (r.head.key) this.term(r.head.key);
    if (r.head.value) this.term(r.head.value);
    this.body(r.body);
    for (const e of r.elses) {
      if (e.value) this.term(e.value);
      this.body(e.body);
    }
  }
}

function varsOf(t: Term, out: Term[] = []): Term[] {
  if (t.type === "var") out.push(t);
  else if (t.type === "array" || t.type === "set") t.items.forEach((x) => varsOf(x, out));
  else if (t.type === "object") t.items.forEach(([, v]) => varsOf(v, out));
  return out;
}

export function strictErrors(modules: Module[]): ErrorDetail[] {
  const errors: ErrorDetail[] = [];
  for (const m of modules) {
    const moduleUses = new Uses();
    m.rules.forEach((r) => moduleUses.rule(r));
    for (const im of m.imports) {
      const ts = im.path.terms;
      const head = ts[0];
      if (head.type !== "var" || (head.name !== "data" && head.name !== "input")) continue;
      const last = ts[ts.length - 1];
      const alias = im.alias ?? (ts.length === 1 ? head.name : last.type === "string" ? last.value : null);
      if (!alias || alias === "input" || alias === "data") continue;
      if (!moduleUses.counts.has(alias)) {
        const path = ["data", "input"].includes(head.name) ? [head.name, ...ts.slice(1).map((t) => (t.type === "string" ? t.value : "?"))].join(".") : "";
        errors.push({ code: "rego_compile_error", message: `import ${path}${im.alias ? ` as ${im.alias}` : ""} unused`, location: im.loc });
      }
    }
    for (const r of m.rules) {
      const uses = new Uses();
      uses.rule(r);
      if (r.head.kind === "function" && !r.isDefault) {
        for (const a of r.head.args ?? []) {
          if (a.type !== "var" || isWildcard(a.name)) continue;
          if ((uses.counts.get(a.name) ?? 0) === 0) {
            errors.push({ code: "rego_compile_error", message: `unused argument ${a.name}. (hint: use _ (wildcard variable) instead)`, location: r.head.loc });
          }
        }
      }
      const visitBody = (b: Body) => {
        for (const e of b) {
          const n = e.node;
          if (n.type === "call" && n.op.terms[0].type === "var" && n.op.terms[0].name === "assign" && n.op.terms.length === 1) {
            for (const v of varsOf(n.args[0])) {
              if (v.type === "var" && !isWildcard(v.name) && (uses.counts.get(v.name) ?? 0) <= 1) {
                errors.push({ code: "rego_compile_error", message: `assigned var ${v.name} unused`, location: v.loc });
              }
            }
          }
          if (n.type === "every") {
            for (const v of [n.key, n.value]) {
              if (v && !isWildcard(v.name) && (uses.counts.get(v.name) ?? 0) <= 1) {
                errors.push({ code: "rego_compile_error", message: `declared var ${v.name} unused`, location: v.loc });
              }
            }
            visitBody(n.body);
          }
        }
      };
      visitBody(r.body);
      for (const e of r.elses) visitBody(e.body);
    }
  }
  return errors.sort((a, b) => (a.location!.file < b.location!.file ? -1 : a.location!.file > b.location!.file ? 1 : a.location!.row - b.location!.row));
}
