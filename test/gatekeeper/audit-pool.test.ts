// The audit on its worker pool (src/server/audit.ts AuditPool): the same report, byte for byte,
// as the audit on the main thread, on generated objects with the test policy and the
// gatekeeper-library's templates and sample constraints; failures of the pool are errors of
// the report, never missing violations.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runAudit, reviewItems, FileReportSink, type AuditEvaluator, type AuditSummary } from "../../src/gatekeeper/audit/index.ts";
import { auditSnapshot, policyObjects, inventoryDoc } from "../../src/gatekeeper/audit/policy.ts";
import { readManifests, manifestFiles } from "../../src/gatekeeper/manifestfiles.ts";
import { isTemplate } from "../../src/gatekeeper/template.ts";
import { isConstraint } from "../../src/gatekeeper/constraint.ts";
import type { Obj } from "../../src/gatekeeper/yaml.ts";
import { AuditPool } from "../../src/server/audit.ts";
import { GeneratedLister, expectedViolations, genObject, testPolicy } from "../support/audit-objects.ts";

const LIBRARY = "/work/shared/gatekeeper-library/library";
const OBJECTS = 400;
const fixed = () => new Date("2026-01-02T03:04:05Z");

/** The test policy, plus the library's templates and sample constraints when the checkout is there. */
function manifests(): { objs: Obj[]; library: boolean } {
  const objs = testPolicy();
  if (!existsSync(LIBRARY)) return { objs, library: false };
  const files = manifestFiles(LIBRARY);
  for (const f of files.filter((f) => f.endsWith("/template.yaml"))) for (const o of readManifests(f)) if (isTemplate(o)) objs.push(o);
  for (const f of files.filter((f) => /\/samples\/[^/]+\/constraint\.yaml$/.test(f))) for (const o of readManifests(f)) if (isConstraint(o)) objs.push(o);
  return { objs, library: true };
}

async function audit(objs: ReturnType<typeof policyObjects>, inventory: Obj, file: string, evaluator: AuditEvaluator | null, chunkSize = 50): Promise<AuditSummary> {
  const client = auditSnapshot(objs).client;
  client.setInventoryDoc(inventory);
  return runAudit({ lister: new GeneratedLister(OBJECTS), client, chunkSize, violationsLimit: 5, sink: new FileReportSink(file, "ndjson"), now: fixed, evaluator });
}

test("the pool's report is the main thread's, byte for byte (test policy + library samples)", async (t) => {
  const { objs: list, library } = manifests();
  if (!library) t.diagnostic(`no gatekeeper-library at ${LIBRARY}: test policy only`);
  const objs = policyObjects(list);
  // data.inventory for the library's referential templates (unique ingress host, …)
  const inventory = inventoryDoc([genObject("Namespace", 0, 10), genObject("Pod", 3, 10)].map((o) => ({ ...o })));
  const dir = mkdtempSync(join(tmpdir(), "audit-pool-"));
  const pool = await AuditPool.start(2);
  try {
    const t0 = performance.now();
    const local = await audit(objs, inventory, join(dir, "local.ndjson"), null);
    const t1 = performance.now();
    const pooled = await audit(objs, inventory, join(dir, "pool.ndjson"), pool.prepare(objs, inventory));
    const t2 = performance.now();
    t.diagnostic(`${OBJECTS} objects, ${local.constraints.length} constraints: local ${Math.round(t1 - t0)} ms, pool of 2 ${Math.round(t2 - t1)} ms (incl. compiling in the workers)`);
    const a = readFileSync(join(dir, "local.ndjson"), "utf8");
    const b = readFileSync(join(dir, "pool.ndjson"), "utf8");
    assert.ok(local.totalViolations > 0);
    for (const [name, n] of Object.entries(expectedViolations(OBJECTS))) assert.equal(local.constraints.find((c) => c.kind.startsWith("Test") && c.name === name)?.totalViolations, n, name);
    assert.deepEqual(local.errors, []);
    assert.equal(b, a);
    assert.deepEqual(pooled, local);
    assert.equal(pool.objectsSent, local.objectsAudited, "every object was reviewed on the workers");
    // a second run on the same pool (objects unchanged: only the inventory is sent)
    const t3 = performance.now();
    const again = await audit(objs, inventory, join(dir, "again.ndjson"), pool.prepare(objs, inventory), 0);
    t.diagnostic(`second run on the pool (policy already compiled): ${Math.round(performance.now() - t3)} ms`);
    assert.equal(readFileSync(join(dir, "again.ndjson"), "utf8").split("\n").length, a.split("\n").length);
    assert.equal(again.totalViolations, local.totalViolations);
    assert.equal(pool.replaced, 0);
  } finally {
    await pool.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a batch the evaluator cannot answer: each of its objects is an error of the report", async () => {
  const objs = policyObjects(testPolicy());
  const dir = mkdtempSync(join(tmpdir(), "audit-pool-"));
  try {
    let calls = 0;
    const client = auditSnapshot(objs).client;
    const failing: AuditEvaluator = {
      batchSize: 10,
      review: async (items) => {
        calls++;
        if (calls === 2) throw new Error("audit worker: worker exited");
        return reviewItems(client, items, 10_000);
      },
    };
    const local = await audit(objs, {}, join(dir, "local.ndjson"), null);
    const s = await audit(objs, {}, join(dir, "fail.ndjson"), failing);
    assert.equal(s.objectsAudited, local.objectsAudited);
    assert.equal(s.errors.length, 10);
    assert.match(s.errors[0], /^reviewing v1, Kind=ConfigMap ns-\d+\/cm-0+10: audit worker: worker exited$/);
    assert.ok(s.totalViolations < local.totalViolations);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("on a worker, a review past its deadline is an error of the report, as on the main thread", async () => {
  const objs = policyObjects(testPolicy());
  const pool = await AuditPool.start(1);
  try {
    const ev = pool.prepare(objs, {});
    const ok = await ev.review([{ obj: genObject("Pod", 0, 3), namespaceObject: null }], 10_000);
    assert.equal(ok.length, 1);
    assert.ok("results" in ok[0] && ok[0].results.length > 0);
    // a deadline already past: the review stops with a deadline error, as on the main thread
    const late = await ev.review([{ obj: genObject("Pod", 0, 3), namespaceObject: null }], -1);
    assert.ok("error" in late[0], JSON.stringify(late[0]));
  } finally {
    await pool.close();
  }
});

test("--audit-workers: a whole number from 0 to 64, clear errors otherwise", async () => {
  const { cli } = await import("../cli/helpers.ts");
  const many = await cli(["controller", "--operation=audit", "--audit-workers", "65"]);
  assert.equal(many.code, 1, many.err); // the controller exits 1 on a usage error
  assert.match(many.err, /--audit-workers 65: at most 64/);
  const bad = await cli(["controller", "--operation=audit", "--audit-workers", "two"]);
  assert.equal(bad.code, 1, bad.err);
  assert.match(bad.err, /invalid argument "two" for "--audit-workers" flag: want a whole number/);
});
