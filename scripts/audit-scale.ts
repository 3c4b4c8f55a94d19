// The audit at scale (docs/audit.md, "Scale"): not a timed test.
//
//   node --import tsx scripts/audit-scale.ts --objects 20000 [--chunk 500] [--library DIR] [--report FILE] [--workers N]
//   node --import tsx scripts/audit-scale.ts --kubeconfig K --populate 20000   (create the objects)
//   node --import tsx scripts/audit-scale.ts --kubeconfig K [--library DIR] [--report FILE]
//
// Objects are generated page by page (test/support/audit-objects.ts) or listed from a cluster;
// the policy is the test policy of audit-objects.ts, plus with --library every template.yaml and
// samples/*/constraint.yaml of a gatekeeper-library checkout. With --workers N (N > 0) the objects
// are reviewed on an audit worker pool of N threads (src/server/audit.ts AuditPool). Prints one JSON line: objects,
// wall seconds, objects/s, peak RSS (MiB), violations (and the report's line count).
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { Client } from "../src/gatekeeper/client.ts";
import { runAudit, FileReportSink, AUDIT_ENFORCEMENT_POINT, type Lister } from "../src/gatekeeper/audit/index.ts";
import { readManifests, manifestFiles } from "../src/gatekeeper/manifestfiles.ts";
import { isTemplate } from "../src/gatekeeper/template.ts";
import { isConstraint } from "../src/gatekeeper/constraint.ts";
import { GeneratedLister, testPolicy } from "../test/support/audit-objects.ts";
import type { Obj } from "../src/gatekeeper/yaml.ts";

const { values } = parseArgs({
  options: {
    objects: { type: "string", default: "20000" },
    chunk: { type: "string", default: "500" },
    library: { type: "string" },
    report: { type: "string" },
    kubeconfig: { type: "string" },
    populate: { type: "string" },
    workers: { type: "string", default: "0" },
  },
});

if (values.populate) {
  // Create the generated objects in the cluster (Namespaces first), 32 requests at a time.
  const { KubeClient } = await import("../src/kube/index.ts");
  const kube = await KubeClient.connect({ kubeconfig: values.kubeconfig });
  const lister = new GeneratedLister(Number(values.populate));
  const plural: Record<string, string> = { Namespace: "namespaces", Pod: "pods", Deployment: "deployments", ConfigMap: "configmaps" };
  const t0 = performance.now();
  for (const g of await lister.kinds()) {
    const { items } = await lister.list(g, { limit: 0 });
    let i = 0;
    const worker = async () => {
      while (i < items.length) {
        const o = items[i++];
        o.apiVersion = g.group ? `${g.group}/${g.version}` : g.version;
        o.kind = g.kind;
        const base = g.group ? `/apis/${g.group}/${g.version}` : `/api/${g.version}`;
        const path = o.metadata.namespace ? `${base}/namespaces/${o.metadata.namespace}/${plural[g.kind]}` : `${base}/${plural[g.kind]}`;
        // re-running on a partly populated cluster: what exists stays
        await kube.request("POST", path, { body: o }).catch((e: Error) => {
          if (!/: 409 /.test(e.message)) throw e;
        });
      }
    };
    await Promise.all(Array.from({ length: 32 }, worker));
    if (g.kind === "Namespace") {
      // No controller manager runs: Pods need the namespace's default ServiceAccount.
      await Promise.all(items.map((ns) => kube.request("POST", `/api/v1/namespaces/${ns.metadata.name}/serviceaccounts`, { body: { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "default" } } }).catch((e: Error) => {
        if (!/: 409 /.test(e.message)) throw e;
      })));
    }
  }
  console.log(JSON.stringify({ populated: Number(values.populate), seconds: Math.round((performance.now() - t0) / 100) / 10 }));
  process.exit(0);
}

const client = new Client({ enforcementPoint: AUDIT_ENFORCEMENT_POINT });
const policy = testPolicy();
let libTemplates = 0;
let libConstraints = 0;
let libSkipped = 0;
/** The manifests the client took (for the workers' snapshot). */
const taken: Obj[] = [];
if (values.library) {
  const files = manifestFiles(values.library);
  for (const f of files.filter((f) => f.endsWith("/template.yaml"))) {
    for (const o of readManifests(f)) {
      if (!isTemplate(o)) continue;
      try {
        client.addTemplate(o);
        taken.push(o);
        libTemplates++;
      } catch {
        libSkipped++;
      }
    }
  }
  for (const f of files.filter((f) => /\/samples\/[^/]+\/constraint\.yaml$/.test(f))) {
    for (const o of readManifests(f)) {
      if (!isConstraint(o) || !client.templates.has(o.kind)) continue;
      try {
        client.addConstraint(o);
        taken.push(o);
        libConstraints++;
      } catch {
        libSkipped++;
      }
    }
  }
}
for (const o of policy) if (isTemplate(o)) client.addTemplate(o);
for (const o of policy) if (isConstraint(o)) client.addConstraint(o);
taken.push(...policy);

let lister: Lister;
let objects = Number(values.objects);
if (values.kubeconfig) {
  const { KubeLister } = await import("../src/gatekeeper/audit/kubelister.ts");
  const { KubeClient } = await import("../src/kube/index.ts");
  lister = new KubeLister(await KubeClient.connect({ kubeconfig: values.kubeconfig }));
  objects = NaN;
} else lister = new GeneratedLister(objects);

const workers = Number(values.workers);
if (!Number.isInteger(workers) || workers < 0 || workers > 64) throw new Error(`--workers ${values.workers}: want 0 to 64`);
const pool = workers > 0 ? await (await import("../src/server/audit.ts")).AuditPool.start(workers) : null;
const t0 = performance.now();
const evaluator = pool ? pool.prepare((await import("../src/gatekeeper/audit/policy.ts")).policyObjects(taken), client.getInventory()) : null;
const summary = await runAudit({ lister, client, chunkSize: Number(values.chunk), sink: values.report ? new FileReportSink(values.report) : { violation() {} }, evaluator });
const seconds = (performance.now() - t0) / 1000;
await pool?.close();
// With --expose-gc: the heap that stays after the audit (a leak would show here, peak RSS is GC timing).
const gc = (globalThis as { gc?: () => void }).gc;
gc?.();
const heapAfterGcMiB = gc ? Math.round(process.memoryUsage().heapUsed / 1048576) : undefined;
const reportLines = values.report ? readFileSync(values.report, "utf8").split("\n").length - 1 : undefined;
console.log(
  JSON.stringify({
    objects: summary.objectsAudited,
    generated: Number.isNaN(objects) ? undefined : objects,
    chunkSize: Number(values.chunk),
    workers,
    constraints: client.constraints().length,
    libraryTemplates: libTemplates,
    libraryConstraints: libConstraints,
    librarySkipped: libSkipped,
    seconds: Math.round(seconds * 100) / 100,
    objectsPerSecond: Math.round(summary.objectsAudited / seconds),
    peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
    heapAfterGcMiB,
    totalViolations: summary.totalViolations,
    byConstraint: Object.fromEntries(summary.constraints.map((c) => [c.name, c.totalViolations])),
    errors: summary.errors.length,
    reportLines,
  }),
);
