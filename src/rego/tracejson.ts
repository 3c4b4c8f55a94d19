// Trace events in the JSON shape of OPA's REST API explanations (`?explain=…` on the data and
// query APIs): {op, query_id, parent_id, type, node, locals, message?}, the node as AST JSON
// (`body`: an array of expressions, `expr`, `rule`) and the locals as {key, value} terms.
// What differs from OPA (its nodes are the compiler's rewritten forms; Index and Note events)
// is listed in docs/server.md.

import type { Expr } from "./ast.ts";
import { exprJSON, ruleJSON } from "./astjson.ts";
import type { TraceEvent } from "./trace.ts";
import { RSet, compare, isObject, objectEntries, type Value } from "./value.ts";

/** A value as an AST term: {type, value}; objects as [key, value] pairs, sets sorted. Numbers stay exact. */
export function valueTermJSON(v: Value): unknown {
  if (v === null) return { type: "null", value: null };
  switch (typeof v) {
    case "boolean":
      return { type: "boolean", value: v };
    case "string":
      return { type: "string", value: v };
    case "number":
    case "bigint":
      return { type: "number", value: v };
  }
  if (Array.isArray(v)) return { type: "array", value: v.map(valueTermJSON) };
  if (v instanceof RSet) return { type: "set", value: v.sorted().map(valueTermJSON) };
  if (isObject(v)) {
    const entries = objectEntries(v).sort((a, b) => compare(a[0], b[0]));
    return { type: "object", value: entries.map(([k, x]) => [valueTermJSON(k), valueTermJSON(x)]) };
  }
  return { type: "number", value: v };
}

/**
 * The events as OPA's REST API lists them. An expression's `index` is its position in the body
 * or rule it belongs to, learned from the Enter events of those (0 when it was not seen). An
 * Index event's node is the expression of the query's last Eval event (the ref of the rules
 * looked up when there is none), and so is a Unify event's.
 */
export function traceEventsJSON(events: readonly TraceEvent[]): unknown[] {
  const index = new Map<Expr, number>();
  const learn = (body: readonly Expr[]) => body.forEach((x, i) => index.set(x, i));
  const lastEval = new Map<number, unknown>();
  const out: unknown[] = [];
  for (const e of events) {
    let type = "";
    let node: unknown = null;
    const n = e.node;
    switch (n.kind) {
      case "body":
        if (n.body) {
          learn(n.body);
          type = "body";
          node = n.body.map((x, i) => exprJSON(x, i));
        }
        break;
      case "rule":
        if (n.rule) {
          learn(n.rule.body);
          type = "rule";
          node = ruleJSON(n.rule);
        }
        break;
      case "expr":
        if (n.expr) {
          type = "expr";
          node = exprJSON(n.expr, index.get(n.expr) ?? 0);
          if (e.op === "Eval") lastEval.set(e.queryId, node);
        } else if (e.op === "Unify" && lastEval.has(e.queryId)) {
          // OPA's Unify events are about the expression being evaluated
          type = "expr";
          node = lastEval.get(e.queryId);
        } else if (n.text === "true") {
          // the body of a rule written without one (`default p := false`, `p := 1`): OPA's `true`
          type = "expr";
          node = { index: 0, terms: { type: "boolean", value: true } };
        }
        break;
      case "ref":
        // OPA's Index event is about the expression being evaluated: the query's last Eval
        if (lastEval.has(e.queryId)) {
          type = "expr";
          node = lastEval.get(e.queryId);
          break;
        }
        type = "ref";
        node = [{ type: "var", value: "data" }, ...(n.path ?? n.text.split(".").slice(1)).map((x) => ({ type: "string", value: x }))];
        break;
      case "note":
        break;
    }
    const ev: Record<string, unknown> = {
      op: e.op.toLowerCase(),
      query_id: e.queryId,
      parent_id: e.parentId,
      type,
      node,
      locals: (e.bindings ?? []).map(([name, v]) => ({ key: { type: "var", value: name }, value: valueTermJSON(v) })),
    };
    if (e.message !== "") ev.message = e.message;
    out.push(ev);
  }
  return out;
}
