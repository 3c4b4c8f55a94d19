// `-o junit`: one <testsuite> per namespace (in order of first appearance), one <testcase>
// per warning, failure, success and skipped check; warnings count as failures; exceptions are
// not listed. Text is escaped as Go's encoding/xml escapes it.

import type { CheckResultView, RenderOptions, Write } from "./types.ts";
import { firstLine, collect } from "./common.ts";

/** The Go version conftest's JUnit report names (go-junit-report writes runtime.Version()). */
export const JUNIT_GO_VERSION = "go1.26.8";

/** Go's xml.EscapeText. */
export function xmlEscape(s: string): string {
  let out = "";
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    switch (ch) {
      case '"': out += "&#34;"; continue;
      case "'": out += "&#39;"; continue;
      case "&": out += "&amp;"; continue;
      case "<": out += "&lt;"; continue;
      case ">": out += "&gt;"; continue;
      case "\t": out += "&#x9;"; continue;
      case "\n": out += "&#xA;"; continue;
      case "\r": out += "&#xD;"; continue;
    }
    const valid = c >= 0x20 ? !(c >= 0xd800 && c <= 0xdfff) && c !== 0xfffe && c !== 0xffff : false;
    out += valid ? ch : "\uFFFD";
  }
  return out;
}

export function renderJUnit(results: readonly CheckResultView[], opts: RenderOptions = {}): string {
  return collect((w) => writeJUnit(results, opts, w));
}

/**
 * Suites are counted first (tests and failures per namespace, from the lists' lengths), then
 * their cases are written one at a time.
 */
export function writeJUnit(results: readonly CheckResultView[], opts: RenderOptions, out: Write): void {
  const suites = new Map<string, { results: CheckResultView[]; tests: number; failures: number }>();
  for (const r of results) {
    const failures = r.warnings.length + r.failures.length;
    const tests = failures + r.successes + r.skipped.length;
    if (tests === 0) continue;
    const s = suites.get(r.namespace);
    if (s) {
      s.results.push(r);
      s.tests += tests;
      s.failures += failures;
    } else suites.set(r.namespace, { results: [r], tests, failures });
  }
  out('<?xml version="1.0" encoding="UTF-8"?>\n');
  if (suites.size === 0) {
    out("<testsuites></testsuites>\n");
    return;
  }
  out("<testsuites>\n");
  for (const [ns, suite] of suites) {
    const cls = xmlEscape(`conftest.${ns}`);
    out(`\t<testsuite tests="${suite.tests}" failures="${suite.failures}" time="0.000" name="${cls}">\n`);
    out("\t\t<properties>\n");
    out(`\t\t\t<property name="go.version" value="${JUNIT_GO_VERSION}"></property>\n`);
    out("\t\t</properties>\n");
    const open = (name: string) => `\t\t<testcase classname="${cls}" name="${xmlEscape(name)}" time="0.000">`;
    for (const r of suite.results) {
      const named = (msg: string) => (opts.junitHideMessage ? r.filename : `${r.filename} - ${firstLine(msg)}`);
      const failure = (msg: string) => `${open(named(msg))}\n\t\t\t<failure message="Failed" type="">${xmlEscape(msg)}</failure>\n\t\t</testcase>\n`;
      for (const w of r.warnings) out(failure(w.msg));
      for (const f of r.failures) out(failure(f.msg));
      if (r.successes > 0) {
        const success = `${open(r.filename)}</testcase>\n`;
        for (let i = 0; i < r.successes; i++) out(success);
      }
      for (const s of r.skipped) out(`${open(named(s.msg))}\n\t\t\t<skipped message="${xmlEscape(s.msg)}"></skipped>\n\t\t</testcase>\n`);
    }
    out("\t</testsuite>\n");
  }
  out("</testsuites>\n");
}
