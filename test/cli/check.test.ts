// `portcullis check` against `opa check` (run live when opa is in ~/go/bin or PATH, else the
// output recorded in examples/check/expected.json by scripts/record-check-expected.ts).
import { cli } from "./helpers.ts";
import test from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync, mkdtempSync, writeFileSync, mkdirSync, rmSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { fileURLToPath } from "node:url";
import { checkFiles } from "../../src/check/index.ts";
import { formatCheckErrors, checkErrorsJSON } from "../../src/cli/check.ts";
import { findOpa } from "../../scripts/compare-check.ts";
import { corpusModules } from "../../scripts/rego-corpus.ts";

const DIR = fileURLToPath(new URL("../../examples/check/", import.meta.url));
const OPA = findOpa();
const RECORDED = JSON.parse(readFileSync(join(DIR, "expected.json"), "utf8")) as Record<string, Record<string, string>>;
const FILES = readdirSync(DIR).filter((f) => f.endsWith(".rego")).sort();
/** Files whose errors OPA lists in an order that varies between runs (it walks Go maps). */
const ORDER_VARIES = new Set(["20-conflicting-rules.rego"]);

function opaRun(args: string[], cwd: string): string {
  try {
    execFileSync(OPA!, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    return "";
  } catch (e) {
    return String((e as { stderr?: string }).stderr ?? "");
  }
}

function ours(file: string, mode: string): string {
  const strict = mode.startsWith("strict");
  const json = mode.endsWith("json");
  const cwd = process.cwd();
  process.chdir(DIR);
  try {
    const r = checkFiles([file], { strict, regoVersion: file.endsWith(".v0.rego") ? "v0" : "v1" });
    if (r.errors.length === 0) return "";
    return json ? checkErrorsJSON(r) : formatCheckErrors(r);
  } finally {
    process.chdir(cwd);
  }
}

function expected(file: string, mode: string): string {
  if (!OPA) return RECORDED[file]?.[mode] ?? "";
  const args = ["check"];
  if (mode.startsWith("strict")) args.push("--strict");
  if (mode.endsWith("json")) args.push("--format", "json");
  if (file.endsWith(".v0.rego")) args.push("--v0-compatible");
  return opaRun([...args, file], DIR);
}

const sortedLines = (s: string) => s.split("\n").sort().join("\n");

for (const mode of ["strict", "strict-json", "plain", "plain-json"]) {
  test(`check ${mode}: examples/check match ${OPA ? "opa check" : "recorded opa check output"}`, (t) => {
    assert.ok(FILES.length >= 20, "at least 20 example modules");
    const bad: string[] = [];
    for (const f of FILES) {
      const want = expected(f, mode);
      const got = ours(f, mode);
      const same = ORDER_VARIES.has(f) ? sortedLines(want) === sortedLines(got) : want === got;
      if (!same) bad.push(`${f}\n--- opa\n${want}--- portcullis\n${got}`);
    }
    t.diagnostic(`${FILES.length - bad.length}/${FILES.length} identical`);
    assert.deepEqual(bad, []);
  });
}

test("check strict: every example except the clean one has errors", () => {
  for (const f of FILES) {
    const got = ours(f, "strict");
    if (f === "25-clean.rego") assert.equal(got, "", f);
    else assert.notEqual(got, "", f);
  }
});


test("check CLI: exit codes, missing paths, directories, formats", async () => {
  const dir = mkdtempSync(join(tmpdir(), "portcullis-check-"));
  try {
    writeFileSync(join(dir, "ok.rego"), "package ok\n\nallow if input.x == 1\n");
    mkdirSync(join(dir, "sub"));
    writeFileSync(join(dir, "sub", "bad.rego"), "package bad\n\nallow if {\n\tx := 1\n}\n");
    writeFileSync(join(dir, "sub", "notes.txt"), "not rego\n");
    let r = await cli(["check", join(dir, "ok.rego")]);
    assert.equal(r.code, 0);
    assert.equal(r.out + r.err, "");
    r = await cli(["check", dir]);
    assert.equal(r.code, 0, "unused assignment is fine without --strict");
    r = await cli(["check", "--strict", dir]);
    assert.equal(r.code, 1);
    assert.equal(r.err, `1 error occurred: ${join(dir, "sub", "bad.rego")}:4: rego_compile_error: assigned var x unused\n`);
    r = await cli(["check", "-S", "-f", "json", dir]);
    assert.equal(r.code, 1);
    assert.equal(JSON.parse(r.err).errors[0].message, "assigned var x unused");
    r = await cli(["check", join(dir, "missing.rego")]);
    assert.equal(r.code, 1);
    assert.equal(r.err, `1 error occurred during loading: stat ${join(dir, "missing.rego")}: no such file or directory\n`);
    r = await cli(["check", "-f", "json", join(dir, "missing.rego")]);
    assert.deepEqual(JSON.parse(r.err), { errors: [{ message: `stat ${join(dir, "missing.rego")}: no such file or directory` }] });
    r = await cli(["check"]);
    assert.equal(r.code, 1);
    assert.match(r.err, /specify at least one file/);
    r = await cli(["check", "--format", "yaml", dir]);
    assert.equal(r.code, 1);
    writeFileSync(join(dir, "empty.rego"), "");
    r = await cli(["check", join(dir, "empty.rego")]);
    assert.equal(r.err, `1 error occurred during loading: ${join(dir, "empty.rego")}:0: rego_parse_error: empty module\n`);
    r = await cli(["check", "-m", "0", "--strict", join(DIR, "22-error-limit.rego")]);
    assert.match(r.err, /^12 errors occurred:/);
    assert.doesNotMatch(r.err, /error limit reached/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("check: corpus modules (../shared) match opa check", { skip: !OPA ? "opa not installed" : corpusModules().length === 0 ? "../shared not present" : false }, (t) => {
  const dir = mkdtempSync(join(tmpdir(), "portcullis-corpus-"));
  try {
    const mods = corpusModules().filter((m) => m.regoVersion === "v1");
    let same = 0;
    const cwd = process.cwd();
    for (const [i, m] of mods.entries()) {
      const f = `m${i}.rego`;
      writeFileSync(join(dir, f), m.source);
      for (const strict of [false, true]) {
        const want = opaRun(["check", ...(strict ? ["--strict"] : []), f], dir);
        process.chdir(dir);
        let got: string;
        try {
          const r = checkFiles([f], { strict });
          got = r.errors.length ? formatCheckErrors(r) : "";
        } finally {
          process.chdir(cwd);
        }
        if (want === got) same++;
      }
    }
    const total = mods.length * 2;
    t.diagnostic(`${same}/${total} identical (v1 conformance modules, plain and --strict)`);
    // Remaining differences come from compiler messages (see docs/CHECK.md).
    assert.ok(same / total >= 0.97, `only ${same}/${total} identical`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
