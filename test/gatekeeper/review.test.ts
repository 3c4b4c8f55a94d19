import { test } from "node:test";
import assert from "node:assert/strict";
import { buildReview, ReviewError } from "../../src/gatekeeper/review.ts";
import { parseManifests } from "../../src/gatekeeper/yaml.ts";

const pod = { apiVersion: "v1", kind: "Pod", metadata: { name: "p1", namespace: "ns1" }, spec: {} };

test("a plain object becomes gator's AdmissionRequest-shaped review", () => {
  const b = buildReview(pod);
  assert.deepEqual(b.review, {
    kind: { group: "", version: "v1", kind: "Pod" },
    name: "p1",
    namespace: "ns1",
    object: pod,
    oldObject: null,
    operation: "",
    options: null,
    resource: { group: "", version: "", resource: "" },
    uid: "",
    userInfo: {},
  });
  assert.equal(b.namespace, "ns1");
  assert.equal(b.source, "Original");
});

test("group/version split, cluster-scoped objects omit namespace", () => {
  const b = buildReview({ apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRole", metadata: { name: "cr" } });
  assert.deepEqual(b.review.kind, { group: "rbac.authorization.k8s.io", version: "v1", kind: "ClusterRole" });
  assert.equal(b.review.name, "cr");
  assert.ok(!("namespace" in b.review));
});

test("options override operation, userInfo, oldObject, dryRun", () => {
  const old = { ...pod, metadata: { ...pod.metadata, labels: { a: "b" } } };
  const b = buildReview(pod, { operation: "UPDATE", userInfo: { username: "alice" }, oldObject: old, dryRun: true, uid: "u1" });
  assert.equal(b.review.operation, "UPDATE");
  assert.deepEqual(b.review.userInfo, { username: "alice" });
  assert.deepEqual(b.review.oldObject, old);
  assert.equal(b.review.dryRun, true);
  assert.equal(b.review.uid, "u1");
});

test("an AdmissionReview supplies operation, userInfo and oldObject", () => {
  const [ar] = parseManifests(`
kind: AdmissionReview
apiVersion: admission.k8s.io/v1beta1
request:
  operation: "UPDATE"
  userInfo: {username: alice, groups: [g1]}
  object: {apiVersion: v1, kind: Pod, metadata: {name: p2, namespace: ns2}}
  oldObject: {apiVersion: v1, kind: Pod, metadata: {name: p2, namespace: ns2, labels: {old: "1"}}}
`);
  const b = buildReview(ar);
  assert.equal(b.isAdmissionReview, true);
  assert.equal(b.review.operation, "UPDATE");
  assert.deepEqual(b.review.userInfo, { username: "alice", groups: ["g1"] });
  assert.deepEqual(b.review.kind, { group: "", version: "", kind: "" }, "kind is the request's, empty when not given");
  assert.equal(b.review.oldObject.metadata.labels.old, "1");
  assert.equal(b.namespace, "ns2", "namespace from the object when the request has none");
  assert.ok(!("name" in b.review));
});

test("DELETE reviews the oldObject", () => {
  const [ar] = parseManifests(`
kind: AdmissionReview
apiVersion: admission.k8s.io/v1
request:
  uid: abc
  kind: {group: "", version: v1, kind: Pod}
  name: p3
  namespace: ns3
  operation: DELETE
  dryRun: true
  oldObject: {apiVersion: v1, kind: Pod, metadata: {name: p3, namespace: ns3}}
`);
  const b = buildReview(ar);
  assert.deepEqual(b.review.object, b.review.oldObject);
  assert.equal(b.review.uid, "abc");
  assert.equal(b.review.dryRun, true);
  assert.equal(b.review.name, "p3");
  assert.equal(b.operation, "DELETE");
});

test("an AdmissionReview without a request or object is an error", () => {
  assert.throws(() => buildReview({ apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview" }), ReviewError);
  assert.throws(() => buildReview({ apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", request: { operation: "CREATE" } }), ReviewError);
});
