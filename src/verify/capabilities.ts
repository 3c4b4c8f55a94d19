// `portcullis verify --capabilities`: every builtin the policies call must be in the
// capabilities file's list (checked on the parsed modules, before compiling, with opa's
// messages).

import { readFileSync } from "node:fs";
import type { Module, Rule, Term, Expr, Body } from "../rego/ast.ts";
import { BUILTINS } from "../builtins/index.ts";

/** --capabilities: every builtin the policies call must be in the file's list. */
export function checkCapabilities(file: string, modules: Module[]): string | null {
  let caps: { builtins?: { name: string }[] };
  try {
    caps = JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    return `capabilities: ${file}: ${(e as Error).message}`;
  }
  const allowed = new Set((caps.builtins ?? []).map((b) => b.name));
  const errors: string[] = [];
  const withErrors: string[] = [];
  for (const m of modules) {
    const userFns = new Set<string>();
    for (const r of m.rules) if (r.head.kind === "function" && r.head.ref[0].type === "var") userFns.add(r.head.ref[0].name);
    const visitTerm = (t: Term): void => {
      switch (t.type) {
        case "call": {
          const name = t.op.terms.map((x) => (x.type === "var" ? x.name : x.type === "string" ? x.value : "?")).join(".");
          if (BUILTINS.has(name) && !allowed.has(name) && !userFns.has(name)) errors.push(`${m.file}:${t.loc.row}: rego_type_error: undefined function ${name}`);
          t.args.forEach(visitTerm);
          return;
        }
        case "ref":
          t.terms.forEach(visitTerm);
          return;
        case "array":
        case "set":
          t.items.forEach(visitTerm);
          return;
        case "object":
          t.items.forEach(([k, v]) => (visitTerm(k), visitTerm(v)));
          return;
        case "arraycomp":
        case "setcomp":
          visitTerm(t.head);
          visitBody(t.body);
          return;
        case "objectcomp":
          visitTerm(t.key);
          visitTerm(t.value);
          visitBody(t.body);
          return;
        default:
          return;
      }
    };
    const visitExpr = (e: Expr): void => {
      const n = e.node;
      if (n.type === "call") {
        const name = n.op.terms.map((x) => (x.type === "var" ? x.name : x.type === "string" ? x.value : "?")).join(".");
        const internal = ["eq", "assign", "equal", "neq", "lt", "lte", "gt", "gte", "plus", "minus", "mul", "div", "rem", "and", "or", "internal.member_2", "internal.member_3", "print", "internal.print"];
        if (BUILTINS.has(name) && !allowed.has(name) && !internal.includes(name) && !userFns.has(name)) errors.push(`${m.file}:${e.loc.row}: rego_type_error: undefined function ${name}`);
        n.args.forEach(visitTerm);
      } else if (n.type === "term") visitTerm(n.term);
      else if (n.type === "somein") visitTerm(n.collection);
      else if (n.type === "every") {
        visitTerm(n.domain);
        visitBody(n.body);
      }
    };
    const visitBody = (b: Body) =>
      b.forEach((e) => {
        visitExpr(e);
        for (const w of e.with) {
          const ts = w.target.terms;
          const name = ts.map((x) => (x.type === "var" ? x.name : x.type === "string" ? x.value : "?")).join(".");
          if (ts[0].type === "var" && (ts[0].name === "input" || ts[0].name === "data")) continue;
          if (BUILTINS.has(name) && !allowed.has(name) && !userFns.has(name)) {
            withErrors.push(`${m.file}:${w.loc.row}: rego_type_error: with keyword target must reference existing input, data, or a function`);
          }
        }
      });
    for (const r of m.rules as Rule[]) {
      visitBody(r.body);
      for (const e of r.elses) visitBody(e.body);
      if (r.head.value) visitTerm(r.head.value);
    }
  }
  if (withErrors.length) return withErrors.length === 1 ? `1 error occurred: ${withErrors[0]}` : `${withErrors.length} errors occurred:\n${withErrors.join("\n")}`;
  if (errors.length === 0) return null;
  return errors.length === 1 ? `1 error occurred: ${errors[0]}` : `${errors.length} errors occurred:\n${errors.join("\n")}`;
}
