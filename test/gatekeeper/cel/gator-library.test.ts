// `portcullis test` / `portcullis verify` against gator's recorded answers on every CEL
// (K8sNativeValidation) sample directory of the gatekeeper-library: the library in ../shared and
// the versioned library (artifacthub/, extracted from a git mirror at the recorded commit).
// Recorded with test/gatekeeper/cel/record.ts; the comparison runs without gator and skips the
// sets whose library is absent.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { sharedSamples, versionedSamples, verifySummary, type SampleDir, type Recorded } from "./library.ts";
import { gatorTest } from "../../../src/gatekeeper/gatortest.ts";
import { cli } from "../../cli/helpers.ts";

const here = path.dirname(fileURLToPath(import.meta.url));
const recorded = JSON.parse(fs.readFileSync(path.join(here, "recorded", "gator-library.json"), "utf8")) as { entries: Record<string, Recorded> };
const lines = (s: string) => s.split("\n").filter(Boolean).sort();

async function compare(set: string, dirs: SampleDir[]): Promise<{ test: number; rego: number; verify: number; cases: number }> {
  const n = { test: 0, rego: 0, verify: 0, cases: 0 };
  for (const d of dirs) {
    const rec = recorded.entries[`${set}:${d.key}`];
    assert.ok(rec, `no recorded answer for ${set}:${d.key} (re-run record.ts)`);
    const mine = await gatorTest(d.files, []);
    assert.deepEqual({ lines: lines(mine.stdout), code: mine.exitCode }, rec.test, `gator test ${d.key}`);
    n.test++;
    const rego = await gatorTest(d.files, [], { k8sNativeValidation: false });
    assert.deepEqual({ lines: lines(rego.stdout), code: rego.exitCode }, rec.testRego, `gator test --enable-k8s-native-validation=false ${d.key}`);
    n.rego++;
    if (rec.verify) {
      const v = await cli(["verify", "-v", `${d.dir}/...`]);
      assert.equal(verifySummary(v.out, d.dir), rec.verify.out, `gator verify ${d.key}`);
      assert.equal(v.code, rec.verify.code, `gator verify exit code ${d.key}`);
      n.verify++;
      n.cases += (rec.verify.out.match(/--- PASS/g) ?? []).length;
    }
  }
  return n;
}

test("CEL templates of the library in ../shared: test and verify as gator", { timeout: 120_000 }, async (t) => {
  const dirs = sharedSamples();
  if (!dirs) return t.skip("no gatekeeper-library in ../shared");
  const n = await compare("shared", dirs);
  assert.equal(n.test, 16);
  t.diagnostic(JSON.stringify(n));
});

test("CEL templates of the versioned library: test and verify as gator", { timeout: 240_000 }, async (t) => {
  const dirs = versionedSamples();
  if (!dirs) return t.skip("no gatekeeper-library git mirror with the recorded commit (GATEKEEPER_LIBRARY_GIT)");
  const n = await compare("versioned", dirs);
  assert.equal(n.test, 42);
  t.diagnostic(JSON.stringify(n));
});
