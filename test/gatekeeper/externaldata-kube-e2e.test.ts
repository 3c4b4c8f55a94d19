// External data through kubectl (issue 14): the webhook behind a real Kubernetes API server
// (../shared/kube), a ConstraintTemplate calling `external_data` with a Provider served over
// HTTPS on loopback by this test (a ProviderResponse per Gatekeeper's protocol, its CA in
// spec.caBundle). Driven by `kubectl create` of Pods:
// - the provider answers → a Pod with a signed image is created, one with an unsigned image is
//   refused with Gatekeeper's message;
// - the provider hangs past its spec.timeout (1 s) → the template sees Gatekeeper's system_error
//   (`failed to send external data request: Post "<url>": context deadline exceeded`) and denies,
//   and kubectl has its answer well within the webhook's 3 s timeout;
// - the provider is down → `… dial tcp 127.0.0.1:<port>: connect: connection refused`.
// The webhook configuration is Gatekeeper's (failurePolicy Ignore, timeoutSeconds 3): a system
// error is the template's business (a violation), not the webhook's failure. Skipped without the
// API server, etcd, kubectl or openssl.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, mkdirSync, writeFileSync, readFileSync } from "node:fs";
import * as https from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import yaml from "js-yaml";
import { startWebhookServer } from "../../src/server/admission/server.ts";
import { PolicyDirSource } from "../../src/gatekeeper/policydir.ts";
import { Logger } from "../../src/server/log.ts";
import { defaultServiceAccount } from "../../src/gatekeeper/webhook.ts";
import { kubeMissing, startKube, which } from "../support/kube.ts";
import { loopbackCert } from "../support/certs.ts";
import { constraint } from "./webhook-fixtures.ts";

const skip = kubeMissing() || (which("openssl") ? false : "openssl is not installed");

const signedTemplate = {
  apiVersion: "templates.gatekeeper.sh/v1",
  kind: "ConstraintTemplate",
  metadata: { name: "k8ssignedimages" },
  spec: {
    crd: { spec: { names: { kind: "K8sSignedImages" } } },
    targets: [
      {
        target: "admission.k8s.gatekeeper.sh",
        rego: `package k8ssignedimages
resp := external_data({"provider": "signer", "keys": [c.image | c := input.review.object.spec.containers[_]]})
violation[{"msg": msg}] {
  r := resp.responses[_]
  r[1] != "signed"
  msg := sprintf("image %v is %v", [r[0], r[1]])
}
violation[{"msg": msg}] {
  resp.system_error != ""
  msg := sprintf("provider signer failed: %v", [resp.system_error])
}`,
      },
    ],
  },
};

const slowTemplate = {
  ...signedTemplate,
  metadata: { name: "k8sslowsignedimages" },
  spec: {
    crd: { spec: { names: { kind: "K8sSlowSignedImages" } } },
    targets: [{ target: "admission.k8s.gatekeeper.sh", rego: signedTemplate.spec.targets[0].rego.replace("package k8ssignedimages", "package k8sslowsignedimages").replaceAll('"signer"', '"slowsigner"').replaceAll("provider signer", "provider slowsigner") }],
  },
};

test("external data through kubectl: answers, timeout and a provider that is down", { skip, timeout: 180000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), "portcullis-gk-xd-"));
  const policy = join(dir, "policy");
  mkdirSync(policy);
  loopbackCert(join(dir, "certs"));
  loopbackCert(join(dir, "provider"));

  let mode: "answer" | "hang" = "answer";
  let asked = 0;
  const hanging = new Set<import("node:http").ServerResponse>();
  const provider = https.createServer({ cert: readFileSync(join(dir, "provider", "tls.crt")), key: readFileSync(join(dir, "provider", "tls.key")) }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      asked++;
      if (mode === "hang") {
        hanging.add(res);
        return;
      }
      const keys: string[] = JSON.parse(Buffer.concat(chunks).toString()).request.keys;
      res.setHeader("Content-Type", "application/json");
      res.end(JSON.stringify({ apiVersion: "externaldata.gatekeeper.sh/v1beta1", kind: "ProviderResponse", response: { idempotent: false, items: keys.map((k) => ({ key: k, value: k.includes("/signed/") ? "signed" : "unsigned" })) } }));
    });
  });
  await new Promise<void>((r) => provider.listen(0, "127.0.0.1", r));
  const providerPort = (provider.address() as AddressInfo).port;
  const providerURL = `https://127.0.0.1:${providerPort}/validate`;

  writeFileSync(
    join(policy, "policy.yaml"),
    [
      { apiVersion: "externaldata.gatekeeper.sh/v1beta1", kind: "Provider", metadata: { name: "signer" }, spec: { url: providerURL, timeout: 1, caBundle: readFileSync(join(dir, "provider", "tls.crt")).toString("base64") } },
      { apiVersion: "externaldata.gatekeeper.sh/v1beta1", kind: "Provider", metadata: { name: "slowsigner" }, spec: { url: providerURL, timeout: 10, caBundle: readFileSync(join(dir, "provider", "tls.crt")).toString("base64") } },
      signedTemplate,
      slowTemplate,
      constraint("K8sSignedImages", "must-be-signed", { match: { kinds: [{ apiGroups: [""], kinds: ["Pod"] }], namespaces: ["apps"] } }),
      constraint("K8sSlowSignedImages", "slow-must-be-signed", { match: { kinds: [{ apiGroups: [""], kinds: ["Pod"] }], namespaces: ["slow"] } }),
    ]
      .map((o) => yaml.dump(o))
      .join("---\n"),
  );
  const logs: string[] = [];
  const w = await startWebhookServer({
    addr: "127.0.0.1:0",
    certDir: join(dir, "certs"),
    metricsAddr: null,
    healthAddr: null,
    threads: 1,
    source: new PolicyDirSource(policy),
    webhook: { serviceAccount: defaultServiceAccount(), exemptNamespaces: [] },
    logger: new Logger("info", "json", (l) => logs.push(l)),
  });
  let kube: Awaited<ReturnType<typeof startKube>> | undefined;
  try {
    assert.deepEqual(w.report()?.providers.map((p) => [p.name, p.errors]), [["signer", []], ["slowsigner", []]]);
    kube = await startKube({ dir });
    const k = kube.kubectl;
    const caBundle = readFileSync(join(dir, "certs", "tls.crt")).toString("base64");
    const vwc = {
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "ValidatingWebhookConfiguration",
      metadata: { name: "gatekeeper-validating-webhook-configuration" },
      webhooks: [
        {
          name: "validation.gatekeeper.sh",
          admissionReviewVersions: ["v1", "v1beta1"],
          clientConfig: { url: `https://127.0.0.1:${w.port}/v1/admit`, caBundle },
          failurePolicy: "Ignore",
          matchPolicy: "Exact",
          sideEffects: "None",
          timeoutSeconds: 3,
          namespaceSelector: { matchExpressions: [{ key: "admission.gatekeeper.sh/ignore", operator: "DoesNotExist" }] },
          rules: [{ apiGroups: ["*"], apiVersions: ["*"], operations: ["CREATE", "UPDATE"], resources: ["*"] }],
        },
      ],
    };
    assert.equal((await k(["create", "namespace", "apps"])).code, 0);
    // No controller manager runs: the namespace's default service account is made by hand.
    assert.equal((await k(["-n", "apps", "create", "serviceaccount", "default"])).code, 0);
    assert.equal((await k(["create", "namespace", "slow"])).code, 0);
    assert.equal((await k(["-n", "slow", "create", "serviceaccount", "default"])).code, 0);
    const applied = await k(["apply", "-f", "-"], JSON.stringify(vwc));
    assert.equal(applied.code, 0, applied.err);

    const pod = (name: string, image: string, namespace = "apps") => JSON.stringify({ apiVersion: "v1", kind: "Pod", metadata: { name, namespace }, spec: { containers: [{ name: "app", image }] } });
    const denied = (msg: string) => `Error from server (Forbidden): error when creating "STDIN": admission webhook "validation.gatekeeper.sh" denied the request: [must-be-signed] ${msg}`;

    // The API server picks the configuration up within a moment.
    let refused = { code: 0, out: "", err: "" };
    for (let i = 0; i < 100; i++) {
      refused = await k(["create", "--dry-run=server", "-f", "-"], pod(`probe-${i}`, "registry.example/app:1"));
      if (refused.code !== 0) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.notEqual(refused.code, 0, "the webhook never refused an unsigned image");

    // (a) the provider answers
    const unsigned = await k(["create", "-f", "-"], pod("unsigned", "registry.example/app:1"));
    assert.notEqual(unsigned.code, 0);
    assert.equal(unsigned.err.trim(), denied("image registry.example/app:1 is unsigned"));
    const signed = await k(["create", "-f", "-"], pod("signed", "registry.example/signed/app:1"));
    assert.equal(signed.code, 0, signed.err);
    assert.equal(signed.out.trim(), "pod/signed created");

    // (b) the provider hangs past its spec.timeout (1 s): system_error, a violation, in time
    mode = "hang";
    const before = asked;
    let t0 = Date.now();
    const slow = await k(["create", "-f", "-"], pod("slow", "registry.example/signed/app:2"));
    const slowMs = Date.now() - t0;
    assert.notEqual(slow.code, 0);
    assert.equal(slow.err.trim(), denied(`provider signer failed: failed to send external data request: Post "${providerURL}": context deadline exceeded`));
    assert.equal(asked, before + 1, "one provider call for the review");
    assert.ok(slowMs < 3000, `kubectl took ${slowMs} ms (webhook timeout 3 s)`);

    // (b') a provider whose spec.timeout (10 s) outlasts the webhook's (3 s): as with Gatekeeper,
    // whose answer the API server stops waiting for, the webhook configuration's failurePolicy
    // (Ignore) decides: the Pod is admitted, without a violation made of the cut call.
    t0 = Date.now();
    const cut = await k(["create", "-f", "-"], pod("cut", "registry.example/app:4", "slow"));
    const cutMs = Date.now() - t0;
    assert.equal(cut.code, 0, cut.err);
    assert.equal(cut.out.trim(), "pod/cut created");
    assert.ok(cutMs < 6000, `kubectl took ${cutMs} ms`);
    assert.ok(logs.some((l) => l.includes("Admission review past its deadline")), logs.join("\n"));
    for (const r of hanging) r.destroy();
    hanging.clear();

    // (c) the provider is down: connection refused, a violation
    provider.closeAllConnections();
    await new Promise<void>((r) => provider.close(() => r()));
    t0 = Date.now();
    const down = await k(["create", "-f", "-"], pod("down", "registry.example/signed/app:3"));
    const downMs = Date.now() - t0;
    assert.notEqual(down.code, 0);
    assert.equal(down.err.trim(), denied(`provider signer failed: failed to send external data request: Post "${providerURL}": dial tcp 127.0.0.1:${providerPort}: connect: connection refused`));
    assert.ok(downMs < 3000, `kubectl took ${downMs} ms`);

    const pods = JSON.parse((await k(["get", "pods", "-A", "-o", "json"])).out).items.map((p: { metadata: { name: string } }) => p.metadata.name);
    assert.deepEqual(pods.sort(), ["cut", "signed"]);
    console.log(`# external data e2e: provider hang answered by kubectl in ${slowMs} ms, provider past the webhook timeout (failurePolicy Ignore) in ${cutMs} ms, provider down in ${downMs} ms`);
  } finally {
    for (const r of hanging) r.destroy();
    if (provider.listening) {
      provider.closeAllConnections();
      provider.close();
    }
    await kube?.stop();
    await w.stop();
  }
});
