// The webhook behind a real Kubernetes API server (../shared/kube), registered with a
// ValidatingWebhookConfiguration as Gatekeeper's manifest registers it (failurePolicy Ignore,
// timeoutSeconds 3, admissionReviewVersions v1 and v1beta1, the ignore-label namespaceSelector,
// and check-ignore-label with failurePolicy Fail), policy from --policy-dir, driven by kubectl:
// a Namespace without the owner label is refused with Gatekeeper's message, a warn constraint
// prints kubectl's `Warning: [name] msg`, dryrun admits, the ignore label is refused outside the
// exempt namespaces. Skipped without the API server, etcd, kubectl or openssl.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, writeFileSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import yaml from "js-yaml";
import { startWebhookServer } from "../../src/server/admission/server.ts";
import { PolicyDirSource } from "../../src/gatekeeper/policydir.ts";
import { Logger } from "../../src/server/log.ts";
import { defaultServiceAccount } from "../../src/gatekeeper/webhook.ts";
import { kubeMissing, startKube, which } from "../support/kube.ts";
import { needLabels, noLatest, constraint } from "./webhook-fixtures.ts";

const skip = kubeMissing() || (which("openssl") ? false : "openssl is not installed");

test("kubectl against a real API server calling the webhook", { skip, timeout: 240000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), "portcullis-gk-kube-"));
  const policy = join(dir, "policy");
  const certs = join(dir, "certs");
  mkdirSync(policy);
  mkdirSync(certs);
  execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", join(certs, "tls.key"), "-out", join(certs, "tls.crt"), "-days", "1", "-subj", "/CN=webhook", "-addext", "subjectAltName=IP:127.0.0.1"], { stdio: "ignore" });
  writeFileSync(
    join(policy, "policy.yaml"),
    [
      needLabels,
      noLatest,
      constraint("K8sNeedLabels", "all-must-have-owner", { match: { kinds: [{ apiGroups: [""], kinds: ["Namespace"] }], excludedNamespaces: ["kube-*", "default"] }, parameters: { labels: ["owner"] } }),
      constraint("K8sNoLatest", "warn-latest", { enforcementAction: "warn", match: { kinds: [{ apiGroups: [""], kinds: ["Pod"] }] } }),
      constraint("K8sNeedLabels", "dry-team", { enforcementAction: "dryrun", match: { kinds: [{ apiGroups: [""], kinds: ["Pod"] }] }, parameters: { labels: ["team"] } }),
    ]
      .map((o) => yaml.dump(o))
      .join("---\n"),
  );
  const logs: string[] = [];
  const w = await startWebhookServer({
    addr: "127.0.0.1:0",
    certDir: certs,
    metricsAddr: null,
    healthAddr: null,
    threads: 1,
    source: new PolicyDirSource(policy),
    webhook: { serviceAccount: defaultServiceAccount(), exemptNamespaces: ["ops"] },
    logger: new Logger("info", "json", (l) => logs.push(l)),
  });
  const kube = await startKube({ dir }).catch(async (e) => {
    await w.stop();
    throw e;
  });
  try {
    const k = kube.kubectl;
    const caBundle = readFileSync(join(certs, "tls.crt")).toString("base64");
    const url = (path: string) => `https://127.0.0.1:${w.port}${path}`;
    const vwc = {
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "ValidatingWebhookConfiguration",
      metadata: { name: "gatekeeper-validating-webhook-configuration" },
      webhooks: [
        {
          name: "validation.gatekeeper.sh",
          admissionReviewVersions: ["v1", "v1beta1"],
          clientConfig: { url: url("/v1/admit"), caBundle },
          failurePolicy: "Ignore",
          matchPolicy: "Exact",
          sideEffects: "None",
          timeoutSeconds: 3,
          namespaceSelector: { matchExpressions: [{ key: "admission.gatekeeper.sh/ignore", operator: "DoesNotExist" }] },
          rules: [{ apiGroups: ["*"], apiVersions: ["*"], operations: ["CREATE", "UPDATE"], resources: ["*"] }],
        },
        {
          name: "check-ignore-label.gatekeeper.sh",
          admissionReviewVersions: ["v1", "v1beta1"],
          clientConfig: { url: url("/v1/admitlabel"), caBundle },
          failurePolicy: "Fail",
          matchPolicy: "Exact",
          sideEffects: "None",
          timeoutSeconds: 3,
          rules: [{ apiGroups: [""], apiVersions: ["*"], operations: ["CREATE", "UPDATE"], resources: ["namespaces"] }],
        },
      ],
    };
    const applied = await k(["apply", "-f", "-"], JSON.stringify(vwc));
    assert.equal(applied.code, 0, applied.err);

    // The API server picks the configuration up within a moment.
    let refused = { code: 0, out: "", err: "" };
    for (let i = 0; i < 100; i++) {
      refused = await k(["create", "namespace", `probe-${i}`]);
      if (refused.code !== 0) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.notEqual(refused.code, 0, "the webhook never refused a Namespace without an owner");
    assert.match(refused.err, /admission webhook "validation\.gatekeeper\.sh" denied the request: \[all-must-have-owner\] you must provide labels: \{"owner"\}/);

    const ns = { apiVersion: "v1", kind: "Namespace", metadata: { name: "shop", labels: { owner: "me" } } };
    const created = await k(["apply", "-f", "-"], JSON.stringify(ns));
    assert.equal(created.code, 0, created.err);
    // No controller manager runs: the namespace's default service account is made by hand.
    assert.equal((await k(["-n", "shop", "create", "serviceaccount", "default"])).code, 0);

    const pod = { apiVersion: "v1", kind: "Pod", metadata: { name: "web", namespace: "shop" }, spec: { containers: [{ name: "app", image: "nginx:latest" }] } };
    const warned = await k(["apply", "-f", "-"], JSON.stringify(pod));
    assert.equal(warned.code, 0, warned.err);
    assert.match(warned.err, /Warning: \[warn-latest\] container <app> uses the latest tag/);
    assert.doesNotMatch(warned.err, /dry-team/);

    const ignored = await k(["apply", "-f", "-"], JSON.stringify({ ...ns, metadata: { name: "shop", labels: { owner: "me", "admission.gatekeeper.sh/ignore": "x" } } }));
    assert.notEqual(ignored.code, 0);
    assert.match(ignored.err, /admission webhook "check-ignore-label\.gatekeeper\.sh" denied the request: Only exempt namespace can have the admission\.gatekeeper\.sh\/ignore label/);
    const ops = await k(["apply", "-f", "-"], JSON.stringify({ apiVersion: "v1", kind: "Namespace", metadata: { name: "ops", labels: { owner: "me", "admission.gatekeeper.sh/ignore": "x" } } }));
    assert.equal(ops.code, 0, ops.err);
  } finally {
    await kube.stop();
    await w.stop();
  }
});
