// The cluster side of the Gatekeeper-compatible controller against a real API server
// (../shared/kube): the CRDs of deploy/crds apply; ClusterSource creates the constraint CRD of a
// template as Gatekeeper does (kubectl get crd / kubectl get k8srequiredlabels work, a constraint
// with bad parameters is refused by the API server), writes status.byPod for templates and
// constraints (Rego errors with code and location for a broken template), delivers the objects
// (templates, constraints, Config, Providers, Namespaces, ExpansionTemplates — and starts without
// the ExpansionTemplate CRD), and deletes the CRD with its template.
// Skipped when the API server, etcd or kubectl is missing.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { X509Certificate } from "node:crypto";
import { kubeMissing, startKube, type Kube } from "../support/kube.ts";
import { KubeClient } from "../../src/kube/index.ts";
import { ClusterSource, CertRotator } from "../../src/gatekeeper/controller/index.ts";
import { clusterPolicy } from "../../src/gatekeeper/audit/kubelister.ts";
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

describe("against a real API server", { skip: missing || false, timeout: 400000 }, () => {
  let kube: Kube;
  before(async () => {
    kube = await startKube();
    const crds = await kube.kubectl(["apply", "-f", join(ROOT, "deploy", "crds")]);
    assert.equal(crds.code, 0, crds.err);
    for (const n of ["constrainttemplates.templates.gatekeeper.sh", "configs.config.gatekeeper.sh", "providers.externaldata.gatekeeper.sh", "syncsets.syncset.gatekeeper.sh"]) assert.match(crds.out, new RegExp(`customresourcedefinition.apiextensions.k8s.io/${n.replace(/\./g, "\\.")} created`));
    assert.equal((await kube.kubectl(["wait", "--for=condition=Established", "--timeout=60s", "-f", join(ROOT, "deploy", "crds")])).code, 0);
    const ns = await kube.kubectl(["apply", "-f", join(ROOT, "deploy", "namespace.yaml")]);
    assert.equal(ns.code, 0, ns.err);
  });
  after(async () => {
    await kube?.stop();
  });

  test("the deploy manifests pass kubectl apply --dry-run=server", async () => {
    const r = await kube.kubectl(["apply", "--dry-run=server", "-f", join(ROOT, "deploy")]);
    assert.equal(r.code, 0, r.err);
    for (const o of ["namespace/gatekeeper-system", "serviceaccount/gatekeeper-admin", "clusterrole.rbac.authorization.k8s.io/gatekeeper-manager-role", "clusterrolebinding.rbac.authorization.k8s.io/gatekeeper-manager-rolebinding", "role.rbac.authorization.k8s.io/gatekeeper-manager-role", "rolebinding.rbac.authorization.k8s.io/gatekeeper-manager-rolebinding", "secret/gatekeeper-webhook-server-cert", "service/gatekeeper-webhook-service", "deployment.apps/gatekeeper-controller-manager", "poddisruptionbudget.policy/gatekeeper-controller-manager", "networkpolicy.networking.k8s.io/gatekeeper-controller-manager", "validatingwebhookconfiguration.admissionregistration.k8s.io/gatekeeper-validating-webhook-configuration"]) {
      assert.match(r.out, new RegExp(`^${o.replace(/\./g, "\\.")} (created|configured|unchanged) \\(server dry run\\)$`, "m"), r.out);
    }
  });

  test("RBAC: the service account may do what the controller does, and not more", async () => {
    const applied = await kube.kubectl(["apply", "-f", join(ROOT, "deploy", "rbac.yaml")]);
    assert.equal(applied.code, 0, applied.err);
    // SubjectAccessReviews (no discovery needed, so constraint kinds that do not exist yet work)
    const can = async (verb: string, group: string, resource: string, o: { sub?: string; name?: string; ns?: string } = {}) => {
      const sar = {
        apiVersion: "authorization.k8s.io/v1",
        kind: "SubjectAccessReview",
        spec: {
          user: "system:serviceaccount:gatekeeper-system:gatekeeper-admin",
          groups: ["system:serviceaccounts", "system:serviceaccounts:gatekeeper-system", "system:authenticated"],
          resourceAttributes: { verb, group, resource, subresource: o.sub, name: o.name, namespace: o.ns },
        },
      };
      const r = await kube.kubectl(["create", "-o", "json", "-f", "-"], JSON.stringify(sar));
      assert.equal(r.code, 0, r.err);
      return JSON.parse(r.out).status.allowed === true ? "yes" : "no";
    };
    const T = "templates.gatekeeper.sh";
    const C = "constraints.gatekeeper.sh";
    const checks: [Parameters<typeof can>, string][] = [
      [["watch", T, "constrainttemplates"], "yes"],
      [["patch", T, "constrainttemplates", { sub: "status" }], "yes"],
      [["update", T, "constrainttemplates"], "no"],
      [["list", C, "k8srequiredlabels"], "yes"],
      [["patch", C, "k8srequiredlabels", { sub: "status" }], "yes"],
      [["delete", C, "k8srequiredlabels"], "no"],
      [["watch", "externaldata.gatekeeper.sh", "providers"], "yes"],
      [["watch", "expansion.gatekeeper.sh", "expansiontemplate"], "yes"],
      [["update", "expansion.gatekeeper.sh", "expansiontemplate"], "no"],
      [["watch", "", "namespaces"], "yes"],
      [["delete", "", "namespaces"], "no"],
      [["create", "apiextensions.k8s.io", "customresourcedefinitions"], "yes"],
      [["delete", "apiextensions.k8s.io", "customresourcedefinitions", { name: "k8srequiredlabels.constraints.gatekeeper.sh" }], "yes"],
      [["update", "admissionregistration.k8s.io", "validatingwebhookconfigurations", { name: "gatekeeper-validating-webhook-configuration" }], "yes"],
      [["update", "admissionregistration.k8s.io", "validatingwebhookconfigurations", { name: "other" }], "no"],
      [["update", "", "secrets", { ns: "gatekeeper-system", name: "gatekeeper-webhook-server-cert" }], "yes"],
      [["get", "", "secrets", { ns: "gatekeeper-system", name: "other" }], "no"],
      [["get", "", "secrets", { ns: "default", name: "gatekeeper-webhook-server-cert" }], "no"],
      [["watch", "config.gatekeeper.sh", "configs", { ns: "gatekeeper-system" }], "yes"],
      [["create", "", "pods", { ns: "default" }], "no"],
      [["list", "", "secrets"], "no"],
    ];
    const wrong: string[] = [];
    for (const [args, want] of checks) {
      const got = await can(...args);
      if (got !== want) wrong.push(`${JSON.stringify(args)}: ${got}, want ${want}`);
    }
    assert.deepEqual(wrong, []);
  });

  test("ClusterSource: constraint CRDs, status, deliveries", async () => {
  const k = kube.kubectl;
  const logs: string[] = [];
  const src = new ClusterSource({ kubeconfig: kube.kubeconfig, podName: "portcullis-test-0", debounceMs: 50, log: (level, msg, f) => logs.push(`${level} ${msg} ${JSON.stringify(f)}`) });
  let last: GatekeeperObjects | undefined;
  let deliveries = 0;
  try {
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
    // (kubectl's discovery cache may lag a new CRD by a moment)
    const got = await until(async () => {
      const r = await k(["get", "k8srequiredlabels"]);
      return r.code === 0 ? r : null;
    }, "kubectl get k8srequiredlabels");
    assert.match(got!.out, /^NAME\s+ENFORCEMENT-ACTION\s+TOTAL-VIOLATIONS\n/);
    assert.match(got!.out, /all-must-have-owner\s+deny\s+/); // enforcementAction defaulted by the CRD
    await until(async () => /all-must-have-owner/.test((await k(["get", "constraints"])).out), "kubectl get constraints (the category)");
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

    // ExpansionTemplates (Gatekeeper's v1alpha1 YAML applies; delivered as the v1beta1 the source watches)
    const et = { apiVersion: "expansion.gatekeeper.sh/v1alpha1", kind: "ExpansionTemplate", metadata: { name: "expand-deployments" }, spec: { applyTo: [{ groups: ["apps"], kinds: ["Deployment"], versions: ["v1"] }], templateSource: "spec.template", generatedGVK: { kind: "Pod", group: "", version: "v1" } } };
    const etApplied = await k(["apply", "-f", "-"], JSON.stringify(et));
    assert.equal(etApplied.code, 0, etApplied.err);
    const delivered = (await until(() => last!.expansionTemplates?.find((o) => o.metadata.name === "expand-deployments"), "the ExpansionTemplate delivered"))!;
    assert.equal(delivered.apiVersion, "expansion.gatekeeper.sh/v1beta1");
    assert.equal(delivered.kind, "ExpansionTemplate");
    assert.deepEqual(delivered.spec, et.spec);
    // the audit's listing of the cluster's policy has it too
    const client = await KubeClient.connect({ kubeconfig: kube.kubeconfig });
    try {
      assert.deepEqual((await clusterPolicy(client)).expansionTemplates?.map((o) => [o.apiVersion, o.kind, o.metadata.name]), [["expansion.gatekeeper.sh/v1beta1", "ExpansionTemplate", "expand-deployments"]]);
    } finally {
      client.close();
    }
    assert.equal((await k(["delete", "expansiontemplate", "expand-deployments"])).code, 0);
    await until(() => last!.expansionTemplates?.length === 0, "the ExpansionTemplate gone");

    // deleting the template deletes its CRD and with it the constraints
    assert.equal((await k(["delete", "constrainttemplate", "k8srequiredlabels"])).code, 0);
    await until(async () => (await k(["get", "crd", "k8srequiredlabels.constraints.gatekeeper.sh"])).code !== 0, "the CRD deleted");
    await until(() => last!.constraints.length === 0 && last!.templates.every((t) => t.metadata.name !== "k8srequiredlabels"), "the constraint gone from the delivered objects");
    assert.ok(deliveries >= 3, `deliveries: ${deliveries}`);
    assert.ok(!logs.some((l) => l.startsWith("error watch failed") && !/k8srequiredlabels/.test(l)), logs.join("\n"));
  } finally {
    await src.stop();
  }
  });


  test("ClusterSource without the ExpansionTemplate CRD: starts, watches none, says so", async () => {
    const del = await kube.kubectl(["delete", "crd", "expansiontemplate.expansion.gatekeeper.sh", "--wait=true"]);
    assert.equal(del.code, 0, del.err);
    const logs: string[] = [];
    const src = new ClusterSource({ kubeconfig: kube.kubeconfig, podName: "portcullis-test-1", debounceMs: 50, writeStatus: false, log: (level, msg) => logs.push(`${level} ${msg}`) });
    let last: GatekeeperObjects | undefined;
    try {
      await src.start((o) => (last = o));
      assert.ok(last);
      assert.equal(last.expansionTemplates, undefined);
      assert.ok(logs.includes("info the ExpansionTemplate CRD is not installed: ExpansionTemplates are not watched"), logs.join("\n"));
      assert.ok(!logs.some((l) => l.startsWith("error watch failed")), logs.join("\n"));
    } finally {
      await src.stop();
      const re = await kube.kubectl(["apply", "-f", join(ROOT, "deploy", "crds", "expansiontemplate.expansion.gatekeeper.sh.yaml")]);
      assert.equal(re.code, 0, re.err);
    }
  });

  test("CertRotator: Secret, files, caBundle, a second replica adopts, rotation before expiry", async () => {
    const vwc = await kube.kubectl(["apply", "-f", join(ROOT, "deploy", "webhook.yaml")]);
    assert.equal(vwc.code, 0, vwc.err);
    const client = await KubeClient.connect({ kubeconfig: kube.kubeconfig });
    const dirA = mkdtempSync(join(tmpdir(), "certs-a-"));
    const dirB = mkdtempSync(join(tmpdir(), "certs-b-"));
    const a = new CertRotator({ client, namespace: "gatekeeper-system", certDir: dirA });
    const b = new CertRotator({ client, namespace: "gatekeeper-system", certDir: dirB });
    try {
      await a.start();
      assert.equal(a.stats.generated, 1);
      const secret = JSON.parse((await kube.kubectl(["-n", "gatekeeper-system", "get", "secret", "gatekeeper-webhook-server-cert", "-o", "json"])).out);
      assert.deepEqual(Object.keys(secret.data).sort(), ["ca.crt", "ca.key", "tls.crt", "tls.key"]);
      const cert = new X509Certificate(readFileSync(join(dirA, "tls.crt")));
      assert.equal(cert.checkHost("gatekeeper-webhook-service.gatekeeper-system.svc"), "gatekeeper-webhook-service.gatekeeper-system.svc");
      assert.equal(Buffer.from(secret.data["tls.crt"], "base64").toString(), readFileSync(join(dirA, "tls.crt"), "utf8"));
      const hooks = JSON.parse((await kube.kubectl(["get", "validatingwebhookconfiguration", "gatekeeper-validating-webhook-configuration", "-o", "json"])).out).webhooks;
      assert.equal(hooks.length, 2);
      for (const h of hooks) assert.equal(Buffer.from(h.clientConfig.caBundle, "base64").toString(), readFileSync(join(dirA, "ca.crt"), "utf8"));

      // a second replica uses the same certificates
      await b.start();
      assert.equal(b.stats.generated, 0);
      assert.equal(readFileSync(join(dirB, "tls.crt"), "utf8"), readFileSync(join(dirA, "tls.crt"), "utf8"));

      // a redeploy overwrites the caBundle: it is put back
      const reapplied = await kube.kubectl(["replace", "-f", join(ROOT, "deploy", "webhook.yaml")]);
      assert.equal(reapplied.code, 0, reapplied.err);
      await a.inject();
      const again = JSON.parse((await kube.kubectl(["get", "validatingwebhookconfiguration", "gatekeeper-validating-webhook-configuration", "-o", "json"])).out).webhooks;
      assert.ok(again.every((h: { clientConfig: { caBundle?: string } }) => h.clientConfig.caBundle === hooks[0].clientConfig.caBundle));

      // within the lookahead of expiry: new certificates
      const soon = new CertRotator({ client, namespace: "gatekeeper-system", certDir: dirA, lookaheadMs: 366 * 86400_000, certValidityDays: 400 });
      await soon.refresh();
      assert.equal(soon.stats.generated, 1);
      assert.notEqual(readFileSync(join(dirA, "tls.crt"), "utf8"), readFileSync(join(dirB, "tls.crt"), "utf8"));
    } finally {
      a.stop();
      b.stop();
      client.close();
    }
  });
});
