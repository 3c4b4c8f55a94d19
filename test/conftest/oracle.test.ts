// `portcullis test` against the real conftest, byte for byte (stdout and exit code), for every
// example and fixture scenario in every output format. Skipped when conftest is not installed
// (CONFTEST_BIN, ~/go/bin/conftest or PATH).
import test from "node:test";
import assert from "node:assert/strict";
import { scenarios, runPortcullis, matchesConftest, findConftest, OUTPUT_FORMATS } from "./harness.ts";

const bin = findConftest();
const counts = new Map<string, { same: number; total: number }>(OUTPUT_FORMATS.map((f) => [f, { same: 0, total: 0 }]));

for (const s of scenarios()) {
  if (s.oracle === false) continue;
  test(`conftest oracle: ${s.name}`, { skip: bin ? false : "conftest not installed" }, async () => {
    const failures: string[] = [];
    for (const f of s.formats ?? OUTPUT_FORMATS) {
      const ours = await runPortcullis(s, f);
      const { ok, theirs } = matchesConftest(bin!, s, f, ours);
      const c = counts.get(f)!;
      c.total++;
      if (ok) c.same++;
      else failures.push(`${f}: exit ${ours.code} vs ${theirs.code}\n--- portcullis\n${ours.stdout}${ours.stderr}\n--- conftest\n${theirs.stdout}${theirs.stderr}`);
    }
    assert.deepEqual(failures, []);
  });
}

test("conftest oracle: byte-for-byte counts per format", { skip: bin ? false : "conftest not installed" }, (t) => {
  for (const [f, c] of counts) t.diagnostic(`${f}: ${c.same}/${c.total} identical`);
});
