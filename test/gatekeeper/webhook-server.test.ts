// The webhook process end to end over HTTPS (src/server/admission/server.ts) with a --policy-dir
// source and a real worker thread: Gatekeeper's answers, metrics under Gatekeeper's names, policy
// reload (the last good snapshot stays when a file is bad), certificate reload, the request
// deadline (HTTP 500 so the API server's failurePolicy applies), and drain on stop. The CLI runs
// as a real process for SIGTERM. Needs openssl for the certificates (skipped without it).
import { test } from "node:test";
import assert from "node:assert/strict";
import https from "node:https";
import http from "node:http";
import { spawn, execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync, mkdirSync, renameSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import yaml from "js-yaml";
import { startWebhookServer } from "../../src/server/admission/server.ts";
import { PolicyDirSource } from "../../src/gatekeeper/policydir.ts";
import { Logger } from "../../src/server/log.ts";
import { defaultServiceAccount } from "../../src/gatekeeper/webhook.ts";
import { SOURCE_CLI } from "../cli/portcullis-src.ts";
import { needLabels, noLatest, constraint, pod, namespace, review } from "./webhook-fixtures.ts";
import type { Obj } from "../../src/gatekeeper/yaml.ts";

const hasOpenssl = (process.env.PATH ?? "").split(":").some((d) => existsSync(join(d, "openssl")));
const skip = hasOpenssl ? false : "openssl is not installed";

function makeCert(dir: string, cn: string): void {
  mkdirSync(dir, { recursive: true });
  execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", join(dir, "tls.key.new"), "-out", join(dir, "tls.crt.new"), "-days", "1", "-subj", `/CN=${cn}`, "-addext", "subjectAltName=IP:127.0.0.1"], { stdio: "ignore" });
  renameSync(join(dir, "tls.key.new"), join(dir, "tls.key"));
  renameSync(join(dir, "tls.crt.new"), join(dir, "tls.crt"));
}

const slow: Obj = {
  apiVersion: "templates.gatekeeper.sh/v1",
  kind: "ConstraintTemplate",
  metadata: { name: "k8sslow" },
  spec: {
    crd: { spec: { names: { kind: "K8sSlow" } } },
    targets: [{ target: "admission.k8s.gatekeeper.sh", rego: 'package k8sslow\nviolation[{"msg": "never"}] {\n  r := numbers.range(1, 20000)\n  n := count({x | some i, j; r[i]; r[j]; x := i * j})\n  n < 0\n}' }],
  },
};

const toYaml = (...objs: Obj[]) => objs.map((o) => yaml.dump(o)).join("---\n");

interface Answer {
  status: number;
  body: string;
  cn?: string;
}

function post(port: number, ca: Buffer, path: string, body: unknown, agent?: https.Agent): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const data = JSON.stringify(body);
    const req = https.request({ host: "127.0.0.1", port, path, method: "POST", ca, agent: agent ?? false, headers: { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(data) } }, (res) => {
      const chunks: Buffer[] = [];
      const cn = (res.socket as import("node:tls").TLSSocket).getPeerCertificate?.()?.subject?.CN as string | undefined;
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8"), cn }));
    });
    req.on("error", reject);
    req.end(data);
  });
}

function get(port: number, path: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    http.get({ host: "127.0.0.1", port, path }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
    }).on("error", reject);
  });
}

async function until(what: string, f: () => Promise<boolean>, ms = 10000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await f()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`timed out waiting for ${what}`);
}

test("webhook over HTTPS: answers, metrics, policy and certificate reload, deadline, drain", { skip, timeout: 60000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), "portcullis-webhook-"));
  const policy = join(dir, "policy");
  const certs = join(dir, "certs");
  mkdirSync(policy);
  makeCert(certs, "first");
  writeFileSync(join(policy, "templates.yaml"), toYaml(needLabels, noLatest, slow));
  writeFileSync(join(policy, "owner.yaml"), toYaml(constraint("K8sNeedLabels", "all-must-have-owner", { match: { kinds: [{ apiGroups: [""], kinds: ["Namespace"] }] }, parameters: { labels: ["owner"] } })));
  writeFileSync(join(policy, "slow.yaml"), toYaml(constraint("K8sSlow", "slow", { match: { kinds: [{ apiGroups: ["apps"], kinds: ["Deployment"] }] } })));
  const logs: string[] = [];
  const w = await startWebhookServer({
    addr: "127.0.0.1:0",
    certDir: certs,
    metricsAddr: "127.0.0.1:0",
    healthAddr: "127.0.0.1:0",
    threads: 1,
    source: new PolicyDirSource(policy, { debounceMs: 50, onError: (f, m) => logs.push(`bad ${f}: ${m}`) }),
    webhook: { serviceAccount: defaultServiceAccount() },
    metricsPerConstraint: true,
    logger: new Logger("info", "json", (l) => logs.push(l)),
    drainTimeoutMs: 10000,
  });
  try {
    let ca = readFileSync(join(certs, "tls.crt"));
    assert.equal((await get(w.healthPort!, "/readyz")).status, 200);
    assert.equal((await get(w.healthPort!, "/healthz")).status, 200);

    const denied = await post(w.port, ca, "/v1/admit?timeout=3s", review(namespace("x")));
    assert.equal(denied.status, 200);
    const d = JSON.parse(denied.body);
    assert.equal(d.response.allowed, false);
    assert.deepEqual(d.response.status, { metadata: {}, message: '[all-must-have-owner] you must provide labels: {"owner"}', reason: "Forbidden", code: 403 });
    assert.equal(JSON.parse((await post(w.port, ca, "/v1/admit?timeout=3s", review(namespace("x", { owner: "me" })))).body).response.allowed, true);
    assert.equal(JSON.parse((await post(w.port, ca, "/v1/admitlabel?timeout=3s", review(namespace("x", { "admission.gatekeeper.sh/ignore": "1" })))).body).response.allowed, false);

    // Malformed requests: controller-runtime's 400 and 413 AdmissionReviews.
    const big = await post(w.port, ca, "/v1/admit", { kind: "AdmissionReview", pad: "x".repeat(7 * 1024 * 1024) });
    assert.equal(big.status, 200);
    assert.deepEqual(JSON.parse(big.body), { response: { uid: "", allowed: false, status: { metadata: {}, message: "request entity is too large; limit is 7340032 bytes", code: 413 } } });
    const notJSON = await post(w.port, ca, "/v1/admit", "not json");
    assert.equal(JSON.parse(notJSON.body).response.status.code, 400);

    const m = (await get(w.metricsPort!, "/metrics")).body;
    assert.match(m, /^gatekeeper_validation_request_count_total\{admission_dryrun="false",admission_status="deny"\} 1$/m);
    assert.match(m, /^gatekeeper_validation_request_count_total\{admission_dryrun="false",admission_status="allow"\} 1$/m);
    assert.match(m, /^gatekeeper_validation_request_duration_seconds_bucket\{admission_status="deny",le="10"\} 1$/m);
    assert.match(m, /^gatekeeper_constraint_templates\{status="active"\} 3$/m);
    assert.match(m, /^gatekeeper_constraints\{enforcement_action="deny",status="active"\} 2$/m);
    assert.match(m, /^gatekeeper_constraint_template_ingestion_count_total\{status="active"\} 3$/m);
    assert.match(m, /^portcullis_gatekeeper_constraint_violations_total\{constraint_kind="K8sNeedLabels",constraint="all-must-have-owner"\} 1$/m);

    // Policy reload: a warn constraint appears; a broken file keeps the last good snapshot.
    writeFileSync(join(policy, "latest.yaml"), toYaml(constraint("K8sNoLatest", "warn-latest", { enforcementAction: "warn" })));
    await until("the warn constraint", async () => JSON.parse((await post(w.port, ca, "/v1/admit", review(pod("p", "shop", "nginx:latest")))).body).response.warnings?.length === 1);
    writeFileSync(join(policy, "latest.yaml"), "kind: [unclosed");
    await until("the bad file reported", async () => logs.some((l) => l.startsWith("bad ") && l.includes("latest.yaml")));
    assert.deepEqual(JSON.parse((await post(w.port, ca, "/v1/admit", review(pod("p", "shop", "nginx:latest")))).body).response.warnings, ["[warn-latest] container <app> uses the latest tag"]);

    // External data over HTTPS, trusted through the Provider's caBundle.
    makeCert(join(dir, "provider"), "provider");
    const provider = https.createServer({ cert: readFileSync(join(dir, "provider", "tls.crt")), key: readFileSync(join(dir, "provider", "tls.key")) }, (req, res) => {
      let body = "";
      req.on("data", (c) => (body += c));
      req.on("end", () => {
        const keys: string[] = JSON.parse(body).request.keys;
        res.setHeader("Content-Type", "application/json");
        res.end(JSON.stringify({ apiVersion: "externaldata.gatekeeper.sh/v1beta1", kind: "ProviderResponse", response: { idempotent: true, items: keys.map((k) => ({ key: k, value: k.startsWith("signed/") ? "ok" : "unsigned" })) } }));
      });
    });
    await new Promise<void>((r) => provider.listen(0, "127.0.0.1", () => r()));
    try {
      const pport = (provider.address() as { port: number }).port;
      const signed: Obj = {
        apiVersion: "templates.gatekeeper.sh/v1",
        kind: "ConstraintTemplate",
        metadata: { name: "k8ssigned" },
        spec: {
          crd: { spec: { names: { kind: "K8sSigned" } } },
          targets: [{ target: "admission.k8s.gatekeeper.sh", rego: 'package k8ssigned\nviolation[{"msg": sprintf("image %v: %v", [r[0], r[1]])}] {\n  resp := external_data({"provider": "signer", "keys": [c.image | c := input.review.object.spec.containers[_]]})\n  r := resp.responses[_]\n  r[1] != "ok"\n}' }],
        },
      };
      writeFileSync(
        join(policy, "signed.yaml"),
        toYaml(
          { apiVersion: "externaldata.gatekeeper.sh/v1beta1", kind: "Provider", metadata: { name: "signer" }, spec: { url: `https://127.0.0.1:${pport}/`, timeout: 2, caBundle: readFileSync(join(dir, "provider", "tls.crt")).toString("base64") } },
          signed,
          constraint("K8sSigned", "must-be-signed", { match: { kinds: [{ apiGroups: [""], kinds: ["Pod"] }] } }),
        ),
      );
      await until("the external data constraint", async () => {
        const a = JSON.parse((await post(w.port, ca, "/v1/admit", review(pod("p", "shop", "unsigned/app:1")))).body).response;
        return a.allowed === false && a.status.message === "[must-be-signed] image unsigned/app:1: unsigned";
      });
      assert.equal(JSON.parse((await post(w.port, ca, "/v1/admit", review(pod("p", "shop", "signed/app:1")))).body).response.allowed, true);
      assert.match((await get(w.metricsPort!, "/metrics")).body, /^gatekeeper_providers\{status="active"\} 1$/m);
    } finally {
      provider.close();
    }

    // Deadline: the slow constraint cannot finish in 300 ms; the answer is HTTP 500 soon after.
    const dep = { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "d", namespace: "shop" }, spec: {} };
    const t0 = Date.now();
    const late = await post(w.port, ca, "/v1/admit?timeout=300ms", review(dep));
    assert.equal(late.status, 500);
    assert.match(late.body, /^eval_cancel_error: /);
    assert.ok(Date.now() - t0 < 1500, `answered after ${Date.now() - t0} ms`);

    // Certificate reload: new connections get the new certificate.
    makeCert(certs, "second");
    const ca2 = readFileSync(join(certs, "tls.crt"));
    await until("the new certificate", async () => (await post(w.port, ca2, "/v1/admit", review(namespace("y", { owner: "a" }))).catch(() => ({ cn: "" }))).cn === "second");
    await assert.rejects(post(w.port, ca, "/v1/admit", review(namespace("y", { owner: "a" }))));
    ca = ca2;

    // Drain: a request in flight when stop() is called still gets its answer.
    const inflight = post(w.port, ca, "/v1/admit?timeout=1500ms", review(dep));
    await until("the request in flight", async () => w.inFlight() === 1, 5000);
    const stopping = w.stop();
    const answered = await inflight;
    assert.equal(answered.status, 500);
    assert.match(answered.body, /^eval_cancel_error/);
    await stopping;
    assert.ok(logs.some((l) => l.includes('"msg":"Webhook stopped."')));
  } finally {
    await w.stop();
  }
});

test("portcullis controller --self-signed: a real process serves, logs JSON and exits 0 on SIGTERM", { timeout: 60000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), "portcullis-controller-"));
  const policy = join(dir, "policy");
  mkdirSync(policy);
  writeFileSync(join(policy, "all.yaml"), toYaml(noLatest, constraint("K8sNoLatest", "no-latest")));
  const child = spawn(process.execPath, [...SOURCE_CLI, "controller", "--operation=webhook", "--policy-dir", policy, "--self-signed", "--port", "0", "--host", "127.0.0.1", "--metrics-addr", "0", "--health-addr", "127.0.0.1:0", "--max-serving-threads", "1"], { stdio: ["ignore", "pipe", "pipe"] });
  let err = "";
  let out = "";
  child.stderr.on("data", (c) => (err += c));
  child.stdout.on("data", (c) => (out += c));
  const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
  try {
    await until("the webhook to serve", async () => /"msg":"Webhook serving\."/.test(err), 30000);
    const serving = JSON.parse(err.split("\n").find((l) => l.includes('"msg":"Webhook serving."'))!);
    assert.equal(serving.level, "info");
    const bundle = /^caBundle: ([A-Za-z0-9+/=]+)$/m.exec(out);
    assert.ok(bundle, `no caBundle line on stdout: ${out}`);
    // The certificate verifies against the printed CA (Node checks the chain and the IP SAN).
    const a = await post(serving.port, Buffer.from(bundle[1], "base64"), "/v1/admit?timeout=3s", review(pod("p", "shop", "nginx:latest")));
    assert.equal(JSON.parse(a.body).response.status.message, "[no-latest] container <app> uses the latest tag");
    child.kill("SIGTERM");
    assert.equal(await exited, 0);
    assert.match(err, /"msg":"Webhook stopped\."/);
  } finally {
    if (child.exitCode === null) child.kill("SIGKILL");
  }
});

test("portcullis controller: bad flags are clear errors with exit 1", { timeout: 30000 }, async () => {
  const run = (args: string[]) =>
    new Promise<{ code: number | null; err: string }>((resolve) => {
      const c = spawn(process.execPath, [...SOURCE_CLI, "controller", ...args], { stdio: ["ignore", "ignore", "pipe"] });
      let err = "";
      c.stderr.on("data", (x) => (err += x));
      c.on("exit", (code) => resolve({ code, err }));
    });
  const dir = mkdtempSync(join(tmpdir(), "portcullis-controller-flags-"));
  const a = await run(["--operation=status", "--policy-dir", dir, "--cert-dir", dir]);
  assert.equal(a.code, 1);
  assert.match(a.err, /^error: --operation=status: this build runs only webhook, mutation-webhook, audit/);
  const b = await run(["--cert-dir", dir]);
  assert.equal(b.code, 1);
  assert.match(b.err, /^error: give exactly one of --policy-dir, --kubeconfig/);
  const c = await run(["--policy-dir", dir, "--cert-dir", dir, "--port", "0", "--metrics-addr", "0", "--health-addr", "0"]);
  assert.equal(c.code, 1);
  assert.match(c.err, /^error: --cert-dir .*: cannot read tls\.crt and tls\.key/);
});

test("/readyz is 500 until the source's initial sync is loaded, and the webhook port opens only then", { timeout: 60000 }, async () => {
  const { generateWebhookCertificates } = await import("../../src/gatekeeper/certs.ts");
  const { emptyObjects } = await import("../../src/gatekeeper/state.ts");
  const made = generateWebhookCertificates(["127.0.0.1"], 1);
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const source = {
    async start(onChange: (o: import("../../src/gatekeeper/state.ts").GatekeeperObjects) => void) {
      await gate;
      onChange({ ...emptyObjects(), templates: [noLatest], constraints: [constraint("K8sNoLatest", "no-latest")] });
    },
    async stop() {},
  };
  const health = await import("node:net").then((net) => new Promise<number>((r) => { const s = net.createServer().listen(0, "127.0.0.1", () => { const p = (s.address() as { port: number }).port; s.close(() => r(p)); }); }));
  const starting = startWebhookServer({ addr: "127.0.0.1:0", certDir: { cert: made.cert, key: made.key }, metricsAddr: null, healthAddr: `127.0.0.1:${health}`, threads: 0, source, webhook: { serviceAccount: defaultServiceAccount() }, logger: new Logger("error", "json", () => {}) });
  await until("the health port", async () => (await get(health, "/healthz").catch(() => ({ status: 0 }))).status === 200);
  const before = await get(health, "/readyz");
  assert.equal(before.status, 500);
  assert.equal(before.body, "initial policy sync not finished");
  release();
  const w = await starting;
  try {
    assert.equal((await get(health, "/readyz")).status, 200);
    const a = await post(w.port, Buffer.from(made.caCert), "/v1/admit", review(pod("p", "shop", "nginx:latest")));
    assert.equal(JSON.parse(a.body).response.status.message, "[no-latest] container <app> uses the latest tag");
  } finally {
    await w.stop();
  }
});
