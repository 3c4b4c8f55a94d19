// Differential test against the real `gator verify` on the gatekeeper-library (skipped when gator
// or the library is absent): `portcullis verify library/...` prints what `gator verify
// library/...` prints (durations aside) with the same exit code. gator runs with its CEL driver
// off (Portcullis evaluates the templates' Rego).
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { cli } from "../cli/helpers.ts";
import { findGator, LIBRARY } from "./gator-recorded.ts";

const durations = (s: string) => s.replace(/(\t|\()\d+(\.\d+)?(ns|µs|ms|s)(\)?)$/gm, "$1T$4");

test("verify: the gatekeeper-library's suites print as gator verify prints them", { timeout: 120_000 }, async (t) => {
  const gator = findGator();
  if (!gator) return t.skip("gator is not installed");
  if (!fs.existsSync(LIBRARY)) return t.skip(`no library at ${LIBRARY}`);
  const cwd = path.dirname(LIBRARY);
  const g = spawnSync(gator, ["verify", "--enable-k8s-native-validation=false", "library/..."], { cwd, encoding: "utf8", timeout: 100_000 });
  const here = process.cwd();
  process.chdir(cwd);
  let ours;
  try {
    ours = await cli(["verify", "library/..."]);
  } finally {
    process.chdir(here);
  }
  assert.equal(durations(ours.out), durations(g.stdout));
  assert.equal(ours.err, g.stderr);
  assert.equal(ours.code, g.status);
  const suites = (g.stdout.match(/^ok\t/gm) ?? []).length;
  t.diagnostic(`${suites} suites, identical output`);
});
