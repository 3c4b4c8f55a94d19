// `portcullis eval` output, compared byte for byte with `opa eval` when it is installed
// (~/go/bin/opa or PATH), and exit codes / error text without it.
import test from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { cli } from "./helpers.ts";
import { opaPath } from "../support/oracles.ts";

const run = cli;

const dir = mkdtempSync(join(tmpdir(), "pc-eval-"));
writeFileSync(
  join(dir, "p.rego"),
  `package example

default allow := false

allow if input.user == "alice"

names contains n if some n in input.names

big := 12345678901234567890 * 3

msg := sprintf("%v <%s> & %d", [{"b": [1, {2}]}, input.user, 7])
`,
);
writeFileSync(join(dir, "input.json"), JSON.stringify({ user: "alice", names: ["z", "a", "z"] }));
writeFileSync(join(dir, "bad.rego"), "package bad\n\nq := }\n");

const queries = ["data.example", "data.example.allow", "x := data.example.names[_]", "data.example.nope", "1 == 2", "x := [1, 2][_]; y := x * 2"];
const formats = ["json", "values", "bindings", "raw", "pretty"];

test("eval prints what opa eval prints", async (t) => {
  const opa = opaPath();
  if (!opa) {
    t.skip("opa not installed");
    return;
  }
  let same = 0;
  for (const q of queries) {
    for (const f of formats) {
      const args = ["eval", "-d", join(dir, "p.rego"), "-i", join(dir, "input.json"), "-f", f, q];
      const ours = await run(args);
      const theirs: string = execFileSync(opa, args, { encoding: "utf8" });
      assert.equal(ours.out, theirs, `${f} ${q}`);
      same++;
    }
  }
  t.diagnostic(`${same} outputs identical to opa eval`);
});

test("eval errors: parse error exits 2 (as opa eval) naming file and row; unknown format; missing file", async () => {
  const a = await run(["eval", "-f", "pretty", "-d", join(dir, "bad.rego"), "data"]);
  assert.equal(a.code, 2);
  assert.match(a.err, /bad\.rego:3: rego_parse_error: unexpected } token/);
  const b = await run(["eval", "-f", "xml", "1"]);
  assert.equal(b.code, 1);
  assert.match(b.err, /unknown format/);
  const c = await run(["eval", "-d", join(dir, "missing.rego"), "1"]);
  assert.equal(c.code, 2);
  assert.match(c.err, /missing\.rego: no such file or directory/);
  assert.ok(existsSync(dir));
});
