// The evaluation tracer: events as OPA's topdown emits them (Enter, Eval, Exit, Redo, Fail, Note,
// Index), and printers for OPA's pretty trace format (`opa eval --explain`, `opa test --explain`,
// conftest's `--trace`).
//
// Tracing costs nothing when off: an engine compiles a second, instrumented rule tree the first
// time an evaluation asks for a tracer (engine.ts), and only that tree emits events. The rule tree
// of untraced evaluations is exactly the one compiled without tracing.
//
// Events carry the node they are about (a query or child body, a rule, an expression, the ref of
// an index lookup), its location, the query id it runs in and its parent's (each rule body,
// negation and comprehension body is a query of its own, as in OPA), and the bindings of the
// variables the expression names. Expressions are rendered in OPA's notation (`gt(x, 1)`,
// `x = y` for `:=`, `internal.member_2(x, xs)`); the traced rule tree runs the rules as OPA's
// compiler rewrote them (tracerewrite.ts: nested calls and refs moved out into generated
// `__localN__` variables), so the expressions printed are OPA's. What still differs is listed in
// docs/test.md.

import type { Body, Expr, Location, Rule, Term, With } from "./ast.ts";
import { eachPart } from "./ast.ts";
import type { Value } from "./value.ts";
import { formatValue } from "./print.ts";
import { goQuote } from "../gotext/fmt.ts";

export type TraceOp = "Enter" | "Eval" | "Exit" | "Redo" | "Fail" | "Note" | "Index" | "Unify";

/** What an event is about: a query (or child body), a rule, an expression, an indexed ref, or nothing (notes). */
export type TraceNode =
  | { kind: "body"; text: string; body?: Body }
  | { kind: "rule"; path: string; rule: Rule | null; shortPath?: string }
  | { kind: "expr"; text: string; expr: Expr | null }
  | { kind: "ref"; text: string; path?: readonly string[] }
  | { kind: "note" };

export interface TraceEvent {
  op: TraceOp;
  node: TraceNode;
  location: Location;
  /** The query the event belongs to; every rule body, negation and comprehension body is a new query. */
  queryId: number;
  /** The query that started it (the top-level query is its own parent, 0). */
  parentId: number;
  /** Note text, an Index event's `(matched N rules)`, `early` on an early Exit; otherwise "". */
  message: string;
  /** Values of the variables the expression names that are bound at the event (Eval, Fail, Redo, Exit of rules: none). */
  bindings: readonly (readonly [string, Value])[] | null;
}

/** Receives events. Pass one as `tracer` to an evaluation (`PreparedQuery.eval({tracer})`). */
export interface Tracer {
  /** Called for every event, in evaluation order. */
  trace(e: TraceEvent): void;
}

/** A tracer that keeps every event. */
export class BufferTracer implements Tracer {
  readonly events: TraceEvent[] = [];
  trace(e: TraceEvent): void {
    this.events.push(e);
  }
}

// ---- Rendering nodes in OPA's notation -----------------------------------------------------

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

function varName(name: string): string {
  return name === "_" || name.startsWith("$_") ? "_" : name;
}

/**
 * Resolves the head of a ref or call (`kubernetes` of `kubernetes.containers`, a rule name, an
 * import alias) to the path OPA's compiler writes there (`data.kubernetes`); null: keep it.
 */
export type RefResolver = ((name: string) => string | null) & {
  /** The names OPA generates for the keys of `some v in xs` (traceview.ts). */
  keys?: ReadonlyMap<Expr, string>;
};

let resolver: RefResolver | null = null;

/** Render with a resolver for ref heads (OPA prints rule and import refs as full data paths). */
export function withResolver<T>(r: RefResolver | null, fn: () => T): T {
  const prev = resolver;
  resolver = r;
  try {
    return fn();
  } finally {
    resolver = prev;
  }
}

let plug: ((name: string) => string | null) | null = null;

/** Render with variables (outside refs) replaced by their values' text, as OPA's Unify events print them. */
export function withPlug<T>(p: ((name: string) => string | null) | null, fn: () => T): T {
  const prev = plug;
  plug = p;
  try {
    return fn();
  } finally {
    plug = prev;
  }
}

/** A term as OPA prints it (calls as `name(args)`, strings quoted as Go does). */
export function termText(t: Term): string {
  switch (t.type) {
    case "null":
      return "null";
    case "boolean":
      return t.value ? "true" : "false";
    case "number":
      return t.value;
    case "string":
      return goQuote(t.value);
    case "var":
      return (plug !== null ? plug(t.name) : null) ?? (resolver !== null ? resolver(t.name) : null) ?? varName(t.name);
    case "ref":
      return refText(t.terms);
    case "array":
      return "[" + t.items.map(termText).join(", ") + "]";
    case "set": {
      if (t.items.length === 0) return "set()";
      const items = t.items.map(termText);
      // OPA's sets are sorted; literal scalar members sort the same way as their text does not, so
      // only all-string or all-number sets are sorted here (others keep their written order).
      if (t.items.every((x) => x.type === "string")) items.sort((a, b) => compareStr(JSON.parse(a), JSON.parse(b)));
      else if (t.items.every((x) => x.type === "number")) items.sort((a, b) => Number(a) - Number(b));
      return "{" + items.join(", ") + "}";
    }
    case "object":
      return "{" + t.items.map(([k, v]) => termText(k) + ": " + termText(v)).join(", ") + "}";
    case "arraycomp":
      return "[" + termText(t.head) + " | " + bodyText(t.body) + "]";
    case "setcomp":
      return "{" + termText(t.head) + " | " + bodyText(t.body) + "}";
    case "objectcomp":
      return "{" + termText(t.key) + ": " + termText(t.value) + " | " + bodyText(t.body) + "}";
    case "call":
      return refText(t.op.terms) + "(" + t.args.map(termText).join(", ") + ")";
  }
}

function compareStr(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function refText(ts: Term[]): string {
  let s = "";
  ts.forEach((t, i) => {
    if (i === 0) {
      s = t.type === "var" ? ((resolver !== null ? resolver(t.name) : null) ?? varName(t.name)) : termText(t);
      return;
    }
    if (t.type === "string" && IDENT.test(t.value)) s += "." + t.value;
    else s += "[" + termText(t) + "]";
  });
  return s;
}

function withText(w: With): string {
  return ` with ${termText(w.target)} as ${termText(w.value)}`;
}

/** An expression as OPA prints it in traces (`:=` and `==` as `=`, operators as builtin calls). */
export function exprText(e: Expr): string {
  let s: string;
  const n = e.node;
  switch (n.type) {
    case "term":
      s = termText(n.term);
      break;
    case "call": {
      const op = refText(n.op.terms);
      if ((op === "eq" || op === "assign" || op === "equal") && n.args.length === 2) s = `${termText(n.args[0])} = ${termText(n.args[1])}`;
      else s = `${op}(${n.args.map(termText).join(", ")})`;
      break;
    }
    case "some":
      s = "some " + n.vars.map((v) => varName(v.name)).join(", ");
      break;
    case "somein":
      s = `${termText(n.value)} = ${termText(n.collection)}[${n.key ? termText(n.key) : (resolver?.keys?.get(e) ?? "_")}]`;
      break;
    case "every":
      s = `every ${n.key ? varName(n.key.name) + ", " : ""}${varName(n.value.name)} in ${termText(n.domain)} { ${bodyText(n.body)} }`;
      break;
  }
  if (e.negated) s = "not " + s;
  for (const w of e.with) s += withText(w);
  return s;
}

/** A body as OPA prints it: expressions joined by `; `. */
export function bodyText(b: Body): string {
  return b.map(exprText).join("; ");
}

/** A term OPA's query compiler leaves in place as a call argument: no refs, calls or comprehensions in it. */
function plainArg(t: Term): boolean {
  switch (t.type) {
    case "null":
    case "boolean":
    case "number":
    case "string":
    case "var":
      return true;
    case "array":
    case "set":
      return t.items.every(plainArg);
    case "object":
      return t.items.every(([k, v]) => plainArg(k) && plainArg(v));
    default:
      return false;
  }
}

const UNIFY_OPS = new Set(["eq", "assign"]);

/**
 * An expression of a query as OPA evaluates it: a term `t` is captured, `t = _`, and so is a
 * call's value, `f(x, _)` (OPA's query compiler first moves refs and nested calls in the
 * arguments out into `__localqN__` variables; those are printed as written).
 */
export function queryExprText(e: Expr): string {
  const n = e.node;
  if (!e.negated && n.type === "call" && n.args.every(plainArg)) {
    const op = refText(n.op.terms);
    if (!UNIFY_OPS.has(op)) {
      let s = `${op}(${[...n.args.map(termText), "_"].join(", ")})`;
      for (const w of e.with) s += withText(w);
      return s;
    }
  }
  if (e.negated || n.type !== "term") return exprText(e);
  let s = `${termText(n.term)} = _`;
  for (const w of e.with) s += withText(w);
  return s;
}

/** Does OPA capture the value of this query expression (rego's RewriteToCaptureValue)? */
function captured(e: Expr): boolean {
  const n = e.node;
  if (e.negated) return false;
  if (n.type === "term") return true;
  return n.type === "call" && !UNIFY_OPS.has(refText(n.op.terms));
}

/** A ref with a variable operand (outside comprehensions): the query iterates. */
function iterates(b: Body): boolean {
  let found = false;
  const term = (t: Term): void => {
    if (found) return;
    if (t.type === "ref" && t.terms.slice(1).some((x) => x.type === "var")) found = true;
    eachPart(t, term);
  };
  for (const e of b) {
    const n = e.node;
    if (n.type === "term") term(n.term);
    else if (n.type === "call") n.args.forEach(term);
    else if (n.type === "somein") (term(n.value), term(n.collection));
    else if (n.type === "every") term(n.domain);
  }
  return found;
}

/**
 * A query as OPA evaluates it: the written expressions' values captured (`data.p = _`,
 * `f(x, _)`), the expressions OPA's query compiler generated as they are; when the query
 * iterates or has several expressions, each captured value is also tested (a trailing `_`).
 * `written`: the query's expressions before OPA's rewriting stages (all of `b` by default).
 */
export function queryText(b: Body, written?: ReadonlySet<Expr>, before?: Body): string {
  const s = b.map((e) => (written === undefined || written.has(e) ? queryExprText(e) : exprText(e))).join("; ");
  const own = written === undefined ? b : b.filter((e) => written.has(e));
  const check = own.length > 1 || iterates(before ?? own);
  return check ? s + "; _".repeat(own.filter(captured).length) : s;
}

/** The path of a rule as OPA's traces print it: `data.pkg.name`, ref heads up to their first variable part. */
export function rulePath(pkg: string[], r: Rule, names?: ReadonlyMap<string, string>): string {
  let s = "data";
  for (const p of pkg) s += IDENT.test(p) ? "." + p : `[${goQuote(p)}]`;
  for (let i = 0; i < r.head.ref.length; i++) {
    const t = r.head.ref[i];
    if (i === 0 && t.type === "var") s += "." + t.name;
    else if (t.type === "string") s += IDENT.test(t.value) ? "." + t.value : `[${goQuote(t.value)}]`;
    // a variable the body declares, under the name OPA's compiler gave it
    else if (t.type === "var" && names?.has(t.name)) s += `[${names.get(t.name)}]`;
    else break;
  }
  return s;
}

// ---- Filtering (OPA's lineage) ---------------------------------------------------------------

export type ExplainMode = "full" | "notes" | "fails" | "debug";

function hasRuleOrBody(e: TraceEvent): boolean {
  return e.node.kind === "rule" || e.node.kind === "body";
}

/**
 * Keep the events that match `keep`, each preceded by the chain of Enter/Redo events of the
 * queries that led to it (OPA's lineage.Filter).
 */
export function filterTrace(events: readonly TraceEvent[], keep: (e: TraceEvent) => boolean): TraceEvent[] {
  const out: TraceEvent[] = [];
  let qids = new Map<number, TraceEvent>();
  for (const e of events) {
    if (keep(e)) {
      const path = [e];
      let cur = qids.get(e.queryId);
      let prev: TraceEvent | undefined;
      while (cur !== undefined && cur !== prev) {
        path.push(cur);
        prev = cur;
        cur = qids.get(cur.parentId);
      }
      for (let i = path.length - 1; i >= 0; i--) out.push(path[i]);
      qids = new Map();
    }
    if ((e.op === "Enter" || e.op === "Redo") && hasRuleOrBody(e)) qids.set(e.queryId, e);
  }
  return out;
}

/** The events an `--explain` mode shows (OPA's lineage: `full` is everything but Unify events). */
export function explainEvents(events: readonly TraceEvent[], mode: ExplainMode): TraceEvent[] {
  switch (mode) {
    case "full":
      return events.filter((e) => e.op !== "Unify");
    case "debug":
      return events.slice();
    case "notes":
      return filterTrace(events, (e) => e.op === "Note");
    case "fails":
      return filterTrace(events, (e) => e.op === "Fail");
  }
}

// ---- Pretty printing -------------------------------------------------------------------------

/** The text of one event, without indentation: `Eval x = 1`, `Note "msg"`, `Index data.p (matched 1 rule)`. */
export function eventText(e: TraceEvent): string {
  return eventTextOf(e, false);
}

/** eventText, with a ref-head rule's path as conftest prints it when `shortPaths` (see prettyLines). */
function eventTextOf(e: TraceEvent, shortPaths: boolean): string {
  if (e.op === "Note") return `Note ${goQuote(e.message)}`;
  let details: string;
  switch (e.node.kind) {
    case "rule":
      details = shortPaths ? (e.node.shortPath ?? e.node.path) : e.node.path;
      break;
    case "note":
      details = "";
      break;
    default:
      details = e.node.text;
  }
  return e.message !== "" ? `${e.op} ${details} ${e.message}` : `${e.op} ${details}`;
}

export interface PrettyLine {
  /** `file:row`, or `query:row` for the query. */
  location: string;
  /** Nesting: the number of `| ` before the text. */
  depth: number;
  text: string;
}

/**
 * Events as lines with OPA's nesting (depth of the query, +1 for what is inside a query).
 * `shortPaths`: a rule with a variable in its ref head as conftest prints it (`data.p`, where
 * OPA 1.19's opa eval and opa test print `data.p[__local2__]`; conftest is built on OPA 1.21).
 */
export function prettyLines(events: readonly TraceEvent[], shortPaths = false): PrettyLine[] {
  const depths = new Map<number, number>();
  return events.map((e) => {
    let d = depths.get(e.queryId);
    if (d === undefined) {
      d = (depths.get(e.parentId) ?? 0) + 1;
      depths.set(e.queryId, d);
    }
    const spaces = e.op === "Enter" || (e.op === "Redo" && e.node.kind !== "expr") ? d : d + 1;
    const file = e.location.file;
    return { location: file === "" || file === "query" ? `query:${e.location.row}` : `${file}:${e.location.row}`, depth: Math.max(0, spaces - 1), text: eventTextOf(e, shortPaths) };
  });
}

/**
 * OPA's PrettyTrace: one line per event, `| ` per nesting level; with `locations`, a location
 * column padded to the widest location plus `pad` spaces (opa eval: 5); `shortPaths` as prettyLines.
 */
export function prettyTrace(events: readonly TraceEvent[], opts: { locations?: boolean; pad?: number; shortPaths?: boolean } = {}): string[] {
  const lines = prettyLines(events, opts.shortPaths);
  if (!opts.locations) return lines.map((l) => "| ".repeat(l.depth) + l.text);
  const w = Math.max(0, ...lines.map((l) => l.location.length)) + (opts.pad ?? 5);
  return lines.map((l) => l.location.padEnd(w) + "| ".repeat(l.depth) + l.text);
}

/** A value as trace bindings show it. */
export function bindingText(v: Value): string {
  return formatValue(v);
}

/** What the engine adds to a traced evaluation's builtin context: `trace(msg)` emits a Note. */
export interface NoteContext {
  traceNote?(message: string): void;
}
