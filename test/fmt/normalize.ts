// A location-free picture of a module, for checking that formatting keeps a module's meaning:
// two modules that evaluate alike have equal pictures. What formatting may change and still
// mean the same is normalised away:
//  - `=` vs `:=` in rule heads, `p = true { … }` vs `p { … }`, `p := 1` vs `p := 1 if { true }`;
//  - future.keywords and rego.v1 imports (v1 output needs none), and the order of imports;
//  - duplicate set elements and object keys (OPA's sets and objects hold them once);
//  - template strings whose constant parts were folded into the text.
import type { Body, Expr, Module, Rule, Term } from "../../src/rego/ast.ts";

export function picture(m: Module): unknown {
  const imports = m.imports
    .map((i) => ({ path: t(i.path), alias: i.alias }))
    .filter((i) => !/^r:\[v:(future|rego)\b/.test(JSON.stringify(i.path).slice(1)))
    .map((i) => JSON.stringify(i))
    .sort();
  return {
    package: t(m.package),
    imports,
    rules: m.rules.map(rule),
  };
}

/** All comment texts, trailing blanks trimmed, in order. */
export function commentTexts(m: Module): string[] {
  return m.comments.map((c) => c.text.replace(/\s+$/, ""));
}

function rule(r: Rule): unknown {
  const h = r.head;
  const value = h.kind === "multi" ? null : h.value ? t(h.value) : "true";
  return {
    default: r.isDefault,
    kind: h.kind,
    ref: h.ref.map(t),
    args: h.args ? h.args.map(t) : null,
    key: h.key ? t(h.key) : null,
    value,
    body: body(r.body),
    elses: r.elses.map((e) => ({ value: e.value ? t(e.value) : "true", body: body(e.body) })),
  };
}

function body(b: Body): unknown[] {
  // `p if true` and `p` mean the same.
  if (b.length === 1 && !b[0].negated && b[0].with.length === 0 && b[0].node.type === "term" && b[0].node.term.type === "boolean" && b[0].node.term.value) return [];
  return b.map(expr);
}

function expr(e: Expr): unknown {
  const n = e.node;
  let node: unknown;
  switch (n.type) {
    case "term": node = ["term", t(n.term)]; break;
    case "call": node = ["call", t(n.op), n.args.map(t)]; break;
    case "some": node = ["some", n.vars.map(t)]; break;
    case "somein": node = ["somein", n.key ? t(n.key) : null, t(n.value), t(n.collection)]; break;
    case "every": node = ["every", n.key ? t(n.key) : null, t(n.value), t(n.domain), body(n.body)]; break;
  }
  return { node, negated: e.negated, with: e.with.map((w) => [t(w.target), t(w.value)]) };
}

function t(x: Term): string {
  switch (x.type) {
    case "null": return "null";
    case "boolean": return `b:${x.value}`;
    case "number": return `n:${x.value}`;
    case "string": return `s:${JSON.stringify(x.value)}`;
    case "var": return x.name.startsWith("$tpl") ? "v:$tpl" : `v:${x.name}`;
    case "ref": return `r:[${x.terms.map(t).join(",")}]`;
    case "array": return `a:[${x.items.map(t).join(",")}]`;
    case "set": return `S:{${[...new Set(x.items.map(t))].sort().join(",")}}`;
    case "object": {
      const m = new Map<string, string>();
      for (const [k, v] of x.items) m.set(t(k), t(v));
      return `o:{${[...m].map(([k, v]) => `${k}:${v}`).sort().join(",")}}`;
    }
    case "arraycomp": return `ac:[${t(x.head)}|${JSON.stringify(body(x.body))}]`;
    case "setcomp": return `sc:{${t(x.head)}|${JSON.stringify(body(x.body))}}`;
    case "objectcomp": return `oc:{${t(x.key)}:${t(x.value)}|${JSON.stringify(body(x.body))}}`;
    case "call": {
      const op = t(x.op);
      if (op === 'r:[v:internal,s:"template_string"]' && x.args.length === 1 && x.args[0].type === "array") return template(x.args[0].items);
      return `c:${op}(${x.args.map(t).join(",")})`;
    }
  }
}

/** Template string parts with constant expressions folded into the text around them. */
function template(items: Term[]): string {
  const parts: string[] = [];
  let text = "";
  for (const it of items) {
    let c: string | null = null;
    if (it.type === "string") c = it.value;
    else if (it.type === "setcomp" && it.body.length === 1) {
      const n = it.body[0].node;
      if (n.type === "call" && n.args.length === 2 && it.body[0].with.length === 0) {
        const v = n.args[1];
        if (v.type === "string") c = v.value;
        else if (v.type === "number") c = v.value;
        else if (v.type === "boolean") c = String(v.value);
        else if (v.type === "null") c = "null";
      }
    }
    if (c !== null) text += c;
    else {
      if (text) parts.push(JSON.stringify(text));
      text = "";
      parts.push(t(it));
    }
  }
  if (text) parts.push(JSON.stringify(text));
  return `tpl:[${parts.join(",")}]`;
}
