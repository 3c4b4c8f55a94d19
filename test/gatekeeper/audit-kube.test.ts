// The audit against a real API server (../shared/kube; skipped without it): objects created
// before the constraints, one audit, constraint status as kubectl shows it, a dryrun
// constraint's violators, pagination (chunk 100 vs 0), metrics, leader election, and
// `portcullis audit --kubeconfig`.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import yaml from "js-yaml";
import { kubeMissing, startKube, type Kube } from "../support/kube.ts";
import { KubeClient } from "../../src/kube/index.ts";
import { AuditManager, streamReport } from "../../src/gatekeeper/audit/manager.ts";
import { LeaseElector } from "../../src/gatekeeper/audit/lease.ts";
import { KubeLister, clusterPolicy } from "../../src/gatekeeper/audit/kubelister.ts";
import { runAudit, CollectingSink, auditSnapshot } from "../../src/gatekeeper/audit/index.ts";
import { InventorySync } from "../../src/gatekeeper/audit/sync.ts";
import { cli } from "../cli/helpers.ts";
import { main } from "../../src/cli/main.ts";
import { controllerHooks } from "../../src/cli/controller.ts";

const skip = kubeMissing();

// Minimal CRDs for the test (the controller's own CRDs and constraint CRDs are tested with it).
const crd = (group: string, kind: string, plural: string, version: string) => ({
  apiVersion: "apiextensions.k8s.io/v1",
  kind: "CustomResourceDefinition",
  metadata: { name: `${plural}.${group}` },
  spec: {
    group,
    scope: "Cluster",
    names: { kind, plural, singular: plural, listKind: `${kind}List` },
    versions: [{ name: version, served: true, storage: true, subresources: { status: {} }, schema: { openAPIV3Schema: { type: "object", "x-kubernetes-preserve-unknown-fields": true } } }],
  },
});

const template = {
  apiVersion: "templates.gatekeeper.sh/v1",
  kind: "ConstraintTemplate",
  metadata: { name: "k8srequiredlabels" },
  spec: {
    crd: { spec: { names: { kind: "K8sRequiredLabels" }, validation: { openAPIV3Schema: { type: "object", properties: { labels: { type: "array", items: { type: "string" } } } } } } },
    targets: [
      {
        target: "admission.k8s.gatekeeper.sh",
        rego: `package k8srequiredlabels
violation[{"msg": msg, "details": {"missing_labels": missing}}] {
  provided := {l | input.review.object.metadata.labels[l]}
  missing := {l | l := input.parameters.labels[_]} - provided
  count(missing) > 0
  msg := sprintf("you must provide labels: %v", [missing])
}
`,
      },
    ],
  },
};

const constraints = [
  { apiVersion: "constraints.gatekeeper.sh/v1beta1", kind: "K8sRequiredLabels", metadata: { name: "all-must-have-owner" }, spec: { match: { kinds: [{ apiGroups: [""], kinds: ["Namespace"] }] }, parameters: { labels: ["owner"] } } },
  { apiVersion: "constraints.gatekeeper.sh/v1beta1", kind: "K8sRequiredLabels", metadata: { name: "cm-must-have-app" }, spec: { enforcementAction: "dryrun", match: { kinds: [{ apiGroups: [""], kinds: ["ConfigMap"] }], namespaces: ["team-*"] }, parameters: { labels: ["app"] } } },
];

async function createMany(kube: KubeClient, objs: any[], concurrency = 16): Promise<void> {
  let i = 0;
  const worker = async () => {
    while (i < objs.length) {
      const o = objs[i++];
      await kube.request("POST", `/api/v1/namespaces/${o.metadata.namespace}/configmaps`, { body: o });
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

test("audit of a real cluster: status, dryrun violators, pagination, metrics, leader election, CLI", { skip: skip || false, timeout: 120_000 }, async (t) => {
  const k: Kube = await startKube();
  try {
    const apply = async (docs: object[]) => {
      const r = await k.kubectl(["apply", "-f", "-"], docs.map((d) => yaml.dump(d)).join("---\n"));
      assert.equal(r.code, 0, r.err);
    };
    await apply([crd("templates.gatekeeper.sh", "ConstraintTemplate", "constrainttemplates", "v1"), crd("constraints.gatekeeper.sh", "K8sRequiredLabels", "k8srequiredlabels", "v1beta1")]);
    assert.equal((await k.kubectl(["wait", "--for=condition=Established", "crd/constrainttemplates.templates.gatekeeper.sh", "crd/k8srequiredlabels.constraints.gatekeeper.sh", "--timeout=30s"])).code, 0);
    // Objects first: nothing saw them being created.
    await apply([
      { apiVersion: "v1", kind: "Namespace", metadata: { name: "team-a", labels: { owner: "alice" } } },
      { apiVersion: "v1", kind: "Namespace", metadata: { name: "team-b" } },
    ]);
    const kube = await KubeClient.connect({ kubeconfig: k.kubeconfig });
    const cms = [];
    for (let i = 0; i < 600; i++) {
      const ns = i % 2 ? "team-a" : "team-b";
      cms.push({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: `cm-${String(i).padStart(4, "0")}`, namespace: ns, labels: i % 4 === 0 ? {} : { app: "x" } }, data: { k: "v" } });
    }
    const t0 = Date.now();
    await createMany(kube, cms, 32);
    t.diagnostic(`created 600 ConfigMaps in ${Date.now() - t0} ms`);
    await apply([template]);
    await apply(constraints);

    const policy = await clusterPolicy(kube);
    assert.equal(policy.templates.length, 1);
    assert.equal(policy.constraints.length, 2);
    const logs: Record<string, unknown>[] = [];
    const mgr = new AuditManager({ kube, policy: () => policy, podId: "audit-pod-0", intervalMs: 0, log: (_l, _m, f) => logs.push(f) });
    const t1 = Date.now();
    const summary = await mgr.runOnce();
    t.diagnostic(`audit: ${summary!.objectsAudited} objects in ${Date.now() - t1} ms`);
    assert.ok(summary);
    assert.deepEqual(summary.errors, []);
    // Namespaces default, kube-node-lease, kube-public, kube-system and team-b have no owner.
    const owner = summary.constraints.find((c) => c.name === "all-must-have-owner")!;
    assert.equal(owner.totalViolations, 5);
    const dry = summary.constraints.find((c) => c.name === "cm-must-have-app")!;
    assert.equal(dry.totalViolations, 150); // i % 4 === 0 are unlabelled, all in team-b

    const got = yaml.load((await k.kubectl(["get", "k8srequiredlabels", "all-must-have-owner", "-o", "yaml"])).out) as any;
    assert.equal(got.status.totalViolations, 5);
    assert.equal(got.status.auditTimestamp, summary.auditId);
    // Gatekeeper writes the kept violations last-first
    assert.deepEqual(
      got.status.violations.map((v: any) => v.name),
      ["team-b", "kube-system", "kube-public", "kube-node-lease", "default"],
    );
    assert.deepEqual(got.status.violations[0], { enforcementAction: "deny", group: "", kind: "Namespace", message: 'you must provide labels: {"owner"}', name: "team-b", version: "v1" });
    assert.deepEqual(got.status.byPod, [{ id: "audit-pod-0", constraintUID: got.metadata.uid, enforced: true, observedGeneration: got.metadata.generation, operations: ["audit"] }]);
    const gotDry = yaml.load((await k.kubectl(["get", "k8srequiredlabels", "cm-must-have-app", "-o", "yaml"])).out) as any;
    assert.equal(gotDry.status.totalViolations, 150);
    assert.equal(gotDry.status.violations.length, 20);
    assert.deepEqual(
      gotDry.status.violations.map((v: any) => `${v.enforcementAction} ${v.namespace}/${v.name}`).reverse().slice(0, 3),
      ["dryrun team-b/cm-0000", "dryrun team-b/cm-0004", "dryrun team-b/cm-0008"],
    );
    // log events share the audit id
    const ids = new Set(logs.filter((l) => typeof l.event_type === "string" && /^(audit_started|violation_audited|constraint_audited|audit_finished)$/.test(l.event_type as string)).map((l) => l.audit_id));
    assert.deepEqual([...ids], [summary.auditId]);
    assert.equal(logs.filter((l) => l.event_type === "violation_audited").length, 155);
    // metrics
    const m = mgr.metricsText();
    assert.match(m, /^gatekeeper_violations\{enforcement_action="deny"\} 5$/m);
    assert.match(m, /^gatekeeper_violations\{enforcement_action="dryrun"\} 150$/m);
    assert.match(m, /^gatekeeper_audit_duration_seconds_count 1$/m);
    assert.match(m, /^gatekeeper_audit_last_run_end_time \d+/m);
    // the complete report, as /v1/audit serves it
    let ndjson = "";
    await streamReport(mgr.last!.reportPath, "ndjson", (c) => void (ndjson += c));
    assert.equal(ndjson.trimEnd().split("\n").length, 157);
    let json = "";
    await streamReport(mgr.last!.reportPath, "json", (c) => void (json += c));
    assert.equal(JSON.parse(json).violations.length, 155);

    // pagination: chunk 100 (6 pages) and 0 give the same report
    const snap = auditSnapshot(policy);
    const reports = [];
    for (const chunkSize of [100, 0]) {
      const sink = new CollectingSink();
      const s = await runAudit({ lister: new KubeLister(kube), client: snap.client, chunkSize, sink });
      reports.push({ v: sink.violations, c: s.constraints.map((c) => [c.name, c.totalViolations, c.violations]) });
    }
    assert.deepEqual(reports[1], reports[0]);
    

    // leader election: one leader; when it dies, the other takes over and audits
    const events: string[] = [];
    const mk = (id: string) =>
      new LeaseElector(kube, { name: "portcullis-audit", namespace: "default", identity: id, leaseDurationSeconds: 2, renewDeadlineMs: 1500, retryMs: 200, onStartedLeading: () => events.push(`${id} leads`), onStoppedLeading: () => events.push(`${id} stops`) });
    const a = mk("a");
    const b = mk("b");
    a.start();
    await new Promise((r) => setTimeout(r, 600));
    b.start();
    await new Promise((r) => setTimeout(r, 600));
    assert.equal(a.isLeader, true);
    assert.equal(b.isLeader, false);
    await a.halt(); // killed: the Lease is not given up
    const mgrB = new AuditManager({ kube, policy: () => policy, podId: "audit-pod-1", intervalMs: 100, isLeader: () => b.isLeader, writeStatus: false });
    mgrB.start();
    for (let i = 0; i < 60 && !mgrB.last; i++) await new Promise((r) => setTimeout(r, 100));
    assert.equal(b.isLeader, true);
    assert.ok(mgrB.last, "the new leader audited");
    assert.equal(mgrB.last!.summary.totalViolations, 155);
    await mgrB.stop();
    await b.stop();
    const lease = JSON.parse((await k.kubectl(["get", "lease", "portcullis-audit", "-n", "default", "-o", "json"])).out);
    assert.equal(lease.spec.holderIdentity, "");
    assert.equal(lease.spec.leaseTransitions, 1);
    assert.deepEqual(events, ["a leads", "a stops", "b leads", "b stops"]);
    await mgr.stop();

    // portcullis controller --operation=audit: periodic audit, /metrics and /v1/audit
    {
      let err = "";
      const io = { out: () => {}, err: (x: string) => void (err += x), exitCode: 0 };
      let stopCtl: () => void = () => {};
      let metricsPort = 0;
      const started = new Promise<void>((resolve) => {
        controllerHooks.started = (_w, stop, audit) => {
          stopCtl = stop;
          metricsPort = audit!.metricsPort!;
          resolve();
        };
      });
      const done = main(["controller", "--operation=audit", "--kubeconfig", k.kubeconfig, "--audit-interval", "1", "--metrics-addr", "127.0.0.1:0", "--health-addr", "0", "--audit-lease-namespace", "default", "--audit-lease-name", "ctl-audit"], io);
      await Promise.race([started, done.then(() => assert.fail(`controller exited: ${err}`))]);
      let metrics = "";
      for (let i = 0; i < 100 && !/gatekeeper_audit_last_run_end_time \d/.test(metrics); i++) {
        await new Promise((r) => setTimeout(r, 200));
        metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      }
      assert.match(metrics, /^gatekeeper_violations\{enforcement_action="deny"\} 5$/m, err);
      const nd = await fetch(`http://127.0.0.1:${metricsPort}/v1/audit`, { headers: { accept: "application/x-ndjson" } });
      assert.equal(nd.headers.get("content-type"), "application/x-ndjson");
      assert.equal((await nd.text()).trimEnd().split("\n").length, 157);
      const js = await (await fetch(`http://127.0.0.1:${metricsPort}/v1/audit`)).json();
      assert.equal(js.summary.totalViolations, 155);
      const events = err.split("\n").filter(Boolean).map((l) => JSON.parse(l));
      const started1 = events.find((e) => e.event_type === "audit_started");
      assert.ok(events.some((e) => e.event_type === "audit_finished" && e.audit_id === started1.audit_id));
      stopCtl();
      assert.equal(await done, 0);
      controllerHooks.started = undefined;
    }

    // referential data: a uniqueness template over data.inventory (Config syncOnly Services)
    {
      await apply([
        { apiVersion: "apiextensions.k8s.io/v1", kind: "CustomResourceDefinition", metadata: { name: "configs.config.gatekeeper.sh" }, spec: { group: "config.gatekeeper.sh", scope: "Namespaced", names: { kind: "Config", plural: "configs", singular: "config", listKind: "ConfigList" }, versions: [{ name: "v1alpha1", served: true, storage: true, schema: { openAPIV3Schema: { type: "object", "x-kubernetes-preserve-unknown-fields": true } } }] } },
        crd("constraints.gatekeeper.sh", "K8sUniqueSelector", "k8suniqueselector", "v1beta1"),
      ]);
      assert.equal((await k.kubectl(["wait", "--for=condition=Established", "crd/configs.config.gatekeeper.sh", "crd/k8suniqueselector.constraints.gatekeeper.sh", "--timeout=30s"])).code, 0);
      const svc = (name: string, app: string) => ({ apiVersion: "v1", kind: "Service", metadata: { name, namespace: "team-a" }, spec: { selector: { app }, ports: [{ port: 80 }] } });
      await apply([svc("web", "web"), svc("web-copy", "web"), svc("api", "api")]);
      await apply([
        { apiVersion: "config.gatekeeper.sh/v1alpha1", kind: "Config", metadata: { name: "config", namespace: "default" }, spec: { sync: { syncOnly: [{ group: "", version: "v1", kind: "Service" }] } } },
        {
          apiVersion: "templates.gatekeeper.sh/v1",
          kind: "ConstraintTemplate",
          metadata: { name: "k8suniqueselector" },
          spec: {
            crd: { spec: { names: { kind: "K8sUniqueSelector" } } },
            targets: [{ target: "admission.k8s.gatekeeper.sh", rego: `package k8suniqueselector
violation[{"msg": msg}] {
  input.review.kind.kind == "Service"
  sel := input.review.object.spec.selector
  other := data.inventory.namespace[ns][_]["Service"][name]
  not itself(ns, name)
  other.spec.selector == sel
  msg := sprintf("same selector as service <%v> in namespace <%v>", [name, ns])
}
itself(ns, name) {
  ns == input.review.object.metadata.namespace
  name == input.review.object.metadata.name
}
` }],
          },
        },
        { apiVersion: "constraints.gatekeeper.sh/v1beta1", kind: "K8sUniqueSelector", metadata: { name: "unique-selector" }, spec: { match: { kinds: [{ apiGroups: [""], kinds: ["Service"] }] } } },
      ]);
      const pol = await clusterPolicy(kube);
      assert.equal(pol.config?.metadata.name, "config");
      const sync = new InventorySync(kube);
      for (const fromCache of [false, true]) {
        const m = new AuditManager({ kube, policy: () => pol, podId: "p", intervalMs: 0, writeStatus: false, sync, fromCache });
        const s = await m.runOnce();
        const u = s!.constraints.find((c) => c.name === "unique-selector")!;
        assert.deepEqual(u.violations.map((v) => `${v.name}: ${v.message}`), ["web: same selector as service <web-copy> in namespace <team-a>", "web-copy: same selector as service <web> in namespace <team-a>"], `fromCache ${fromCache}`);
        // from the cache only the synced Services are audited
        if (fromCache) assert.equal(s!.objectsAudited, 4); // 3 + the kubernetes Service
        await m.stop();
      }
      assert.match(sync.metricsText(), /^gatekeeper_sync\{kind="Service",status="active"\} 4$/m);
      // a deletion reaches the inventory through the watch
      await k.kubectl(["delete", "service", "web-copy", "-n", "team-a"]);
      for (let i = 0; i < 50 && (sync.inventory() as any).namespace["team-a"].v1.Service["web-copy"]; i++) await new Promise((r) => setTimeout(r, 100));
      assert.equal((sync.inventory() as any).namespace["team-a"].v1.Service["web-copy"], undefined);
      await sync.stop();
    }

    // one audit from a laptop
    const r = await cli(["audit", "--kubeconfig", k.kubeconfig, "-o", "json", "--audit-report", `${k.dir}/report.ndjson`]);
    assert.equal(r.code, 1, r.err);
    const out = JSON.parse(r.out);
    assert.equal(out.filter((x: any) => x.failures?.length).length, 5);
    assert.equal(out.filter((x: any) => x.warnings?.length).length, 150);
    assert.equal(readFileSync(`${k.dir}/report.ndjson`, "utf8").trimEnd().split("\n").length, 157);
  } finally {
    await k.stop();
  }
});
