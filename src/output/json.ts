// `-o json`: the check results as Go's json.MarshalIndent prints conftest's CheckResult list
// (tab indentation; empty lists left out; metadata keys sorted; `null` when there are none).
// Written one result at a time (the list of a large input does not fit in one string).

import type { CheckResultView, Result, ResultList, Write } from "./types.ts";
import { goJSON, goString } from "../gotext/plainjson.ts";
import { STDIN_NAME, collect } from "./common.ts";
import { JSON_METADATA_LEVEL } from "./spool.ts";

function resultJSON(r: Result, level: string): string {
  const inner = level + "\t";
  const parts = [`${inner}"msg": ${goString(r.msg)}`];
  if (r.loc) {
    const l = inner + "\t";
    const loc = [r.loc.file ? `${l}"file": ${goString(r.loc.file)}` : "", r.loc.line ? `${l}"line": ${r.loc.line}` : ""].filter((x) => x !== "");
    parts.push(loc.length ? `${inner}"loc": {\n${loc.join(",\n")}\n${inner}}` : `${inner}"loc": {}`);
  }
  // Spooled results carry the text already (./spool.ts: rendered at JSON_METADATA_LEVEL).
  if (r.metadataText !== undefined && inner === JSON_METADATA_LEVEL) parts.push(`${inner}"metadata": ${r.metadataText}`);
  else if (r.metadata && Object.keys(r.metadata).length > 0) parts.push(`${inner}"metadata": ${goJSON(r.metadata, "\t", inner)}`);
  return `{\n${parts.join(",\n")}\n${level}}`;
}

function writeList(name: string, list: ResultList, level: string, out: Write): void {
  const inner = level + "\t";
  out(`,\n${level}${goString(name)}: [\n`);
  let first = true;
  for (const r of list) {
    out((first ? "" : ",\n") + inner + resultJSON(r, inner));
    first = false;
  }
  out(`\n${level}]`);
}

export function renderJSON(results: readonly CheckResultView[]): string {
  return collect((w) => writeJSON(results, w));
}

export function writeJSON(results: readonly CheckResultView[], out: Write): void {
  if (results.length === 0) {
    out("null\n");
    return;
  }
  out("[\n");
  results.forEach((r, i) => {
    const l = "\t\t";
    out(`${i > 0 ? ",\n" : ""}\t{\n${l}"filename": ${goString(r.filename === STDIN_NAME ? "" : r.filename)},\n${l}"namespace": ${goString(r.namespace)},\n${l}"successes": ${r.successes}`);
    const lists: [string, ResultList][] = [["skipped", r.skipped], ["warnings", r.warnings], ["failures", r.failures], ["exceptions", r.exceptions]];
    for (const [name, list] of lists) if (list.length > 0) writeList(name, list, l, out);
    out("\n\t}");
  });
  out("\n]\n");
}
