// The cluster side of the Gatekeeper-compatible controller against a real API server
// (../shared/kube): the CRDs of deploy/crds apply; ClusterSource creates the constraint CRD of a
// template as Gatekeeper does (kubectl get crd / kubectl get k8srequiredlabels work, a constraint
// with bad parameters is refused by the API server), writes status.byPod for templates and
// constraints (Rego errors with code and location for a broken template), delivers the objects
// (templates, constraints, Config, Providers, Namespaces), and deletes the CRD with its template.
// Skipped when the API server, etcd or kubectl is missing.
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { kubeMissing, startKube } from "../support/kube.ts";
import { ClusterSource } from "../../src/gatekeeper/controller/index.ts";
import type { GatekeeperObjects } from "../../src/gatekeeper/state.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const FIX = join(ROOT, "test", "gatekeeper", "cluster");
const missing = kubeMissing();

async function until<T>(f: () => T | Promise<T>, what: string, ms = 30000): Promise<T> {
  const end = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await f();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ""}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test("ClusterSource against a real API server", { skip: missing || false, timeout: 240000 }, async () => {
  const kube = await startKube();
  const k = kube.kubectl;
  const logs: string[] = [];
  const src = new ClusterSource({ kubeconfig: kube.kubeconfig, podName: "portcullis-test-0", debounceMs: 50, log: (level, msg, f) => logs.push(`${level} ${msg} ${JSON.stringify(f)}`) });
  let last: GatekeeperObjects | undefined;
  let deliveries = 0;
  try {
    const crds = await k(["apply", "-f", join(ROOT, "deploy", "crds")]);
    assert.equal(crds.code, 0, crds.err);
    for (const n of ["constrainttemplates.templates.gatekeeper.sh", "configs.config.gatekeeper.sh", "providers.externaldata.gatekeeper.sh", "syncsets.syncset.gatekeeper.sh"]) assert.match(crds.out, new RegExp(`customresourcedefinition.apiextensions.k8s.io/${n.replace(/\./g, "\\.")} created`));
    assert.equal((await k(["wait", "--for=condition=Established", "--timeout=60s", "-f", join(ROOT, "deploy", "crds")])).code, 0);
    assert.equal((await k(["create", "namespace", "gatekeeper-system"])).code, 0);

    await src.start((o) => {
      last = o;
      deliveries++;
    });
    assert.ok(last, "the initial sync is delivered before start() resolves");
    assert.equal(last.templates.length, 0);
    assert.ok(last.namespaces.has("gatekeeper-system"));

    // a template → its constraint CRD, as Gatekeeper makes it
    const applied = await k(["apply", "-f", join(FIX, "requiredlabels-template.yaml")]);
    assert.equal(applied.code, 0, applied.err);
    const crd = await until(async () => {
      const r = await k(["get", "crd", "k8srequiredlabels.constraints.gatekeeper.sh", "-o", "json"]);
      return r.code === 0 ? JSON.parse(r.out) : null;
    }, "the constraint CRD");
    assert.equal(crd.spec.group, "constraints.gatekeeper.sh");
    assert.equal(crd.spec.scope, "Cluster");
    assert.deepEqual(crd.spec.names, { kind: "K8sRequiredLabels", listKind: "K8sRequiredLabelsList", plural: "k8srequiredlabels", singular: "k8srequiredlabels", shortNames: ["reqlabels"], categories: ["constraint", "constraints"] });
    assert.deepEqual(crd.spec.versions.map((v: { name: string; storage: boolean }) => [v.name, v.storage]), [["v1beta1", true], ["v1alpha1", false]]);
    assert.equal(crd.metadata.labels["gatekeeper.sh/constraint"], "yes");
    assert.equal(crd.spec.versions[0].schema.openAPIV3Schema.properties.spec.properties.parameters.properties.labels.items.properties.allowedRegex.type, "string");

    // a constraint applies and lists; bad parameters are refused by the CRD's schema
    const c1 = await until(async () => {
      const r = await k(["apply", "-f", join(FIX, "all-must-have-owner.yaml")]);
      return r.code === 0 ? r : null;
    }, "kubectl apply of the constraint");
    assert.match(c1!.out, /k8srequiredlabels\.constraints\.gatekeeper\.sh\/all-must-have-owner created/);
    const got = await k(["get", "k8srequiredlabels"]);
    assert.equal(got.code, 0, got.err);
    assert.match(got.out, /^NAME\s+ENFORCEMENT-ACTION\s+TOTAL-VIOLATIONS\n/);
    assert.match(got.out, /all-must-have-owner\s+deny\s+/); // enforcementAction defaulted by the CRD
    assert.match((await k(["get", "constraints"])).out, /all-must-have-owner/); // the category
    const bad = await k(["apply", "-f", "-"], JSON.stringify({ apiVersion: "constraints.gatekeeper.sh/v1beta1", kind: "K8sRequiredLabels", metadata: { name: "bad-params" }, spec: { parameters: { labels: "owner" } } }));
    assert.notEqual(bad.code, 0);
    assert.match(bad.err, /spec\.parameters\.labels: Invalid value: "string": spec\.parameters\.labels in body must be of type array: "string"/);

    await until(() => last!.constraints.some((c) => c.metadata.name === "all-must-have-owner") && last!.templates.length === 1, "the constraint delivered");

    // statuses: the template's and the constraint's byPod entries of this pod
    const tStatus = await until(async () => {
      const t = JSON.parse((await k(["get", "constrainttemplate", "k8srequiredlabels", "-o", "json"])).out);
      return t.status?.byPod?.length ? t : null;
    }, "template status");
    assert.equal(tStatus.status.created, true);
    assert.deepEqual(tStatus.status.byPod, [{ id: "portcullis-test-0", observedGeneration: 1, operations: ["webhook"], templateUID: tStatus.metadata.uid }]);
    const cStatus = await until(async () => {
      const c = JSON.parse((await k(["get", "k8srequiredlabels", "all-must-have-owner", "-o", "json"])).out);
      return c.status?.byPod?.length ? c : null;
    }, "constraint status");
    assert.deepEqual(cStatus.status.byPod, [{ id: "portcullis-test-0", constraintUID: cStatus.metadata.uid, enforced: true, observedGeneration: 1, operations: ["webhook"] }]);

    // a template whose Rego does not parse: errors in status, no CRD
    assert.equal((await k(["apply", "-f", join(FIX, "broken-template.yaml")])).code, 0);
    const broken = await until(async () => {
      const t = JSON.parse((await k(["get", "constrainttemplate", "k8sbroken", "-o", "json"])).out);
      return t.status?.byPod?.[0]?.errors ? t : null;
    }, "broken template status");
    assert.deepEqual(broken.status.byPod[0].errors, [{ code: "rego_parse_error", message: 'unexpected } token: expected "," or "]"', location: broken.status.byPod[0].errors[0].location }]);
    assert.match(broken.status.byPod[0].errors[0].location, /^template:5(:\d+)?$/);
    assert.notEqual(broken.status.created, true);
    assert.notEqual((await k(["get", "crd", "k8sbroken.constraints.gatekeeper.sh"])).code, 0);

    // Config, Provider and Namespaces are delivered too
    await k(["apply", "-f", "-"], JSON.stringify({ apiVersion: "config.gatekeeper.sh/v1alpha1", kind: "Config", metadata: { name: "config", namespace: "gatekeeper-system" }, spec: { match: [{ excludedNamespaces: ["kube-*"], processes: ["*"] }] } }));
    await k(["apply", "-f", "-"], JSON.stringify({ apiVersion: "externaldata.gatekeeper.sh/v1beta1", kind: "Provider", metadata: { name: "my-provider" }, spec: { url: "https://provider.example:8090/validate", timeout: 3, caBundle: "" } }));
    await k(["create", "namespace", "team-a"]);
    await until(() => last!.config?.spec?.match?.[0]?.excludedNamespaces?.[0] === "kube-*" && last!.providers.length === 1 && last!.namespaces.has("team-a"), "Config, Provider and Namespace delivered");

    // deleting the template deletes its CRD and with it the constraints
    assert.equal((await k(["delete", "constrainttemplate", "k8srequiredlabels"])).code, 0);
    await until(async () => (await k(["get", "crd", "k8srequiredlabels.constraints.gatekeeper.sh"])).code !== 0, "the CRD deleted");
    await until(() => last!.constraints.length === 0 && last!.templates.every((t) => t.metadata.name !== "k8srequiredlabels"), "the constraint gone from the delivered objects");
    assert.ok(deliveries >= 3, `deliveries: ${deliveries}`);
    assert.ok(!logs.some((l) => l.startsWith("error watch failed") && !/k8srequiredlabels/.test(l)), logs.join("\n"));
  } finally {
    await src.stop();
    await kube.stop();
  }
});
