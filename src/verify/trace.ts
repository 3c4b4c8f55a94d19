// Explanations of test runs from the engine's evaluation tracer (src/rego/trace.ts): opa test's
// `--explain` traces under failed tests (`-v` FAILURES section), conftest verify's `--trace`
// lines and `--report` explanations, and the expression a failed test stopped at.

import type { Location } from "../rego/ast.ts";
import { explainEvents, prettyLines, prettyTrace, type ExplainMode, type TraceEvent } from "../rego/trace.ts";

export interface TraceLine {
  loc: string;
  depth: number;
  text: string;
}

/** The lines of one test's trace in an explain mode (OPA's lineage filters). */
export function explainLines(events: readonly TraceEvent[], mode: ExplainMode): TraceLine[] {
  return prettyLines(explainEvents(events, mode)).map((l) => ({ loc: l.location, depth: l.depth, text: l.text }));
}

/** The events of the test rule's own body that failed: the last one is where the test stopped. */
export function failureLine(events: readonly TraceEvent[], testLoc: Location): { loc: Location; text: string } | null {
  const testQueries = new Set<number>();
  for (const e of events) {
    if (e.op === "Enter" && e.node.kind === "rule" && e.location.file === testLoc.file && e.location.row === testLoc.row && e.location.col === testLoc.col) testQueries.add(e.queryId);
  }
  for (let i = events.length - 1; i >= 0; i--) {
    const e = events[i];
    if (e.op === "Fail" && e.node.kind === "expr" && testQueries.has(e.queryId)) return { loc: e.location, text: e.node.text };
  }
  return null;
}

/** Lines as opa test prints them: location column, `| ` per depth, text, two trailing spaces. */
export function formatTraceLines(lines: TraceLine[]): string[] {
  const w = Math.max(0, ...lines.map((l) => l.loc.length)) + 7;
  return lines.map((l) => `${l.loc.padEnd(w)}${"| ".repeat(l.depth)}${l.text}  `);
}

/** Lines as conftest's --trace prints them (OPA's PrettyTrace: no locations). */
export function plainTraceLines(events: readonly TraceEvent[]): string[] {
  return prettyTrace(events);
}
