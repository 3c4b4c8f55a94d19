// Reporting test results: `opa test`'s pretty and JSON formats, and conftest verify's result
// model (one CheckResult per test, rendered by src/output).

import type { CheckResult } from "../output/types.ts";
import { leafResults, type SubResult, type TestResult } from "./runner.ts";

const HR = "-".repeat(80);

export { goDuration } from "../gotext/duration.ts";
import { goDuration } from "../gotext/duration.ts";

export function status(r: TestResult): string {
  if (r.skip) return "SKIPPED";
  if (r.error) return "ERROR";
  return r.fail ? "FAIL" : "PASS";
}

function testLine(r: TestResult): string {
  return r.skip ? `${r.test.fullName}: SKIPPED` : `${r.test.fullName}: ${status(r)} (${goDuration(r.durationNs)})`;
}

function subLines(subs: SubResult[], onlyFailing: boolean, depth = 1): string {
  let out = "";
  for (const s of subs) {
    if (onlyFailing && !s.fail) continue;
    out += `${"  ".repeat(depth)}${s.name}: ${s.fail ? "FAIL" : "PASS"}\n`;
    out += subLines(s.children, onlyFailing, depth + 1);
  }
  return out;
}

export interface PrettyOptions {
  verbose?: boolean;
  /** Explanation lines per failed test (the FAILURES section, verbose only). */
  failTraces?: Map<TestResult, string[]>;
  /** conftest --report: the failing expression under each failure's trace. */
  failureLines?: Map<TestResult, { file: string; row: number; text: string; pad?: string; vars?: string[] }>;
}

/** opa test's pretty output. */
export function prettyReport(results: TestResult[], opts: PrettyOptions = {}): string {
  const verbose = !!opts.verbose;
  let out = "";
  let lastFile = "";
  for (const r of results) {
    if (r.pass && !verbose) continue;
    // A blank line between tests of different files.
    if (lastFile !== "" && r.test.file !== lastFile) out += "\n";
    lastFile = r.test.file;
    out += `${r.test.file}:${r.test.loc.row}:\n`;
    out += testLine(r) + "\n";
    if (r.subResults && r.subResults.length > 0) out += subLines(r.subResults, !verbose);
    if (r.output.length > 0) out += "\n" + r.output.map((l) => "  " + l).join("\n") + "\n\n";
    if (r.error) out += "  " + r.error.text + "\n";
  }
  const total = results.reduce((n, r) => n + leafCount(r), 0);
  let pass = 0;
  let fail = 0;
  let skip = 0;
  let err = 0;
  for (const r of results) {
    if (r.skip) skip++;
    else if (r.error) err++;
    else {
      const l = leafResults(r);
      pass += l.pass;
      fail += l.fail;
    }
  }
  const failures = results.filter((r) => r.fail && !r.error);
  if (pass === total && !verbose && total > 0) return out + `PASS: ${pass}/${total}\n`;
  if (total === 0) return out;
  out += HR + "\n";
  // the failed expressions (conftest's --report, opa test's --var-values) also without -v
  if ((verbose || opts.failureLines !== undefined) && failures.length > 0) {
    out += "FAILURES\n" + HR + "\n";
    for (const r of failures) {
      // (opa test: a blank line before the trace, -v only)
      out += testLine(r) + (verbose ? "\n\n" : "\n");
      if (verbose) for (const l of opts.failTraces?.get(r) ?? []) out += "  " + l + "\n";
      const fl = opts.failureLines?.get(r);
      // --var-values: the annotation lines under the text (OPA ends them without a blank line)
      // (the text as written: each of its lines indented, as OPA's indenting writer does)
      const indent = (x: string) => x.replace(/\n/g, "\n    ");
      if (fl && fl.vars !== undefined) out += `\n  ${fl.file}:${fl.row}:\n    ${fl.pad ?? "\t"}${indent(fl.text)}${fl.vars.map((l) => "\n    " + indent(l)).join("")}\n`;
      else if (fl) out += `\n  ${fl.file}:${fl.row}:\n    ${fl.pad ?? "\t"}${indent(fl.text)}\n\n`;
      else if (opts.failureLines) out += "\n";
      out += "\n";
      if (r.subResults && r.subResults.some((s) => s.fail)) out += subLines(r.subResults, true) + "\n";
    }
    out += HR + "\n";
  }
  if (pass) out += `PASS: ${pass}/${total}\n`;
  if (fail) out += `FAIL: ${fail}/${total}\n`;
  if (skip) out += `SKIPPED: ${skip}/${total}\n`;
  if (err) out += `ERROR: ${err}/${total}\n`;
  return out;
}

function leafCount(r: TestResult): number {
  if (r.skip || r.error) return 1;
  const l = leafResults(r);
  return l.pass + l.fail;
}

/** opa test -f json. */
export function jsonReport(results: TestResult[]): string {
  const subJSON = (subs: SubResult[]): Record<string, unknown> => {
    const o: Record<string, unknown> = {};
    for (const s of subs) {
      const x: Record<string, unknown> = { name: s.name };
      if (s.fail) x.fail = true;
      if (s.children.length) x.sub_results = subJSON(s.children);
      o[s.name] = x;
    }
    return o;
  };
  const docs = results.map((r) => {
    const o: Record<string, unknown> = {
      location: { file: r.test.file, row: r.test.loc.row, col: r.test.loc.col },
      package: r.test.pkg,
      name: r.test.name,
    };
    if (r.fail && !r.error) o.fail = true;
    if (r.skip) o.skip = true;
    if (r.error) {
      o.error =
        r.error.kind === "eval"
          ? errorJSON(r.error.errors[0])
          : r.error.errors.map(errorJSON);
    }
    o.duration = r.durationNs;
    if (r.output.length) o.output = Buffer.from(r.output.map((l) => l + "\n").join(""), "utf8").toString("base64");
    if (r.subResults && r.subResults.length) o.sub_results = subJSON(r.subResults);
    return o;
  });
  return JSON.stringify(docs, null, 2) + "\n";
}

function errorJSON(e: { code: string; message: string; location?: { file: string; row: number; col: number } }): Record<string, unknown> {
  const o: Record<string, unknown> = { code: e.code, message: e.message };
  if (e.location) o.location = { file: e.location.file, row: e.location.row, col: e.location.col };
  return o;
}

/**
 * conftest verify's results: one CheckResult per test, named by the test's file, with the test's
 * full name as the message of a failure (or of a skipped result).
 */
export function toCheckResults(results: TestResult[], traces?: Map<TestResult, string[]>): CheckResult[] {
  return results.map((r) => {
    const c: CheckResult = {
      filename: r.test.file,
      namespace: "",
      successes: r.pass ? 1 : 0,
      skipped: r.skip ? [{ msg: r.test.fullName }] : [],
      warnings: [],
      failures: r.fail || r.error ? [{ msg: r.test.fullName }] : [],
      exceptions: [],
    };
    const t = traces?.get(r);
    if (t) c.queries = [{ query: r.test.name, traces: t, outputs: r.output }];
    return c;
  });
}
