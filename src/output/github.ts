// `-o github`: GitHub Actions workflow commands — a group per result with ::error, ::warning
// and ::notice annotations, then the summary line.

import type { CheckResult, RenderOptions } from "./types.ts";
import { totals, summaryLine } from "./common.ts";

export function renderGitHub(results: CheckResult[], opts: RenderOptions = {}): string {
  let out = "";
  for (const r of results) {
    const checks = r.successes + r.failures.length + r.warnings.length + r.exceptions.length + r.skipped.length;
    if (opts.githubHidePassed && r.failures.length === 0 && r.warnings.length === 0 && r.exceptions.length === 0 && r.skipped.length === 0) continue;
    const at = `file=${r.filename},line=1`;
    out += `::group::Testing "${r.filename}" against ${checks} policies in namespace "${r.namespace}"\n`;
    for (const f of r.failures) out += `::error ${at}::${f.msg}\n`;
    for (const w of r.warnings) out += `::warning ${at}::${w.msg}\n`;
    for (const e of r.exceptions) out += `::notice ${at}::${e.msg}\n`;
    for (const s of r.skipped) out += `::notice ${at}::Test was skipped: ${s.msg}\n`;
    out += `::notice ${at}::Number of successful checks: ${r.successes}\n`;
    out += "::endgroup::\n";
  }
  return out + summaryLine(totals(results)) + "\n";
}
