/**
 * Records the expected output of every scenario and format in expected.json, so the suite can
 * check `portcullis test` without conftest. Only outputs that conftest reproduces byte for byte
 * (stdout and exit code) are recorded; scenarios without an oracle record Portcullis's output.
 *   node --import tsx test/conftest/record.ts [NAME-REGEX]   (only the scenarios whose name matches)
 */
import { writeFileSync } from "node:fs";
import { scenarios, runPortcullis, matchesConftest, findConftest, expectedKey, readExpected, EXPECTED_FILE, OUTPUT_FORMATS } from "./harness.ts";

const bin = findConftest();
if (!bin) {
  console.error("conftest not found (set CONFTEST_BIN or install it in ~/go/bin)");
  process.exit(2);
}
const expected = readExpected();
let mismatches = 0;
const only = process.argv[2] ? new RegExp(process.argv[2]) : undefined;
for (const s of scenarios()) {
  if (only && !only.test(s.name)) continue;
  for (const f of s.formats ?? OUTPUT_FORMATS) {
    const ours = await runPortcullis(s, f);
    const key = expectedKey(s, f);
    if (s.oracle === false || matchesConftest(bin, s, f, ours).ok) {
      expected[key] = { stdout: ours.stdout, code: ours.code, ...(s.stderr ? { stderr: ours.stderr } : {}) };
    } else {
      mismatches++;
      console.log(`MISMATCH ${key} (not recorded)`);
    }
  }
}
const sorted = Object.fromEntries(Object.keys(expected).sort().map((k) => [k, expected[k]]));
writeFileSync(EXPECTED_FILE, JSON.stringify(sorted, null, 1) + "\n");
console.log(`${Object.keys(sorted).length} expectations written, ${mismatches} mismatches`);
