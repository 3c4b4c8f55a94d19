// Mutation end to end: `portcullis controller --operation=webhook,mutation-webhook --kubeconfig K` against a real
// API server (../shared/kube), driven with kubectl as a user would. The mutation CRDs of deploy/
// apply; the controller injects its CA into the MutatingWebhookConfiguration; an Assign and an
// AssignImage and an AssignMetadata applied with kubectl reach the webhook through the cluster
// source's informers; a Pod created without imagePullPolicy comes back with the assigned value,
// its registry rewritten and the label added; a Pod that has the label keeps its value.
// Skipped when the API server, etcd or kubectl is missing.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { kubeMissing, startKube, freePort, until } from "../../support/kube.ts";
import { SOURCE_CLI } from "../../cli/portcullis-src.ts";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const missing = kubeMissing();

const mwc = (port: number) =>
  JSON.stringify({
    apiVersion: "admissionregistration.k8s.io/v1",
    kind: "MutatingWebhookConfiguration",
    metadata: { name: "gatekeeper-mutating-webhook-configuration" },
    webhooks: [
      {
        name: "mutation.gatekeeper.sh",
        admissionReviewVersions: ["v1", "v1beta1"],
        clientConfig: { url: `https://127.0.0.1:${port}/v1/mutate` },
        failurePolicy: "Ignore",
        matchPolicy: "Exact",
        reinvocationPolicy: "IfNeeded",
        sideEffects: "None",
        timeoutSeconds: 3,
        namespaceSelector: { matchExpressions: [{ key: "admission.gatekeeper.sh/ignore", operator: "DoesNotExist" }, { key: "kubernetes.io/metadata.name", operator: "NotIn", values: ["gatekeeper-system"] }] },
        rules: [{ apiGroups: ["*"], apiVersions: ["*"], operations: ["CREATE", "UPDATE"], resources: ["*"] }],
      },
    ],
  });

const mutators = [
  {
    apiVersion: "mutations.gatekeeper.sh/v1",
    kind: "Assign",
    metadata: { name: "always-pull" },
    spec: {
      applyTo: [{ groups: [""], kinds: ["Pod"], versions: ["v1"] }],
      match: { scope: "Namespaced", kinds: [{ apiGroups: ["*"], kinds: ["Pod"] }] },
      location: "spec.containers[name: *].imagePullPolicy",
      // No MustNotExist path test: the API server defaults imagePullPolicy (IfNotPresent for a
      // tagged image) before it calls mutating webhooks, so the field always exists by then.
      parameters: { assign: { value: "Always" } },
    },
  },
  {
    apiVersion: "mutations.gatekeeper.sh/v1",
    kind: "AssignMetadata",
    metadata: { name: "team-label" },
    spec: { match: { namespaces: ["default"] }, location: "metadata.labels.team", parameters: { assign: { value: "platform" } } },
  },
  {
    apiVersion: "mutations.gatekeeper.sh/v1alpha1",
    kind: "AssignImage",
    metadata: { name: "use-mirror" },
    spec: { applyTo: [{ groups: [""], kinds: ["Pod"], versions: ["v1"] }], location: "spec.containers[name: *].image", parameters: { assignDomain: "mirror.example.com" } },
  },
];

const pod = (name: string, labels: Record<string, string> = {}) =>
  JSON.stringify({ apiVersion: "v1", kind: "Pod", metadata: { name, namespace: "default", labels }, spec: { containers: [{ name: "app", image: "docker.io/library/nginx:1.27" }] } });

test("portcullis controller --kubeconfig: kubectl creates Pods through the mutating webhook", { skip: missing || false, timeout: 300000 }, async () => {
  const kube = await startKube();
  const k = kube.kubectl;
  const certDir = join(mkdtempSync(join(tmpdir(), "portcullis-mut-")), "certs");
  const port = await freePort();
  let err = "";
  let child: ReturnType<typeof spawn> | undefined;
  try {
    assert.equal((await k(["apply", "-f", join(ROOT, "deploy", "crds")])).code, 0);
    assert.equal((await k(["wait", "--for=condition=Established", "--timeout=60s", "-f", join(ROOT, "deploy", "crds")])).code, 0);
    assert.equal((await k(["apply", "-f", join(ROOT, "deploy", "namespace.yaml")])).code, 0);
    // No controller manager runs: the ServiceAccount admission plugin needs the default account made by hand.
    assert.equal((await k(["create", "serviceaccount", "default", "-n", "default"])).code, 0);
    const w = await k(["apply", "-f", "-"], mwc(port));
    assert.equal(w.code, 0, w.err);

    child = spawn(process.execPath, [...SOURCE_CLI, "controller", "--operation=webhook,mutation-webhook", "--kubeconfig", kube.kubeconfig, "--port", String(port), "--host", "127.0.0.1", "--cert-dir", certDir, "--cert-extra-name", "127.0.0.1", "--metrics-addr", "0", "--health-addr", "127.0.0.1:0", "--max-serving-threads", "1"], { stdio: ["ignore", "ignore", "pipe"] });
    child.stderr!.on("data", (c) => (err += c));
    await until(async () => /"msg":"Webhook serving\."/.test(err) || child!.exitCode !== null, "the webhook to serve", 60000);
    assert.equal(child.exitCode, null, err);
    // The CA is injected into the mutating webhook's configuration too.
    const hooks = JSON.parse((await k(["get", "mutatingwebhookconfiguration", "gatekeeper-mutating-webhook-configuration", "-o", "json"])).out).webhooks;
    assert.equal(Buffer.from(hooks[0].clientConfig.caBundle, "base64").toString(), readFileSync(join(certDir, "ca.crt"), "utf8"));

    for (const m of mutators) {
      const r = await k(["apply", "-f", "-"], JSON.stringify(m));
      assert.equal(r.code, 0, r.err);
    }
    // The API server defaulted nothing it should not have: the mutators read back as applied.
    assert.equal(JSON.parse((await k(["get", "assign", "always-pull", "-o", "json"])).out).spec.location, "spec.containers[name: *].imagePullPolicy");

    // Server-side dry runs call the webhook too: wait until the informers delivered both mutators.
    let last = "";
    const dry = await until(async () => {
      const r = await k(["create", "-f", "-", "--dry-run=server", "-o", "json"], pod("probe"));
      last = r.out + r.err;
      if (r.code !== 0) return null;
      const c = JSON.parse(r.out).spec.containers[0];
      return c.imagePullPolicy === "Always" && c.image.startsWith("mirror.example.com/") && JSON.parse(r.out).metadata.labels?.team === "platform" ? c : null;
    }, "the mutators to reach the webhook").catch((e) => {
      throw new Error(`${(e as Error).message}; last answer: ${last}; controller log: ${err.slice(-3000)}`);
    });
    assert.equal(dry.image, "mirror.example.com/library/nginx:1.27");

    const created = await k(["create", "-f", "-"], pod("web"));
    assert.equal(created.code, 0, created.err);
    const got = JSON.parse((await k(["get", "pod", "web", "-n", "default", "-o", "json"])).out);
    assert.equal(got.spec.containers[0].imagePullPolicy, "Always");
    assert.equal(got.spec.containers[0].image, "mirror.example.com/library/nginx:1.27");

    assert.equal(got.metadata.labels.team, "platform");

    // AssignMetadata never overwrites: a Pod that has the label keeps its value.
    assert.equal((await k(["create", "-f", "-"], pod("kept", { team: "payments" }))).code, 0);
    const kept = JSON.parse((await k(["get", "pod", "kept", "-n", "default", "-o", "json"])).out);
    assert.deepEqual([kept.metadata.labels.team, kept.spec.containers[0].imagePullPolicy, kept.spec.containers[0].image], ["payments", "Always", "mirror.example.com/library/nginx:1.27"]);
  } finally {
    if (child && child.exitCode === null) {
      child.kill("SIGTERM");
      await new Promise((r) => child!.once("exit", r));
    }
    await kube.stop();
  }
});
