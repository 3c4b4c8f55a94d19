// The mutating webhook (/v1/mutate): Gatekeeper's answers as pure logic (mutateReview: messages,
// base64 JSONPatch that the API server applies, errors as controller-runtime's Errored(500)),
// and over HTTPS in the webhook process with a --policy-dir source: the patch, policy reload,
// and Gatekeeper's mutation metrics. The HTTPS part needs openssl (skipped without it).
import { test } from "node:test";
import assert from "node:assert/strict";
import https from "node:https";
import http from "node:http";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync, mkdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import yaml from "js-yaml";
import { applyPatch, buildMutator, createPatch, MutationSystem, mutateReview } from "../../../src/gatekeeper/mutation/index.ts";
import { GATEKEEPER_GROUPS, defaultServiceAccount } from "../../../src/gatekeeper/webhook.ts";
import { startWebhookServer } from "../../../src/server/admission/server.ts";
import { PolicyDirSource } from "../../../src/gatekeeper/policydir.ts";
import { Logger } from "../../../src/server/log.ts";
import { review, pod, namespace } from "../webhook-fixtures.ts";
import type { Obj } from "../../../src/gatekeeper/yaml.ts";

const pullPolicy: Obj = {
  apiVersion: "mutations.gatekeeper.sh/v1",
  kind: "Assign",
  metadata: { name: "always-pull" },
  spec: {
    applyTo: [{ groups: [""], kinds: ["Pod"], versions: ["v1"] }],
    match: { scope: "Namespaced", excludedNamespaces: ["kube-*"] },
    location: "spec.containers[name: *].imagePullPolicy",
    parameters: { pathTests: [{ subPath: "spec.containers[name: *].imagePullPolicy", condition: "MustNotExist" }], assign: { value: "Always" } },
  },
};
const mirror: Obj = {
  apiVersion: "mutations.gatekeeper.sh/v1",
  kind: "AssignImage",
  metadata: { name: "mirror" },
  spec: { applyTo: [{ groups: [""], kinds: ["Pod"], versions: ["v1"] }], location: "spec.containers[name: *].image", parameters: { assignDomain: "mirror.example.com" } },
};
const teamLabel: Obj = {
  apiVersion: "mutations.gatekeeper.sh/v1",
  kind: "AssignMetadata",
  metadata: { name: "team" },
  spec: { match: { namespaceSelector: { matchLabels: { tier: "web" } } }, location: "metadata.labels.team", parameters: { assign: { value: "web" } } },
};

const ctx = (mutators: Obj[], namespaces: Obj[] = [], excluded: string[] = []) => ({
  mutation: MutationSystem.build(mutators),
  namespaces: new Map(namespaces.map((n) => [n.metadata.name as string, n])),
  excluded: (ns: string) => excluded.includes(ns),
});
const opts = { serviceAccount: defaultServiceAccount(), gatekeeperGroups: GATEKEEPER_GROUPS };

test("mutateReview: a base64 JSONPatch that turns the object into the mutated one", async () => {
  const p = pod("web", "shop", "nginx:1.25");
  const out = await mutateReview(ctx([pullPolicy, mirror, teamLabel], [namespace("shop", { tier: "web" })]), review(p), opts);
  const r = out.review.response;
  assert.equal(out.review.kind, "AdmissionReview");
  assert.equal(r.allowed, true);
  assert.equal(r.patchType, "JSONPatch");
  assert.deepEqual(out.metric, { status: "success" });
  assert.deepEqual(out.applied, ["Assign.mutations.gatekeeper.sh /always-pull", "AssignImage.mutations.gatekeeper.sh /mirror", "AssignMetadata.mutations.gatekeeper.sh /team"]);
  const patch = JSON.parse(Buffer.from(r.patch, "base64").toString("utf8"));
  const patched = applyPatch(p, patch) as Obj;
  assert.equal(patched.spec.containers[0].image, "mirror.example.com/nginx:1.25");
  assert.equal(patched.spec.containers[0].imagePullPolicy, "Always");
  assert.equal(patched.metadata.labels.team, "web");
  assert.equal(patched.metadata.namespace, "shop");
});

test("mutateReview: Gatekeeper's allow messages and what is not counted", async () => {
  const c = ctx([pullPolicy], [], ["skipme"]);
  const msg = (o: Awaited<ReturnType<typeof mutateReview>>) => o.review.response.status?.message;
  assert.equal(msg(await mutateReview(c, review(pod("a", "shop", "nginx"), { username: defaultServiceAccount() }), opts)), "Gatekeeper does not self-manage");
  const del = await mutateReview(c, review(null, { operation: "DELETE", oldObject: pod("a", "shop", "nginx") }), opts);
  assert.equal(msg(del), "Mutating only on create or update");
  assert.equal(del.metric, null);
  assert.equal(msg(await mutateReview(c, review(pullPolicy), opts)), "Not mutating gatekeeper resources");
  const skipped = await mutateReview(c, review(pod("a", "skipme", "nginx")), opts);
  assert.equal(msg(skipped), "Namespace is set to be ignored by Gatekeeper config");
  assert.deepEqual(skipped.metric, { status: "skip" });
  // excludedNamespaces of the mutator: not mutated.
  const kube = await mutateReview(c, review(pod("a", "kube-system", "nginx")), opts);
  assert.deepEqual(kube.review.response, { uid: kube.review.response.uid, allowed: true, status: { metadata: {}, message: "Resource was not mutated", code: 200 } });
});

test("mutateReview: a failed mutation is Errored(500) with Gatekeeper's text", async () => {
  // The namespace is unknown, so the namespaceSelector cannot be answered.
  const out = await mutateReview(ctx([teamLabel]), review(pod("a", "nowhere", "nginx")), opts);
  const r = out.review.response;
  assert.equal(r.allowed, false);
  assert.equal(r.status.code, 500);
  assert.equal(r.status.message, "matching for mutator AssignMetadata.mutations.gatekeeper.sh /team failed for  Pod nowhere a: failed to run Match criteria: namespace selector for namespace-scoped object but missing Namespace");
});

test("mutateReview: a Namespace is matched against its own labels", async () => {
  const ns = namespace("front", { tier: "web" });
  const out = await mutateReview(ctx([teamLabel]), review(ns), opts);
  const patched = applyPatch(ns, JSON.parse(Buffer.from(out.review.response.patch, "base64").toString())) as Obj;
  assert.equal(patched.metadata.labels.team, "web");
});

test("createPatch: objects key by key, appends as adds, keys escaped", () => {
  const a = { a: 1, "x/y": { "t~": [1, 2] }, gone: true, list: [1, 2, 3] };
  const b = { a: 2, "x/y": { "t~": [1, 2, 3] }, list: [3], added: { k: "v" } };
  const ops = createPatch(a, b);
  assert.deepEqual(ops, [
    { op: "remove", path: "/gone" },
    { op: "replace", path: "/a", value: 2 },
    { op: "add", path: "/x~1y/t~0/-", value: 3 },
    { op: "replace", path: "/list", value: [3] },
    { op: "add", path: "/added", value: { k: "v" } },
  ]);
  assert.deepEqual(applyPatch(a, ops), b);
  assert.equal(buildMutator(mirror).id, "AssignImage.mutations.gatekeeper.sh /mirror");
});

const hasOpenssl = (process.env.PATH ?? "").split(":").some((d) => existsSync(join(d, "openssl")));

function post(port: number, ca: Buffer, path: string, body: unknown): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const data = JSON.stringify(body);
    const req = https.request({ host: "127.0.0.1", port, path, method: "POST", ca, agent: false, headers: { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(data) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
    });
    req.on("error", reject);
    req.end(data);
  });
}

const getText = (port: number, path: string) =>
  new Promise<string>((resolve, reject) => {
    http.get({ host: "127.0.0.1", port, path }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    }).on("error", reject);
  });

test("/v1/mutate over HTTPS: patch, policy reload, conflicts and Gatekeeper's mutation metrics", { skip: hasOpenssl ? false : "openssl is not installed", timeout: 60000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), "portcullis-mutate-"));
  const policy = join(dir, "policy");
  const certs = join(dir, "certs");
  mkdirSync(policy);
  mkdirSync(certs);
  execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", join(certs, "tls.key"), "-out", join(certs, "tls.crt"), "-days", "1", "-subj", "/CN=m", "-addext", "subjectAltName=IP:127.0.0.1"], { stdio: "ignore" });
  writeFileSync(join(policy, "mutators.yaml"), [pullPolicy, mirror].map((o) => yaml.dump(o)).join("---\n"));
  const logs: string[] = [];
  const w = await startWebhookServer({
    addr: "127.0.0.1:0",
    certDir: certs,
    metricsAddr: "127.0.0.1:0",
    healthAddr: null,
    threads: 1,
    source: new PolicyDirSource(policy, { debounceMs: 50 }),
    webhook: { serviceAccount: defaultServiceAccount() },
    logger: new Logger("info", "json", (l) => logs.push(l)),
  });
  try {
    const ca = readFileSync(join(certs, "tls.crt"));
    const p = pod("web", "shop", "nginx:1.25");
    const a = await post(w.port, ca, "/v1/mutate?timeout=1s", review(p));
    assert.equal(a.status, 200);
    const r = JSON.parse(a.body).response;
    assert.equal(r.patchType, "JSONPatch");
    const patched = applyPatch(p, JSON.parse(Buffer.from(r.patch, "base64").toString())) as Obj;
    assert.equal(patched.spec.containers[0].image, "mirror.example.com/nginx:1.25");
    assert.equal(patched.spec.containers[0].imagePullPolicy, "Always");
    // Reload: an Assign that says `containers` is an object conflicts with both mutators that say
    // it is a list (Gatekeeper's schema check is per field, not per location): none applies.
    const clash = { ...pullPolicy, metadata: { name: "clash" }, spec: { ...pullPolicy.spec, location: "spec.containers.imagePullPolicy", parameters: { assign: { value: "Never" } } } };
    writeFileSync(join(policy, "clash.yaml"), yaml.dump(clash));
    const end = Date.now() + 10000;
    let after: Obj = {};
    while (Date.now() < end) {
      after = JSON.parse((await post(w.port, ca, "/v1/mutate", review(pod("web", "shop", "nginx:1.25")))).body).response;
      if (after.status?.message === "Resource was not mutated") break;
      await new Promise((res) => setTimeout(res, 50));
    }
    assert.equal(after.status?.message, "Resource was not mutated");
    assert.equal(after.patch, undefined);
    const m = await getText(w.metricsPort!, "/metrics");
    assert.match(m, /^gatekeeper_mutation_request_count_total\{mutation_status="success"\} \d+$/m);
    assert.match(m, /^gatekeeper_mutation_request_duration_seconds_bucket\{mutation_status="success",le="10"\} \d+$/m);
    assert.match(m, /^gatekeeper_mutators\{status="active"\} 0$/m);
    assert.match(m, /^gatekeeper_mutators\{status="error"\} 3$/m);
    assert.match(m, /^gatekeeper_mutator_conflicting_count 3$/m);
    // Two ingested active, then the new one and the two it conflicts with ingested as errors.
    assert.match(m, /^gatekeeper_mutator_ingestion_count_total\{status="active"\} 2$/m);
    assert.match(m, /^gatekeeper_mutator_ingestion_count_total\{status="error"\} 3$/m);
    assert.match(m, /^gatekeeper_mutator_ingestion_duration_seconds_count\{status="error"\} 3$/m);
    assert.ok(logs.some((l) => l.includes("the following mutators have conflicting schemas")), "the conflict is logged");
  } finally {
    await w.stop();
  }
});
