// `eval --explain` and `verify --explain` flags: modes, errors and output shapes (the trace lines
// themselves are compared with OPA's in test/rego/trace.test.ts).
import test from "node:test";
import assert from "node:assert/strict";
import { cli } from "./helpers.ts";

const P = "test/fixtures/trace/p.rego";
const IN = "test/fixtures/trace/in.json";

test("eval --explain: an unknown mode is an error naming the modes (as opa eval's)", async () => {
  const r = await cli(["eval", "--explain=bogus", "-d", P, "data.x.allow"]);
  assert.equal(r.code, 1);
  assert.equal(r.out, "");
  assert.match(r.err, /invalid argument "bogus" for "--explain" flag: must be one of \{off,full,notes,fails,debug\}/);
});

test("eval --explain=notes -f pretty: the notes with their path, then the result (opa eval's output)", async () => {
  const r = await cli(["eval", "--explain=notes", "-f", "pretty", "-d", P, "-i", IN, "data.x.allow"]);
  assert.equal(r.code, 0);
  // Recorded from opa eval --explain=notes -f pretty (OPA 1.19.0).
  assert.equal(r.out, 'query:1                          Enter data.x.allow = _\ntest/fixtures/trace/p.rego:3     | Enter data.x.allow\ntest/fixtures/trace/p.rego:5     | | Note "hello"\ntrue\n');
});

test("eval --explain with -f values or raw prints no trace (as opa eval); off is the default", async () => {
  const v = await cli(["eval", "--explain=full", "-f", "values", "-d", P, "-i", IN, "data.x.allow"]);
  assert.equal(v.out, "[\n  true\n]\n");
  const off = await cli(["eval", "--explain=off", "-f", "pretty", "-d", P, "-i", IN, "data.x.allow"]);
  assert.equal(off.out, "true\n");
});

test("eval --explain -f json: an explanation array beside the result", async () => {
  const r = await cli(["eval", "--explain=notes", "-d", P, "-i", IN, "data.x.allow"]);
  const doc = JSON.parse(r.out);
  assert.equal(doc.result[0].expressions[0].value, true);
  assert.deepEqual(
    doc.explanation.map((e: { Op: string; Node: string | null; Message: string; Location: { file: string; row: number } }) => [e.Op, e.Node, e.Message, e.Location.file, e.Location.row]),
    [
      ["Enter", "data.x.allow = _", "", "", 1],
      ["Enter", "data.x.allow", "", P, 3],
      ["Note", null, "hello", P, 5],
    ],
  );
  // Undefined: no result member, the explanation still there.
  const u = JSON.parse((await cli(["eval", "--explain=fails", "-d", P, "data.x.allow"])).out);
  assert.equal(u.result, undefined);
  assert.deepEqual(
    u.explanation.map((e: { Op: string }) => e.Op),
    ["Enter", "Fail"],
  );
});

test("verify --explain: an unknown mode is a usage error; notes shows no Fail lines", async () => {
  const bad = await cli(["verify", "-v", "--explain=nope", P, "test/fixtures/trace/t_test.rego"]);
  assert.equal(bad.code, 1);
  assert.match(bad.err, /invalid argument "nope" for "--explain" flag/);
  const notes = await cli(["verify", "-v", "--explain=notes", P, "test/fixtures/trace/t_test.rego"]);
  assert.equal(notes.code, 2);
  assert.match(notes.out, /data\.x_test\.test_fail: FAIL/);
  assert.doesNotMatch(notes.out, /\| Fail /);
  const fails = await cli(["verify", "-v", P, "test/fixtures/trace/t_test.rego"]);
  // Recorded from opa test -v (OPA 1.19.0): the failure path of test_fail.
  assert.ok(
    fails.out.includes(
      [
        "  query:1                                  Enter data.x_test.test_fail = _  ",
        "  test/fixtures/trace/t_test.rego:14       | Enter data.x_test.test_fail  ",
        '  test/fixtures/trace/t_test.rego:15       | | Fail data.x.allow with input as {"a": 2}  ',
        "  query:1                                  | Fail data.x_test.test_fail = _  ",
        "",
      ].join("\n"),
    ),
    fails.out,
  );
});

test("test --trace: TRAC lines per query, headers red for queries with messages (recorded from conftest 0.71.1)", async () => {
  const r = await cli(["test", "--trace", "-p", "test/fixtures/trace/conftest", "test/fixtures/trace/bob.json"]);
  const headers = r.out.split("\n").filter((l) => l.includes("file: "));
  assert.deepEqual(headers, [
    '\x1b[32mfile: test/fixtures/trace/bob.json | query: data.main.exception[_][_] == ""\x1b[0m',
    "\x1b[31mfile: test/fixtures/trace/bob.json | query: data.main.deny\x1b[0m",
    '\x1b[32mfile: test/fixtures/trace/bob.json | query: data.main.exception[_][_] == ""\x1b[0m',
    "\x1b[31mfile: test/fixtures/trace/bob.json | query: data.main.warn\x1b[0m",
  ]);
  const trac = r.out.split("\n").filter((l) => l.startsWith("\x1b[34mTRAC"));
  assert.ok(trac.length > 20);
  // The note of trace(msg) in deny, as conftest prints it.
  assert.ok(trac.includes('\x1b[34mTRAC \x1b[0m  | | Note "user bob"'), trac.join("\n"));
  // Traces go to stderr as well (conftest writes them to both).
  assert.ok(r.err.includes('| | Note "user bob"'));
  // alice: OPA's index leaves deny's only rule (input.user == "bob") out, so no note.
  const a = await cli(["test", "--trace", "--no-color", "-p", "test/fixtures/trace/conftest", "test/fixtures/trace/alice.json"]);
  assert.ok(a.out.includes("TRAC   | Index data.main.deny (matched 0 rules, early exit)\n"), a.out);
  assert.doesNotMatch(a.out, /Note/);
});
