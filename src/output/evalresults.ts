// `opa eval`'s result printers (json, values, bindings, raw, pretty), shared by `portcullis eval`
// (src/cli/eval.ts) and the browser playground (src/playground/).

import type { RawResult } from "../rego/engine.ts";
import { formatValue } from "../rego/print.ts";
import { toJSONText, type Value } from "../rego/value.ts";
import { RegoJSON, jsonText } from "./regojson.ts";
import { goEscape } from "./evalerrors.ts";

/** JSON text of a value as OPA prints it (Go's escaping). */
export function valueJSON(v: Value, indent = ""): string {
  return goEscape(toJSONText(v, indent));
}

export function jsonResults(raw: RawResult[], texts: { text: string; row: number; col: number }[]): unknown[] {
  return raw.map((r) => {
    const o: Record<string, unknown> = {
      expressions: r.expressions.map((v, i) => ({
        value: new RegoJSON(v),
        text: texts[i]?.text ?? "",
        location: { row: texts[i]?.row ?? 1, col: texts[i]?.col ?? 1 },
      })),
    };
    if (r.bindings.size > 0) o.bindings = Object.fromEntries(sortedBindings(r.bindings).map(([k, v]) => [k, new RegoJSON(v)]));
    return o;
  });
}

export function formatResults(raw: RawResult[], texts: { text: string; row: number; col: number }[], format: string): string {
  switch (format) {
    case "json": {
      if (raw.length === 0) return "{}\n";
      return goEscape(jsonText({ result: jsonResults(raw, texts) })) + "\n";
    }
    case "values":
      return raw.map((r) => goEscape(jsonText(r.expressions.map((v) => new RegoJSON(v)))) + "\n").join("");
    case "bindings":
      return raw.map((r) => goEscape(jsonText(Object.fromEntries(sortedBindings(r.bindings).map(([k, v]) => [k, new RegoJSON(v)])))) + "\n").join("");
    case "raw":
      return raw.map((r) => r.expressions.map(rawText).join(" ") + "\n").join("");
    case "pretty": {
      if (raw.length === 0) return "undefined\n";
      const withBindings = raw.some((r) => r.bindings.size > 0);
      if (!withBindings) {
        return raw.map((r) => r.expressions.map((v) => valueJSON(v, "  ")).join("\n")).join("\n") + "\n";
      }
      const names = sortedBindings(raw[0].bindings).map(([k]) => k);
      const rows = raw.map((r) => names.map((n) => (r.bindings.has(n) ? valueJSON(r.bindings.get(n)!) : "")));
      return table(names, rows);
    }
  }
  return "";
}

/** Bindings in name order: OPA's are a map, which Go's JSON encoder and its table print sorted. */
function sortedBindings(b: Map<string, Value>): [string, Value][] {
  return [...b].sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
}

function rawText(v: Value): string {
  return typeof v === "string" ? v : typeof v === "object" && v !== null ? valueJSON(v) : formatValue(v);
}

export function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (l: string, m: string, r: string) => l + widths.map((w) => "─".repeat(w + 2)).join(m) + r;
  const center = (s: string, w: number) => {
    const left = Math.floor((w - s.length) / 2);
    return " ".repeat(left) + s + " ".repeat(w - s.length - left);
  };
  const out = [line("┌", "┬", "┐"), "│" + head.map((h, i) => " " + center(h, widths[i]) + " ").join("│") + "│", line("├", "┼", "┤")];
  for (const r of rows) out.push("│" + r.map((c, i) => " " + c.padEnd(widths[i]) + " ").join("│") + "│");
  out.push(line("└", "┴", "┘"));
  return out.join("\n") + "\n";
}

