// `opa eval --partial`'s output formats: json (`{"partial": {"queries": …, "modules": …}}`),
// pretty (a table of queries and support modules) and source (`# Query 1` … `# Module 1` …).

import type { PartialResult } from "../rego/partial.ts";
import { partialJSON, queryText, supportModuleText } from "../rego/partial.ts";
import { jsonText } from "./regojson.ts";

export const PARTIAL_FORMATS = ["json", "pretty", "source"];

/** Display width of a line (code points; the table's text is ASCII but for string contents). */
function width(s: string): number {
  return [...s].length;
}

/** OPA's partial table: two columns, a line between rows, tabs as two spaces. */
function partialTable(rows: [string, string][]): string {
  const cells = rows.map(([h, text]) => [h, text.replace(/\t/g, "  ").replace(/^\n+|\n+$/g, "").split("\n")] as [string, string[]]);
  const w0 = Math.max(...cells.map(([h]) => width(h)));
  const w1 = Math.max(0, ...cells.flatMap(([, ls]) => ls.map(width)));
  const line = (l: string, m: string, r: string) => l + "─".repeat(w0 + 2) + m + "─".repeat(w1 + 2) + r;
  const pad = (s: string, w: number) => s + " ".repeat(w - width(s));
  const out = [line("┌", "┬", "┐")];
  cells.forEach(([h, ls], i) => {
    if (i > 0) out.push(line("├", "┼", "┤"));
    ls.forEach((l, j) => out.push("│ " + pad(j === 0 ? h : "", w0) + " │ " + pad(l, w1) + " │"));
  });
  out.push(line("└", "┴", "┘"));
  return out.join("\n") + "\n";
}

export function formatPartial(r: PartialResult, format: string): string {
  switch (format) {
    case "pretty":
      if (r.queries.length === 0) return "undefined\n";
      return partialTable([...r.queries.map((q, i) => [`Query ${i + 1}`, queryText(q)] as [string, string]), ...r.support.map((m, i) => [`Support ${i + 1}`, supportModuleText(m)] as [string, string])]);
    case "source": {
      let s = "";
      r.queries.forEach((q, i) => (s += `# Query ${i + 1}\n${q.length > 0 ? queryText(q) + "\n" : ""}\n`));
      r.support.forEach((m, i) => (s += `# Module ${i + 1}\n${supportModuleText(m)}`));
      return s;
    }
    default:
      return jsonText({ partial: partialJSON(r, "modules") }) + "\n";
  }
}
