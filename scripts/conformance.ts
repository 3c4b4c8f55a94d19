// Runs the Rego conformance suites in ../shared/conformance and prints pass/fail per folder and
// every failure. Usage: npm run conformance [-- SUITE [FILTER]] (FILTER matches file or note).
import { runSuite, tally, sharedAvailable, type CaseResult } from "../test/conformance/runner.ts";

if (!sharedAvailable()) {
  console.log("../shared/conformance not found: nothing to run");
  process.exit(0);
}
const [suiteArg, filter] = process.argv.slice(2);
const suites = (suiteArg ? [suiteArg] : ["opa", "rego-cpp", "regorus"]) as ("opa" | "rego-cpp" | "regorus")[];
const all: CaseResult[] = [];
for (const s of suites) {
  const rs = runSuite(s).filter((r) => !filter || r.file.includes(filter) || r.note.includes(filter));
  all.push(...rs);
}
for (const r of all) {
  if (r.status === "fail") console.log(`FAIL ${r.suite}/${r.file} :: ${r.note}\n     ${(r.reason ?? "").split("\n").join("\n     ")}`);
}
console.log("");
for (const [folder, t] of tally(all)) console.log(`${folder.padEnd(45)} pass ${t.pass}  fail ${t.fail}  skip ${t.skip}`);
for (const s of suites) {
  const rs = all.filter((r) => r.suite === s);
  const pass = rs.filter((r) => r.status === "pass").length;
  const fail = rs.filter((r) => r.status === "fail").length;
  const run = pass + fail;
  console.log(`${s}: ${pass}/${run} passed (${run ? ((100 * pass) / run).toFixed(1) : "0"}%), ${rs.length - run} skipped`);
}
