// `-o sarif`: a SARIF 2.1.0 log (compact JSON, no final newline) with one run whose rules are
// `<namespace>/deny|warn|allow|success|skip`, each described once with the metadata of the
// first result that used it.

import type { CheckResultView, Result, ResultList, Write } from "./types.ts";
import { collect } from "./common.ts";
import { goJSON, goString } from "../gotext/plainjson.ts";

const SCHEMA = "https://raw.githubusercontent.com/oasis-tcs/sarif-spec/main/sarif-2.1/schema/sarif-schema-2.1.0.json";
const INFO_URI = "https://github.com/open-policy-agent/conftest";
/** What conftest puts in tool.driver.name and .version (a development build says "dev"). */
export const SARIF_TOOL = { name: "conftest", version: "dev" };

const SUCCESS_TEXT = "Policy was satisfied successfully";
const SKIP_TEXT = "Policy check was skipped";

interface Rule {
  id: string;
  description: string;
  /** The properties as compact JSON ("" for none). */
  properties: string;
}

/** A result's metadata as sarif's rule properties ("" when it has none). */
function propertiesText(x: Result | undefined): string {
  if (x === undefined) return "";
  if (x.metadataText !== undefined) return x.metadataText;
  return x.metadata && Object.keys(x.metadata).length ? goJSON(x.metadata) : "";
}

function first(list: ResultList): Result | undefined {
  for (const x of list) return x;
  return undefined;
}

/**
 * A result's physicalLocation: the input file, or the file of its `_loc` with a region at its
 * line (Go's strconv.Atoi of the line's text: 0 when it is missing or not an integer).
 */
function physicalLocation(filename: string, loc: Result["loc"]): string {
  if (!loc) return `{"artifactLocation":{"uri":${goString(filename)}}}`;
  const text = loc.line ?? "";
  const line = /^[+-]?\d+$/.test(text) && Math.abs(Number(text)) <= 2 ** 63 ? Number(text) : 0;
  return `{"artifactLocation":{"uri":${goString(loc.file ?? "")}},"region":{"startLine":${line},"endLine":${line}}}`;
}

export function renderSARIF(results: readonly CheckResultView[]): string {
  return collect((w) => writeSARIF(results, w));
}

const SUCCESS_PROPERTIES = goJSON({ description: SUCCESS_TEXT });
const SKIP_PROPERTIES = goJSON({ description: SKIP_TEXT });

/**
 * Two passes: the rules (each described by the first result that uses it, so only the first
 * result of each list is read), then the results one at a time.
 */
export function writeSARIF(results: readonly CheckResultView[], out: Write): void {
  const rules: Rule[] = [];
  const index = new Map<string, number>();
  const rule = (r: CheckResultView, kind: string, description: string, properties: () => string): number => {
    const id = `${r.namespace}/${kind}`;
    let i = index.get(id);
    if (i === undefined) {
      i = rules.length;
      index.set(id, i);
      rules.push({ id, description, properties: properties() });
    }
    return i;
  };
  // Each check result's lists in output order, with their rule kind, description and level.
  const lists = (r: CheckResultView): [ResultList, string, string, string][] => [
    [r.failures, "deny", "Policy violation", "error"],
    [r.warnings, "warn", "Policy warning", "warning"],
    [r.exceptions, "allow", "Policy exception", "note"],
  ];
  /** The rule a check result without failures or warnings adds (success or skip). */
  const passed = (r: CheckResultView): [string, string] | undefined =>
    r.failures.length === 0 && r.warnings.length === 0 ? (r.successes === 0 && r.exceptions.length === 0 ? ["skip", SKIP_TEXT] : ["success", SUCCESS_TEXT]) : undefined;
  let failures = 0;
  let warnings = 0;
  for (const r of results) {
    for (const [list, kind, description] of lists(r)) if (list.length > 0) rule(r, kind, description, () => propertiesText(first(list)));
    const p = passed(r);
    if (p) rule(r, p[0], p[1], () => (p[0] === "skip" ? SKIP_PROPERTIES : SUCCESS_PROPERTIES));
    failures += r.failures.length;
    warnings += r.warnings.length;
  }
  const ruleJSON = rules.map((r) => `{"id":${goString(r.id)},"shortDescription":{"text":${goString(r.description)}}${r.properties ? `,"properties":${r.properties}` : ""}}`);
  const exitCode = failures > 0 ? 1 : 0;
  const description = failures > 0 ? "Policy violations found" : warnings > 0 ? "Policy warnings found" : "No policy violations found";
  out(
    `{"version":"2.1.0","$schema":${goString(SCHEMA)},"runs":[{"tool":{"driver":{"informationUri":${goString(INFO_URI)},"name":${goString(SARIF_TOOL.name)},` +
      `"rules":[${ruleJSON.join(",")}],"version":${goString(SARIF_TOOL.version)}}},` +
      `"invocations":[{"executionSuccessful":true,"exitCode":${exitCode},"exitCodeDescription":"${description}"}],` +
      `"results":[`,
  );
  let n = 0;
  const result = (r: CheckResultView, kind: string, level: string, text: string, loc?: Result["loc"]) => {
    out(
      `${n++ > 0 ? "," : ""}{"ruleId":${goString(`${r.namespace}/${kind}`)},"ruleIndex":${index.get(`${r.namespace}/${kind}`)},"level":"${level}","message":{"text":${goString(text)}},"locations":[{"physicalLocation":${physicalLocation(r.filename, loc)}}]}`,
    );
  };
  for (const r of results) {
    for (const [list, kind, , level] of lists(r)) for (const x of list) result(r, kind, level, x.msg, x.loc);
    const p = passed(r);
    if (p) result(r, p[0], "none", p[1]);
  }
  out("]}]}");
}
