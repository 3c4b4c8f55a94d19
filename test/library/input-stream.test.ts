// The built-in library's inputs read a batch at a time (src/conftest/stream.ts): the documents
// are those the whole-file reader gives, the files it cannot stream exactly are read whole, and
// parse errors keep the whole-file reader's message and precedence (argument order, before any
// evaluation error). Also: the library's query leaves out the exception counts of namespaces
// that cannot have exceptions (src/conftest/evaluate.ts libraryPlan).

import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { tmpdir } from "node:os";
import { loadPolicies, readConfigs, runChecks, runLibraryChecks, type TestOptions } from "../../src/conftest/runner.ts";
import { libraryPlan, resolveNamespaces } from "../../src/conftest/evaluate.ts";
import { streamYamlFile } from "../../src/conftest/stream.ts";
import { parseModule } from "../../src/rego/parser.ts";
import { fromJS } from "../../src/rego/value.ts";
import { render, SpoolDir, metadataForm } from "../../src/output/index.ts";

const ROOT = resolve(import.meta.dirname, "../..");
const LIBRARY = join(ROOT, "library");
const LIB: TestOptions = { policy: [LIBRARY], allNamespaces: true, skipTestFiles: true, library: true };

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), "portcullis-input-stream-"));
});
after(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const f = join(dir, name);
  writeFileSync(f, text);
  return f;
}

/** The documents readConfigs gives without streaming (conftest's reader) and with it. */
function both(f: string): { whole: unknown[]; streamed: unknown[]; lazy: boolean } {
  const whole = readConfigs([f], { policy: [] })[0].documents;
  const c = readConfigs([f], LIB)[0];
  const streamed = c.lazy ? c.lazy.take(0, c.documents.length) : c.documents;
  return { whole, streamed, lazy: c.lazy !== undefined };
}

const deployment = (i: number) => `apiVersion: apps/v1
kind: Deployment
metadata: {name: d${i}, namespace: ns}
spec:
  replicas: ${i}
  template:
    spec:
      containers: [{name: app, image: "nginx:1.${i}"}]
`;

describe("streamed YAML documents", () => {
  const cases: Record<string, string> = {
    "plain documents": [1, 2, 3].map(deployment).join("---\n"),
    "leading marker, directives, comments, an empty part": "%YAML 1.1\n# c\n---\n" + deployment(1) + "---\n---\n# only a comment\n---\n" + deployment(2),
    "numbers, booleans and timestamps as Go reads them": "a: 1e6\nb: 017\nc: yes\nd: 2001-12-14\n---\na: 1_000\nb: 0x1F\nc: 3.50\n---\n[1, 2.0, -0]\n",
    "merge keys and anchors in one part, not in another": "base: &b {x: 1, y: 2}\nobj:\n  <<: *b\n  y: 3\n---\nplain: {k: v}\n",
    "a block scalar at the end without a line break": deployment(1) + "---\nnote: |\n  last line",
    "a --- inside a block scalar is still a separator": "a: |\n  x\n---\nb: 2\n",
    "a document marker with content after it is not a separator": "a: 1\n--- # comment\nb: 2\n---\nc: 3\n",
    "CRLF": [1, 2].map(deployment).join("---\n").replace(/\n/g, "\r\n"),
  };
  for (const [name, text] of Object.entries(cases)) {
    test(name, () => {
      const f = file(`${name.replace(/\W+/g, "-")}.yaml`, text);
      const r = both(f);
      assert.equal(r.lazy, true);
      assert.deepEqual(r.streamed, r.whole);
    });
  }

  test("files the reader cannot split exactly are read whole", () => {
    // one document; a CRLF file with an LF separator line; not YAML; an array document alone
    for (const [name, text] of [
      ["one.yaml", deployment(1)],
      ["mixed.yaml", "a: 1\r\n---\r\nb: 2\n---\nc: 3\r\n"],
      ["doc.json", JSON.stringify([{ a: 1 }, { b: 2 }])],
      ["directives.yaml", "%YAML 1.1\n---\n- a\n- b\n"],
    ]) {
      const f = file(name, text);
      assert.equal(streamYamlFile(f, undefined), undefined, name);
      const r = both(f);
      assert.equal(r.lazy, false, name);
      assert.deepEqual(r.streamed, r.whole, name);
    }
    // --parser other than yaml
    assert.equal(streamYamlFile(file("p.yaml", "a: 1\n---\nb: 2\n"), "json"), undefined);
  });

  test("a document that does not read cleanly gives the whole-file reader's error", () => {
    const f = file("bad.yaml", [deployment(1), "a: [1, 2\n", deployment(3)].join("---\n"));
    let expected = "";
    try {
      readConfigs([f], { policy: [] });
    } catch (e) {
      expected = (e as Error).message;
    }
    assert.match(expected, /^parse configurations: /);
    const c = readConfigs([f], LIB)[0];
    assert.ok(c.lazy);
    assert.equal(c.lazy.take(0, 1).length, 1);
    assert.throws(() => c.lazy!.take(1, 2), (e: Error) => e.message === expected);
  });

  test("a merge-key error in a later part: the whole-file reader decides", () => {
    const f = file("merge.yaml", "a: 1\n---\nb:\n  <<: 5\n");
    assert.throws(() => readConfigs([f], { policy: [] }), /map merge requires map or sequence of maps/);
    const c = readConfigs([f], LIB)[0];
    assert.throws(() => c.lazy!.take(0, 2), /map merge requires map or sequence of maps/);
  });

  test("parse errors keep argument order: a streamed file's error before a later file's", () => {
    const first = file("first.yaml", [deployment(1), "x: [\n"].join("---\n"));
    const second = file("second.json", "{");
    let expected = "";
    try {
      readConfigs([first, second], { policy: [] });
    } catch (e) {
      expected = (e as Error).message;
    }
    assert.match(expected, /first\.yaml/);
    assert.throws(() => readConfigs([first, second], LIB), (e: Error) => e.message === expected);
  });

  test("a parse error in a later document beats an evaluation error in an earlier one", async () => {
    // document 1 times out; document 40 does not parse: the parse error is reported, as when the
    // whole input is parsed before the first document is checked
    const docs = Array.from({ length: 40 }, (_, i) => deployment(i + 1));
    // a List of 300 Deployments: more than 1 ms of work
    const dep = (i: number) => ({ apiVersion: "apps/v1", kind: "Deployment", metadata: { name: `d${i}` }, spec: { template: { spec: { containers: [{ name: "c", image: "nginx" }] } } } });
    docs[0] = JSON.stringify({ apiVersion: "v1", kind: "List", items: Array.from({ length: 300 }, (_, i) => dep(i)) }) + "\n";
    docs[39] = "x: [\n";
    const f = file("late-error.yaml", docs.join("---\n"));
    const o: TestOptions = { ...LIB, timeoutMs: 1 };
    const expected = (e: Error) => /^parse configurations: .*late-error\.yaml:\d+:\d+: yaml: /.test(e.message);
    await assert.rejects(runChecks(loadPolicies(o), readConfigs([f], o), o), expected);
    const spool = new SpoolDir(metadataForm("json"));
    try {
      await assert.rejects(runLibraryChecks(loadPolicies(o), readConfigs([f], o), { ...o, parallel: 2, parallelBatch: 10 }, spool), expected);
    } finally {
      spool.dispose();
    }
  });

  test("the library's output is the same streamed, on one thread and on two", async () => {
    const f = file("many.yaml", Array.from({ length: 30 }, (_, i) => deployment(i)).join("---\n"));
    const outputs: string[] = [];
    for (const o of [{ ...LIB, trace: false, combine: false, library: false }, { ...LIB, parallel: 1 }, { ...LIB, parallel: 2, parallelBatch: 7 }]) {
      const spool = new SpoolDir(metadataForm("json"));
      try {
        const configs = readConfigs([f], o);
        assert.equal(configs[0].lazy !== undefined, o.library);
        const run = { ...o, library: true };
        outputs.push(render(await runLibraryChecks(loadPolicies(run), configs, run, spool), "json", { noColor: true }));
      } finally {
        spool.dispose();
      }
    }
    assert.equal(outputs[1], outputs[0]);
    assert.equal(outputs[2], outputs[0]);
  });
});

describe("the library's query and exceptions", () => {
  const plan = (sources: string[], data: unknown) => {
    const modules = sources.map((s, i) => parseModule(`m${i}.rego`, s, { regoVersion: "v1" }));
    return libraryPlan(modules, resolveNamespaces(modules, [], true), fromJS(data));
  };
  const counted = (p: ReturnType<typeof plan>) => p.namespaces.map((n) => n.vars.map((v) => v.exc !== undefined));

  test("no exception rule and no exception data: no counts in the query", () => {
    const p = plan(["package a.b\ndeny contains 1 if true\nwarn contains 2 if true\n", "package c\ndeny contains 3 if false\n"], { other: { exception: 1 } });
    assert.deepEqual(counted(p), [[false, false], [false]]);
    assert.doesNotMatch(p.query, /exception/);
  });

  test("an exception rule, a rule above it, or data at the path: counted", () => {
    assert.deepEqual(counted(plan(["package a.b\ndeny contains 1 if true\nexception contains [\"x\"] if true\n"], {})), [[true]]);
    assert.deepEqual(counted(plan(["package a.b\ndeny contains 1 if true\n", "package a\nb.exception contains [\"x\"] if true\n"], {})), [[true], []]);
    assert.deepEqual(counted(plan(["package a.b\ndeny contains 1 if true\n", "package a.b.exception\nx := 1\n"], {})), [[true], []]);
    assert.deepEqual(counted(plan(["package a.b\ndeny contains 1 if true\n"], { a: { b: { exception: [["deny"]] } } })), [[true]]);
    assert.deepEqual(counted(plan(["package a.b\ndeny contains 1 if true\n"], { a: { b: { other: 1 } } })), [[false]]);
  });

  test("the library's packages have none", () => {
    const loaded = loadPolicies(LIB);
    const p = libraryPlan(loaded.modules, resolveNamespaces(loaded.modules, [], true), loaded.engine.getData());
    assert.ok(p.namespaces.length > 10);
    assert.ok(p.namespaces.every((n) => n.vars.every((v) => v.exc === undefined)));
  });
});
