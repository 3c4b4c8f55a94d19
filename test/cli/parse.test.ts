// `portcullis parse FILE.rego` against `opa parse`: examples/parse (recorded opa output) and the
// conformance and Gatekeeper modules of ../shared (opa run live; skipped when absent).
import { cli } from "./helpers.ts";
import test from "node:test";
import assert from "node:assert/strict";
import { readFileSync, mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { fileURLToPath } from "node:url";
import { parseModule } from "../../src/rego/parser.ts";
import { regoJSON, regoPretty } from "../../src/rego/astprint.ts";
import { findOpa } from "../../scripts/compare-check.ts";
import { opaParse } from "../../scripts/compare-parse.ts";
import { corpusModules } from "../../scripts/rego-corpus.ts";

const DIR = fileURLToPath(new URL("../../examples/parse/", import.meta.url));
const OPA = findOpa();

function render(file: string, source: string, v0: boolean, mode: string): string {
  const m = parseModule(file, source, { regoVersion: v0 ? "v0" : "v1" });
  if (mode === "pretty") return regoPretty(m);
  return regoJSON(m, source, { locations: mode === "locations" });
}

test("parse: examples/parse match recorded opa parse output (tree, JSON, JSON with locations)", () => {
  const cwd = process.cwd();
  process.chdir(DIR); // file names in locations are as given to opa
  try {
    for (const f of ["features.rego", "refheads.rego", "legacy.v0.rego"]) {
      const src = readFileSync(f, "utf8");
      const base = f.replace(/\.rego$/, "");
      const v0 = f.endsWith(".v0.rego");
      assert.equal(render(f, src, v0, "pretty"), readFileSync(`${base}.pretty.txt`, "utf8"), `${f} pretty`);
      assert.equal(render(f, src, v0, "json"), readFileSync(`${base}.json`, "utf8"), `${f} json`);
      assert.equal(render(f, src, v0, "locations"), readFileSync(`${base}.locations.json`, "utf8"), `${f} locations`);
    }
  } finally {
    process.chdir(cwd);
  }
});


test("parse CLI: formats, --json-include, errors", async () => {
  const dir = mkdtempSync(join(tmpdir(), "portcullis-parse-"));
  try {
    const ok = join(dir, "ok.rego");
    writeFileSync(ok, "package ok\n\n# a comment\nallow if input.x == 1\n");
    let r = await cli(["parse", ok]);
    assert.equal(r.code, 0);
    assert.match(r.out, /^module\n package\n  ref\n   data\n   "ok"\n rule\n/);
    assert.match(r.out, / comment\n$/);
    r = await cli(["parse", "--format", "json", ok]);
    const j = JSON.parse(r.out);
    assert.equal(j.rules[0].head.name, "allow");
    assert.equal(j.comments.length, 1);
    assert.equal(j.rules[0].location, undefined);
    r = await cli(["parse", "-f", "json", "--json-include", "locations,-comments", ok]);
    const k = JSON.parse(r.out);
    assert.equal(k.comments, undefined);
    assert.deepEqual(k.rules[0].location, { file: ok, row: 4, col: 1, text: Buffer.from("allow if input.x == 1").toString("base64") });
    const bad = join(dir, "bad.rego");
    writeFileSync(bad, "package bad\n\nallow if {\n\tinput.x == [1 2]\n}\n");
    r = await cli(["parse", bad]);
    assert.equal(r.code, 1);
    assert.equal(r.out, "");
    const e = JSON.parse(r.err).errors[0];
    assert.equal(e.code, "rego_parse_error");
    assert.deepEqual(e.details, { line: "\tinput.x == [1 2]", idx: 15 });
    r = await cli(["parse", join(dir, "missing.rego")]);
    assert.equal(r.code, 1);
    assert.deepEqual(JSON.parse(r.err), { errors: [{ message: `open ${join(dir, "missing.rego")}: no such file or directory` }] });
    r = await cli(["parse", "--format", "yaml", ok]);
    assert.equal(r.code, 1);
    // Configuration files still print as conftest parse prints them.
    const cfg = join(dir, "c.yaml");
    writeFileSync(cfg, "a: 1\n");
    r = await cli(["parse", cfg]);
    assert.equal(r.out, '{\n  "a": 1\n}\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("parse: corpus modules (../shared) match opa parse", { skip: !OPA ? "opa not installed" : corpusModules().length === 0 ? "../shared not present" : false }, (t) => {
  const dir = mkdtempSync(join(tmpdir(), "portcullis-parse-corpus-"));
  const cwd = process.cwd();
  try {
    const mods = corpusModules();
    const modes = ["json", "locations", "pretty"] as const;
    const same: Record<string, number> = { json: 0, locations: 0, pretty: 0 };
    let parsed = 0;
    process.chdir(dir);
    mods.forEach((m, i) => {
      const f = `m${i}.rego`;
      writeFileSync(f, m.source);
      const v0 = m.regoVersion === "v0";
      let ours: Record<string, string> | null;
      try {
        ours = Object.fromEntries(modes.map((mode) => [mode, render(f, m.source, v0, mode)]));
      } catch {
        ours = null;
      }
      const first = opaParse(OPA!, f, "json", false, v0);
      if (first === null || ours === null) return; // modules that do not parse (either side) are check's business
      parsed++;
      if (first === ours.json) same.json++;
      if (opaParse(OPA!, f, "json", true, v0) === ours.locations) same.locations++;
      if (opaParse(OPA!, f, "pretty", false, v0) === ours.pretty) same.pretty++;
    });
    for (const mode of modes) t.diagnostic(`${mode}: ${same[mode]}/${parsed} identical`);
    assert.ok(same.json / parsed >= 0.99, `json: ${same.json}/${parsed}`);
    assert.ok(same.pretty / parsed >= 0.99, `pretty: ${same.pretty}/${parsed}`);
    assert.ok(same.locations / parsed >= 0.97, `locations: ${same.locations}/${parsed}`);
  } finally {
    process.chdir(cwd);
    rmSync(dir, { recursive: true, force: true });
  }
});
