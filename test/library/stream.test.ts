// The library's results kept in spools (src/output/spool.ts) and written piece by piece: every
// output format prints the same bytes from spooled lists as from arrays, also once the lists
// have gone to their temporary files; the files are removed with the spool directory.

import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync } from "node:fs";
import { render, renderTo, bufferedWrite, OUTPUT_FORMATS, SpoolDir, metadataForm, type CheckResult, type CheckResultView, type Result } from "../../src/output/index.ts";
import { SPOOL_MEMORY_BYTES, metadataText, JSON_METADATA_LEVEL } from "../../src/output/spool.ts";
import { goJSON } from "../../src/gotext/plainjson.ts";
import { RSet } from "../../src/rego/value.ts";

/** Results of every shape a renderer reads: locations, metadata (nested, a set), line breaks, non-ASCII text. */
function results(n: number): CheckResult[] {
  const one = (i: number, kind: string): Result => {
    const r: Result = { msg: `[K8S-${i % 7}] Deployment/svc-${i}: ${kind} ${"é".repeat(i % 3)}${i % 11 === 0 ? "\nsecond line\t<&>" : ""}` };
    if (i % 5 !== 1) r.metadata = { id: `K8S-${i % 7}`, title: "No privileged containers", resource: `Deployment/svc-${i}`, query: `data.k.${kind}`, n: i, tags: new RSet(["b", "a"]), nested: { z: [1, 2], a: null } };
    if (i % 13 === 0) r.loc = { file: "policy/x.rego", line: String(i) };
    if (i % 17 === 0) r.loc = {};
    return r;
  };
  const make = (file: string, ns: string, k: number): CheckResult => ({
    filename: file,
    namespace: ns,
    successes: k % 3,
    skipped: k === 1 ? [one(1, "skip")] : [],
    warnings: Array.from({ length: k }, (_, i) => one(i, "warn")),
    failures: Array.from({ length: 2 * k }, (_, i) => one(i + 1, "deny")),
    exceptions: k % 2 ? [one(k, "exception")] : [],
    queries: [],
  });
  return [make("a.yaml", "kubernetes.security", n), make("b.yaml", "kubernetes.security", 1), make("a.yaml", "kubernetes.images", 0), make("-", "main", 2)];
}

function spooled(rs: CheckResult[], dir: SpoolDir): CheckResultView[] {
  return rs.map((r) => {
    const lists = [r.skipped, r.warnings, r.failures, r.exceptions].map((l) => {
      const s = dir.spool();
      for (const x of l) s.push(x);
      s.close();
      return s;
    });
    return { ...r, skipped: lists[0], warnings: lists[1], failures: lists[2], exceptions: lists[3] };
  });
}


describe("spooled results", () => {
  test("every format prints the same bytes from spools as from arrays, in memory and from the files", () => {
    for (const n of [3, 2500]) {
      const rs = results(n);
      for (const format of OUTPUT_FORMATS) {
        const dir = new SpoolDir(metadataForm(format));
        const view = spooled(rs, dir);
        const path = dir.path;
        if (n > 3) assert.ok(path !== undefined && readdirSync(path).length > 0, "the large lists went to files");
        else assert.equal(path, undefined, "small lists stay in memory");
        for (const opts of [{ noColor: true }, { noColor: false, junitHideMessage: true, suppressExceptions: true, githubHidePassed: true }]) {
          const expected = render(rs, format, opts);
          assert.equal(render(view, format, opts), expected, `${format} ${n}`);
          // and a second reading, in pieces
          const parts: string[] = [];
          const out = bufferedWrite((s) => void parts.push(s), 1000);
          renderTo(view, format, opts, out.write);
          out.flush();
          assert.equal(parts.join(""), expected);
          if (expected.length > 5000) assert.ok(parts.length > 2, "written in pieces");
        }
        dir.dispose();
        if (path !== undefined) assert.ok(!existsSync(path), "dispose removes the files");
      }
    }
    // 5000 failures of ~90 bytes each are past the memory limit
    assert.ok(5000 * 90 > SPOOL_MEMORY_BYTES);
  });

  test("a spool gives back what was pushed: message, location, print output, metadata text", () => {
    const dir = new SpoolDir("compact");
    const s = dir.spool();
    const pushed: Result[] = [
      { msg: "a\nb \u2028 \ud800 ☃", loc: { file: "f.rego", line: "3" }, outputs: ["x", "y"], metadata: { b: 1, a: "é" } },
      { msg: "" },
      { msg: "only line", loc: { line: "0" } },
    ];
    for (let i = 0; i < 3000; i++) for (const r of pushed) s.push(r);
    s.close();
    assert.equal(s.length, 9000);
    let i = 0;
    for (const r of s) {
      const p = pushed[i++ % 3];
      assert.equal(r.msg, p.msg);
      assert.deepEqual(r.loc, p.loc);
      assert.deepEqual(r.outputs, p.outputs);
      assert.equal(r.metadataText, p.metadata ? '{"a":"é","b":1}' : undefined);
      assert.equal(r.metadata, undefined);
    }
    assert.equal(i, 9000);
    const path = dir.path!;
    assert.ok(existsSync(path));
    dir.dispose();
    assert.ok(!existsSync(path));
  });
});

test("metadata of strings only (the library's results) is written directly, as goJSON writes it", () => {
  const cases: Record<string, unknown>[] = [
    { id: "K8S-001", title: "No <privileged> & \"x\"", resource: "Deployment/web", query: "data.kubernetes.security.deny" },
    { b: "é\u2028\u0001", a: "\ud800x", "ß": "", Z: "z", 'a"k': "<>", "10": "n", "2": "m" },
    { path: "k8s/x.yaml", msg2: "line\nbreak\ttab" },
    { one: "1" },
  ];
  for (const m of cases) {
    assert.equal(metadataText(m, "indented"), goJSON(m, "\t", JSON_METADATA_LEVEL));
    assert.equal(metadataText(m, "compact"), goJSON(m));
    assert.equal(metadataText(m, "none"), "");
  }
});
