// End to end with a real Kubernetes API server (../shared/kube: kube-apiserver v1.34.3 + etcd):
// the ImagePolicyWebhook admission plugin, configured with defaultAllow: false, calls
// `portcullis run --server` serving examples/image-policy. A Pod with a `:latest` image from an
// unapproved registry is refused with the policy's reasons, an approved image is admitted, an
// image the scanner just reported (PUT /v1/data) is refused, and with the server gone every Pod
// is refused (defaultAllow: false). Skipped when the API server, etcd or kubectl is missing.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startPortcullis } from "./harness.ts";
import { kubeMissing, startKube } from "../support/kube.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const POLICY = join(ROOT, "examples", "image-policy", "policy");

const missing = kubeMissing();

const pod = (name: string, image: string) => JSON.stringify({ apiVersion: "v1", kind: "Pod", metadata: { name, namespace: "shop" }, spec: { containers: [{ name: "c", image }] } });

test("ImagePolicyWebhook against a real API server", { skip: missing || false, timeout: 240000 }, async () => {
  const server = await startPortcullis([POLICY], { workers: 1 });
  const dir = mkdtempSync(join(tmpdir(), "portcullis-kube-"));
  writeFileSync(
    join(dir, "policy-kubeconfig.yaml"),
    `apiVersion: v1\nkind: Config\nclusters:\n  - name: portcullis\n    cluster:\n      server: ${server.base}/v0/data/io/k8s/image_policy/verify\nusers:\n  - name: api-server\n    user: {}\ncontexts:\n  - name: default\n    context: {cluster: portcullis, user: api-server}\ncurrent-context: default\n`,
  );
  writeFileSync(
    join(dir, "admission.yaml"),
    `apiVersion: apiserver.config.k8s.io/v1\nkind: AdmissionConfiguration\nplugins:\n  - name: ImagePolicyWebhook\n    configuration:\n      imagePolicy:\n        kubeConfigFile: ${join(dir, "policy-kubeconfig.yaml")}\n        allowTTL: 1\n        denyTTL: 1\n        retryBackoff: 100\n        defaultAllow: false\n`,
  );
  const kube = await startKube({
    extraArgs: `--enable-admission-plugins=ImagePolicyWebhook --admission-control-config-file=${join(dir, "admission.yaml")}`,
  }).catch(async (e) => {
    await server.stop();
    throw e;
  });
  try {
    const k = kube.kubectl;
    assert.equal((await k(["create", "namespace", "shop"])).code, 0);
    assert.equal((await k(["-n", "shop", "create", "serviceaccount", "default"])).code, 0);

    const bad = await k(["apply", "-f", "-"], pod("bad", "nginx:latest"));
    assert.notEqual(bad.code, 0, `the :latest image was admitted: ${bad.out}`);
    assert.match(bad.err, /image policy webhook backend denied one or more images: nginx:latest: registry docker.io is not approved for namespace "shop"; nginx:latest: the :latest tag is not allowed/);

    const good = await k(["apply", "-f", "-"], pod("good", "registry.example.com/shop/cart:1.4.3"));
    assert.equal(good.code, 0, good.err);
    assert.match(good.out, /pod\/good created/);

    // the scanner reports a critical vulnerability in that image: new Pods with it are refused
    const put = await fetch(`${server.base}/v1/data/image_policy/vulnerabilities/registry.example.com%2Fshop%2Fcart:1.4.3`, { method: "PUT", body: JSON.stringify([{ id: "CVE-2024-0003", severity: "critical" }]) });
    assert.equal(put.status, 204);
    await new Promise((r) => setTimeout(r, 2000)); // past the API server's allowTTL for that image
    const vuln = await k(["apply", "-f", "-"], pod("good-again", "registry.example.com/shop/cart:1.4.3"));
    assert.notEqual(vuln.code, 0, `the vulnerable image was admitted: ${vuln.out}`);
    assert.match(vuln.err, /critical vulnerability CVE-2024-0003/);

    // the policy server gone: defaultAllow: false refuses every Pod
    await server.stop();
    const down = await k(["apply", "-f", "-"], pod("while-down", "registry.example.com/shop/web:2.0"));
    assert.notEqual(down.code, 0, `admitted with the policy server down: ${down.out}`);
    assert.match(down.err, /forbidden: Post "http:\/\/127\.0\.0\.1:\d+\/v0\/data\/io\/k8s\/image_policy\/verify\?timeout=30s": dial tcp 127\.0\.0\.1:\d+: connect: connection refused/);
  } finally {
    await server.stop();
    await kube.stop();
  }
});
