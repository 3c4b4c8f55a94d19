// A policy change swaps the snapshot atomically (src/server/admission/handler.ts): a review in
// flight (waiting on an external-data provider) finishes on the snapshot it started on, and a
// review sent after the change is answered on the new one.
import { test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { AdmissionHandler, type ReportEvent } from "../../src/server/admission/handler.ts";
import { defaultServiceAccount } from "../../src/gatekeeper/webhook.ts";
import { emptyObjects } from "../../src/gatekeeper/state.ts";
import { constraint, pod, review } from "./webhook-fixtures.ts";

test("in-flight reviews finish on the old snapshot; later ones use the new", async (t) => {
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      const keys: string[] = JSON.parse(body).request.keys;
      setTimeout(() => res.end(JSON.stringify({ response: { items: keys.map((k) => ({ key: k, value: "unsigned" })) } })), 300);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  t.after(() => server.close());
  const port = (server.address() as { port: number }).port;
  const template = {
    apiVersion: "templates.gatekeeper.sh/v1",
    kind: "ConstraintTemplate",
    metadata: { name: "k8ssigned" },
    spec: {
      crd: { spec: { names: { kind: "K8sSigned" } } },
      targets: [{ target: "admission.k8s.gatekeeper.sh", rego: 'package k8ssigned\nviolation[{"msg": sprintf("%v is %v", [r[0], r[1]])}] {\n  r := external_data({"provider": "signer", "keys": [input.review.object.spec.containers[0].image]}).responses[_]\n}' }],
    },
  };
  const provider = { apiVersion: "externaldata.gatekeeper.sh/v1beta1", kind: "Provider", metadata: { name: "signer" }, spec: { url: `http://127.0.0.1:${port}/`, timeout: 3 } };
  const v1 = { ...emptyObjects(), templates: [template], providers: [provider], constraints: [constraint("K8sSigned", "signed-v1")] };
  const v2 = { ...v1, constraints: [constraint("K8sSigned", "signed-v2", { enforcementAction: "warn" })] };
  const reports: ReportEvent[] = [];
  const h = new AdmissionHandler({ webhook: { serviceAccount: defaultServiceAccount() }, allowHTTPProviders: true }, { version: 1, objects: v1 }, (e) => reports.push(e));
  const req = () => ({ path: "admit" as const, body: JSON.stringify(review(pod("a", "shop", "img:1"))), deadline: Date.now() + 5000, perConstraint: false });
  const flag = new Int32Array(1);
  const inflight = h.run(req(), flag);
  await new Promise((r) => setTimeout(r, 50)); // the review is waiting for the provider
  h.update({ version: 2, objects: v2 });
  const after = h.run(req(), flag);
  const [a, b] = await Promise.all([inflight, after]);
  assert.equal(a.version, 1);
  assert.equal(JSON.parse(a.body!).response.status.message, "[signed-v1] img:1 is unsigned");
  assert.equal(b.version, 2);
  const rb = JSON.parse(b.body!).response;
  assert.equal(rb.allowed, true);
  assert.deepEqual(rb.warnings, ["[signed-v2] img:1 is unsigned"]);
  assert.deepEqual(reports.map((r) => r.version), [1, 2]);
});
