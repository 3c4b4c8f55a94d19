import { test } from "node:test";
import assert from "node:assert/strict";
import { Client, humanMessage } from "../../src/gatekeeper/client.ts";
import { template, constraint } from "../support/gatekeeper-objects.ts";

const pod = (name: string, ns = "default", labels: Record<string, string> = {}) => ({ apiVersion: "v1", kind: "Pod", metadata: { name, namespace: ns, labels } });

test("violations carry msg, details, constraint and action; sorted by action then msg", async () => {
  const c = new Client();
  c.addTemplate(template('package k8sx\nviolation[{"msg": sprintf("%v z", [input.parameters.m]), "details": {"k": 1}}] { true }\nviolation[{"msg": sprintf("%v a", [input.parameters.m])}] { true }\n'));
  c.addConstraint(constraint("b-deny", { parameters: { m: "b" } }));
  c.addConstraint(constraint("a-warn", { enforcementAction: "warn", parameters: { m: "a" } }));
  c.addConstraint(constraint("c-dry", { enforcementAction: "dryrun", parameters: { m: "c" } }));
  const r = await c.review(pod("p"));
  assert.deepEqual(
    r.results.map((v) => `${v.enforcementAction} ${humanMessage(v)}`),
    ["deny [b-deny] b a", "deny [b-deny] b z", "dryrun [c-dry] c a", "dryrun [c-dry] c z", "warn [a-warn] a a", "warn [a-warn] a z"],
  );
  const z = r.results.find((v) => v.msg === "b z")!;
  assert.deepEqual(z.details, { k: 1 });
  assert.deepEqual(r.results.find((v) => v.msg === "b a")!.details, {});
  assert.equal(z.constraint.spec.enforcementAction, "deny");
  assert.equal(z.constraintKind, "K8sX");
});

test("input.parameters defaults to {} and input.review is gator's shape", async () => {
  const c = new Client();
  c.addTemplate(template('package k8sx\nviolation[{"msg": json.marshal(input)}] { true }\n'));
  c.addConstraint(constraint("c"));
  const r = await c.review(pod("p", "ns1"));
  const input = JSON.parse(r.results[0].msg);
  assert.deepEqual(input.parameters, {});
  assert.deepEqual(input.review.kind, { group: "", version: "v1", kind: "Pod" });
  assert.equal(input.review.operation, "");
  assert.deepEqual(input.review.namespaceObject, {});
});

test("a Rego runtime error becomes a violation of that constraint", async () => {
  const c = new Client();
  c.addTemplate(template('package k8sx\nv = 1 { true }\nv = 2 { true }\nviolation[{"msg": sprintf("%v", [v])}] { true }\n'));
  c.addConstraint(constraint("conflict"));
  const r = await c.review(pod("p"));
  assert.equal(r.results.length, 1);
  assert.equal(r.results[0].constraintName, "conflict");
  assert.equal(r.results[0].error, true);
  assert.match(r.results[0].msg, /eval_conflict_error/);
});

test("results without msg are dropped; non-string msg is an error", async () => {
  const c = new Client();
  c.addTemplate(template('package k8sx\nviolation[{"nomsg": 1}] { true }\nviolation[{"msg": "ok"}] { true }\n'));
  c.addConstraint(constraint("c"));
  assert.deepEqual((await c.review(pod("p"))).results.map((v) => v.msg), ["ok"]);
  const c2 = new Client();
  c2.addTemplate(template('package k8sx\nviolation[{"msg": 5}] { true }\n'));
  c2.addConstraint(constraint("c"));
  await assert.rejects(c2.review(pod("p")), /msg must be a string/);
});

test("data.inventory: cluster and namespace trees; Namespace lookup for namespaceSelector", async () => {
  const c = new Client();
  c.addTemplate(template('package k8sx\nviolation[{"msg": json.marshal(data.inventory)}] { true }\n'));
  c.addConstraint(constraint("inv", { match: { namespaceSelector: { matchLabels: { env: "prod" } } } }));
  const ns = { apiVersion: "v1", kind: "Namespace", metadata: { name: "prod", labels: { env: "prod" } } };
  const cm = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "cm", namespace: "prod" } };
  // Unknown namespace: a match error becomes a violation.
  let r = await c.review(pod("p", "prod"));
  assert.match(r.results[0].msg, /namespace selector for namespace-scoped object but missing Namespace/);
  c.setInventory([ns, cm]);
  r = await c.review(pod("p", "prod"));
  assert.deepEqual(JSON.parse(r.results[0].msg), { cluster: { v1: { Namespace: { prod: ns } } }, namespace: { prod: { v1: { ConfigMap: { cm } } } } });
  assert.deepEqual(r.review.namespaceObject, ns);
  r = await c.review(pod("p", "other"));
  assert.match(r.results[0].msg, /missing Namespace/);
});

test("constraints are indexed by kind and only matching ones run", async () => {
  const c = new Client();
  c.addTemplate(template('package k8sx\nviolation[{"msg": "hit"}] { true }\n'));
  c.addConstraint(constraint("pods", { match: { kinds: [{ apiGroups: [""], kinds: ["Pod"] }] } }));
  c.addConstraint(constraint("deploys", { match: { kinds: [{ apiGroups: ["apps"], kinds: ["Deployment"] }] } }));
  c.addConstraint(constraint("all"));
  assert.deepEqual(c.candidates([pod("p")]).map((x) => x.name), ["pods", "all"]);
  const r = await c.review({ apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "d", namespace: "x" } });
  assert.deepEqual(r.results.map((v) => v.constraintName).sort(), ["all", "deploys"]);
});

test("UPDATE matches on the old object too", async () => {
  const c = new Client();
  c.addTemplate(template('package k8sx\nviolation[{"msg": input.review.operation}] { true }\n'));
  c.addConstraint(constraint("web", { match: { labelSelector: { matchLabels: { app: "web" } } } }));
  assert.equal((await c.review(pod("p", "a", {}))).results.length, 0);
  const r = await c.review(pod("p", "a", {}), { operation: "UPDATE", oldObject: pod("p", "a", { app: "web" }) });
  assert.deepEqual(r.results.map((v) => v.msg), ["UPDATE"]);
});

test("scoped enforcement actions apply at the gator enforcement point", async () => {
  const c = new Client();
  c.addTemplate(template('package k8sx\nviolation[{"msg": "x"}] { true }\n'));
  c.addConstraint(constraint("gator-warn", { enforcementAction: "scoped", scopedEnforcementActions: [{ action: "warn", enforcementPoints: [{ name: "gator.gatekeeper.sh" }] }] }));
  c.addConstraint(constraint("audit-only", { enforcementAction: "scoped", scopedEnforcementActions: [{ action: "deny", enforcementPoints: [{ name: "audit.gatekeeper.sh" }] }] }));
  c.addConstraint(constraint("everywhere", { enforcementAction: "scoped", scopedEnforcementActions: [{ action: "deny", enforcementPoints: [{ name: "*" }] }] }));
  const r = await c.review(pod("p"));
  assert.deepEqual(r.results.map((v) => `${v.constraintName}:${v.scopedActions}`).sort(), ["everywhere:deny", "gator-warn:warn"]);
  const wh = new Client({ enforcementPoint: "validation.gatekeeper.sh" });
  wh.addTemplate(template('package k8sx\nviolation[{"msg": "x"}] { true }\n'));
  wh.addConstraint(constraint("audit-only", { enforcementAction: "scoped", scopedEnforcementActions: [{ action: "deny", enforcementPoints: [{ name: "audit.gatekeeper.sh" }] }] }));
  assert.equal((await wh.review(pod("p"))).results.length, 0);
});
