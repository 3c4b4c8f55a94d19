// `portcullis parse` (configuration files) against `conftest parse`, byte for byte, for every
// example input, several files at once and --combine; plus layout checks that run without it.
import test from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { parseConfigsText } from "../../src/cli/parse-command.ts";
import { ROOT, EXAMPLES, exampleInputs, findConftest } from "./harness.ts";

const bin = findConftest();

function ours(args: string[], combine = false): string {
  const cwd = process.cwd();
  process.chdir(ROOT);
  try {
    return parseConfigsText(args, { combine });
  } finally {
    process.chdir(cwd);
  }
}

const cases: { args: string[]; combine?: boolean }[] = [];
for (const e of EXAMPLES) {
  if (e === "textproto") continue; // needs --proto-file-dirs from the example's conftest.toml
  for (const f of exampleInputs(`examples/${e}`)) cases.push({ args: [`examples/${e}/${f}`] });
}
cases.push({ args: ["examples/kubernetes/deployment.yaml", "examples/json/app.json", "examples/dockerfile/Dockerfile"] });
cases.push({ args: ["examples/kubernetes/batch.yaml", "examples/dockerfile/Dockerfile", "examples/json/app.json"], combine: true });

test("parse: byte for byte with conftest parse", { skip: bin ? false : "conftest not installed" }, (t) => {
  let same = 0;
  const diffs: string[] = [];
  for (const c of cases) {
    const r = spawnSync(bin!, ["parse", ...(c.combine ? ["--combine"] : []), ...c.args], { cwd: ROOT, encoding: "utf8" });
    const mine = ours(c.args, c.combine);
    if (r.stdout === mine) same++;
    else diffs.push(c.args.join(" "));
  }
  t.diagnostic(`${same}/${cases.length} identical`);
  assert.deepEqual(diffs, []);
});

test("parse: layouts (one value, keyed by path, combined with tabs and a final blank line)", () => {
  const one = ours(["test/fixtures/conftest/exceptions/a.json"]);
  assert.equal(one, '{\n  "x": 5\n}\n');
  const two = ours(["test/fixtures/conftest/exceptions/b.json", "test/fixtures/conftest/exceptions/a.json"]);
  assert.equal(two, '{\n  "test/fixtures/conftest/exceptions/a.json": {\n    "x": 5\n  },\n  "test/fixtures/conftest/exceptions/b.json": {\n    "x": 1\n  }\n}\n');
  const combined = ours(["test/fixtures/conftest/exceptions/b.json"], true);
  assert.equal(combined, '[\n\t{\n\t\t"path": "test/fixtures/conftest/exceptions/b.json",\n\t\t"contents": {\n\t\t\t"x": 1\n\t\t}\n\t}\n]\n\n');
});

test("parse: a CycloneDX XML BOM as conftest v0.71.1 prints it (recorded; live when conftest is installed)", () => {
  const file = "test/fixtures/cyclonedx/sbom.xml";
  // recorded from `conftest parse --parser cyclonedx` (Go's decoder: empty <hashes/> etc. left
  // out, namespace attributes of <bom> dropped, bomFormat "" and specVersion "SpecVersion(0)")
  const want = readFileSync(`${ROOT}/${file}.conftest-parse.json`, "utf8");
  const cwd = process.cwd();
  process.chdir(ROOT);
  try {
    assert.equal(parseConfigsText([file], { parser: "cyclonedx" }), want);
  } finally {
    process.chdir(cwd);
  }
  if (bin) assert.equal(spawnSync(bin, ["parse", "--parser", "cyclonedx", file], { cwd: ROOT, encoding: "utf8" }).stdout, want);
});
