// The Helm chart (charts/portcullis) and deploy/: deploy/ is the chart rendered with its defaults
// (scripts/render-deploy.ts) — checked here when helm is installed; the chart's switches render the
// flags they name; Portcullis's built-in library passes the chart's output and deploy/ with 0
// failures; the rendered output is accepted by a real API server (kubectl apply --dry-run=server).
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import jsyaml from "js-yaml";
import { cli } from "../cli/helpers.ts";
import { helmBinary, renderChart, renderDeploy, ROOT, TEMPLATE_FILES } from "../../scripts/render-deploy.ts";
import { kubeMissing, startKube } from "../support/kube.ts";

const helm = helmBinary();
const noHelm = helm ? "" : "helm is not installed (go install helm.sh/helm/v3/cmd/helm@latest)";
const DEPLOY = join(ROOT, "deploy");
const SETTINGS = join(DEPLOY, "settings", "library.yaml");

type Obj = Record<string, any>;
const docs = (text: string): Obj[] => jsyaml.loadAll(text).filter((d): d is Obj => d !== null && typeof d === "object");
const all = (files: Map<string, string>): Obj[] => [...files.values()].flatMap(docs);
const find = (objs: Obj[], kind: string, name: string) => objs.find((o) => o.kind === kind && o.metadata.name === name);
const args = (d: Obj) => d.spec.template.spec.containers[0].args as string[];

test("deploy/ is the chart rendered with its default values", { skip: noHelm || undefined }, () => {
  const rendered = renderDeploy(helm);
  assert.deepEqual([...rendered.keys()].filter((f) => !f.startsWith("crds/")).sort(), Object.values(TEMPLATE_FILES).sort());
  for (const [file, text] of rendered) assert.equal(readFileSync(join(DEPLOY, file), "utf8"), text, `deploy/${file} differs from the chart: run node --import tsx scripts/render-deploy.ts`);
  // every chart CRD is in deploy/crds and the other way round
  assert.deepEqual([...rendered.keys()].filter((f) => f.startsWith("crds/")).sort(), readdirSync(join(DEPLOY, "crds")).map((f) => `crds/${f}`).sort());
});

test("deploy/: webhook ×3 and audit ×2 (one leader), hardened, probed, with requests and limits; least-privilege audit RBAC", () => {
  const objs = readdirSync(DEPLOY).filter((f) => f.endsWith(".yaml")).flatMap((f) => docs(readFileSync(join(DEPLOY, f), "utf8")));
  const webhook = find(objs, "Deployment", "gatekeeper-controller-manager")!;
  const audit = find(objs, "Deployment", "gatekeeper-audit")!;
  assert.equal(webhook.spec.replicas, 3);
  assert.equal(audit.spec.replicas, 2);
  assert.equal(find(objs, "PodDisruptionBudget", "gatekeeper-audit")!.spec.minAvailable, 1);
  assert.deepEqual(args(audit).slice(0, 2), ["controller", "--operation=audit"]);
  for (const a of ["--audit-interval=60", "--audit-chunk-size=500", "--constraint-violations-limit=20", "--audit-lease-name=portcullis-audit", "--log-level=INFO"]) assert.ok(args(audit).includes(a), a);
  assert.ok(args(audit).includes("--audit-match-kind-only") && !args(audit).includes("--audit-from-cache"));
  assert.deepEqual(audit.spec.template.spec.containers[0].env.find((e: Obj) => e.name === "NODE_OPTIONS"), { name: "NODE_OPTIONS", value: "--max-old-space-size=160" });
  for (const d of [webhook, audit]) {
    const c = d.spec.template.spec.containers[0];
    assert.deepEqual([c.securityContext.readOnlyRootFilesystem, c.securityContext.runAsNonRoot, c.securityContext.allowPrivilegeEscalation, c.securityContext.capabilities.drop, c.securityContext.seccompProfile.type], [true, true, false, ["ALL"], "RuntimeDefault"]);
    assert.equal(d.spec.template.spec.securityContext.seccompProfile.type, "RuntimeDefault");
    assert.deepEqual([c.livenessProbe.httpGet.path, c.readinessProbe.httpGet.path], ["/healthz", "/readyz"]);
    assert.ok(c.resources.requests.cpu && c.resources.requests.memory && c.resources.limits.cpu && c.resources.limits.memory);
  }
  assert.equal(audit.spec.template.spec.serviceAccountName, "gatekeeper-admin-audit");
  const role = find(objs, "ClusterRole", "gatekeeper-audit-role")!;
  // read-only everywhere except constraint status; no create/delete/update outside it
  const writes = role.rules.filter((r: Obj) => r.verbs.some((v: string) => !["get", "list", "watch"].includes(v)));
  assert.deepEqual(writes, [{ apiGroups: ["constraints.gatekeeper.sh"], resources: ["*/status"], verbs: ["get", "patch", "update"] }]);
  const nsRole = find(objs, "Role", "gatekeeper-audit-role")!;
  assert.deepEqual(nsRole.rules.filter((r: Obj) => r.apiGroups[0] === "coordination.k8s.io"), [
    { apiGroups: ["coordination.k8s.io"], resources: ["leases"], verbs: ["create"] },
    { apiGroups: ["coordination.k8s.io"], resources: ["leases"], resourceNames: ["portcullis-audit"], verbs: ["get", "update", "patch"] },
  ]);
  assert.ok(find(objs, "Service", "portcullis-metrics") && find(objs, "PodDisruptionBudget", "gatekeeper-controller-manager") && find(objs, "NetworkPolicy", "gatekeeper-audit"));
});

test("chart values render the flags they name", { skip: noHelm || undefined }, () => {
  const objs = all(
    renderChart(helm, [
      "audit.interval=300", "audit.chunkSize=100", "audit.constraintViolationsLimit=50", "audit.fromCache=true", "audit.reportFile=/reports/audit.ndjson",
      "audit.nodeOptions=", "logLevel=DEBUG", "webhook.replicas=5", "webhook.failurePolicy=Fail", "webhook.timeoutSeconds=7", "webhook.certRotation=false", "webhook.maxServingThreads=4",
      "webhook.metricsPerConstraint=true", "webhook.exemptNamespacePrefixes={kube-}", "image.digest=sha256:" + "a".repeat(64), "serviceMonitor.enabled=true",
    ]),
  );
  const audit = find(objs, "Deployment", "gatekeeper-audit")!;
  for (const a of ["--audit-interval=300", "--audit-chunk-size=100", "--constraint-violations-limit=50", "--audit-match-kind-only", "--audit-from-cache", "--audit-report=/reports/audit.ndjson", "--log-level=DEBUG"]) assert.ok(args(audit).includes(a), a);
  assert.ok(!audit.spec.template.spec.containers[0].env.some((e: Obj) => e.name === "NODE_OPTIONS"));
  assert.ok(audit.spec.template.spec.volumes.some((v: Obj) => v.name === "reports"));
  const webhook = find(objs, "Deployment", "gatekeeper-controller-manager")!;
  assert.equal(webhook.spec.replicas, 5);
  for (const a of ["--disable-cert-rotation", "--max-serving-threads=4", "--metrics-per-constraint", "--exempt-namespace-prefix=kube-"]) assert.ok(args(webhook).includes(a), a);
  assert.equal(webhook.spec.template.spec.containers[0].image, `ghcr.io/portcullis/portcullis@sha256:${"a".repeat(64)}`);
  const vwc = find(objs, "ValidatingWebhookConfiguration", "gatekeeper-validating-webhook-configuration")!;
  assert.deepEqual([vwc.webhooks[0].failurePolicy, vwc.webhooks[0].timeoutSeconds], ["Fail", 7]);
  assert.equal(find(objs, "ServiceMonitor", "portcullis")!.spec.endpoints[0].port, "metrics");
  assert.ok(!args(find(all(renderChart(helm, ["audit.matchKindOnly=false"])), "Deployment", "gatekeeper-audit")!).includes("--audit-match-kind-only"));
  // mutation (off by default): the operation, the mutators' RBAC and Gatekeeper's MutatingWebhookConfiguration
  assert.ok(!all(renderChart(helm)).some((o) => o.kind === "MutatingWebhookConfiguration"));
  const mut = all(renderChart(helm, ["mutation.enabled=true"]));
  assert.ok(args(find(mut, "Deployment", "gatekeeper-controller-manager")!).includes("--operation=mutation-webhook"));
  const mwc = find(mut, "MutatingWebhookConfiguration", "gatekeeper-mutating-webhook-configuration")!;
  const mh = mwc.webhooks[0];
  assert.deepEqual([mh.name, mh.failurePolicy, mh.timeoutSeconds, mh.sideEffects, mh.matchPolicy, mh.reinvocationPolicy, mh.clientConfig.service.path], ["mutation.gatekeeper.sh", "Ignore", 1, "None", "Exact", "IfNeeded", "/v1/mutate"]);
  const mrole = find(mut, "ClusterRole", "gatekeeper-manager-role")!;
  assert.ok(mrole.rules.some((r: Obj) => r.apiGroups[0] === "mutations.gatekeeper.sh" && r.verbs.join() === "get,list,watch"));
  assert.ok(mrole.rules.some((r: Obj) => r.resources[0] === "mutatingwebhookconfigurations" && r.resourceNames[0] === "gatekeeper-mutating-webhook-configuration"));
  // both operations off: nothing but the metrics Service (and the Namespace)
  const none = all(renderChart(helm, ["webhook.enabled=false", "audit.enabled=false"])).filter((o) => o.kind !== "CustomResourceDefinition");
  assert.deepEqual(none.map((o) => o.kind).sort(), ["LimitRange", "Namespace", "ResourceQuota", "Service"]);
});

test("the built-in library passes deploy/ and the chart's output with 0 failures", async () => {
  const targets = [DEPLOY];
  if (helm) {
    const dir = mkdtempSync(join(tmpdir(), "chart-"));
    writeFileSync(join(dir, "rendered.yaml"), [...renderChart(helm, ["audit.reportFile=/reports/a.ndjson", "serviceMonitor.enabled=true", "mutation.enabled=true"]).values()].join("---\n"));
    targets.push(dir);
  }
  for (const t of targets) {
    for (const extra of [[], ["--combine"]]) {
      const r = await cli(["test", "--no-color", ...extra, "--data", SETTINGS, t]);
      assert.equal(r.code, 0, r.out + r.err);
      assert.match(r.out, /\d+ tests, \d+ passed, 0 warnings, 0 failures, 0 exceptions/);
    }
  }
});

const kubeSkip = kubeMissing();
test("kubectl apply --dry-run=server accepts the chart's output; the audit's RBAC allows only what it needs (real API server)", { skip: kubeSkip || undefined, timeout: 180_000 }, async () => {
  const kube = await startKube();
  try {
    const crds = await kube.kubectl(["apply", "-f", join(DEPLOY, "crds")]);
    assert.equal(crds.code, 0, crds.err);
    assert.equal((await kube.kubectl(["wait", "--for=condition=Established", "--timeout=60s", "-f", join(DEPLOY, "crds")])).code, 0);
    const ns = await kube.kubectl(["apply", "-f", join(DEPLOY, "namespace.yaml")]);
    assert.equal(ns.code, 0, ns.err);
    let input = readdirSync(DEPLOY).filter((f) => f.endsWith(".yaml")).map((f) => readFileSync(join(DEPLOY, f), "utf8")).join("---\n");
    if (helm) input = [...renderChart(helm, ["audit.reportFile=/reports/a.ndjson", "audit.matchKindOnly=true", "mutation.enabled=true"]).entries()].filter(([f]) => !f.startsWith("crds/")).map(([, t]) => t).join("---\n");
    const r = await kube.kubectl(["apply", "--dry-run=server", "-f", "-"], input);
    assert.equal(r.code, 0, r.err);
    for (const o of ["deployment.apps/gatekeeper-controller-manager", "deployment.apps/gatekeeper-audit", "serviceaccount/gatekeeper-admin-audit", "clusterrole.rbac.authorization.k8s.io/gatekeeper-audit-role", "role.rbac.authorization.k8s.io/gatekeeper-audit-role", "service/portcullis-metrics", "networkpolicy.networking.k8s.io/gatekeeper-audit", "validatingwebhookconfiguration.admissionregistration.k8s.io/gatekeeper-validating-webhook-configuration", ...(helm ? ["mutatingwebhookconfiguration.admissionregistration.k8s.io/gatekeeper-mutating-webhook-configuration"] : [])]) {
      assert.match(r.out, new RegExp(`${o.replace(/\./g, "\\.")} (created|configured|unchanged) \\(server dry run\\)`), o);
    }
    // The audit's service account, really applied: what it may and may not do (SubjectAccessReviews).
    const applied = await kube.kubectl(["apply", "-f", join(DEPLOY, "audit.yaml")]);
    assert.equal(applied.code, 0, applied.err);
    // SubjectAccessReviews (no discovery needed, so constraint kinds that do not exist yet work)
    const can = async (verb: string, group: string, resource: string, o: { sub?: string; name?: string; ns?: string } = {}) => {
      const sar = {
        apiVersion: "authorization.k8s.io/v1",
        kind: "SubjectAccessReview",
        spec: {
          user: "system:serviceaccount:gatekeeper-system:gatekeeper-admin-audit",
          groups: ["system:serviceaccounts", "system:serviceaccounts:gatekeeper-system", "system:authenticated"],
          resourceAttributes: { verb, group, resource, subresource: o.sub, name: o.name, namespace: o.ns },
        },
      };
      const r = await kube.kubectl(["create", "-o", "json", "-f", "-"], JSON.stringify(sar));
      assert.equal(r.code, 0, r.err);
      return JSON.parse(r.out).status.allowed === true ? "yes" : "no";
    };
    const C = "constraints.gatekeeper.sh";
    const L = "coordination.k8s.io";
    const checks: [Parameters<typeof can>, string][] = [
      [["list", "", "pods"], "yes"],
      [["list", "", "secrets"], "no"],
      [["create", "", "pods", { sub: "exec", ns: "x", name: "p" }], "no"],
      [["watch", "apps", "deployments", { ns: "x" }], "yes"],
      [["list", C, "k8srequiredlabels"], "yes"],
      [["patch", C, "k8srequiredlabels", { sub: "status", name: "x" }], "yes"],
      [["patch", C, "k8srequiredlabels", { name: "x" }], "no"],
      [["delete", C, "k8srequiredlabels", { name: "x" }], "no"],
      [["create", L, "leases", { ns: "gatekeeper-system" }], "yes"],
      [["update", L, "leases", { ns: "gatekeeper-system", name: "portcullis-audit" }], "yes"],
      [["update", L, "leases", { ns: "gatekeeper-system", name: "other" }], "no"],
      [["create", L, "leases", { ns: "default" }], "no"],
      [["create", "", "pods", { ns: "default" }], "no"],
      [["delete", "", "namespaces"], "no"],
      [["create", "apiextensions.k8s.io", "customresourcedefinitions"], "no"],
      [["update", "admissionregistration.k8s.io", "validatingwebhookconfigurations", { name: "gatekeeper-validating-webhook-configuration" }], "no"],
      [["patch", "templates.gatekeeper.sh", "constrainttemplates", { sub: "status", name: "x" }], "no"],
    ];
    const got: string[] = [];
    for (const [a] of checks) got.push(await can(...a));
    assert.deepEqual(got, checks.map(([, want]) => want), JSON.stringify(checks.map(([a], i) => [...a.slice(0, 3), got[i]])));
  } finally {
    await kube.stop();
  }
});
