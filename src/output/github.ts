// `-o github`: GitHub Actions workflow commands — a group per result with ::error, ::warning
// and ::notice annotations, then the summary line.

import { isAbsolute, relative } from "node:path";
import type { CheckResultView, RenderOptions, Result, Write } from "./types.ts";
import { totals, summaryLine, collect } from "./common.ts";

/** A workflow command property value: `%`, CR, LF, `:` and `,` escaped (they end the property). */
function escapeProperty(v: string): string {
  return v.replace(/[%\r\n:,]/g, (c) => ({ "%": "%25", "\r": "%0D", "\n": "%0A", ":": "%3A", ",": "%2C" })[c]!);
}

const command = (level: string, file: string, line: string, msg: string) => `::${level} file=${escapeProperty(file)},line=${line}::${msg}\n`;

/**
 * A result's annotation: at the input file (line 1) without `_loc`; at `_loc` when it names the
 * input file; otherwise at `_loc` (made relative) and again at the input file, saying where it
 * came from.
 */
function annotate(level: string, filename: string, r: Result, msg: string): string {
  if (!r.loc) return command(level, filename, "1", msg);
  const line = r.loc.line ?? "";
  const file = r.loc.file ?? "";
  if (file === filename) return command(level, file, line, msg);
  const rel = isAbsolute(file) ? relative(process.cwd(), file) : file;
  return command(level, rel, line, msg) + command(level, filename, "1", `(ORIGINATING FROM ${rel} L${line}) ${msg}`);
}

export function renderGitHub(results: readonly CheckResultView[], opts: RenderOptions = {}): string {
  return collect((w) => writeGitHub(results, opts, w));
}

export function writeGitHub(results: readonly CheckResultView[], opts: RenderOptions, out: Write): void {
  for (const r of results) {
    const checks = r.successes + r.failures.length + r.warnings.length + r.exceptions.length + r.skipped.length;
    if (opts.githubHidePassed && r.failures.length === 0 && r.warnings.length === 0 && r.exceptions.length === 0 && r.skipped.length === 0) continue;
    out(`::group::Testing "${r.filename}" against ${checks} policies in namespace "${r.namespace}"\n`);
    for (const f of r.failures) out(annotate("error", r.filename, f, f.msg));
    for (const w of r.warnings) out(annotate("warning", r.filename, w, w.msg));
    for (const e of r.exceptions) out(annotate("notice", r.filename, e, e.msg));
    for (const s of r.skipped) out(annotate("notice", r.filename, s, `Test was skipped: ${s.msg}`));
    out(command("notice", r.filename, "1", `Number of successful checks: ${r.successes}`));
    out("::endgroup::\n");
  }
  out(summaryLine(totals(results)) + "\n");
}
