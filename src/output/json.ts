// `-o json`: the check results as Go's json.MarshalIndent prints conftest's CheckResult list
// (tab indentation; empty lists left out; metadata keys sorted; `null` when there are none).

import type { CheckResult, Result } from "./types.ts";
import { goJSON, goString } from "../gotext/plainjson.ts";
import { STDIN_NAME } from "./common.ts";

function resultJSON(r: Result, level: string): string {
  const inner = level + "\t";
  const parts = [`${inner}"msg": ${goString(r.msg)}`];
  if (r.loc) {
    const l = inner + "\t";
    const loc = [r.loc.file ? `${l}"file": ${goString(r.loc.file)}` : "", r.loc.line ? `${l}"line": ${r.loc.line}` : ""].filter((x) => x !== "");
    parts.push(loc.length ? `${inner}"loc": {\n${loc.join(",\n")}\n${inner}}` : `${inner}"loc": {}`);
  }
  if (r.metadata && Object.keys(r.metadata).length > 0) parts.push(`${inner}"metadata": ${goJSON(r.metadata, "\t", inner)}`);
  return `{\n${parts.join(",\n")}\n${level}}`;
}

function listJSON(name: string, list: Result[], level: string): string | undefined {
  if (list.length === 0) return undefined;
  const inner = level + "\t";
  return `${level}${goString(name)}: [\n${list.map((r) => inner + resultJSON(r, inner)).join(",\n")}\n${level}]`;
}

export function renderJSON(results: CheckResult[]): string {
  if (results.length === 0) return "null\n";
  const items = results.map((r) => {
    const l = "\t\t";
    const fields = [
      `${l}"filename": ${goString(r.filename === STDIN_NAME ? "" : r.filename)}`,
      `${l}"namespace": ${goString(r.namespace)}`,
      `${l}"successes": ${r.successes}`,
      listJSON("skipped", r.skipped, l),
      listJSON("warnings", r.warnings, l),
      listJSON("failures", r.failures, l),
      listJSON("exceptions", r.exceptions, l),
    ].filter((x): x is string => x !== undefined);
    return `\t{\n${fields.join(",\n")}\n\t}`;
  });
  return `[\n${items.join(",\n")}\n]\n`;
}
