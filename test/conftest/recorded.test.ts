// `portcullis test` against outputs recorded from conftest (test/conftest/expected.json, written
// by record.ts only where conftest printed the same bytes): runs without conftest installed.
import test from "node:test";
import assert from "node:assert/strict";
import { scenarios, runPortcullis, readExpected, expectedKey, OUTPUT_FORMATS } from "./harness.ts";

const expected = readExpected();

for (const s of scenarios()) {
  test(`recorded: ${s.name}`, async () => {
    for (const f of s.formats ?? OUTPUT_FORMATS) {
      const want = expected[expectedKey(s, f)];
      assert.ok(want, `no recorded expectation for ${expectedKey(s, f)} (run test/conftest/record.ts)`);
      const got = await runPortcullis(s, f);
      assert.equal(got.stdout, want.stdout, `${f}: stdout differs\nstderr: ${got.stderr}`);
      assert.equal(got.code, want.code, `${f}: exit code`);
      if (s.stderr) assert.equal(got.stderr, want.stderr, `${f}: stderr differs`);
    }
  });
}
