// `portcullis eval` against answers recorded from `opa eval` 1.19.0, byte for byte: every file of
// test/cli/recorded/ (number literal text, …). Re-record with scripts/record-opa-eval.ts.
import test from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { replay, type RecordedCase } from "./recorded-cases.ts";

const DIR = join(import.meta.dirname, "recorded");

for (const name of readdirSync(DIR).filter((n) => n.endsWith(".json")).sort()) {
  const doc = JSON.parse(readFileSync(join(DIR, name), "utf8")) as { cases: RecordedCase[] };
  test(`recorded opa eval answers: ${name}`, async (t) => {
    assert.ok(doc.cases.length > 0);
    for (const c of doc.cases) {
      await t.test(c.name, async () => {
        const got = await replay(c);
        assert.deepEqual(got, { code: c.code, out: c.out, err: c.err });
      });
    }
  });
}
