// `-o tap`: Test Anything Protocol. A plan line, then per result its failures, warnings,
// exceptions, skipped checks and successes, each group after a `# ...` comment.

import type { CheckResultView, Write } from "./types.ts";
import { totals, collect, STDIN_NAME } from "./common.ts";

export function renderTAP(results: readonly CheckResultView[]): string {
  return collect((w) => writeTAP(results, w));
}

export function writeTAP(results: readonly CheckResultView[], out: Write): void {
  const t = totals(results);
  if (t.tests === 0) return;
  out(`1..${t.tests}\n`);
  let n = 0;
  for (const r of results) {
    const p = r.filename === STDIN_NAME ? `${STDIN_NAME} ${r.namespace}` : `${r.filename} - ${r.namespace}`;
    for (const f of r.failures) out(`not ok ${++n} - ${p} - ${f.msg}\n`);
    if (r.warnings.length > 0) {
      out("# warnings\n");
      for (const w of r.warnings) out(`not ok ${++n} - ${p} - ${w.msg}\n`);
    }
    if (r.exceptions.length > 0) {
      out("# exceptions\n");
      for (const e of r.exceptions) out(`ok ${++n} - ${p} - ${e.msg}\n`);
    }
    if (r.skipped.length > 0) {
      out("# skip\n");
      for (const s of r.skipped) out(`ok ${++n} - ${p} - ${s.msg}\n`);
    }
    if (r.successes > 0) {
      out("# successes\n");
      for (let i = 0; i < r.successes; i++) out(`ok ${++n} - ${p} - SUCCESS\n`);
    }
  }
}
