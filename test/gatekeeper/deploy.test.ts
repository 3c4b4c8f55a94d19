// The shipped manifests (deploy/): Portcullis's built-in library passes them (per document and
// combined, where the PodDisruptionBudget and NetworkPolicy rules look across documents); the
// CRDs have Gatekeeper's groups, kinds, scopes, versions and defaults; the webhook configuration
// has Gatekeeper's defaults. (test/gatekeeper/cluster-e2e.test.ts applies them to a real API
// server with --dry-run=server.)
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { cli } from "../cli/helpers.ts";
import { readManifests } from "../../src/gatekeeper/manifestfiles.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const DEPLOY = join(ROOT, "deploy");
const SETTINGS = join(DEPLOY, "settings", "library.yaml");

test("the built-in library passes the deploy manifests", async () => {
  for (const extra of [[], ["--combine"]]) {
    const r = await cli(["test", "--no-color", ...extra, "--data", SETTINGS, DEPLOY]);
    assert.equal(r.code, 0, r.out + r.err);
    assert.match(r.out, /\d+ tests, \d+ passed, 0 warnings, 0 failures, 0 exceptions/);
  }
});

test("CRDs: Gatekeeper's groups, kinds, scopes and versions", () => {
  const crds = readManifests(join(DEPLOY, "crds"));
  const summary = crds.map((c) => [c.metadata.name, c.spec.names.kind, c.spec.scope, c.spec.versions.map((v: { name: string; storage: boolean; served: boolean }) => `${v.name}${v.storage ? "*" : ""}${v.served ? "" : "-"}`).join(",")]);
  assert.deepEqual(summary, [
    ["assign.mutations.gatekeeper.sh", "Assign", "Cluster", "v1*,v1alpha1,v1beta1"],
    ["assignimage.mutations.gatekeeper.sh", "AssignImage", "Cluster", "v1alpha1*"],
    ["assignmetadata.mutations.gatekeeper.sh", "AssignMetadata", "Cluster", "v1*,v1alpha1,v1beta1"],
    ["configs.config.gatekeeper.sh", "Config", "Namespaced", "v1alpha1*"],
    ["constrainttemplates.templates.gatekeeper.sh", "ConstraintTemplate", "Cluster", "v1*,v1alpha1,v1beta1"],
    ["expansiontemplate.expansion.gatekeeper.sh", "ExpansionTemplate", "Cluster", "v1alpha1*,v1beta1"],
    ["modifyset.mutations.gatekeeper.sh", "ModifySet", "Cluster", "v1*,v1alpha1,v1beta1"],
    ["providers.externaldata.gatekeeper.sh", "Provider", "Cluster", "v1alpha1,v1beta1*"],
    ["syncsets.syncset.gatekeeper.sh", "SyncSet", "Cluster", "v1alpha1*"],
  ]);
  const ct = crds.find((c) => c.spec.names.kind === "ConstraintTemplate")!;
  const legacy = ct.spec.versions.map((v: any) => v.schema.openAPIV3Schema.properties.spec.properties.crd.properties.spec.properties.validation.properties.legacySchema.default);
  assert.deepEqual(legacy, [false, true, true]); // v1 strict, v1alpha1/v1beta1 legacy
  assert.ok(ct.spec.versions.every((v: any) => v.subresources?.status));
  // ModifySet's operation defaults to merge (the API server applies it).
  const ms = crds.find((c) => c.spec.names.kind === "ModifySet")!;
  assert.ok(ms.spec.versions.every((v: any) => v.schema.openAPIV3Schema.properties.spec.properties.parameters.properties.operation.default === "merge"));
});

test("webhook configuration: Gatekeeper's defaults", () => {
  // (the MutatingWebhookConfiguration is behind the chart's mutation.enabled, off by default: test/deploy/chart.test.ts)
  const vwc = readManifests(join(DEPLOY, "webhook.yaml")).find((d) => d.kind === "ValidatingWebhookConfiguration")!;
  const [main, label] = vwc.webhooks;
  assert.equal(vwc.metadata.name, "gatekeeper-validating-webhook-configuration");
  assert.deepEqual([main.name, main.failurePolicy, main.timeoutSeconds, main.sideEffects, main.matchPolicy, main.clientConfig.service.path], ["validation.gatekeeper.sh", "Ignore", 3, "None", "Exact", "/v1/admit"]);
  assert.deepEqual(main.admissionReviewVersions, ["v1", "v1beta1"]);
  assert.deepEqual(main.namespaceSelector.matchExpressions[0], { key: "admission.gatekeeper.sh/ignore", operator: "DoesNotExist" });
  assert.deepEqual([label.name, label.failurePolicy, label.clientConfig.service.path, label.rules[0].resources], ["check-ignore-label.gatekeeper.sh", "Fail", "/v1/admitlabel", ["namespaces"]]);
  const docs = readManifests(join(DEPLOY, "controller.yaml"));
  const dep = docs.find((d) => d.kind === "Deployment")!;
  assert.equal(dep.spec.replicas, 3);
  const c = dep.spec.template.spec.containers[0];
  assert.deepEqual([c.securityContext.readOnlyRootFilesystem, c.securityContext.runAsNonRoot, c.securityContext.allowPrivilegeEscalation, c.securityContext.capabilities.drop, c.securityContext.seccompProfile.type], [true, true, false, ["ALL"], "RuntimeDefault"]);
  assert.ok(docs.some((d) => d.kind === "PodDisruptionBudget") && docs.some((d) => d.kind === "NetworkPolicy") && docs.some((d) => d.kind === "Service"));
});
