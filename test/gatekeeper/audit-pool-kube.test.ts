// The audit manager on the audit worker pool against a real API server (../shared/kube; skipped
// without it): objects listed from the cluster page by page, reviewed on two workers, give the
// same complete report as the main thread's, with data.inventory sent to the workers.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { kubeMissing, startKube, type Kube } from "../support/kube.ts";
import { KubeClient } from "../../src/kube/index.ts";
import { AuditManager } from "../../src/gatekeeper/audit/manager.ts";
import { policyObjects } from "../../src/gatekeeper/audit/policy.ts";
import { AuditPool } from "../../src/server/audit.ts";
import { testPolicy } from "../support/audit-objects.ts";

const skip = kubeMissing();

/** The report's violations (the first and last lines carry the audit's times). */
const body = (file: string) => readFileSync(file, "utf8").split("\n").slice(1, -2).join("\n");

test("audit of a real cluster on the worker pool: the main thread's report", { skip: skip || false, timeout: 120_000 }, async (t) => {
  const k: Kube = await startKube();
  const dir = mkdtempSync(join(tmpdir(), "audit-pool-kube-"));
  const pool = await AuditPool.start(2);
  try {
    const kube = await KubeClient.connect({ kubeconfig: k.kubeconfig });
    for (const ns of ["team-a", "team-b"]) await kube.request("POST", "/api/v1/namespaces", { body: { apiVersion: "v1", kind: "Namespace", metadata: { name: ns, ...(ns === "team-a" ? { labels: { owner: "alice" } } : {}) } } });
    const items = Array.from({ length: 240 }, (_, i) => ({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: `cm-${String(i).padStart(4, "0")}`, namespace: i % 2 ? "team-a" : "team-b", ...(i % 3 ? { labels: { owner: "x" } } : {}) }, data: { k: "v" } }));
    let next = 0;
    await Promise.all(Array.from({ length: 16 }, async () => {
      while (next < items.length) {
        const o = items[next++];
        await kube.request("POST", `/api/v1/namespaces/${o.metadata.namespace}/configmaps`, { body: o });
      }
    }));
    // The Config syncs Namespaces: data.inventory is listed for the run and sent to the workers.
    const objs = policyObjects([...testPolicy(), { apiVersion: "config.gatekeeper.sh/v1alpha1", kind: "Config", metadata: { name: "config", namespace: "gatekeeper-system" }, spec: { sync: { syncOnly: [{ group: "", version: "v1", kind: "Namespace" }] } } }]);
    const run = async (file: string, withPool: boolean) => {
      const mgr = new AuditManager({ kube, policy: () => objs, podId: "p", intervalMs: 0, chunkSize: 50, writeStatus: false, reportFile: file, evaluator: withPool ? (o, inv) => pool.prepare(o, inv) : undefined });
      try {
        return (await mgr.runOnce())!;
      } finally {
        await mgr.stop();
      }
    };
    const local = await run(join(dir, "local.ndjson"), false);
    const pooled = await run(join(dir, "pool.ndjson"), true);
    t.diagnostic(`${local.objectsAudited} objects, ${local.totalViolations} violations`);
    assert.deepEqual(local.errors, []);
    assert.ok(local.objectsAudited >= 242);
    // one ConfigMap in three has no owner label (the API server's own ConfigMaps come on top)
    const team = body(join(dir, "local.ndjson"))
      .split("\n")
      .map((l) => JSON.parse(l))
      .filter((v) => v.constraint?.name === "must-have-owner" && v.kind === "ConfigMap" && /^team-/.test(v.namespace ?? ""));
    assert.equal(team.length, 80);
    assert.equal(pooled.totalViolations, local.totalViolations);
    assert.deepEqual(pooled.constraints, local.constraints);
    assert.deepEqual(pooled.errors, []);
    assert.equal(body(join(dir, "pool.ndjson")), body(join(dir, "local.ndjson")));
    assert.equal(pool.objectsSent, local.objectsAudited, "every object was reviewed on the workers");
    assert.equal(pool.replaced, 0);
  } finally {
    await pool.close();
    await k.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
