// Expansion in the validating webhook (src/gatekeeper/webhook.ts), following Gatekeeper's
// pkg/webhook/policy.go: the generator is expanded, each resultant is reviewed with source
// Generated and the request's operation, its messages prefixed `[Implied by <template>]` and
// shown as `[<constraint>] …`, its enforcement action replaced by the template's.
import { test } from "node:test";
import assert from "node:assert/strict";
import { buildSnapshot } from "../../src/gatekeeper/snapshot.ts";
import { admit, defaultServiceAccount, type WebhookOptions } from "../../src/gatekeeper/webhook.ts";
import { constraint, objects, namespace, review } from "./webhook-fixtures.ts";
import type { Obj } from "../../src/gatekeeper/yaml.ts";

const opts: WebhookOptions = { serviceAccount: defaultServiceAccount() };

function et(name: string, applyTo: Obj, source: string, gvk: Obj, enforcementAction?: string): Obj {
  return {
    apiVersion: "expansion.gatekeeper.sh/v1beta1",
    kind: "ExpansionTemplate",
    metadata: { name },
    spec: { applyTo: [applyTo], templateSource: source, generatedGVK: gvk, ...(enforcementAction ? { enforcementAction } : {}) },
  };
}

const deployments = et("expand-deployments", { groups: ["apps"], versions: ["v1"], kinds: ["Deployment"] }, "spec.template", { group: "", version: "v1", kind: "Pod" });
const cronjobs = et("expand-cronjobs", { groups: ["batch"], versions: ["v1"], kinds: ["CronJob"] }, "spec.jobTemplate.spec.template", { group: "", version: "v1", kind: "Pod" }, "warn");
const podKinds = [{ apiGroups: [""], kinds: ["Pod"] }];

function deployment(name: string, ns: string, image: string): Obj {
  return { apiVersion: "apps/v1", kind: "Deployment", metadata: { name, namespace: ns }, spec: { template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: "app", image }] } } } };
}

test("a Deployment is denied for its generated Pod: [constraint] [Implied by template] msg", async () => {
  const snap = buildSnapshot(
    objects({
      constraints: [constraint("K8sNoLatest", "no-latest", { match: { kinds: podKinds } }), constraint("K8sNoLatest", "original-only", { match: { kinds: podKinds, source: "Original" } })],
      expansionTemplates: [deployments],
      namespaces: new Map([["shop", namespace("shop")]]),
    }),
  );
  const out = await admit(snap, review(deployment("web", "shop", "nginx:latest")), opts);
  assert.equal(out.review.response.allowed, false);
  assert.deepEqual(out.review.response.status, { metadata: {}, message: "[no-latest] [Implied by expand-deployments] container <app> uses the latest tag", reason: "Forbidden", code: 403 });
  assert.deepEqual(out.metric, { status: "deny", dryRun: false });
  const ok = await admit(snap, review(deployment("web", "shop", "nginx:1.25")), opts);
  assert.equal(ok.review.response.allowed, true);
});

test("the template's enforcementAction replaces the constraint's: warn becomes a warning", async () => {
  const snap = buildSnapshot(objects({ constraints: [constraint("K8sNoLatest", "no-latest", { match: { kinds: podKinds } })], expansionTemplates: [cronjobs] }));
  const cj = { apiVersion: "batch/v1", kind: "CronJob", metadata: { name: "nightly", namespace: "ops" }, spec: { jobTemplate: { spec: { template: { spec: { containers: [{ name: "job", image: "busybox:latest" }] } } } } } };
  const out = await admit(snap, review(cj), opts);
  assert.equal(out.review.response.allowed, true);
  assert.deepEqual(out.review.response.status, { metadata: {}, code: 299 });
  assert.deepEqual(out.review.response.warnings, ["[no-latest] [Implied by expand-cronjobs] container <job> uses the latest tag"]);
});

test("the resultant is reviewed in the request's namespace, with the request's operation, as Generated", async () => {
  const seen: Obj = {
    apiVersion: "templates.gatekeeper.sh/v1",
    kind: "ConstraintTemplate",
    metadata: { name: "k8sseen" },
    spec: {
      crd: { spec: { names: { kind: "K8sSeen" } } },
      targets: [
        {
          target: "admission.k8s.gatekeeper.sh",
          rego: `package k8sseen
violation[{"msg": msg}] {
  msg := sprintf("%v %v/%v op=%v ns-label=%v owner=%v", [input.review.kind.kind, object.get(input.review, "namespace", ""), input.review.object.metadata.name, input.review.operation, object.get(input.review.namespaceObject, ["metadata", "labels", "team"], "none"), input.review.object.metadata.ownerReferences[0].name])
}`,
        },
      ],
    },
  };
  const snap = buildSnapshot(
    objects({
      templates: [seen],
      constraints: [constraint("K8sSeen", "seen", { match: { kinds: podKinds, source: "Generated", namespaceSelector: { matchLabels: { team: "a" } } } })],
      expansionTemplates: [deployments],
      namespaces: new Map([["shop", namespace("shop", { team: "a" })]]),
    }),
  );
  const out = await admit(snap, review(deployment("web", "shop", "x"), { operation: "UPDATE", oldObject: deployment("web", "shop", "y") }), opts);
  assert.equal(out.review.response.status.message, "[seen] [Implied by expand-deployments] Pod shop/web-pod op=UPDATE ns-label=a owner=web");
});

test("an expansion error answers 500 'unable to expand object'; an invalid ExpansionTemplate is refused with Gatekeeper's text", async () => {
  const snap = buildSnapshot(objects({ constraints: [], expansionTemplates: [deployments] }));
  const bare = { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "web", namespace: "shop" }, spec: {} };
  const out = await admit(snap, review(bare), opts);
  assert.deepEqual(out.review.response.status, { metadata: {}, message: 'unable to expand object: could not find source field "spec.template" in resource web', code: 500 });
  const bad = et("self", { groups: ["apps"], versions: ["v1"], kinds: ["Deployment"] }, "spec.template", { group: "apps", version: "v1", kind: "Deployment" });
  const refused = await admit(snap, review(bad), opts);
  assert.deepEqual(refused.review.response.status, { metadata: {}, message: "ExpansionTemplate self generates GVK apps/v1, Kind=Deployment, but also applies to that same GVK", code: 422 });
});

test("templates in an expansion cycle are reported and left out", () => {
  const a = et("a", { groups: ["apps"], versions: ["v1"], kinds: ["Deployment"] }, "spec.template", { group: "", version: "v1", kind: "Pod" });
  const b = et("b", { groups: [""], versions: ["v1"], kinds: ["Pod"] }, "spec", { group: "apps", version: "v1", kind: "Deployment" });
  const snap = buildSnapshot(objects({ expansionTemplates: [a, b] }));
  assert.deepEqual(snap.report.expansionTemplates, [
    { kind: "ExpansionTemplate", name: "a", errors: [{ code: "ingest_error", message: "template forms expansion cycle" }] },
    { kind: "ExpansionTemplate", name: "b", errors: [{ code: "ingest_error", message: "template forms expansion cycle" }] },
  ]);
  assert.equal(snap.expansion?.templatesFor({ group: "apps", version: "v1", kind: "Deployment" }).length, 0);
});
