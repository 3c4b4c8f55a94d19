// `-o azuredevops`: Azure Pipelines logging commands — a section and group per result with
// task.logissue lines for failures (errors), warnings and exceptions (warnings), then the
// summary line.

import type { CheckResultView, Write } from "./types.ts";
import { totals, summaryLine, collect } from "./common.ts";

export function renderAzureDevOps(results: readonly CheckResultView[]): string {
  return collect((w) => writeAzureDevOps(results, w));
}

export function writeAzureDevOps(results: readonly CheckResultView[], out: Write): void {
  for (const r of results) {
    const checks = r.successes + r.failures.length + r.warnings.length + r.exceptions.length + r.skipped.length;
    out(`##[section]Testing '${r.filename}' against ${checks} policies in namespace '${r.namespace}'\n`);
    out("##[group]See conftest results\n");
    for (const f of r.failures) out(`##vso[task.logissue type=error] file=${r.filename} --> ${f.msg}\n`);
    for (const w of r.warnings) out(`##vso[task.logissue type=warning] file=${r.filename} --> ${w.msg}\n`);
    for (const e of r.exceptions) out(`##vso[task.logissue type=warning] file=${r.filename} --> ${e.msg}\n`);
    for (const s of r.skipped) out(`skipped file=${r.filename} ${s.msg}\n`);
    if (r.successes > 0) out(`success file=${r.filename} ${r.successes}\n`);
    out("##[endgroup]\n");
  }
  out(summaryLine(totals(results)) + "\n");
}
