// `portcullis fmt`: output modes, writing, exit codes and parse errors.
import test from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync, readFileSync, mkdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runFmt, type FmtOptions } from "../../src/cli/fmt.ts";
import { unifiedDiff } from "../../src/output/diff.ts";
import { main } from "../../src/cli/main.ts";

const UGLY = "package a\np:=1\nq   if {\n  input.x\n}\n";
const PRETTY = "package a\n\np := 1\nq if {\n\tinput.x\n}\n"; // as opa fmt prints it
const V0 = "package b\n\ndeny[msg] {\n  msg := \"no\"\n}\n";

function setup(): string {
  const dir = mkdtempSync(join(tmpdir(), "portcullis-fmt-cli-"));
  writeFileSync(join(dir, "ugly.rego"), UGLY);
  writeFileSync(join(dir, "pretty.rego"), PRETTY);
  mkdirSync(join(dir, "sub"));
  writeFileSync(join(dir, "sub", "also.rego"), "package c\nr:=2\n");
  writeFileSync(join(dir, "sub", "notes.txt"), "p:=1\n");
  mkdirSync(join(dir, ".hidden"));
  writeFileSync(join(dir, ".hidden", "x.rego"), "package h\nx:=1\n");
  return dir;
}

function run(paths: string[], o: FmtOptions, stdin?: string): { code: number; out: string; err: string } {
  let out = "";
  let err = "";
  const code = runFmt(paths, o, { out: (s) => (out += s), err: (s) => (err += s), readStdin: () => stdin ?? "" });
  return { code, out, err };
}

test("fmt: prints the formatted source of each file", () => {
  const dir = setup();
  try {
    const r = run([join(dir, "ugly.rego"), join(dir, "pretty.rego")], {});
    assert.equal(r.code, 0);
    assert.equal(r.out, PRETTY + PRETTY);
    assert.equal(readFileSync(join(dir, "ugly.rego"), "utf8"), UGLY, "nothing written without -w");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("fmt: directories are walked for .rego files (hidden entries skipped)", () => {
  const dir = setup();
  try {
    const r = run([dir], { list: true });
    assert.equal(r.code, 0);
    assert.equal(r.out, `${join(dir, "sub", "also.rego")}\n${join(dir, "ugly.rego")}\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("fmt: --write rewrites only the files that change, printing nothing", () => {
  const dir = setup();
  try {
    const r = run([dir], { write: true });
    assert.equal(r.code, 0);
    assert.equal(r.out, "");
    assert.equal(readFileSync(join(dir, "ugly.rego"), "utf8"), PRETTY);
    assert.equal(readFileSync(join(dir, "sub", "also.rego"), "utf8"), "package c\n\nr := 2\n");
    assert.equal(readFileSync(join(dir, "sub", "notes.txt"), "utf8"), "p:=1\n");
    assert.equal(readFileSync(join(dir, ".hidden", "x.rego"), "utf8"), "package h\nx:=1\n");
    // Formatting again changes nothing.
    assert.equal(run([dir], { list: true }).out, "");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("fmt: --diff prints a unified diff of the files that would change", () => {
  const dir = setup();
  try {
    const file = join(dir, "ugly.rego");
    const r = run([file, join(dir, "pretty.rego")], { diff: true });
    assert.equal(r.code, 0);
    assert.equal(
      r.out,
      `--- ${file}\n+++ ${file} (formatted)\n@@ -1,5 +1,6 @@\n package a\n-p:=1\n-q   if {\n-  input.x\n+\n+p := 1\n+q if {\n+\tinput.x\n }\n`,
    );
    assert.equal(readFileSync(file, "utf8"), UGLY);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("fmt: unified diff hunks keep three lines of context", () => {
  const a = Array.from({ length: 20 }, (_, i) => `l${i}`).join("\n") + "\n";
  const b = a.replace("l3\n", "L3\n").replace("l16\n", "L16\n");
  assert.equal(unifiedDiff("f", a, b), "--- f\n+++ f (formatted)\n@@ -1,7 +1,7 @@\n l0\n l1\n l2\n-l3\n+L3\n l4\n l5\n l6\n@@ -14,7 +14,7 @@\n l13\n l14\n l15\n-l16\n+L16\n l17\n l18\n l19\n");
});

test("fmt: --list names the files that would change; --fail and --check exit 1 for them", () => {
  const dir = setup();
  try {
    const ugly = join(dir, "ugly.rego");
    const pretty = join(dir, "pretty.rego");
    assert.deepEqual(run([ugly, pretty], { list: true }), { code: 0, out: `${ugly}\n`, err: "" });
    assert.equal(run([ugly, pretty], { fail: true }).code, 1);
    assert.equal(run([pretty], { fail: true }).code, 0);
    assert.deepEqual(run([ugly, pretty], { check: true }), { code: 1, out: `${ugly}\n`, err: "" });
    assert.deepEqual(run([pretty], { check: true }), { code: 0, out: "", err: "" });
    // --check writes nothing, even with --write.
    assert.equal(run([ugly], { check: true, write: true }).code, 1);
    assert.equal(readFileSync(ugly, "utf8"), UGLY);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("fmt: a file that does not parse is reported with its position and left alone", () => {
  const dir = setup();
  try {
    const bad = join(dir, "bad.rego");
    writeFileSync(bad, "package bad\n\np := [1,\n");
    const r = run([bad, join(dir, "ugly.rego")], { write: true });
    assert.equal(r.code, 1);
    assert.match(r.err, new RegExp(`^${bad.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:\\d+:\\d+: rego_parse_error: `));
    assert.equal(readFileSync(bad, "utf8"), "package bad\n\np := [1,\n");
    assert.equal(readFileSync(join(dir, "ugly.rego"), "utf8"), PRETTY, "the other files are still formatted");
    // v0 syntax is a parse error unless --v0-compatible.
    writeFileSync(bad, V0);
    const v = run([bad], {});
    assert.equal(v.code, 1);
    assert.match(v.err, /:3:\d+: rego_parse_error: `if` keyword is required before rule body/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("fmt: a missing path is an error", () => {
  const r = run(["/nonexistent/x.rego"], {});
  assert.equal(r.code, 1);
  assert.match(r.err, /no such file or directory/);
});

test("fmt: - (or no path) reads standard input", () => {
  assert.deepEqual(run(["-"], {}, UGLY), { code: 0, out: PRETTY, err: "" });
  assert.deepEqual(run([], {}, UGLY), { code: 0, out: PRETTY, err: "" });
  assert.deepEqual(run(["-"], { list: true }, UGLY), { code: 0, out: "stdin\n", err: "" });
  const bad = run(["-"], {}, "package x\np := \n");
  assert.equal(bad.code, 1);
  assert.match(bad.err, /^stdin:\d+:\d+: rego_parse_error: /);
});

test("fmt: --v0-compatible keeps v0 syntax; --v0-v1 writes v1 with import rego.v1", () => {
  assert.deepEqual(run(["-"], { v0Compatible: true }, V0), { code: 0, out: 'package b\n\ndeny[msg] {\n\tmsg := "no"\n}\n', err: "" });
  assert.deepEqual(run(["-"], { v0v1: true }, V0), { code: 0, out: 'package b\n\nimport rego.v1\n\ndeny contains msg if {\n\tmsg := "no"\n}\n', err: "" });
});

test("fmt: registered on the command line", async () => {
  let out = "";
  const io = { out: (s: string) => void (out += s), err: () => {}, exitCode: 0 };
  const dir = setup();
  try {
    const code = await main(["fmt", "--fail", join(dir, "ugly.rego")], io);
    assert.equal(code, 1);
    assert.equal(out, PRETTY);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("fmt: conftest's --rego-version v0|v1 (v0 is --v0-compatible); another value is conftest's error", async () => {
  const dir = mkdtempSync(join(tmpdir(), "portcullis-fmt-rv-"));
  try {
    writeFileSync(join(dir, "old.rego"), V0);
    const go = async (args: string[]) => {
      let out = "";
      let err = "";
      const io = { out: (s: string) => void (out += s), err: (s: string) => void (err += s), exitCode: 0 };
      const code = await main(["fmt", ...args, join(dir, "old.rego")], io);
      return { code, out, err };
    };
    assert.deepEqual(await go(["--rego-version", "v0"]), { code: 0, out: 'package b\n\ndeny[msg] {\n\tmsg := "no"\n}\n', err: "" });
    const v1 = await go(["--rego-version", "v1"]);
    assert.equal(v1.code, 1);
    assert.match(v1.err, /rego_parse_error: `if` keyword is required before rule body/);
    // Recorded from conftest 0.71.1: `conftest fmt --rego-version v2 x.rego`.
    assert.deepEqual(await go(["--rego-version", "v2"]), { code: 1, out: "", err: "Error: failed to parse rego-version flag: invalid Rego version: v2\n" });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
