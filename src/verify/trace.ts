// Explanations of test runs from the engine's evaluation tracer (src/rego/trace.ts): opa test's
// `--explain` traces under failed tests (`-v` FAILURES section), conftest verify's `--trace`
// lines and `--report` explanations, and the expression a failed test stopped at.

import type { Location } from "../rego/ast.ts";
import { explainEvents, prettyLines, prettyTrace, type ExplainMode, type TraceEvent } from "../rego/trace.ts";
import { SourceIndex } from "./extent.ts";

export interface TraceLine {
  loc: string;
  depth: number;
  text: string;
}

/** The lines of one test's trace in an explain mode (OPA's lineage filters); `conftest`: as conftest prints rule paths. */
export function explainLines(events: readonly TraceEvent[], mode: ExplainMode, conftest = false): TraceLine[] {
  return prettyLines(explainEvents(events, mode), conftest).map((l) => ({ loc: l.location, depth: l.depth, text: l.text }));
}

/**
 * The failure line of opa test's report (conftest verify --report): the last Fail of an
 * expression (not `every`) outside the top-level query, among the events the report shows, with
 * the expression's source text.
 */
export function failureLine(events: readonly TraceEvent[], sources: SourceText): { loc: Location; text: string } | null {
  for (let i = events.length - 1; i >= 0; i--) {
    const e = events[i];
    if (e.op !== "Fail" || e.queryId === 0 || e.node.kind !== "expr") continue;
    if (e.node.expr !== null && e.node.expr.node.type === "every") continue;
    return { loc: e.location, text: sources.exprText(e.location) };
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

  /** The source text of the expression at loc, on one line. */
  exprText(loc: Location): string {
    let idx = this.indexes.get(loc.file);
    const src = this.texts.get(loc.file) ?? "";
    if (!idx) this.indexes.set(loc.file, (idx = new SourceIndex(src)));
    const r = idx.exprRange(loc.row, loc.col);
    if (!r) return "";
    const lines = src.split("\n");
    const cps = (x: string) => [...x];
    let text: string;
    if (r.start.row === r.end.row) text = cps(lines[r.start.row - 1] ?? "").slice(r.start.col - 1, r.end.col - 1).join("");
    else {
      const parts = [cps(lines[r.start.row - 1] ?? "").slice(r.start.col - 1).join("")];
      for (let row = r.start.row + 1; row < r.end.row; row++) parts.push(lines[row - 1] ?? "");
      parts.push(cps(lines[r.end.row - 1] ?? "").slice(0, r.end.col - 1).join(""));
      text = parts.join("\n");
    }
    return text.replace(/\s*\n\s*/g, " ");
  }
}

/** Lines as opa test prints them: location column, `| ` per depth, text, two trailing spaces. */
export function formatTraceLines(lines: TraceLine[]): string[] {
  const w = Math.max(0, ...lines.map((l) => l.loc.length)) + 7;
  return lines.map((l) => `${l.loc.padEnd(w)}${"| ".repeat(l.depth)}${l.text}  `);
}

/** Lines as conftest's --trace prints them (OPA's PrettyTrace: no locations). */
export function plainTraceLines(events: readonly TraceEvent[]): string[] {
  return prettyTrace(events, { shortPaths: true });
}
