// `-o table`: a box-drawn table with one row per check (successes, exceptions, warnings,
// failures). Cells are split into lines, each line trimmed and empty lines dropped, tabs shown
// as eight spaces; the header is centred and columns are as wide as their widest line.

import type { CheckResult } from "./types.ts";
import { displayWidth } from "./width.ts";

const HEADER = ["RESULT", "FILE", "NAMESPACE", "MESSAGE"];

function cellLines(text: string): string[] {
  const lines = text
    .replace(/\t/g, "        ")
    .split("\n")
    .map((l) => l.replace(/^ +| +$/g, ""))
    .filter((l) => l !== "");
  return lines.length ? lines : [""];
}

export function renderTable(results: CheckResult[]): string {
  const rows: string[][] = [];
  for (const r of results) {
    const row = (kind: string, msg: string) => rows.push([kind, r.filename, r.namespace, msg]);
    for (let i = 0; i < r.successes; i++) row("success", "SUCCESS");
    for (const e of r.exceptions) row("exception", e.msg);
    for (const s of r.skipped) row("skipped", s.msg);
    for (const w of r.warnings) row("warning", w.msg);
    for (const f of r.failures) row("failure", f.msg);
  }
  if (rows.length === 0) return "";
  const cells = rows.map((r) => r.map(cellLines));
  const widths = HEADER.map((h, i) => Math.max(displayWidth(h), ...cells.map((c) => Math.max(...c[i].map(displayWidth)))));
  const rule = (l: string, m: string, r: string) => l + widths.map((w) => "─".repeat(w + 2)).join(m) + r + "\n";
  const pad = (s: string, w: number) => s + " ".repeat(Math.max(0, w - displayWidth(s)));
  const center = (s: string, w: number) => {
    const space = w - displayWidth(s);
    const left = Math.floor(space / 2);
    return " ".repeat(left) + s + " ".repeat(space - left);
  };
  let out = rule("┌", "┬", "┐");
  out += "│" + HEADER.map((h, i) => " " + center(h, widths[i]) + " ").join("│") + "│\n";
  out += rule("├", "┼", "┤");
  for (const c of cells) {
    const height = Math.max(...c.map((x) => x.length));
    for (let li = 0; li < height; li++) {
      out += "│" + c.map((x, i) => " " + pad(x[li] ?? "", widths[i]) + " ").join("│") + "│\n";
    }
  }
  out += rule("└", "┴", "┘");
  return out;
}
