// `-o sarif`: a SARIF 2.1.0 log (compact JSON, no final newline) with one run whose rules are
// `<namespace>/deny|warn|allow|success|skip`, each described once with the metadata of the
// first result that used it.

import type { CheckResult, Result } from "./types.ts";
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
  properties?: Record<string, unknown>;
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

export function renderSARIF(results: CheckResult[]): string {
  const rules: Rule[] = [];
  const index = new Map<string, number>();
  const out: string[] = [];
  const add = (r: CheckResult, kind: string, description: string, level: string, text: string, properties?: Record<string, unknown>, loc?: Result["loc"]) => {
    const id = `${r.namespace}/${kind}`;
    let i = index.get(id);
    if (i === undefined) {
      i = rules.length;
      index.set(id, i);
      rules.push({ id, description, properties: properties && Object.keys(properties).length ? properties : undefined });
    }
    out.push(
      `{"ruleId":${goString(id)},"ruleIndex":${i},"level":"${level}","message":{"text":${goString(text)}},"locations":[{"physicalLocation":${physicalLocation(r.filename, loc)}}]}`,
    );
  };
  let failures = 0;
  let warnings = 0;
  for (const r of results) {
    const meta = (x: Result) => x.metadata;
    for (const f of r.failures) add(r, "deny", "Policy violation", "error", f.msg, meta(f), f.loc);
    for (const w of r.warnings) add(r, "warn", "Policy warning", "warning", w.msg, meta(w), w.loc);
    for (const e of r.exceptions) add(r, "allow", "Policy exception", "note", e.msg, meta(e), e.loc);
    failures += r.failures.length;
    warnings += r.warnings.length;
    if (r.failures.length === 0 && r.warnings.length === 0) {
      if (r.successes === 0 && r.exceptions.length === 0) add(r, "skip", SKIP_TEXT, "none", SKIP_TEXT, { description: SKIP_TEXT });
      else add(r, "success", SUCCESS_TEXT, "none", SUCCESS_TEXT, { description: SUCCESS_TEXT });
    }
  }
  const ruleJSON = rules.map(
    (r) => `{"id":${goString(r.id)},"shortDescription":{"text":${goString(r.description)}}${r.properties ? `,"properties":${goJSON(r.properties)}` : ""}}`,
  );
  const exitCode = failures > 0 ? 1 : 0;
  const description = failures > 0 ? "Policy violations found" : warnings > 0 ? "Policy warnings found" : "No policy violations found";
  return (
    `{"version":"2.1.0","$schema":${goString(SCHEMA)},"runs":[{"tool":{"driver":{"informationUri":${goString(INFO_URI)},"name":${goString(SARIF_TOOL.name)},` +
    `"rules":[${ruleJSON.join(",")}],"version":${goString(SARIF_TOOL.version)}}},` +
    `"invocations":[{"executionSuccessful":true,"exitCode":${exitCode},"exitCodeDescription":"${description}"}],` +
    `"results":[${out.join(",")}]}]}`
  );
}
