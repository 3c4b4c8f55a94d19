// conftest's default output: PRNT lines from `print`, one line per warning, failure and
// exception (`WARN - file - namespace - message`), then the coloured summary line. With
// tracing, only the trace of each query is shown, as conftest does.

import type { CheckResultView, RenderOptions, Write } from "./types.ts";
import { totals, summaryLine, colorize, collect, STDIN_NAME } from "./common.ts";

function prefix(r: CheckResultView): string {
  // Standard input shows as "- " rather than "- - ".
  return r.filename === STDIN_NAME ? `${STDIN_NAME} ${r.namespace}` : `${r.filename} - ${r.namespace}`;
}

export function renderStdout(results: readonly CheckResultView[], opts: RenderOptions = {}): string {
  return collect((w) => writeStdout(results, opts, w));
}

export function writeStdout(results: readonly CheckResultView[], opts: RenderOptions, out: Write): void {
  const nc = opts.noColor;
  if (opts.tracing) {
    for (const r of results) {
      for (const q of r.queries ?? []) {
        // Red when the query produced a message (conftest's QueryResult.Passed).
        out(colorize(`file: ${r.filename} | query: ${q.query}`, q.passed === false ? "red" : "green", nc) + "\n");
        for (const t of q.traces ?? []) out(colorize("TRAC ", "blue", nc) + "  " + t + "\n");
      }
    }
    return;
  }
  for (const r of results) {
    for (const q of r.queries ?? []) {
      for (const line of q.outputs ?? []) out(colorize("PRNT ", "blue", nc) + "  " + line + "\n\n");
    }
  }
  for (const r of results) {
    const p = prefix(r);
    for (const w of r.warnings) out(`${colorize("WARN", "yellow", nc)} - ${p} - ${w.msg}\n`);
    for (const f of r.failures) out(`${colorize("FAIL", "red", nc)} - ${p} - ${f.msg}\n`);
    if (!opts.suppressExceptions) {
      for (const e of r.exceptions) out(`${colorize("EXCP", "cyan", nc)} - ${p} - ${e.msg}\n`);
    }
  }
  const t = totals(results);
  const color = t.failures > 0 ? "red" : t.warnings > 0 ? "yellow" : t.exceptions > 0 ? "cyan" : "green";
  out("\n" + colorize(summaryLine(t, opts.showSkipped), color, nc) + "\n");
}
