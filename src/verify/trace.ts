// Explanations of test runs from the engine's evaluation tracer (src/rego/trace.ts): opa test's
// `--explain` traces under failed tests (`-v` FAILURES section), conftest verify's `--trace`
// lines and `--report` explanations, and the expression a failed test stopped at.

import type { Expr, Location, Term } from "../rego/ast.ts";
import { bindingText, explainEvents, prettyLines, prettyTrace, type ExplainMode, type TraceEvent } from "../rego/trace.ts";
import { isObject, makeObject, numberLiteral, objectGet, RSet, toJsNumber, isNumber, isInteger, type Value } from "../rego/value.ts";
import { SourceIndex, type Range } from "./extent.ts";

export interface TraceLine {
  loc: string;
  depth: number;
  text: string;
  /** --var-values: the expression's variables with their values, `{x: 1, y: 2}`. */
  vars?: string;
}

/** The lines of one test's trace in an explain mode (OPA's lineage filters); `conftest`: as conftest prints rule paths. */
export function explainLines(events: readonly TraceEvent[], mode: ExplainMode, conftest = false, varValues = false, rules?: RuleValues): TraceLine[] {
  const shown = explainEvents(events, mode);
  const lines = prettyLines(shown, conftest);
  if (!varValues) return lines.map((l) => ({ loc: l.location, depth: l.depth, text: l.text }));
  // an Index event is about the expression being evaluated: its variables are that expression's
  const evaluating = new Map<number, TraceEvent>();
  return lines.map((l, i) => {
    const e = shown[i];
    if (e.op === "Eval" && e.node.kind === "expr") evaluating.set(e.queryId, e);
    const about = e.op === "Index" ? evaluating.get(e.queryId) : e;
    return { loc: l.location, depth: l.depth, text: l.text, vars: about !== undefined ? varsColumn(about, rules) : "{}" };
  });
}

/**
 * The values of rules an expression refers to, as OPA's trace shows them from its cache of
 * rule values: `ref` gives the data path a name stands for in a file (a rule of its package),
 * `value` evaluates a path (with the input a `with input as` gives; undefined: none).
 */
export interface RuleValues {
  ref(file: string, name: string): string[] | null;
  value(path: string[], input: Value | undefined): Value | undefined;
}

/** A data path as OPA prints a ref: `data.main.z`, `data.main.deny["m"]`. */
function pathText(path: string[]): string {
  let s = "data";
  for (const k of path) s += /^[A-Za-z_][A-Za-z0-9_]*$/.test(k) ? "." + k : `[${JSON.stringify(k)}]`;
  return s;
}

/**
 * The rule references kept in an expression (not moved out into generated variables: under
 * `not`, a bare term, `x == z`): each term with its path. Refs past the rule name only with
 * string keys. `values`: the bound variables (a bound name is no rule).
 */
function ruleTerms(e: Expr, file: string, values: ReadonlyMap<string, Value>, rules: RuleValues): { term: Term; path: string[] }[] {
  const out: { term: Term; path: string[] }[] = [];
  const headPath = (t: Term): string[] | null => {
    if (t.type !== "var" || values.has(t.name) || t.name.startsWith("__local")) return null;
    return t.name === "data" ? [] : rules.ref(file, t.name);
  };
  const walk = (t: Term): void => {
    if (t.type === "var") {
      const p = headPath(t);
      if (p !== null && p.length > 0) out.push({ term: t, path: p });
    } else if (t.type === "ref") {
      const p = headPath(t.terms[0]);
      if (p !== null) {
        const path = [...p];
        for (const k of t.terms.slice(1)) {
          if (k.type !== "string") break;
          path.push(k.value);
        }
        if (path.length > 0) out.push({ term: t, path });
      }
      for (const k of t.terms.slice(1)) walk(k);
    } else if (t.type === "call") t.args.forEach(walk);
    else if (t.type === "array" || t.type === "set") t.items.forEach(walk);
    else if (t.type === "object") for (const [k, v] of t.items) (walk(k), walk(v));
  };
  const n = e.node;
  if (n.type === "term") walk(n.term);
  else if (n.type === "call") n.args.forEach(walk);
  return out;
}

/** The value of a term made of literals and bound variables; undefined for anything else. */
function literalValue(t: Term, values: ReadonlyMap<string, Value>): Value | undefined {
  switch (t.type) {
    case "null":
      return null;
    case "boolean":
      return t.value;
    case "number":
      return numberLiteral(t.value);
    case "string":
      return t.value;
    case "var":
      return values.get(t.name);
    case "array": {
      const out: Value[] = [];
      for (const x of t.items) {
        const v = literalValue(x, values);
        if (v === undefined) return undefined;
        out.push(v);
      }
      return out;
    }
    case "object": {
      const out: [Value, Value][] = [];
      for (const [k, x] of t.items) {
        const kv = literalValue(k, values);
        const v = literalValue(x, values);
        if (kv === undefined || v === undefined) return undefined;
        out.push([kv, v]);
      }
      return makeObject(out);
    }
    default:
      // sets (an input is JSON), refs, calls, comprehensions
      return undefined;
  }
}

/** The input an expression's `with` modifiers give: [value] (undefined: none), or null when they do more than replace the input with literals and bound variables. */
function withInput(e: Expr, values: ReadonlyMap<string, Value>): [Value | undefined] | null {
  if (e.with.length === 0) return [undefined];
  if (e.with.length > 1) return null;
  const w = e.with[0];
  if (w.target.type !== "ref" || w.target.terms.length !== 1 || w.target.terms[0].type !== "var" || w.target.terms[0].name !== "input") return null;
  const v = literalValue(w.value, values);
  return v === undefined ? null : [v];
}

/** The values of the rules an event's expression refers to, by OPA's name for them (`data.main.z`). */
function ruleEntries(e: TraceEvent, values: ReadonlyMap<string, Value>, rules: RuleValues | undefined): { term: Term; title: string; value: Value | undefined }[] {
  if (rules === undefined || e.node.kind !== "expr" || e.node.expr === null) return [];
  const expr = e.node.expr;
  const input = withInput(expr, values);
  if (input === null) return [];
  return ruleTerms(expr, e.location.file, values, rules).map(({ term, path }) => ({ term, title: pathText(path), value: rules.value(path, input[0]) }));
}

/** Go's strings truncation as OPA's traces use it: at most `n` characters, `...` ending a cut value. */
function truncate(s: string, n: number): string {
  return s.length <= n ? s : s.slice(0, n - 3) + "...";
}

/** The width OPA gives a value in the trace's variables column and in the failure's annotation. */
const COLUMN_WIDTH = 32;
const ANNOTATION_WIDTH = 64;

/** OPA's variables column (`--var-values`): the expression's bound variables by name, values truncated. */
export function varsColumn(e: TraceEvent, rules?: RuleValues): string {
  const b: (readonly [string, Value])[] = (e.node.kind === "expr" ? (e.bindings ?? []) : []).filter(([n]) => n !== "_" && !n.startsWith("$"));
  // rule values on Fail lines only (OPA's cache has none before the Eval; under `with` none at the Redo)
  if (e.op === "Fail") for (const r of ruleEntries(e, new Map(e.bindings ?? []), rules)) if (r.value !== undefined) b.push([r.title, r.value]);
  const sorted = [...b].sort(([a], [c]) => (a < c ? -1 : a > c ? 1 : 0));
  return "{" + sorted.map(([k, v]) => `${k}: ${truncate(bindingText(v), COLUMN_WIDTH)}`).join(", ") + "}";
}

interface VarInfo {
  title: string;
  value: string;
  row: number;
  col: number;
}

/**
 * opa test's `--var-values` annotation of a failed expression: under its source text, a `|` in
 * the column of each variable, reference into a local variable and generated value (a call's,
 * a rule reference's: the terms OPA's compiler moved out of the expression), then their values
 * bottom-up, the rightmost first; a `Where:` list by name when the terms are on several rows and
 * tabs come before them (columns cannot be trusted then). `index` is the failed event's.
 */
export function varAnnotation(events: readonly TraceEvent[], index: number, sources: SourceText, rules?: RuleValues): string[] {
  const fail = events[index];
  if (fail.node.kind !== "expr" || fail.node.expr === null) return [];
  const main = fail.node.expr;
  const range = sources.exprRange(fail.location);
  if (range === null) return [];
  const inside = (l: Location) =>
    l.file === fail.location.file &&
    (l.row > range.start.row || (l.row === range.start.row && l.col >= range.start.col)) &&
    (l.row < range.end.row || (l.row === range.end.row && l.col < range.end.col));
  // The expressions evaluated for this one (OPA's co-generated expressions) and the values their variables had.
  const exprs: Expr[] = [];
  const values = new Map<string, Value>();
  for (let i = 0; i <= index; i++) {
    const e = events[i];
    if (e.queryId !== fail.queryId || e.node.kind !== "expr") continue;
    for (const [k, v] of e.bindings ?? []) values.set(k, v);
    if (i < index && e.node.expr !== null && e.node.expr !== main && inside(e.location) && !exprs.includes(e.node.expr)) exprs.push(e.node.expr);
  }
  for (const [k, v] of fail.bindings ?? []) values.set(k, v);
  const infos = new Map<string, VarInfo>();
  const add = (t: Term, value: Value | undefined, undefinedOk: boolean) => {
    if (t.loc === undefined || !inside(t.loc)) return;
    if (value === undefined && !undefinedOk) return;
    // a variable's own text (a generated one's is the term it stands for: `count(deny)`)
    const title = t.type === "var" && !t.name.startsWith("__local") ? sources.tokenText(t.loc) : sources.termText(t.loc);
    if (title === "") return;
    const prev = infos.get(title);
    if (prev !== undefined && prev.value !== "undefined") return;
    infos.set(title, { title, value: value === undefined ? "undefined" : bindingText(value), row: t.loc.row, col: t.loc.col });
  };
  const walk = (t: Term, isMain: boolean): void => {
    switch (t.type) {
      case "var":
        if (t.name === "_" || t.name.startsWith("$")) return;
        // only generated variables are known to be locals when unbound (other names can be rules)
        add(t, values.get(t.name), isMain && !main.negated && t.name.startsWith("__local"));
        return;
      case "ref": {
        const v = resolveLocalRef(t, values);
        if (v !== undefined) add(t, v, false);
        for (const x of t.terms) walk(x, isMain);
        return;
      }
      case "call":
        for (const a of t.args) walk(a, isMain);
        return;
      case "array":
      case "set":
        for (const x of t.items) walk(x, isMain);
        return;
      case "object":
        for (const [k, v] of t.items) (walk(k, isMain), walk(v, isMain));
        return;
      default:
        // scalars; comprehensions were evaluated whole (OPA does not look inside them)
        return;
    }
  };
  const walkExpr = (e: Expr, isMain: boolean) => {
    const n = e.node;
    if (n.type === "term") walk(n.term, isMain);
    else if (n.type === "call") for (const a of n.args) walk(a, isMain);
    else if (n.type === "somein") {
      walk(n.value, isMain);
      walk(n.collection, isMain);
      if (n.key) walk(n.key, isMain);
    } else if (n.type === "every") walk(n.domain, isMain);
    for (const w of e.with) walk(w.value, isMain);
  };
  // the rules the expression refers to (OPA: its cache of rule values), first; undefined ones as the other terms
  for (const r of ruleEntries(fail, values, rules)) {
    if (r.term.loc === undefined) continue;
    if (r.value !== undefined) infos.set(r.title, { title: r.title, value: bindingText(r.value), row: r.term.loc.row, col: r.term.loc.col });
    else if (!main.negated) add(r.term.type === "ref" ? r.term.terms[0] : r.term, undefined, true);
  }
  walkExpr(main, true);
  for (const e of exprs) walkExpr(e, false);
  return printVars([...infos.values()], (row, col) => sources.tabsBefore(fail.location.file, row, col));
}

/** x[key] of a value, as a ref selects it; undefined when there is none. */
function selectValue(x: Value, key: Value): Value | undefined {
  if (Array.isArray(x)) return isNumber(key) && isInteger(key) ? x[toJsNumber(key)] : undefined;
  if (x instanceof RSet) return x.has(key) ? key : undefined;
  if (isObject(x)) return objectGet(x, key);
  return undefined;
}

/** The value a ref into a bound local variable selects (`tc.data`, `xs[i]`), if any. */
function resolveLocalRef(t: Term & { type: "ref" }, values: ReadonlyMap<string, Value>): Value | undefined {
  if (t.terms.length < 2 || t.terms[0].type !== "var") return undefined;
  let cur: Value | undefined = values.get(t.terms[0].name);
  for (const k of t.terms.slice(1)) {
    if (cur === undefined) return undefined;
    let key: Value | undefined;
    if (k.type === "var") key = values.get(k.name);
    else if (k.type === "string") key = k.value;
    else if (k.type === "number") key = numberLiteral(k.value);
    else return undefined;
    if (key === undefined) return undefined;
    cur = selectValue(cur, key);
  }
  return cur;
}

function printVars(vars: VarInfo[], tabs: (row: number, col: number) => number[]): string[] {
  if (vars.length === 0) return [];
  const rows = new Set(vars.map((v) => v.row));
  if (rows.size > 1 && vars.some((v) => tabs(v.row, v.col).length > 0)) {
    const byName = [...vars].sort((a, b) => (a.title < b.title ? -1 : a.title > b.title ? 1 : 0));
    return ["", "Where:", "", ...byName.map((v) => `${v.title}: ${truncate(v.value, ANNOTATION_WIDTH)}`)];
  }
  const byCol = [...vars].sort((a, b) => (a.col !== b.col ? a.col - b.col : a.row !== b.row ? b.row - a.row : a.title < b.title ? -1 : a.title > b.title ? 1 : 0));
  const lines = [arrows(byCol, -1, tabs)];
  for (let i = byCol.length - 1; i >= 0; i--) lines.push(arrows(byCol, i, tabs));
  return lines;
}

/** One line of OPA's arrows: `|` under each column, the value of the `at`-th (the last printed) in its place. */
function arrows(l: VarInfo[], at: number, tabs: (row: number, col: number) => number[]): string {
  let out = "";
  let prevCol = 0;
  const slice = at >= 0 ? l.slice(0, at + 1) : l;
  let first = true;
  slice.forEach((info, i) => {
    const last = i >= slice.length - 1;
    const col = info.col;
    if (!last && col === l[i + 1].col) return;
    const spaces = i > 0 && !first ? col - prevCol - 1 : col - 1;
    const t = tabs(info.row, info.col);
    for (let j = 0; j < spaces; j++) out += t.includes(j + prevCol + 1) ? "\t" : " ";
    if (last && at >= 0) {
      const value = truncate(info.value, ANNOTATION_WIDTH);
      const shared = (i > 0 && col === l[i - 1].col) || (i < l.length - 1 && col === l[i + 1].col);
      out += shared ? `${info.title}: ${value}` : value;
    } else out += "|";
    prevCol = col;
    first = false;
  });
  return out;
}

/**
 * The failure line of opa test's report (conftest verify --report): the last Fail of an
 * expression (not `every`) outside the top-level query, among the events the report shows, with
 * the expression's source text.
 */
export function failureLine(events: readonly TraceEvent[], sources: SourceText): { loc: Location; text: string; index: number } | null {
  for (let i = events.length - 1; i >= 0; i--) {
    const e = events[i];
    if (e.op !== "Fail" || e.queryId === 0 || e.node.kind !== "expr") continue;
    if (e.node.expr !== null && e.node.expr.node.type === "every") continue;
    return { loc: e.location, text: sources.exprText(e.location), index: i };
  }
  return null;
}

/** Source text of expressions, by location. */
export class SourceText {
  private indexes = new Map<string, SourceIndex>();
  constructor(private texts: Map<string, string>) {}

  /** What comes before loc's column on its line, as OPA pads a location's text: tabs kept, anything else a space. */
  padding(loc: Location): string {
    const line = (this.texts.get(loc.file) ?? "").split("\n")[loc.row - 1] ?? "";
    return [...line].slice(0, Math.max(0, loc.col - 1)).map((ch) => (ch === "\t" ? "\t" : " ")).join("");
  }

  private index(file: string): SourceIndex {
    let idx = this.indexes.get(file);
    if (!idx) this.indexes.set(file, (idx = new SourceIndex(this.texts.get(file) ?? "")));
    return idx;
  }

  /** The range of the expression at loc. */
  exprRange(loc: Location): Range | null {
    return this.index(loc.file).exprRange(loc.row, loc.col);
  }

  /** The text of the token at loc. */
  tokenText(loc: Location): string {
    const idx = this.index(loc.file);
    const i = idx.tokenAt(loc.row, loc.col);
    if (i < 0) return "";
    const t = idx.tokens[i];
    return (this.texts.get(loc.file) ?? "").slice(t.start, t.end);
  }

  /** The text of the term at loc, as written. */
  termText(loc: Location): string {
    const r = this.index(loc.file).termRange(loc.row, loc.col);
    return r === null ? "" : this.rangeText(loc.file, r);
  }

  private rangeText(file: string, r: Range): string {
    const lines = (this.texts.get(file) ?? "").split("\n");
    const cps = (x: string) => [...x];
    if (r.start.row === r.end.row) return cps(lines[r.start.row - 1] ?? "").slice(r.start.col - 1, r.end.col - 1).join("");
    const parts = [cps(lines[r.start.row - 1] ?? "").slice(r.start.col - 1).join("")];
    for (let row = r.start.row + 1; row < r.end.row; row++) parts.push(lines[row - 1] ?? "");
    parts.push(cps(lines[r.end.row - 1] ?? "").slice(0, r.end.col - 1).join(""));
    return parts.join("\n");
  }

  /** The columns (1-based) of the tabs before col on a row. */
  tabsBefore(file: string, row: number, col: number): number[] {
    const line = [...((this.texts.get(file) ?? "").split("\n")[row - 1] ?? "")];
    const out: number[] = [];
    for (let i = 0; i < Math.min(line.length, col - 1); i++) if (line[i] === "\t") out.push(i + 1);
    return out;
  }

  /** The source text of the expression at loc, as written (OPA's location text: line breaks kept). */
  exprText(loc: Location): string {
    const r = this.exprRange(loc);
    return r === null ? "" : this.rangeText(loc.file, r);
  }

}

/** Lines as opa test prints them: location column, `| ` per depth, text, two trailing spaces. */
export function formatTraceLines(lines: TraceLine[]): string[] {
  const w = Math.max(0, ...lines.map((l) => l.loc.length)) + 7;
  if (lines.some((l) => l.vars !== undefined)) {
    // a third column: the event column padded as the location column
    const ev = lines.map((l) => `${"| ".repeat(l.depth)}${l.text}`);
    const we = Math.max(0, ...ev.map((x) => x.length)) + 7;
    return lines.map((l, i) => `${l.loc.padEnd(w)}${ev[i].padEnd(we)}${l.vars ?? "{}"}  `);
  }
  return lines.map((l) => `${l.loc.padEnd(w)}${"| ".repeat(l.depth)}${l.text}  `);
}

/** Lines as conftest's --trace prints them (OPA's PrettyTrace: no locations). */
export function plainTraceLines(events: readonly TraceEvent[]): string[] {
  return prettyTrace(events, { shortPaths: true });
}
