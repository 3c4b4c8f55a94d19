// `-o table`: a box-drawn table with one row per check (successes, exceptions, warnings,
// failures). Cells are split into lines, each line trimmed and empty lines dropped, tabs shown
// as eight spaces; the header is centred and columns are as wide as their widest line.

import type { CheckResultView, Write } from "./types.ts";
import { displayWidth } from "./width.ts";
import { collect } from "./common.ts";

const HEADER = ["RESULT", "FILE", "NAMESPACE", "MESSAGE"];

function cellLines(text: string): string[] {
  const lines = text
    .replace(/\t/g, "        ")
    .split("\n")
    .map((l) => l.replace(/^ +| +$/g, ""))
    .filter((l) => l !== "");
  return lines.length ? lines : [""];
}

export function renderTable(results: readonly CheckResultView[]): string {
  return collect((w) => writeTable(results, w));
}

/** The rows of the table, one check at a time, in order. */
function* rows(results: readonly CheckResultView[]): Generator<string[]> {
  for (const r of results) {
    const row = (kind: string, msg: string) => [kind, r.filename, r.namespace, msg];
    for (let i = 0; i < r.successes; i++) yield row("success", "SUCCESS");
    for (const e of r.exceptions) yield row("exception", e.msg);
    for (const s of r.skipped) yield row("skipped", s.msg);
    for (const w of r.warnings) yield row("warning", w.msg);
    for (const f of r.failures) yield row("failure", f.msg);
  }
}

/** Two passes over the rows: the column widths, then the table. */
export function writeTable(results: readonly CheckResultView[], out: Write): void {
  const widths = HEADER.map(displayWidth);
  let any = false;
  for (const row of rows(results)) {
    any = true;
    row.forEach((cell, i) => {
      for (const line of cellLines(cell)) widths[i] = Math.max(widths[i], displayWidth(line));
    });
  }
  if (!any) return;
  const rule = (l: string, m: string, r: string) => l + widths.map((w) => "─".repeat(w + 2)).join(m) + r + "\n";
  const pad = (s: string, w: number) => s + " ".repeat(Math.max(0, w - displayWidth(s)));
  const center = (s: string, w: number) => {
    const space = w - displayWidth(s);
    const left = Math.floor(space / 2);
    return " ".repeat(left) + s + " ".repeat(space - left);
  };
  out(rule("┌", "┬", "┐"));
  out("│" + HEADER.map((h, i) => " " + center(h, widths[i]) + " ").join("│") + "│\n");
  out(rule("├", "┼", "┤"));
  for (const row of rows(results)) {
    const c = row.map(cellLines);
    const height = Math.max(...c.map((x) => x.length));
    for (let li = 0; li < height; li++) {
      out("│" + c.map((x, i) => " " + pad(x[li] ?? "", widths[i]) + " ").join("│") + "│\n");
    }
  }
  out(rule("└", "┴", "┘"));
}
