// The K8sNativeValidation driver in the Client: bindings on UPDATE and DELETE (a gator verify
// suite: gator v3.23.1 passes it, `=== RUN …--- PASS` for all three cases, so its anchored
// message assertions are gator's answers), namespaceObject in the webhook's mode, the review's
// deadline inside a long CEL evaluation, and CEL-only templates in the webhook's snapshot.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { runSuites, allPassed } from "../../../src/gatekeeper/suite.ts";
import { Client, DeadlineError } from "../../../src/gatekeeper/client.ts";
import { buildReview } from "../../../src/gatekeeper/review.ts";
import { buildSnapshot } from "../../../src/gatekeeper/snapshot.ts";
import { emptyObjects } from "../../../src/gatekeeper/state.ts";

const here = path.dirname(fileURLToPath(import.meta.url));

function celTemplate(kind: string, source: object) {
  return {
    apiVersion: "templates.gatekeeper.sh/v1",
    kind: "ConstraintTemplate",
    metadata: { name: kind.toLowerCase() },
    spec: { crd: { spec: { names: { kind } } }, targets: [{ target: "admission.k8s.gatekeeper.sh", code: [{ engine: "K8sNativeValidation", source }] }] },
  };
}
const constraint = (kind: string, name: string) => ({ apiVersion: "constraints.gatekeeper.sh/v1beta1", kind, metadata: { name }, spec: { match: { kinds: [{ apiGroups: [""], kinds: ["Pod"] }] } } });
const pod = (name: string, ns = "default") => ({ apiVersion: "v1", kind: "Pod", metadata: { name, namespace: ns }, spec: { containers: [{ name: "c", image: "nginx" }] } });

test("object, oldObject, request and variables.anyObject on CREATE, UPDATE and DELETE (gator verify's answers)", async () => {
  const rs = await runSuites([path.join(here, "suite", "suite.yaml")]);
  assert.ok(allPassed(rs), JSON.stringify(rs, null, 1));
  assert.deepEqual(
    rs[0].tests[0].cases.map((c) => [c.name, c.error ?? "pass"]),
    [
      ["plain-object", "pass"],
      ["update", "pass"],
      ["delete", "pass"],
    ],
  );
});

test("the webhook's client gives CEL the object's Namespace; gator's does not", async () => {
  const tmpl = celTemplate("CelNs", { validations: [{ expression: "false", messageExpression: '"ns=" + (namespaceObject == null ? "null" : namespaceObject.metadata.name + "/" + namespaceObject.metadata.labels.env)' }] });
  const ns = { apiVersion: "v1", kind: "Namespace", metadata: { name: "default", labels: { env: "prod" } } };
  for (const [opts, want] of [
    [{}, "ns=default/prod"],
    [{ celNamespaceObject: false }, "ns=null"],
  ] as const) {
    const c = new Client(opts);
    c.addTemplate(tmpl);
    c.addConstraint(constraint("CelNs", "ns"));
    c.addData(ns);
    const r = await c.review(pod("p"));
    assert.deepEqual(
      r.results.map((v) => v.msg),
      [want],
    );
  }
});

test("a review's deadline stops a long CEL evaluation: DeadlineError, not a violation", async () => {
  const big = `[${Array.from({ length: 100 }, (_, i) => i).join(",")}]`;
  const c = new Client();
  c.addTemplate(celTemplate("CelSlow", { validations: [{ expression: `${big}.all(a, ${big}.all(b, ${big}.all(x, a + b + x >= 0)))` }] }));
  c.addConstraint(constraint("CelSlow", "slow"));
  const t0 = performance.now();
  await assert.rejects(c.reviewBuilt(buildReview(pod("p")), { deadline: Date.now() + 50 }), (e: unknown) => e instanceof DeadlineError && /deadline passed during CEL evaluation/.test((e as Error).message));
  assert.ok(performance.now() - t0 < 1000, `stopped after ${performance.now() - t0} ms`);
  const cancel = new Int32Array(new SharedArrayBuffer(4));
  Atomics.store(cancel, 0, 1);
  await assert.rejects(c.reviewBuilt(buildReview(pod("p")), { cancel }), (e: unknown) => e instanceof DeadlineError && /caller cancelled/.test((e as Error).message));
});

test("the webhook's snapshot takes CEL-only templates and denies with their messages", async () => {
  const objs = emptyObjects();
  objs.templates.push(celTemplate("CelOnly", { validations: [{ expression: "has(object.metadata.labels)", message: "labels are required" }] }));
  objs.constraints.push(constraint("CelOnly", "need-labels"));
  const snap = buildSnapshot(objs);
  assert.deepEqual(snap.report.templates.map((t) => [t.name, t.errors]), [["celonly", []]]);
  const r = await snap.client.review(pod("p"));
  assert.deepEqual(
    r.results.map((v) => `[${v.constraintName}] ${v.msg}`),
    ["[need-labels] labels are required"],
  );
});

test("each review converts the object afresh: a changed object is seen changed", async () => {
  const c = new Client();
  c.addTemplate(celTemplate("CelImage", { validations: [{ expression: "false", messageExpression: '"image=" + object.spec.containers[0].image' }] }));
  c.addConstraint(constraint("CelImage", "img"));
  const p = pod("p");
  assert.deepEqual((await c.review(p)).results.map((v) => v.msg), ["image=nginx"]);
  p.spec.containers[0].image = "busybox";
  assert.deepEqual((await c.review(p)).results.map((v) => v.msg), ["image=busybox"]);
});
