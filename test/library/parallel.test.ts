// The built-in library on worker threads (src/conftest/parallel.ts): the same bytes in every
// output format as one thread, results merged in input order across files and batches, print
// output and exact numbers carried across threads, and the error of the first failing document
// in input order; the documents' transfer (src/conftest/transfer.ts) and the thread count.

import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync, readdirSync, mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { tmpdir } from "node:os";
import { loadPolicies, readConfigs, runLibraryChecks, type TestOptions } from "../../src/conftest/runner.ts";
import { libraryWorkers, BATCH_DOCUMENTS, PARALLEL_MIN_DOCUMENTS, MAX_WORKERS } from "../../src/conftest/parallel.ts";
import { packDocuments, unpackDocuments } from "../../src/conftest/transfer.ts";
import { render, SpoolDir, metadataForm, type OutputFormat } from "../../src/output/index.ts";
import { BigDec, Dec, TextNumber, equal, fromJS } from "../../src/rego/value.ts";

/** Documents per batch here: several batches from small files. */
const BATCH = 20;
const ROOT = resolve(import.meta.dirname, "../..");
const LIBRARY = join(ROOT, "library");
const K = join(ROOT, "examples/library/kubernetes");
const D = join(ROOT, "examples/library/dockerfile");

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), "portcullis-parallel-"));
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** Run the checks as `portcullis test` does in library mode and render them in each format. */
async function rendered(files: string[], o: Partial<TestOptions>, formats: OutputFormat[]): Promise<Record<string, string>> {
  const opts: TestOptions = { policy: [LIBRARY], allNamespaces: true, skipTestFiles: true, library: true, ...o };
  const spool = new SpoolDir(metadataForm(formats[0]));
  try {
    const results = await runLibraryChecks(loadPolicies(opts), readConfigs(files, opts), opts, spool);
    const out: Record<string, string> = {};
    for (const f of formats) out[f] = render(results, f, { noColor: true });
    return out;
  } finally {
    spool.dispose();
  }
}

/** Deployments of varied shape (some with findings another lacks), as one multi-document file. */
function manyDeployments(n: number): string {
  const docs: string[] = [];
  for (let i = 0; i < n; i++) {
    docs.push(`apiVersion: apps/v1
kind: Deployment
metadata: {name: d${i}, namespace: ns-${i % 5}${i % 7 === 0 ? ", annotations: {exempt.portcullis.dev/K8S-001: 'vendor chart, ticket 7'}" : ""}}
spec:
  replicas: ${1 + (i % 3)}
  selector: {matchLabels: {app: d${i}}}
  template:
    metadata: {labels: {app: d${i}}}
    spec:
      containers:
        - name: app
          image: ${i % 4 === 0 ? "nginx:latest" : "registry.k8s.io/app:1.0." + i}
          securityContext: {privileged: ${i % 7 === 0}, allowPrivilegeEscalation: false}
`);
  }
  return docs.join("---\n");
}

describe("the library on worker threads", () => {
  test("every output format: the same bytes as one thread (several files, several batches each)", async () => {
    const big = join(dir, "many.yaml");
    writeFileSync(big, manyDeployments(2 * BATCH + 7));
    const other = join(dir, "more.yaml");
    writeFileSync(other, manyDeployments(BATCH + 3));
    const pick = (d: string, names: RegExp) => readdirSync(d).filter((f) => names.test(f)).map((f) => join(d, f));
    const files = [...pick(K, /privileged|exemption|rbac|missing-pdb/), big, ...pick(D, /^bad-(apt|secrets)|good-alpine/), other];
    for (const formats of [["json"], ["stdout", "table", "tap", "junit", "github", "azuredevops"]] as OutputFormat[][]) {
      const data = [join(ROOT, "examples/library/data/exemptions.yaml")];
      const one = await rendered(files, { parallel: 0, data }, formats);
      const many = await rendered(files, { parallel: 2, parallelBatch: BATCH, data }, formats);
      for (const f of formats) assert.equal(many[f], one[f], f);
      assert.match(one[formats[0]], /K8S-001/);
    }
  });

  test("print output and exact numbers cross the threads; the first failing document in input order is the error", async () => {
    const policy = join(dir, "policy");
    mkdirSync(policy);
    writeFileSync(
      join(policy, "p.rego"),
      `package main

deny contains sprintf("%v %v", [input.i, input.num]) if {
	input.num > 1
}

warn contains "never" if {
	print("doc", input.i)
	input.never
}

deny contains "slow" if {
	input.slow
	r := numbers.range(1, 5000)
	some x in r
	some y in r
	x + y < 0
}
`,
    );
    const docs = Array.from({ length: 2 * BATCH + 10 }, (_, i) => `i: ${i}\nnum: ${i % 3 === 0 ? "1000000" : i % 3 === 1 ? "1.000000000000000000001" : "0.5"}\n`);
    const file = join(dir, "nums.yaml");
    writeFileSync(file, docs.join("---\n"));
    const opts = (parallel: number): TestOptions => ({ policy: [policy], namespaces: ["main"], library: true, parallel, parallelBatch: BATCH });
    const run = async (o: TestOptions) => {
      const spool = new SpoolDir("indented");
      try {
        const rs = await runLibraryChecks(loadPolicies(o), readConfigs([file], o), o, spool);
        return { json: render(rs, "json", {}), outputs: rs[0].queries!.flatMap((q) => q.outputs ?? []) };
      } finally {
        spool.dispose();
      }
    };
    const one = await run(opts(0));
    const many = await run(opts(2));
    assert.equal(many.json, one.json);
    assert.deepEqual(many.outputs, one.outputs);
    assert.equal(one.outputs.length, docs.length);
    assert.match(one.json, /"msg": "0 1e\+06"/);

    // two slow documents in different batches: the earlier one is reported, as on one thread
    const slow = docs.map((d, i) => (i === BATCH + 5 || i === 2 * BATCH + 1 ? `${d}slow: true\n` : d));
    writeFileSync(file, slow.join("---\n"));
    for (const parallel of [0, 2]) {
      const o = { ...opts(parallel), timeoutMs: 200 };
      await assert.rejects(run(o), (e: Error) => {
        assert.match(e.message, new RegExp(`the built-in library \\(document ${BATCH + 6} of .*nums\\.yaml\\): evaluation exceeded the --timeout of 200ms`), `parallel ${parallel}`);
        return true;
      });
    }
  });
});

describe("documents sent to a worker", () => {
  test("exact numbers and Go-text numbers survive the copy, at any depth and as whole documents", () => {
    const big = new BigDec(new Dec("1.000000000000000000001"));
    const text = new TextNumber(1000000, "1e+06", true);
    const nested = new TextNumber(new BigDec(new Dec("12345678901234567890.5")), "1.2345678901234567e+19", true);
    const make = () => {
      const inner: Record<string, unknown> = { b: text };
      Object.defineProperty(inner, "__proto__", { value: nested, enumerable: true, writable: true, configurable: true });
      return [{ a: [1, big, inner], c: "x" }, big, "plain", null, [[text]]];
    };
    const docs = make();
    const patches = packDocuments(docs);
    assert.equal(patches.length, 5);
    const copy = structuredClone({ docs, patches });
    unpackDocuments(copy.docs, copy.patches);
    const want = make();
    for (let i = 0; i < want.length; i++) assert.ok(equal(fromJS(copy.docs[i]), fromJS(want[i])), `document ${i}`);
    const a = (copy.docs[0] as { a: unknown[] }).a;
    assert.ok(a[1] instanceof BigDec && (a[1] as BigDec).d.toString() === "1.000000000000000000001");
    const b = (a[2] as Record<string, unknown>).b as TextNumber;
    assert.ok(b instanceof TextNumber && b.text === "1e+06" && b.goFloat === true && b.n === 1000000);
    const p = Object.getOwnPropertyDescriptor(a[2], "__proto__")!.value as TextNumber;
    assert.ok(p instanceof TextNumber && p.n instanceof BigDec && p.text === "1.2345678901234567e+19");
  });

  test("thread count: --parallel, else one per core from PARALLEL_MIN_DOCUMENTS, never more than batches", () => {
    assert.equal(libraryWorkers(0, 100_000), 1);
    assert.equal(libraryWorkers(1, 100_000), 1);
    assert.equal(libraryWorkers(4, 100_000), 4);
    assert.equal(libraryWorkers(4, BATCH_DOCUMENTS + 1), 2);
    assert.equal(libraryWorkers(10_000, 10_000_000), MAX_WORKERS);
    assert.equal(libraryWorkers(undefined, PARALLEL_MIN_DOCUMENTS - 1), 1);
    assert.ok(libraryWorkers(undefined, 100_000) >= 1);
  });
});
