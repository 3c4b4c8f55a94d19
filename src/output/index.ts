// Rendering check results in conftest's output formats, and conftest's exit codes.
//
//   render(results, "table", { noColor: true })  → the text conftest prints for -o table
//   exitCode(results, { failOnWarn: true })       → 0, 1 or 2
//
// One file per format; every format is checked byte for byte against conftest (test/conftest/).

import type { CheckResult, OutputFormat, RenderOptions } from "./types.ts";
import { OUTPUT_FORMATS } from "./types.ts";
import { renderStdout } from "./stdout.ts";
import { renderJSON } from "./json.ts";
import { renderTAP } from "./tap.ts";
import { renderTable } from "./table.ts";
import { renderJUnit } from "./junit.ts";
import { renderGitHub } from "./github.ts";
import { renderAzureDevOps } from "./azuredevops.ts";
import { renderSARIF } from "./sarif.ts";

export type { CheckResult, Result, OutputFormat, RenderOptions } from "./types.ts";
export { OUTPUT_FORMATS } from "./types.ts";
export { totals, summaryLine, STDIN_NAME } from "./common.ts";
export { goJSON, goString } from "../gotext/plainjson.ts";

export function isOutputFormat(s: string): s is OutputFormat {
  return (OUTPUT_FORMATS as string[]).includes(s);
}

/**
 * The NO_COLOR convention (no-color.org): a non-empty NO_COLOR turns colour off as --no-color
 * does. conftest itself ignores it; colour otherwise goes to pipes and files too, as conftest's.
 */
export function noColorFromEnv(env: Record<string, string | undefined>): boolean {
  return (env.NO_COLOR ?? "") !== "";
}

/** The text conftest prints for these results in this format. */
export function render(results: CheckResult[], format: OutputFormat, opts: RenderOptions = {}): string {
  switch (format) {
    case "stdout":
      return renderStdout(results, opts);
    case "json":
      return renderJSON(results);
    case "tap":
      return renderTAP(results);
    case "table":
      return renderTable(results);
    case "junit":
      return renderJUnit(results, opts);
    case "github":
      return renderGitHub(results, opts);
    case "azuredevops":
      return renderAzureDevOps(results);
    case "sarif":
      return renderSARIF(results);
  }
  throw new Error(`unknown output format "${format as string}" (valid: ${OUTPUT_FORMATS.join(", ")})`);
}

export interface ExitOptions {
  /** --fail-on-warn: warnings give 1, failures 2. */
  failOnWarn?: boolean;
  /** --no-fail: always 0. */
  noFail?: boolean;
}

/**
 * conftest's exit code: 1 when any check failed (0 otherwise); with failOnWarn, 2 for failures
 * and 1 for warnings; always 0 with noFail.
 */
export function exitCode(results: CheckResult[], opts: ExitOptions = {}): number {
  if (opts.noFail) return 0;
  const failures = results.some((r) => r.failures.length > 0);
  const warnings = results.some((r) => r.warnings.length > 0);
  if (opts.failOnWarn) return failures ? 2 : warnings ? 1 : 0;
  return failures ? 1 : 0;
}
