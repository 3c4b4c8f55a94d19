// The AST in OPA's JSON shape (what `opa parse --format json` and `rego.parse_module` give):
// terms as {type, value}, expressions as {index, terms, negated?, with?}, rules as
// {head: {name, ref, args?, key?, value?, assign?}, body, default?, else?}.
// Locations are included on request (`opa parse` prints them; `rego.parse_module` does not).

import type { Body, Expr, Module, Rule, Term, Location, Annotation } from "./ast.ts";
import { INFIX_OPS } from "./ast.ts";
import { numberFromText, toJS } from "./value.ts";

export interface AstJSONOptions {
  locations?: boolean;
}

type J = Record<string, unknown>;

export function moduleToJSON(m: Module, o: AstJSONOptions = {}): J {
  const out: J = {};
  if (m.annotations.length > 0) out.annotations = m.annotations.map((a) => annotationJSON(a, o));
  if (m.imports.length > 0) {
    out.imports = m.imports.map((im) => {
      const j: J = { path: termJSON(im.path, o) };
      if (im.alias) j.alias = im.alias;
      if (o.locations) j.location = locJSON(im.loc);
      return j;
    });
  }
  out.package = { path: m.package.terms.map((t, i) => termJSON(i === 0 ? t : t, o)), ...(o.locations ? { location: locJSON(m.package.loc) } : {}) };
  if (m.rules.length > 0) out.rules = m.rules.map((r) => ruleJSON(r, o));
  return out;
}

export function annotationJSON(a: Annotation, o: AstJSONOptions = {}): J {
  const out: J = {};
  for (const [k, v] of Object.entries(a)) {
    if (k === "loc") continue;
    out[k] = v;
  }
  if (o.locations) out.location = locJSON(a.loc);
  return out;
}

function locJSON(l: Location): J {
  return { file: l.file, row: l.row, col: l.col };
}

function ruleName(r: Rule): string {
  const h = r.head.ref[0];
  return h.type === "var" ? h.name : "";
}

function headJSON(r: Rule, value: Term | null, o: AstJSONOptions): J {
  const h = r.head;
  const j: J = {};
  if (h.args) j.args = h.args.map((a) => termJSON(a, o));
  if (h.assign) j.assign = true;
  if (h.kind === "multi") j.key = termJSON(h.key!, o);
  else if (h.ref.length > 1 && h.kind === "single") j.key = termJSON(h.ref[h.ref.length - 1], o);
  j.name = ruleName(r);
  j.ref = h.ref.map((t) => termJSON(t, o));
  if (h.kind !== "multi" && value) j.value = termJSON(value, o);
  if (o.locations) j.location = locJSON(h.loc);
  return j;
}

function bodyOrTrue(b: Body, loc: Location, o: AstJSONOptions): unknown[] {
  if (b.length > 0) return b.map((e, i) => exprJSON(e, i, o));
  return [{ index: 0, terms: { type: "boolean", value: true, ...(o.locations ? { location: locJSON(loc) } : {}) }, ...(o.locations ? { location: locJSON(loc) } : {}) }];
}

export function ruleJSON(r: Rule, o: AstJSONOptions = {}): J {
  const j: J = {};
  if (r.annotations.length > 0) j.annotations = r.annotations.map((a) => annotationJSON(a, o));
  j.body = bodyOrTrue(r.body, r.loc, o);
  if (r.isDefault) j.default = true;
  if (r.elses.length > 0) {
    // else chains nest: each else is a rule whose own else is the next.
    let next: J | null = null;
    for (let i = r.elses.length - 1; i >= 0; i--) {
      const e = r.elses[i];
      const ej: J = { body: bodyOrTrue(e.body, e.loc, o) };
      if (next) ej.else = next;
      ej.head = headJSON(r, e.value ?? ({ type: "boolean", value: true, loc: e.loc } as Term), o);
      if (o.locations) ej.location = locJSON(e.loc);
      next = ej;
    }
    j.else = next;
  }
  j.head = headJSON(r, r.head.value, o);
  if (o.locations) j.location = locJSON(r.loc);
  return j;
}

export function exprJSON(e: Expr, index: number, o: AstJSONOptions = {}): J {
  const j: J = { index };
  if (e.negated) j.negated = true;
  const n = e.node;
  switch (n.type) {
    case "term":
      j.terms = termJSON(n.term, o);
      break;
    case "call":
      j.terms = [termJSON(n.op, o), ...n.args.map((a) => termJSON(a, o))];
      break;
    case "some":
      j.terms = { symbols: n.vars.map((v) => termJSON(v, o)) };
      break;
    case "somein": {
      const op = n.key ? ["internal", "member_3"] : ["internal", "member_2"];
      const opTerm = { type: "ref", value: [{ type: "var", value: op[0] }, { type: "string", value: op[1] }] };
      const args = n.key ? [n.key, n.value, n.collection] : [n.value, n.collection];
      j.terms = { symbols: [{ type: "call", value: [opTerm, ...args.map((a) => termJSON(a, o))] }] };
      break;
    }
    case "every":
      j.terms = {
        body: n.body.map((x, i) => exprJSON(x, i, o)),
        domain: termJSON(n.domain, o),
        key: n.key ? termJSON(n.key, o) : null,
        value: termJSON(n.value, o),
      };
      break;
  }
  if (e.with.length > 0) j.with = e.with.map((w) => ({ target: termJSON(w.target, o), value: termJSON(w.value, o) }));
  if (o.locations) j.location = locJSON(e.loc);
  return j;
}

/** The terms a term is made of (object items flattened to key, value, key, …), or null for the others. */
function subterms(t: Term): Term[] | null {
  switch (t.type) {
    case "ref":
      return t.terms;
    case "array":
    case "set":
      return t.items;
    case "object":
      return t.items.flat();
    case "call":
      return [t.op, ...t.args];
    default:
      return null;
  }
}

/**
 * A term's JSON. Refs, collections and calls (which nest as deep as the parser allows: a long
 * chain of infix operators, templates within templates) are walked with an explicit stack.
 */
export function termJSON(root: Term, o: AstJSONOptions = {}): J {
  const finish = (t: Term, j: J): J => {
    if (o.locations) j.location = locJSON(t.loc);
    return j;
  };
  const build = (t: Term, kids: J[]): J => {
    switch (t.type) {
      case "object": {
        const pairs: [J, J][] = [];
        for (let i = 0; i < kids.length; i += 2) pairs.push([kids[i]!, kids[i + 1]!]);
        return finish(t, { type: "object", value: pairs });
      }
      default:
        return finish(t, { type: t.type, value: kids });
    }
  };
  const rootKids = subterms(root);
  if (rootKids === null) return finish(root, termJSONInner(root, o));
  const stack: { t: Term; kids: Term[]; out: J[] }[] = [{ t: root, kids: rootKids, out: [] }];
  for (;;) {
    const f = stack[stack.length - 1]!;
    if (f.out.length === f.kids.length) {
      const j = build(f.t, f.out);
      stack.pop();
      if (stack.length === 0) return j;
      stack[stack.length - 1]!.out.push(j);
      continue;
    }
    const x = f.kids[f.out.length]!;
    const xk = subterms(x);
    if (xk === null) f.out.push(finish(x, termJSONInner(x, o)));
    else stack.push({ t: x, kids: xk, out: [] });
  }
}

function termJSONInner(t: Term, o: AstJSONOptions): J {
  switch (t.type) {
    case "null":
      return { type: "null" };
    case "boolean":
      return { type: "boolean", value: t.value };
    case "number": {
      const v = numberFromText(t.value);
      if (v === undefined) return { type: "number", value: t.value };
      // a number beyond float64 (1e400) stays the exact Rego number (OPA's json.Number), never Infinity
      const js = toJS(v);
      return { type: "number", value: typeof js === "number" && !Number.isFinite(js) ? v : js };
    }
    case "string":
      return { type: "string", value: t.value };
    case "var":
      return { type: "var", value: t.name };
    case "ref":
      return { type: "ref", value: t.terms.map((x) => termJSON(x, o)) };
    case "array":
      return { type: "array", value: t.items.map((x) => termJSON(x, o)) };
    case "set":
      return { type: "set", value: t.items.map((x) => termJSON(x, o)) };
    case "object":
      return { type: "object", value: t.items.map(([k, v]) => [termJSON(k, o), termJSON(v, o)]) };
    case "arraycomp":
      return { type: "arraycomprehension", value: { body: t.body.map((e, i) => exprJSON(e, i, o)), term: termJSON(t.head, o) } };
    case "setcomp":
      return { type: "setcomprehension", value: { body: t.body.map((e, i) => exprJSON(e, i, o)), term: termJSON(t.head, o) } };
    case "objectcomp":
      return {
        type: "objectcomprehension",
        value: { body: t.body.map((e, i) => exprJSON(e, i, o)), key: termJSON(t.key, o), value: termJSON(t.value, o) },
      };
    case "call":
      return { type: "call", value: [termJSON(t.op, o), ...t.args.map((a) => termJSON(a, o))] };
  }
}

export { INFIX_OPS };
