// Rendering check results in conftest's output formats, and conftest's exit codes.
//
//   render(results, "table", { noColor: true })  → the text conftest prints for -o table
//   exitCode(results, { failOnWarn: true })       → 0, 1 or 2
//
// One file per format; every format is checked byte for byte against conftest (test/conftest/).

import type { CheckResultView, OutputFormat, RenderOptions, Write } from "./types.ts";
import { OUTPUT_FORMATS } from "./types.ts";
import { writeStdout } from "./stdout.ts";
import { writeJSON } from "./json.ts";
import { writeTAP } from "./tap.ts";
import { writeTable } from "./table.ts";
import { writeJUnit } from "./junit.ts";
import { writeGitHub } from "./github.ts";
import { writeAzureDevOps } from "./azuredevops.ts";
import { writeSARIF } from "./sarif.ts";
import { collect } from "./common.ts";

export type { CheckResult, CheckResultView, Result, ResultList, OutputFormat, RenderOptions, Write } from "./types.ts";
export { SpoolDir, ResultSpool, metadataForm } from "./spool.ts";
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
export function render(results: readonly CheckResultView[], format: OutputFormat, opts: RenderOptions = {}): string {
  return collect((w) => renderTo(results, format, opts, w));
}

/** Write the text conftest prints for these results piece by piece (large outputs are never one string). */
export function renderTo(results: readonly CheckResultView[], format: OutputFormat, opts: RenderOptions, write: Write): void {
  switch (format) {
    case "stdout":
      return writeStdout(results, opts, write);
    case "json":
      return writeJSON(results, write);
    case "tap":
      return writeTAP(results, write);
    case "table":
      return writeTable(results, write);
    case "junit":
      return writeJUnit(results, opts, write);
    case "github":
      return writeGitHub(results, opts, write);
    case "azuredevops":
      return writeAzureDevOps(results, write);
    case "sarif":
      return writeSARIF(results, write);
  }
  throw new Error(`unknown output format "${format as string}" (valid: ${OUTPUT_FORMATS.join(", ")})`);
}

/** A Write that passes text on in pieces of about `size` characters (few, large writes). */
export function bufferedWrite(write: Write, size = 1 << 16): { write: Write; flush: () => void } {
  let parts: string[] = [];
  let n = 0;
  const flush = () => {
    if (n === 0) return;
    const text = parts.join("");
    parts = [];
    n = 0;
    write(text);
  };
  return {
    write: (s) => {
      parts.push(s);
      n += s.length;
      if (n >= size) flush();
    },
    flush,
  };
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
export function exitCode(results: readonly CheckResultView[], opts: ExitOptions = {}): number {
  if (opts.noFail) return 0;
  const failures = results.some((r) => r.failures.length > 0);
  const warnings = results.some((r) => r.warnings.length > 0);
  if (opts.failOnWarn) return failures ? 2 : warnings ? 1 : 0;
  return failures ? 1 : 0;
}
