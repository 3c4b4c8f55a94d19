import { test } from "node:test";
import assert from "node:assert/strict";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { Client } from "../../src/gatekeeper/client.ts";
import { parseProvider } from "../../src/gatekeeper/externaldata.ts";

const template = {
  apiVersion: "templates.gatekeeper.sh/v1",
  kind: "ConstraintTemplate",
  metadata: { name: "k8sexternal" },
  spec: {
    crd: { spec: { names: { kind: "K8sExternal" } } },
    targets: [
      {
        target: "admission.k8s.gatekeeper.sh",
        rego: `package k8sexternal
violation[{"msg": msg}] {
  images := [c.image | c := input.review.object.spec.containers[_]]
  resp := external_data({"provider": "checker", "keys": images})
  r := resp.responses[_]
  r[1] != "ok"
  msg := sprintf("image %v: %v", [r[0], r[1]])
}
violation[{"msg": msg}] {
  images := [c.image | c := input.review.object.spec.containers[_]]
  resp := external_data({"provider": "checker", "keys": images})
  e := resp.errors[_]
  msg := sprintf("error %v: %v", [e[0], e[1]])
}
violation[{"msg": msg}] {
  images := [c.image | c := input.review.object.spec.containers[_]]
  resp := external_data({"provider": "checker", "keys": images})
  resp.system_error != ""
  msg := sprintf("system error: %v", [resp.system_error])
}
`,
      },
    ],
  },
};

test("Provider objects are validated", () => {
  assert.throws(() => parseProvider({ apiVersion: "externaldata.gatekeeper.sh/v1beta1", kind: "Provider", metadata: { name: "p" }, spec: { url: "http://x" } }), /must use https/);
  assert.equal(parseProvider({ metadata: { name: "p" }, spec: { url: "https://x", timeout: 5 } }).timeoutSeconds, 5);
});

test("external_data: provider protocol, responses, errors, cache", async (t) => {
  let requests: string[][] = [];
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      const doc = JSON.parse(body);
      assert.equal(doc.kind, "ProviderRequest");
      requests.push(doc.request.keys);
      const items = doc.request.keys.map((k: string) => (k.startsWith("bad") ? { key: k, error: "not signed" } : { key: k, value: k.includes("latest") ? "unpinned" : "ok" }));
      res.setHeader("Content-Type", "application/json");
      res.end(JSON.stringify({ apiVersion: "externaldata.gatekeeper.sh/v1beta1", kind: "ProviderResponse", response: { idempotent: true, items } }));
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  t.after(() => server.close());
  const port = (server.address() as AddressInfo).port;
  const c = new Client({ externalData: { allowHTTP: true } });
  c.addProvider({ apiVersion: "externaldata.gatekeeper.sh/v1beta1", kind: "Provider", metadata: { name: "checker" }, spec: { url: `http://127.0.0.1:${port}/validate`, timeout: 2 } });
  c.addTemplate(template);
  c.addConstraint({ apiVersion: "constraints.gatekeeper.sh/v1beta1", kind: "K8sExternal", metadata: { name: "ext" } });
  const pod = { apiVersion: "v1", kind: "Pod", metadata: { name: "p" }, spec: { containers: [{ name: "a", image: "nginx:latest" }, { name: "b", image: "bad/img" }, { name: "c", image: "good:1" }] } };
  const r = await c.review(pod);
  assert.deepEqual(r.results.map((v) => v.msg), ["error bad/img: not signed", "image nginx:latest: unpinned"]);
  assert.deepEqual(requests, [["nginx:latest", "bad/img", "good:1"]], "one request for all keys");
  requests = [];
  await c.review(pod);
  assert.deepEqual(requests, [["bad/img"]], "successful answers are cached; errors are asked again");
  // A provider that is down: system_error.
  const down = new Client({ externalData: { allowHTTP: true } });
  down.addProvider({ metadata: { name: "checker" }, spec: { url: "http://127.0.0.1:1/", timeout: 1 } });
  down.addTemplate(template);
  down.addConstraint({ apiVersion: "constraints.gatekeeper.sh/v1beta1", kind: "K8sExternal", metadata: { name: "ext" } });
  const r2 = await down.review(pod);
  assert.match(r2.results.map((v) => v.msg).join("\n"), /system error: failed to send external data request: Post "http:\/\/127\.0\.0\.1:1\/": dial tcp 127\.0\.0\.1:1: connect: connection refused/);
});
