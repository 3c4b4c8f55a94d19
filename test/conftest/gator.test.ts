// `portcullis test` with Gatekeeper policies against `gator test`'s outputs on the Gatekeeper
// library, recorded by record-gator.ts (gator-expected.json), and live when gator is installed.
// Skipped without the library (../shared/gatekeeper-library).
import test from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { gatorCases, findGator, runGator, runPortcullisGator, caseKey, GATOR_EXPECTED, LIBRARY, UNSTABLE, sortedLines, type GatorRun } from "./gator-harness.ts";

const haveLibrary = existsSync(LIBRARY);
const expected: Record<string, GatorRun> = existsSync(GATOR_EXPECTED) ? JSON.parse(readFileSync(GATOR_EXPECTED, "utf8")) : {};
const bin = findGator();

test("gator test: recorded outputs on the library", { skip: haveLibrary ? false : `no library at ${LIBRARY}` }, async (t) => {
  const cases = gatorCases();
  let same = 0;
  const failures: string[] = [];
  for (const c of cases) {
    const want = expected[caseKey(c)];
    assert.ok(want, `no recorded output for ${caseKey(c)} (run test/conftest/record-gator.ts)`);
    const got = await runPortcullisGator(c);
    const norm = (s: string) => (UNSTABLE.has(c.dir) ? sortedLines(s) : s);
    if (norm(got.stdout) === norm(want.stdout) && got.stderr === want.stderr && got.code === want.code) same++;
    else failures.push(`${caseKey(c)}\n--- portcullis (exit ${got.code})\n${got.stdout}${got.stderr}\n--- gator (exit ${want.code})\n${want.stdout}${want.stderr}`);
  }
  t.diagnostic(`${same}/${cases.length} identical (${cases.filter((c) => !UNSTABLE.has(c.dir)).length} byte for byte, the rest as sorted lines)`);
  assert.deepEqual(failures, []);
});

test("gator test: live comparison", { skip: !haveLibrary ? "no library" : bin ? false : "gator not installed" }, async () => {
  const failures: string[] = [];
  for (const c of gatorCases().slice(0, 12)) {
    const theirs = runGator(bin!, c);
    const ours = await runPortcullisGator(c);
    const norm = (s: string) => (UNSTABLE.has(c.dir) ? sortedLines(s) : s);
    if (!(norm(theirs.stdout) === norm(ours.stdout) && theirs.stderr === ours.stderr && theirs.code === ours.code)) failures.push(caseKey(c));
  }
  assert.deepEqual(failures, []);
});
