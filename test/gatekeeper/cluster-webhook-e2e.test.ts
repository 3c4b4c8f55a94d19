// The whole controller against a real API server (../shared/kube), driven with kubectl as a
// user would: `portcullis controller --operation=webhook --kubeconfig K` generates its
// certificates (Secret, files) and injects the CA into the ValidatingWebhookConfiguration; a
// required-labels template and the all-must-have-owner constraint make `kubectl create namespace`
// fail with Gatekeeper's message; with the label it is created; a `warn` constraint prints
// `Warning: [name] msg`; a `dryrun` constraint admits. Skipped when the API server, etcd or
// kubectl is missing.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { kubeMissing, startKube, freePort, until } from "../support/kube.ts";
import { SOURCE_CLI } from "../cli/portcullis-src.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const FIX = join(ROOT, "test", "gatekeeper", "cluster");
const missing = kubeMissing();

const vwc = (port: number) =>
  JSON.stringify({
    apiVersion: "admissionregistration.k8s.io/v1",
    kind: "ValidatingWebhookConfiguration",
    metadata: { name: "gatekeeper-validating-webhook-configuration" },
    webhooks: [
      {
        name: "validation.gatekeeper.sh",
        admissionReviewVersions: ["v1", "v1beta1"],
        clientConfig: { url: `https://127.0.0.1:${port}/v1/admit` },
        failurePolicy: "Ignore",
        matchPolicy: "Exact",
        sideEffects: "None",
        timeoutSeconds: 3,
        namespaceSelector: { matchExpressions: [{ key: "admission.gatekeeper.sh/ignore", operator: "DoesNotExist" }, { key: "kubernetes.io/metadata.name", operator: "NotIn", values: ["gatekeeper-system"] }] },
        rules: [{ apiGroups: ["*"], apiVersions: ["*"], operations: ["CREATE", "UPDATE"], resources: ["*"] }],
      },
      {
        name: "check-ignore-label.gatekeeper.sh",
        admissionReviewVersions: ["v1", "v1beta1"],
        clientConfig: { url: `https://127.0.0.1:${port}/v1/admitlabel` },
        failurePolicy: "Fail",
        matchPolicy: "Exact",
        sideEffects: "None",
        timeoutSeconds: 3,
        namespaceSelector: { matchExpressions: [{ key: "kubernetes.io/metadata.name", operator: "NotIn", values: ["gatekeeper-system"] }] },
        rules: [{ apiGroups: [""], apiVersions: ["*"], operations: ["CREATE", "UPDATE"], resources: ["namespaces"] }],
      },
    ],
  });

const constraint = (name: string, action: string, key: string, message?: string) =>
  JSON.stringify({
    apiVersion: "constraints.gatekeeper.sh/v1beta1",
    kind: "K8sRequiredLabels",
    metadata: { name },
    spec: { enforcementAction: action, match: { kinds: [{ apiGroups: [""], kinds: ["Namespace"] }] }, parameters: { ...(message ? { message } : {}), labels: [{ key }] } },
  });

test("portcullis controller --kubeconfig: kubectl against the webhook", { skip: missing || false, timeout: 300000 }, async () => {
  const kube = await startKube();
  const k = kube.kubectl;
  const certDir = join(mkdtempSync(join(tmpdir(), "portcullis-ctl-")), "certs");
  const port = await freePort();
  let err = "";
  let child: ReturnType<typeof spawn> | undefined;
  try {
    assert.equal((await k(["apply", "-f", join(ROOT, "deploy", "crds")])).code, 0);
    assert.equal((await k(["wait", "--for=condition=Established", "--timeout=60s", "-f", join(ROOT, "deploy", "crds")])).code, 0);
    assert.equal((await k(["apply", "-f", join(ROOT, "deploy", "namespace.yaml")])).code, 0);
    const w = await k(["apply", "-f", "-"], vwc(port));
    assert.equal(w.code, 0, w.err);

    child = spawn(process.execPath, [...SOURCE_CLI, "controller", "--operation=webhook", "--kubeconfig", kube.kubeconfig, "--port", String(port), "--host", "127.0.0.1", "--cert-dir", certDir, "--cert-extra-name", "127.0.0.1", "--metrics-addr", "0", "--health-addr", "127.0.0.1:0", "--max-serving-threads", "1"], { stdio: ["ignore", "ignore", "pipe"] });
    child.stderr!.on("data", (c) => (err += c));
    await until(async () => /"msg":"Webhook serving\."/.test(err) || child!.exitCode !== null, "the webhook to serve", 60000);
    assert.equal(child.exitCode, null, err);

    // certificates: Secret, files, and the CA injected into the webhook configuration
    assert.ok(existsSync(join(certDir, "tls.crt")) && existsSync(join(certDir, "tls.key")));
    const hooks = JSON.parse((await k(["get", "validatingwebhookconfiguration", "gatekeeper-validating-webhook-configuration", "-o", "json"])).out).webhooks;
    for (const h of hooks) assert.equal(Buffer.from(h.clientConfig.caBundle, "base64").toString(), readFileSync(join(certDir, "ca.crt"), "utf8"));
    assert.equal((await k(["-n", "gatekeeper-system", "get", "secret", "gatekeeper-webhook-server-cert"])).code, 0);

    // the template and the constraint, applied with kubectl
    assert.equal((await k(["apply", "-f", join(FIX, "requiredlabels-template.yaml")])).code, 0);
    await until(async () => (await k(["apply", "-f", join(FIX, "all-must-have-owner.yaml")])).code === 0, "the constraint CRD and the constraint");

    // refused, once the webhook has the constraint (server-side dry runs call the webhook too)
    const refused = await until(async () => {
      const r = await k(["create", "namespace", "x", "--dry-run=server"]);
      return r.code !== 0 ? r : null;
    }, "the webhook to refuse an unlabelled namespace");
    const want = 'Error from server (Forbidden): admission webhook "validation.gatekeeper.sh" denied the request: [all-must-have-owner] All namespaces must have an `owner` label that points to your company username';
    assert.equal(refused.err.trim(), want);
    const real = await k(["create", "namespace", "x"]);
    assert.notEqual(real.code, 0);
    assert.equal(real.err.trim(), want);

    // with the label: created
    const labelled = JSON.stringify({ apiVersion: "v1", kind: "Namespace", metadata: { name: "x", labels: { owner: "me.agilebank.demo" } } });
    const ok = await k(["create", "-f", "-"], labelled);
    assert.equal(ok.code, 0, ok.err);
    assert.match(ok.out, /namespace\/x created/);

    // warn: admitted with a warning
    assert.equal((await k(["apply", "-f", "-"], constraint("must-have-team", "warn", "team"))).code, 0);
    const warned = await until(async () => {
      const r = await k(["create", "-f", "-", "--dry-run=server"], JSON.stringify({ apiVersion: "v1", kind: "Namespace", metadata: { name: "y", labels: { owner: "me.agilebank.demo" } } }));
      return r.code === 0 && /Warning:/.test(r.err) ? r : null;
    }, "the warn constraint");
    assert.equal(warned.err.trim(), 'Warning: [must-have-team] you must provide labels: {"team"}');

    // dryrun: the owner constraint stops denying
    assert.equal((await k(["apply", "-f", "-"], constraint("all-must-have-owner", "dryrun", "owner", "All namespaces must have an `owner` label that points to your company username"))).code, 0);
    const admitted = await until(async () => {
      const r = await k(["create", "namespace", "z"]);
      return r.code === 0 ? r : null;
    }, "the dryrun constraint to admit");
    assert.match(admitted.out, /namespace\/z created/);
    assert.equal(admitted.err.trim(), 'Warning: [must-have-team] you must provide labels: {"team"}');

    // status written by the controller
    const t = JSON.parse((await k(["get", "constrainttemplate", "k8srequiredlabels", "-o", "json"])).out);
    assert.equal(t.status.created, true);
    assert.equal(t.status.byPod.length, 1);

    child.kill("SIGTERM");
    await until(async () => child!.exitCode !== null, "the controller to exit", 30000);
    assert.equal(child.exitCode, 0, err);
  } finally {
    if (child && child.exitCode === null) child.kill("SIGKILL");
    await kube.stop();
  }
});
