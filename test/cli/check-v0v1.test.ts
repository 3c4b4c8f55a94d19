// `portcullis check --v0-v1` (opa check --v0-v1: policies valid both as Rego v0 and v1: parsed as
// v0, so keywords exist only once imported, under v1's rules) and `check -s` (schema-typed input), against
// outputs recorded from opa check 1.19, and compared live with opa when it is installed.
import test from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { cli } from "./helpers.ts";
import { opaPath } from "../support/oracles.ts";

const dir = mkdtempSync(join(tmpdir(), "pc-v0v1-"));
process.chdir(dir);

// file → [source, exit code, opa check --v0-v1's stderr]
const CASES: Record<string, [string, number, string]> = {
  "e.rego": [
    "package e\np if { x := 1; x := 2 }\n",
    1,
    "3 errors occurred during loading:\ne.rego:2: rego_parse_error: var cannot be used for rule name\ne.rego:2: rego_parse_error: if keyword cannot be used for rule name\ne.rego:2: rego_parse_error: `if` keyword is required before rule body\n",
  ],
  "f.rego": [
    "package f\nimport data.foo\nimport data.foo\np if true\n",
    1,
    "3 errors occurred during loading:\nf.rego:4: rego_parse_error: var cannot be used for rule name\nf.rego:4: rego_parse_error: var cannot be used for rule name\nf.rego:4: rego_parse_error: boolean cannot be used for rule name\n",
  ],
  "fk.rego": ["package d\nimport future.keywords.if\np if true\n", 0, ""],
  "h.rego": [
    "package h\nx if { every y in [1] { y } }\n",
    1,
    "1 error occurred during loading: h.rego:2: rego_parse_error: unexpected identifier token: expected \\n or ; or } (hint: `import future.keywords.every` for `every x in xs { ... }` expressions)\n\tx if { every y in [1] { y } }\n\t             ^\n",
  ],
  "kw.rego": ["package c\nimport rego.v1\np if true\nif { true }\n", 1, "1 error occurred during loading: kw.rego:4: rego_parse_error: unexpected if keyword\n\tif { true }\n\t^\n"],
  "noif.rego": ["package b\n\np { true }\n", 1, "1 error occurred during loading: noif.rego:3: rego_parse_error: `if` keyword is required before rule body\n"],
  "ok.rego": [
    "package a\n\np if true\nq contains 1 if true\n",
    1,
    "8 errors occurred during loading:\nok.rego:3: rego_parse_error: var cannot be used for rule name\nok.rego:3: rego_parse_error: var cannot be used for rule name\nok.rego:3: rego_parse_error: boolean cannot be used for rule name\nok.rego:4: rego_parse_error: var cannot be used for rule name\nok.rego:4: rego_parse_error: var cannot be used for rule name\nok.rego:4: rego_parse_error: number cannot be used for rule name\nok.rego:4: rego_parse_error: var cannot be used for rule name\nok.rego:4: rego_parse_error: boolean cannot be used for rule name\n",
  ],
  "regov1.rego": ["package c\nimport rego.v1\np if true\n", 0, ""],
  // v1's compile checks apply too.
  "i.rego": ["package i\nimport rego.v1\nq := any([true])\n", 1, "1 error occurred: i.rego:3: rego_type_error: deprecated built-in function calls in expression: any\n"],
  "j.rego": ["package j\nimport rego.v1\nimport data.foo\nimport data.foo\np if true\n", 1, "1 error occurred: j.rego:4: rego_compile_error: import must not shadow import data.foo\n"],
};
for (const [f, [src]] of Object.entries(CASES)) writeFileSync(join(dir, f), src);

test("check --v0-v1: opa check --v0-v1's errors and exit codes (recorded)", async () => {
  for (const [f, [, code, err]] of Object.entries(CASES)) {
    const r = await cli(["check", "--v0-v1", f]);
    assert.deepEqual({ code: r.code, err: r.err, out: r.out }, { code, err, out: "" }, f);
  }
});

test("check --v0-v1: recordings identical to opa check when it is installed", (t) => {
  const opa = opaPath();
  if (!opa) {
    t.skip("opa not installed");
    return;
  }
  for (const [f, [, code, err]] of Object.entries(CASES)) {
    const r: { status: number | null; stderr: string } = spawnSync(opa, ["check", "--v0-v1", f], { encoding: "utf8" });
    assert.deepEqual({ code: r.status, err: r.stderr }, { code, err }, f);
  }
});

test("check --v0-v1 is stricter than either version alone", async () => {
  // Valid v1 (keywords built in) but not v0-v1; valid v0 but not v1.
  assert.equal((await cli(["check", "ok.rego"])).code, 0);
  assert.equal((await cli(["check", "--v0-compatible", "noif.rego"])).code, 0);
  assert.equal((await cli(["check", "--v0-v1", "ok.rego"])).code, 1);
  assert.equal((await cli(["check", "--v0-v1", "noif.rego"])).code, 1);
});



// check -s: a JSON Schema types the input; answers recorded from opa check 1.19.
const SCHEMA = {
  type: "object",
  properties: { user: { type: "object", properties: { name: { type: "string" }, age: { type: "integer" } } } },
};
const TYPED = 'package p\n\nr if input.user.nmae == "x"\n\ns if input.user.age == "x"\n';
const TYPED_ERR =
  '2 errors occurred:\nc.rego:3: rego_type_error: undefined ref: input.user.nmae\n\tinput.user.nmae\n\t           ^\n\t           have: "nmae"\n\t           want (one of): ["age" "name"]\nc.rego:5: rego_type_error: match error\n\tleft  : number\n\tright : string\n';
const TYPED_JSON = {
  errors: [
    {
      message: "undefined ref: input.user.nmae",
      code: "rego_type_error",
      location: { file: "c.rego", row: 3, col: 6 },
      details: {
        ref: [
          { type: "var", value: "input" },
          { type: "string", value: "user" },
          { type: "string", value: "nmae" },
        ],
        pos: 2,
        want: { type: "string" },
        oneOf: ["age", "name"],
      },
    },
    { message: "match error", code: "rego_type_error", location: { file: "c.rego", row: 5, col: 6 }, details: { a: { type: "number" }, b: { type: "string" } } },
  ],
};

test("check -s: schema-typed input, as opa check reports it (pretty and JSON; missing file)", async () => {
  writeFileSync("schema.json", JSON.stringify(SCHEMA));
  writeFileSync("c.rego", TYPED);
  const pretty = await cli(["check", "-s", "schema.json", "c.rego"]);
  assert.deepEqual([pretty.code, pretty.err], [1, TYPED_ERR]);
  const json = await cli(["check", "-f", "json", "-s", "schema.json", "c.rego"]);
  assert.equal(json.code, 1);
  assert.deepEqual(JSON.parse(json.err), TYPED_JSON);
  // Without the schema the input is untyped: no error.
  assert.equal((await cli(["check", "c.rego"])).code, 0);
  const missing = await cli(["check", "-s", "nope.json", "c.rego"]);
  assert.deepEqual([missing.code, missing.err], [1, "1 error occurred during loading: stat nope.json: no such file or directory\n"]);
  const bin = opaPath();
  if (bin) {
    const live = spawnSync(bin, ["check", "-s", "schema.json", "c.rego"], { encoding: "utf8" });
    assert.deepEqual([live.status, live.stderr], [1, TYPED_ERR]);
    const liveJSON = spawnSync(bin, ["check", "-f", "json", "-s", "schema.json", "c.rego"], { encoding: "utf8" });
    assert.deepEqual(JSON.parse(liveJSON.stdout || liveJSON.stderr), TYPED_JSON);
  }
});
