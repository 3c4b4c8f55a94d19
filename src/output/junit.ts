// `-o junit`: one <testsuite> per namespace (in order of first appearance), one <testcase>
// per warning, failure, success and skipped check; warnings count as failures; exceptions are
// not listed. Text is escaped as Go's encoding/xml escapes it.

import type { CheckResult, RenderOptions } from "./types.ts";
import { firstLine } from "./common.ts";

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

interface Case {
  name: string;
  failure?: string;
  skipped?: string;
}

export function renderJUnit(results: CheckResult[], opts: RenderOptions = {}): string {
  const suites = new Map<string, Case[]>();
  for (const r of results) {
    const cases: Case[] = [];
    const named = (msg: string) => (opts.junitHideMessage ? r.filename : `${r.filename} - ${firstLine(msg)}`);
    for (const w of r.warnings) cases.push({ name: named(w.msg), failure: w.msg });
    for (const f of r.failures) cases.push({ name: named(f.msg), failure: f.msg });
    for (let i = 0; i < r.successes; i++) cases.push({ name: r.filename });
    for (const s of r.skipped) cases.push({ name: named(s.msg), skipped: s.msg });
    if (cases.length === 0) continue;
    const list = suites.get(r.namespace);
    if (list) list.push(...cases);
    else suites.set(r.namespace, cases);
  }
  let out = '<?xml version="1.0" encoding="UTF-8"?>\n';
  if (suites.size === 0) return out + "<testsuites></testsuites>\n";
  out += "<testsuites>\n";
  for (const [ns, cases] of suites) {
    const cls = xmlEscape(`conftest.${ns}`);
    const failures = cases.filter((c) => c.failure !== undefined).length;
    out += `\t<testsuite tests="${cases.length}" failures="${failures}" time="0.000" name="${cls}">\n`;
    out += "\t\t<properties>\n";
    out += `\t\t\t<property name="go.version" value="${JUNIT_GO_VERSION}"></property>\n`;
    out += "\t\t</properties>\n";
    for (const c of cases) {
      const open = `\t\t<testcase classname="${cls}" name="${xmlEscape(c.name)}" time="0.000">`;
      if (c.failure !== undefined) {
        out += `${open}\n\t\t\t<failure message="Failed" type="">${xmlEscape(c.failure)}</failure>\n\t\t</testcase>\n`;
      } else if (c.skipped !== undefined) {
        out += `${open}\n\t\t\t<skipped message="${xmlEscape(c.skipped)}"></skipped>\n\t\t</testcase>\n`;
      } else {
        out += `${open}</testcase>\n`;
      }
    }
    out += "\t</testsuite>\n";
  }
  return out + "</testsuites>\n";
}
