// Hand-written K8sNativeValidation templates (fixtures/<case>/) against gator test's recorded
// answers (recorded/fixtures.json, from record-fixtures.ts): messages and their fallbacks,
// variables, params and namespaceObject, match conditions, compile and evaluation errors with
// failurePolicy Fail and Ignore, the cost budget, CEL over Rego and the flag that turns CEL off,
// and the Kubernetes libraries (quantity, IP/CIDR, URL, regex, lists, sets, strings, format,
// semver, optionals), whose results the messages spell out.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { FIXTURE_MODES, fixtureCases } from "./library.ts";
import { cli } from "../../cli/helpers.ts";
import { useFastEvaluator, fastStats } from "../../../src/gatekeeper/cel/engine.ts";

const here = path.dirname(fileURLToPath(import.meta.url));
const recorded = JSON.parse(fs.readFileSync(path.join(here, "recorded", "fixtures.json"), "utf8")) as Record<string, { stdout: string[]; stderr: string; code: number }>;

for (const c of fixtureCases()) {
  test(`fixture ${c.name}: portcullis test answers as gator test`, async () => {
    const cwd = process.cwd();
    process.chdir(c.dir);
    try {
      for (const [mode, flags] of Object.entries(FIXTURE_MODES)) {
        const want = recorded[`${c.name}:${mode}`];
        assert.ok(want, `no recording for ${c.name}:${mode}`);
        // gator test -f F… is portcullis test -p POLICIES… INPUTS… (templates and constraints are the policies).
        const policies = c.files.filter((f) => /^(template|constraint)/.test(f));
        const inputs = c.files.filter((f) => !policies.includes(f));
        const r = await cli(["test", ...flags, ...policies.flatMap((f) => ["-p", f]), ...inputs]);
        assert.deepEqual(r.out.split("\n").filter(Boolean).sort(), want.stdout, `${c.name} (${mode}) stdout`);
        assert.equal(r.code, want.code, `${c.name} (${mode}) exit code`);
        assert.equal(r.err, want.stderr, `${c.name} (${mode}) stderr`);
      }
    } finally {
      process.chdir(cwd);
    }
  });
}

// Variables are lazy values in Kubernetes: one that fails is an error value, absorbed by ||, &&
// and ?: like any error (`variables.bad || true` passes). The fixture runs above on Portcullis's
// evaluator; here on @bufbuild/cel's interpreter, the fallback, which must answer the same.
test("fixture lazyvars on @bufbuild/cel's interpreter: portcullis test answers as gator test", async () => {
  const c = fixtureCases().find((x) => x.name === "lazyvars")!;
  const want = recorded["lazyvars:cel"];
  const cwd = process.cwd();
  process.chdir(c.dir);
  useFastEvaluator(false);
  const before = fastStats.fastEvals;
  try {
    const policies = c.files.filter((f) => /^(template|constraint)/.test(f));
    const inputs = c.files.filter((f) => !policies.includes(f));
    const r = await cli(["test", ...policies.flatMap((f) => ["-p", f]), ...inputs]);
    assert.deepEqual(r.out.split("\n").filter(Boolean).sort(), want.stdout);
    assert.equal(r.code, want.code);
    assert.equal(fastStats.fastEvals, before, "every expression ran on the interpreter");
  } finally {
    useFastEvaluator(process.env.PORTCULLIS_CEL_EVALUATOR !== "bufbuild");
    process.chdir(cwd);
  }
});
