// `portcullis test` with the built-in library: the library's one-query-per-document evaluation
// (src/conftest/runner.ts, TestOptions.library) gives the results of conftest's per-rule model,
// plus the exemptions reported as exceptions with their reasons; and the generator of large
// inputs (scripts/library-bigfile.ts) writes what it says.

import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, mkdtempSync, rmSync, statSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { tmpdir } from "node:os";
import { spawnSync } from "node:child_process";
import { loadPolicies, readConfigs, runChecks, type TestOptions } from "../../src/conftest/runner.ts";
import type { CheckResult } from "../../src/output/types.ts";
import { cli } from "../cli/helpers.ts";

const ROOT = resolve(import.meta.dirname, "../..");
const LIBRARY = join(ROOT, "library");
const K = join(ROOT, "examples/library/kubernetes");
const D = join(ROOT, "examples/library/dockerfile");

const corpus = [...readdirSync(K).map((f) => join(K, f)), ...readdirSync(D).map((f) => join(D, f))].sort();

async function run(files: string[], o: Partial<TestOptions>): Promise<CheckResult[]> {
  const opts: TestOptions = { policy: [LIBRARY], allNamespaces: true, skipTestFiles: true, ...o };
  return runChecks(loadPolicies(opts), readConfigs(files, opts), opts);
}

/** A result without the parts that differ by construction (queries, exceptions). */
function shape(rs: CheckResult[]): unknown[] {
  return rs.map((r) => ({ filename: r.filename, namespace: r.namespace, successes: r.successes, failures: r.failures, warnings: r.warnings }));
}

describe("library mode", () => {
  test("one query per document gives conftest's per-rule results (per document and combined)", async () => {
    const plain = corpus.filter((f) => !/exemption|scrape-opt-out/.test(f));
    assert.deepEqual(shape(await run(plain, { library: true })), shape(await run(plain, { library: false })));
    assert.deepEqual(shape(await run(plain, { library: true, combine: true })), shape(await run(plain, { library: false, combine: true })));
  });

  test("exemptions are reported as exceptions, with their reasons, and counted", async () => {
    const file = join(K, "good-exemption-with-reason.yaml");
    const batched = await run([file], { library: true });
    const security = batched.find((r) => r.namespace === "kubernetes.security")!;
    assert.equal(security.failures.length, 0);
    assert.deepEqual(
      security.exceptions.map((e) => [e.metadata?.id, e.metadata?.reason, e.metadata?.exempted_by]),
      [["K8S-004", "writes its page cache under /var/cache/app; OPS-421 tracks moving it to an emptyDir", "annotation exempt.portcullis.dev/K8S-004.legacy-cache"]],
    );
    assert.match(security.exceptions[0].msg, /^\[K8S-004\] Deployment\/legacy-cache: container 'legacy-cache': .* \(exempted by annotation exempt\.portcullis\.dev\/K8S-004\.legacy-cache: writes its page cache/);
    // conftest's model (no exempted sets) sees one success more where the exception is counted
    const plain = (await run([file], { library: false })).find((r) => r.namespace === "kubernetes.security")!;
    assert.equal(plain.exceptions.length, 0);
    assert.equal(plain.failures.length, 0);
  });

  test("portcullis test: exemptions from --data, reasonless entries are failures (exit 1)", async () => {
    const r = await cli(["test", "--no-color", "-p", LIBRARY, "--all-namespaces", join(K, "bad-privileged-container.yaml")]);
    assert.equal(r.code, 1);
    const lib = await cli(["test", "--no-color", "--data", join(ROOT, "examples/library/data/exemptions.yaml"), join(K, "bad-privileged-container.yaml")]);
    assert.equal(lib.code, 1, lib.err);
    assert.match(lib.out, /^FAIL - .* - kubernetes\.metadata - \[K8S-086\] Deployment\/api: matches data\.portcullis\.exemptions\[1\] \(rule K8S-004\), which has no reason/m);
    assert.match(lib.out, /^EXCP - .* - kubernetes\.security - \[K8S-001\] Deployment\/api: container 'api': runs privileged; .* \(exempted by data\.portcullis\.exemptions\[0\]: vendor chart: the CNI agent needs privileged mode \(SEC-118\)\)$/m);
    assert.doesNotMatch(lib.out, /^FAIL .*K8S-001/m);
    assert.match(lib.out, /1 failure, 1 exception/);
  });

  test("scripts/library-bigfile.ts writes N Deployments of ~600-800 bytes", () => {
    const dir = mkdtempSync(join(tmpdir(), "portcullis-bigfile-"));
    try {
      const out = join(dir, "big.yaml");
      const r = spawnSync(process.execPath, ["--import", "tsx", join(ROOT, "scripts/library-bigfile.ts"), "200", out], { cwd: ROOT, encoding: "utf8" });
      assert.equal(r.status, 0, r.stderr);
      const text = readFileSync(out, "utf8");
      assert.equal(text.match(/^kind: Deployment$/gm)?.length, 200);
      const per = statSync(out).size / 200;
      assert.ok(per > 500 && per < 900, `${per} bytes per Deployment`);
      const bad = spawnSync(process.execPath, ["--import", "tsx", join(ROOT, "scripts/library-bigfile.ts"), "0", out], { cwd: ROOT, encoding: "utf8" });
      assert.equal(bad.status, 2);
      assert.match(bad.stderr, /^usage: /);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

test("library mode: a timeout names the document, not the whole batched query", async () => {
  const dir = mkdtempSync(join(tmpdir(), "portcullis-library-timeout-"));
  try {
    // one document with a lot of work: a List of 300 Deployments
    const dep = (i: number) => ({ apiVersion: "apps/v1", kind: "Deployment", metadata: { name: `d${i}` }, spec: { template: { spec: { containers: [{ name: "c", image: "nginx" }] } } } });
    const file = join(dir, "list.json");
    writeFileSync(file, JSON.stringify({ apiVersion: "v1", kind: "List", items: Array.from({ length: 300 }, (_, i) => dep(i)) }));
    const opts: TestOptions = { policy: [LIBRARY], allNamespaces: true, skipTestFiles: true, library: true, timeoutMs: 1 };
    await assert.rejects(runChecks(loadPolicies(opts), readConfigs([file], opts), opts), (e: Error) => {
      assert.match(e.message, /^query rule: check: query rule: the built-in library \(document 1 of .*list\.json\): evaluation exceeded the --timeout of 1ms \(raise --timeout or fix the policy\)$/);
      return true;
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
