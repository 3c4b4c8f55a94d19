// The validating webhook's semantics (src/gatekeeper/webhook.ts), each against the answer
// Gatekeeper gives (its documented responses and pkg/webhook/policy.go's shapes): deny/warn/
// dryrun/scoped, runtime errors, DELETE/UPDATE, namespaceSelector, the service account,
// Config exclusions, /v1/admitlabel, Gatekeeper's own resources, malformed requests, deadlines.
import { test } from "node:test";
import assert from "node:assert/strict";
import { buildSnapshot } from "../../src/gatekeeper/snapshot.ts";
import { admit, admitLabel, DeadlineError, defaultServiceAccount, type WebhookOptions } from "../../src/gatekeeper/webhook.ts";
import { constraint, objects, pod, namespace, review, needLabels, noLatest } from "./webhook-fixtures.ts";
import type { Obj } from "../../src/gatekeeper/yaml.ts";

const opts: WebhookOptions = { serviceAccount: defaultServiceAccount(), exemptNamespaces: ["kube-system"], exemptNamespacePrefixes: ["gk-"], exemptNamespaceSuffixes: ["-infra"] };

const owner = constraint("K8sNeedLabels", "all-must-have-owner", { match: { kinds: [{ apiGroups: [""], kinds: ["Namespace", "Pod"] }] }, parameters: { labels: ["owner"] } });
const latestDeny = constraint("K8sNoLatest", "no-latest", { match: { kinds: [{ apiGroups: [""], kinds: ["Pod"] }] } });

test("deny: allowed false, 403 Forbidden, the [name] msg lines sorted and joined by newlines", async () => {
  const snap = buildSnapshot(objects({ constraints: [owner, latestDeny] }));
  const r = review(pod("web", "shop", "nginx:latest"));
  const out = await admit(snap, r, opts);
  assert.deepEqual(out.review, {
    kind: "AdmissionReview",
    apiVersion: "admission.k8s.io/v1",
    response: {
      uid: r.request.uid,
      allowed: false,
      status: { metadata: {}, message: '[no-latest] container <app> uses the latest tag\n[all-must-have-owner] you must provide labels: {"owner"}', reason: "Forbidden", code: 403 },
    },
  });
  assert.deepEqual(out.metric, { status: "deny", dryRun: false });
});

test("a Namespace without the owner label is refused as in Gatekeeper's documentation; with it, allowed with code 200", async () => {
  const snap = buildSnapshot(objects({ constraints: [owner] }));
  const bad = await admit(snap, review(namespace("x")), opts);
  assert.equal(bad.review.response.status.message, '[all-must-have-owner] you must provide labels: {"owner"}');
  const good = await admit(snap, review(namespace("x", { owner: "me" })), opts);
  assert.deepEqual(good.review.response.status, { metadata: {}, code: 200 });
  assert.equal(good.review.response.allowed, true);
  assert.equal(good.review.response.warnings, undefined);
});

test("warn: allowed with warnings and code 299; dryrun: allowed, no message", async () => {
  const warn = constraint("K8sNoLatest", "warn-latest", { enforcementAction: "warn" });
  const dry = constraint("K8sNeedLabels", "dry-owner", { enforcementAction: "dryrun", parameters: { labels: ["owner"] } });
  const snap = buildSnapshot(objects({ constraints: [warn, dry] }));
  const out = await admit(snap, review(pod("web", "shop", "nginx:latest")), opts);
  assert.equal(out.review.response.allowed, true);
  assert.deepEqual(out.review.response.status, { metadata: {}, code: 299 });
  assert.deepEqual(out.review.response.warnings, ["[warn-latest] container <app> uses the latest tag"]);
  assert.deepEqual(out.metric, { status: "allow", dryRun: false });
});

test("deny with warnings: both the message and the warnings", async () => {
  const warn = constraint("K8sNoLatest", "warn-latest", { enforcementAction: "warn" });
  const snap = buildSnapshot(objects({ constraints: [owner, warn] }));
  const out = await admit(snap, review(pod("web", "shop", "nginx:latest")), opts);
  assert.equal(out.review.response.allowed, false);
  assert.deepEqual(out.review.response.warnings, ["[warn-latest] container <app> uses the latest tag"]);
});

test("scoped: validation.gatekeeper.sh actions apply; audit-only scoped constraints are not run here", async () => {
  const scopedDeny = constraint("K8sNoLatest", "scoped-deny", { enforcementAction: "scoped", scopedEnforcementActions: [{ action: "deny", enforcementPoints: [{ name: "validation.gatekeeper.sh" }] }, { action: "warn", enforcementPoints: [{ name: "audit.gatekeeper.sh" }] }] });
  const scopedWarn = constraint("K8sNeedLabels", "scoped-warn", { enforcementAction: "scoped", scopedEnforcementActions: [{ action: "warn", enforcementPoints: [{ name: "*" }] }], parameters: { labels: ["owner"] } });
  const auditOnly = constraint("K8sNeedLabels", "audit-only", { enforcementAction: "scoped", scopedEnforcementActions: [{ action: "deny", enforcementPoints: [{ name: "audit.gatekeeper.sh" }] }], parameters: { labels: ["team"] } });
  const snap = buildSnapshot(objects({ constraints: [scopedDeny, scopedWarn, auditOnly] }));
  const out = await admit(snap, review(pod("web", "shop", "nginx:latest")), opts);
  assert.equal(out.review.response.status.message, "[scoped-deny] container <app> uses the latest tag");
  assert.deepEqual(out.review.response.warnings, ['[scoped-warn] you must provide labels: {"owner"}']);
});

test("a Rego runtime error is a violation of that constraint carrying the error text", async () => {
  const snap = buildSnapshot(objects({ constraints: [constraint("K8sBoom", "boom")] }));
  const out = await admit(snap, review(pod("web", "shop", "nginx:1")), opts);
  assert.equal(out.review.response.allowed, false);
  assert.match(out.review.response.status.message, /^\[boom\] template:\d+: eval_conflict_error: complete rules must not produce multiple outputs$/);
});

test("DELETE reviews oldObject; UPDATE matches when either object or oldObject matches", async () => {
  const onlyTeamA = constraint("K8sNeedLabels", "team-a-owner", { match: { labelSelector: { matchLabels: { team: "a" } } }, parameters: { labels: ["owner"] } });
  const snap = buildSnapshot(objects({ constraints: [onlyTeamA] }));
  const del = await admit(snap, review(null, { operation: "DELETE", oldObject: pod("web", "shop", "nginx:1", { team: "a" }) }), opts);
  assert.equal(del.review.response.status.message, '[team-a-owner] you must provide labels: {"owner"}');
  // The new object left team a; the old one was in it: the constraint still applies.
  const upd = await admit(snap, review(pod("web", "shop", "nginx:1", { team: "b" }), { operation: "UPDATE", oldObject: pod("web", "shop", "nginx:1", { team: "a" }) }), opts);
  assert.equal(upd.review.response.allowed, false);
  const neither = await admit(snap, review(pod("web", "shop", "nginx:1", { team: "b" }), { operation: "UPDATE", oldObject: pod("web", "shop", "nginx:1", { team: "c" }) }), opts);
  assert.equal(neither.review.response.allowed, true);
});

test("namespaceSelector reads the Namespace from the snapshot; an unknown namespace is an autoreject violation", async () => {
  const prod = constraint("K8sNoLatest", "prod-no-latest", { match: { namespaceSelector: { matchLabels: { env: "prod" } } } });
  const snap = buildSnapshot(objects({ constraints: [prod], namespaces: new Map([["shop", namespace("shop", { env: "prod" })], ["lab", namespace("lab", { env: "dev" })]]) }));
  assert.equal((await admit(snap, review(pod("a", "shop", "nginx:latest")), opts)).review.response.allowed, false);
  assert.equal((await admit(snap, review(pod("a", "lab", "nginx:latest")), opts)).review.response.allowed, true);
  const unknown = await admit(snap, review(pod("a", "nowhere", "nginx:latest")), opts);
  assert.equal(unknown.review.response.allowed, false);
  assert.match(unknown.review.response.status.message, /^\[prod-no-latest\] unable to match constraints: /);
});

test("the controller's own service account is allowed unreviewed and not counted", async () => {
  const snap = buildSnapshot(objects({ constraints: [latestDeny] }));
  const out = await admit(snap, review(pod("a", "shop", "nginx:latest"), { username: "system:serviceaccount:gatekeeper-system:gatekeeper-admin" }), opts);
  assert.deepEqual(out.review.response.status, { metadata: {}, message: "Gatekeeper does not self-manage", code: 200 });
  assert.equal(out.metric, null);
});

test("Config spec.match exclusions: processes webhook and * skip the namespace, audit does not", async () => {
  const config = {
    apiVersion: "config.gatekeeper.sh/v1alpha1",
    kind: "Config",
    metadata: { name: "config", namespace: "gatekeeper-system" },
    spec: { match: [{ excludedNamespaces: ["kube-*"], processes: ["*"] }, { excludedNamespaces: ["hooks"], processes: ["webhook"] }, { excludedNamespaces: ["audited"], processes: ["audit"] }] },
  };
  const snap = buildSnapshot(objects({ constraints: [latestDeny, owner], config }));
  for (const ns of ["kube-system", "hooks"]) {
    const out = await admit(snap, review(pod("a", ns, "nginx:latest")), opts);
    assert.deepEqual(out.review.response.status, { metadata: {}, message: "Namespace is set to be ignored by Gatekeeper config", code: 200 }, ns);
  }
  // A Namespace object is excluded by its own name.
  assert.equal((await admit(snap, review(namespace("kube-public")), opts)).review.response.allowed, true);
  assert.equal((await admit(snap, review(pod("a", "audited", "nginx:latest")), opts)).review.response.allowed, false);
});

test("/v1/admitlabel: only exempt namespaces may set admission.gatekeeper.sh/ignore", () => {
  const ign = { "admission.gatekeeper.sh/ignore": "yes" };
  const refused = admitLabel(review(namespace("shop", ign)), opts);
  assert.deepEqual(refused.review.response, { uid: refused.review.response.uid, allowed: false, status: { metadata: {}, message: "Only exempt namespace can have the admission.gatekeeper.sh/ignore label", reason: "Forbidden", code: 403 } });
  for (const ns of ["kube-system", "gk-tools", "team-infra"]) {
    const ok = admitLabel(review(namespace(ns, ign)), opts);
    assert.equal(ok.review.response.status.message, `Namespace ${ns} is allowed to set admission.gatekeeper.sh/ignore`);
  }
  assert.equal(admitLabel(review(namespace("shop")), opts).review.response.status.message, "Namespace is not setting the admission.gatekeeper.sh/ignore label");
  assert.equal(admitLabel(review(pod("a", "shop", "x")), opts).review.response.status.message, "Not a namespace");
  assert.equal(admitLabel(review(null, { operation: "DELETE", oldObject: namespace("shop", ign) }), opts).review.response.status.message, "Delete is always allowed");
});

test("Gatekeeper's own resources: bad parameters, unknown fields and uncompilable Rego are refused with 422", async () => {
  const snap = buildSnapshot(objects({ constraints: [] }));
  const badParams = constraint("K8sNeedLabels", "bad", { parameters: { labels: "owner" } });
  const out = await admit(snap, review(badParams), opts);
  assert.equal(out.review.response.allowed, false);
  assert.equal(out.review.response.status.code, 422);
  assert.equal(out.review.response.status.message, 'schema validation failed: spec.parameters.labels: Invalid value: "string": spec.parameters.labels in body must be of type array: "string"');
  assert.equal(out.metric, null);

  const unknown = await admit(snap, review(constraint("K8sNeedLabels", "unk", { parameters: { labels: ["a"], colour: "red" } })), opts);
  assert.equal(unknown.review.response.status.code, 422);
  assert.match(unknown.review.response.status.message, /^invalid Constraint: unknown fields: \[spec\.parameters\.colour\]/);

  const noTemplate = await admit(snap, review(constraint("K8sMissing", "m")), opts);
  assert.equal(noTemplate.review.response.status.message, 'missing ConstraintTemplate: template "k8smissing" not found');

  const brokenRego = structuredClone(noLatest);
  brokenRego.spec.targets[0].rego = "package k8snolatest\nviolation[{\"msg\": msg}] { msg := undefined_fn(1) }";
  const bad = await admit(snap, review(brokenRego), opts);
  assert.equal(bad.review.response.status.code, 422);
  assert.match(bad.review.response.status.message, /rego_type_error: undefined function undefined_fn/);

  const good = await admit(snap, review(constraint("K8sNeedLabels", "ok", { parameters: { labels: ["owner"] } })), opts);
  assert.equal(good.review.response.allowed, true);
  assert.equal((await admit(snap, review(needLabels), opts)).review.response.allowed, true);

  const cfg = await admit(snap, review({ apiVersion: "config.gatekeeper.sh/v1alpha1", kind: "Config", metadata: { name: "other", namespace: "gatekeeper-system" }, spec: {} }), opts);
  assert.equal(cfg.review.response.status.message, "config resource must have name 'config'");
});

test("v1beta1 in, v1beta1 out; a malformed review is controller-runtime's 400", async () => {
  const snap = buildSnapshot(objects({ constraints: [latestDeny] }));
  const out = await admit(snap, review(pod("a", "shop", "nginx:latest"), { apiVersion: "admission.k8s.io/v1beta1" }), opts);
  assert.equal(out.review.apiVersion, "admission.k8s.io/v1beta1");
  assert.equal(out.review.response.allowed, false);
  const bad = await admit(snap, { kind: "Pod" }, opts);
  assert.deepEqual(Object.keys(bad.review), ["response"]);
  assert.equal(bad.review.response.status.code, 400);
  assert.equal(bad.review.response.allowed, false);
});

test("a review error (no object to review) is admission.Errored(500)", async () => {
  const snap = buildSnapshot(objects({ constraints: [latestDeny] }));
  const r = review(pod("a", "shop", "nginx:1"), { operation: "DELETE" });
  r.request.object = null;
  const out = await admit(snap, r, opts);
  assert.equal(out.review.response.status.code, 500);
  assert.match(out.review.response.status.message, /^error reviewing resource a: /);
  assert.deepEqual(out.metric, { status: "error", dryRun: false });
});

test("past the deadline the review throws DeadlineError (never a silent allow or a violation)", async () => {
  const snap = buildSnapshot(objects({ constraints: [latestDeny, owner] }));
  await assert.rejects(admit(snap, review(pod("a", "shop", "nginx:latest")), opts, { deadline: Date.now() - 1 }), DeadlineError);
});

test("dryRun requests are labelled for the metrics; per-constraint stats when asked", async () => {
  const snap = buildSnapshot(objects({ constraints: [latestDeny, owner] }));
  const out = await admit(snap, review(pod("a", "shop", "nginx:latest"), { dryRun: true }), opts, { perConstraint: true });
  assert.deepEqual(out.metric, { status: "deny", dryRun: true });
  assert.deepEqual(out.constraints!.map((c) => [c.name, c.violations]).sort(), [["all-must-have-owner", 1], ["no-latest", 1]]);
});

test("snapshot report: Rego errors with code, message and location; constraints without a template", () => {
  const broken = structuredClone(noLatest);
  broken.spec.targets[0].rego = "package k8snolatest\nviolation[{\"msg\": msg}] {\n  msg := undefined_fn(1)\n}";
  const snap = buildSnapshot(objects({ templates: [needLabels, broken], constraints: [owner, latestDeny] }));
  const t = snap.report.templates.find((x) => x.name === "k8snolatest")!;
  assert.deepEqual(t.errors, [{ code: "rego_type_error", message: "undefined function undefined_fn", location: "template:3:10" }]);
  assert.deepEqual(snap.report.templates.find((x) => x.name === "k8sneedlabels")!.errors, []);
  assert.deepEqual(snap.report.constraints.find((x) => x.name === "no-latest")!.errors, [{ code: "missing_template", message: 'missing ConstraintTemplate: template "k8snolatest" not found' }]);
});

test("snapshot report: an object given twice (two policy files, same kind and name) is one object, the last (gatekeeper_constraints counts it once, as Gatekeeper does)", async () => {
  // the gatekeeper-library's 75 sample constraint files hold 64 distinct kind/name pairs: Gatekeeper v3.21 reports 64
  const warnOwner = constraint("K8sNeedLabels", "all-must-have-owner", { enforcementAction: "warn", match: { kinds: [{ apiGroups: [""], kinds: ["Namespace", "Pod"] }] }, parameters: { labels: ["owner"] } });
  const snap = buildSnapshot(objects({ templates: [needLabels, noLatest, needLabels], constraints: [owner, latestDeny, warnOwner] }));
  assert.deepEqual(snap.report.templates.map((t) => t.name).sort(), ["k8sneedlabels", "k8snolatest"]);
  assert.deepEqual(snap.report.constraints.map((c) => [c.name, c.enforcementAction]).sort(), [["all-must-have-owner", "warn"], ["no-latest", "deny"]]);
  // the last one read is the one in force
  const out = await admit(snap, review(namespace("x")), opts);
  assert.equal(out.review.response?.allowed, true);
  assert.equal(out.review.response?.warnings?.length, 1);
  // …also when it is invalid: reported with its error, and the earlier one no longer enforced
  const badOwner = constraint("K8sNeedLabels", "all-must-have-owner", { match: { kinds: [{ apiGroups: [""], kinds: ["Namespace"] }] }, parameters: { labels: "owner" } });
  const snap2 = buildSnapshot(objects({ constraints: [owner, badOwner] }));
  assert.equal(snap2.report.constraints.length, 1);
  assert.equal(snap2.report.constraints[0].errors.length, 1);
  assert.equal((await admit(snap2, review(namespace("x")), opts)).review.response?.allowed, true);
});

test("external_data: a provider slower than its spec.timeout is a system error; one slower than the review's deadline is cut to it", async (t) => {
  const http = await import("node:http");
  let delayMs = 0;
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      const keys: string[] = JSON.parse(body).request.keys;
      const timer = setTimeout(() => {
        res.setHeader("Content-Type", "application/json");
        res.end(JSON.stringify({ apiVersion: "externaldata.gatekeeper.sh/v1beta1", kind: "ProviderResponse", response: { idempotent: false, items: keys.map((k) => ({ key: k, value: k.endsWith(":latest") ? "unsigned" : "ok" })) } }));
      }, delayMs);
      res.on("close", () => clearTimeout(timer));
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  t.after(() => server.close());
  const port = (server.address() as { port: number }).port;
  const provider = { apiVersion: "externaldata.gatekeeper.sh/v1beta1", kind: "Provider", metadata: { name: "signer" }, spec: { url: `http://127.0.0.1:${port}/`, timeout: 1 } };
  const signed = {
    apiVersion: "templates.gatekeeper.sh/v1",
    kind: "ConstraintTemplate",
    metadata: { name: "k8ssigned" },
    spec: {
      crd: { spec: { names: { kind: "K8sSigned" } } },
      targets: [
        {
          target: "admission.k8s.gatekeeper.sh",
          rego: `package k8ssigned
resp := external_data({"provider": "signer", "keys": [c.image | c := input.review.object.spec.containers[_]]})
violation[{"msg": sprintf("image %v is %v", [r[0], r[1]])}] { r := resp.responses[_]; r[1] != "ok" }
violation[{"msg": sprintf("provider failed: %v", [resp.system_error])}] { resp.system_error != "" }`,
        },
      ],
    },
  };
  const snap = buildSnapshot({ ...objects({ constraints: [constraint("K8sSigned", "must-be-signed")] }), templates: [signed], providers: [provider] }, { allowHTTPProviders: true });
  assert.deepEqual(snap.report.templates[0].errors, []);
  const r = () => review(pod("a", "shop", "nginx:latest"));

  const ok = await admit(snap, r(), opts, { deadline: Date.now() + 3000 });
  assert.equal(ok.review.response.status.message, "[must-be-signed] image nginx:latest is unsigned");

  // Slower than spec.timeout (1 s), inside the deadline: the template sees the system error.
  delayMs = 2500;
  let t0 = Date.now();
  const slow = await admit(snap, r(), opts, { deadline: Date.now() + 5000 });
  assert.match(slow.review.response.status.message, /^\[must-be-signed\] provider failed: failed to send external data request: Post "http:\/\/127\.0\.0\.1:\d+[^"]*": context deadline exceeded$/);
  assert.ok(Date.now() - t0 < 2000, `took ${Date.now() - t0} ms`);

  // The review's deadline (300 ms) comes before spec.timeout: cut to it, and the review is past its deadline.
  t0 = Date.now();
  await assert.rejects(admit(snap, r(), opts, { deadline: Date.now() + 300 }), DeadlineError);
  assert.ok(Date.now() - t0 < 900, `took ${Date.now() - t0} ms`);
});

test("http.send is not available to templates in admission (Gatekeeper's default)", async () => {
  const snap = buildSnapshot(objects());
  const t = structuredClone(noLatest);
  t.spec.targets[0].rego = 'package k8snolatest\nviolation[{"msg": "x"}] { http.send({"method": "get", "url": "https://example.com"}).status_code != 200 }';
  const out = await admit(snap, review(t), opts);
  assert.equal(out.review.response.status.code, 422);
  assert.match(out.review.response.status.message, /rego_type_error: undefined function http\.send/);
});

test("a review whose caller went away (the pool's cancel flag) stops with DeadlineError", async () => {
  const snap = buildSnapshot(objects({ constraints: [latestDeny, owner] }));
  const flag = new Int32Array(1);
  flag[0] = 1;
  await assert.rejects(admit(snap, review(pod("a", "shop", "nginx:latest")), opts, { deadline: Date.now() + 5000, cancel: flag }), /caller cancelled query execution/);
});

test("--enable-k8s-native-validation: a template carrying CEL and Rego runs its CEL (Gatekeeper's precedence); =false runs the Rego, in the webhook and the audit", async () => {
  const both = {
    apiVersion: "templates.gatekeeper.sh/v1",
    kind: "ConstraintTemplate",
    metadata: { name: "k8sbothengines" },
    spec: {
      crd: { spec: { names: { kind: "K8sBothEngines" } } },
      targets: [
        {
          target: "admission.k8s.gatekeeper.sh",
          rego: 'package k8sbothengines\nviolation[{"msg": "from rego"}] { input.review.object.kind == "Pod" }\n',
          code: [{ engine: "K8sNativeValidation", source: { validations: [{ expression: "object.kind != 'Pod'", message: "from cel" }] } }],
        },
      ],
    },
  };
  const c = constraint("K8sBothEngines", "both", { match: { kinds: [{ apiGroups: [""], kinds: ["Pod"] }] } });
  const objs = objects({ templates: [both], constraints: [c] });
  const r = () => review(pod("web", "shop", "nginx:1"));
  const cel = await admit(buildSnapshot(objs), r(), opts);
  assert.equal(cel.review.response.status.message, "[both] from cel");
  const rego = await admit(buildSnapshot(objs, { k8sNativeValidation: false }), r(), opts);
  assert.equal(rego.review.response.status.message, "[both] from rego");
  // the audit's snapshot takes the same setting (its worker threads get it with their state)
  const { auditSnapshot } = await import("../../src/gatekeeper/audit/policy.ts");
  for (const [on, want] of [[true, "from cel"], [false, "from rego"]] as const) {
    const snap = auditSnapshot(objs, { k8sNativeValidation: on });
    const got = await snap.client.review(pod("web", "shop", "nginx:1"));
    assert.deepEqual(got.results.map((x) => x.msg), [want]);
  }
});

test("the worker's path: a request parsed for the review is not copied, and one with minus zero is (as the API server's decoding, Gatekeeper reads 0)", async () => {
  const { jsonNeedsNoCopy } = await import("../../src/gatekeeper/review.ts");
  for (const t of ['{"a":-0}', '{"a": -0.0 }', "[1,-0e5]", "[-0]", '{"a":-0E+3,"b":1}']) assert.equal(jsonNeedsNoCopy(t), false, t);
  for (const t of ['{"a":-0.5}', '{"a":-0.01}', '{"n":"pod-0"}', '{"a":0}', '{"a":-10}']) assert.equal(jsonNeedsNoCopy(t), true, t);
  const replicas = (engine: "rego" | "cel"): Obj => ({
    apiVersion: "templates.gatekeeper.sh/v1",
    kind: "ConstraintTemplate",
    metadata: { name: `k8sreplicas${engine}` },
    spec: {
      crd: { spec: { names: { kind: `K8sReplicas${engine}` } } },
      targets: [
        engine === "rego"
          ? { target: "admission.k8s.gatekeeper.sh", rego: `package k8sreplicas${engine}\nviolation[{"msg": sprintf("replicas %v", [input.review.object.spec.replicas])}] { true }\n` }
          : { target: "admission.k8s.gatekeeper.sh", code: [{ engine: "K8sNativeValidation", source: { validations: [{ expression: "false", messageExpression: "'replicas ' + string(object.spec.replicas)" }] } }] },
      ],
    },
  });
  const objs = objects({ templates: [replicas("rego"), replicas("cel")], constraints: [constraint("K8sReplicasrego", "rego"), constraint("K8sReplicascel", "cel")] });
  const { AdmissionHandler } = await import("../../src/server/admission/handler.ts");
  const h = new AdmissionHandler({ webhook: opts, allowHTTPProviders: false }, { version: 1, objects: objs }, () => {});
  const deployment = (replicas: string) =>
    JSON.stringify(review({ apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "d", namespace: "shop" }, spec: { replicas: 1 } })).replace('"replicas":1', `"replicas":${replicas}`);
  const answer = async (text: string) => JSON.parse((await h.run({ path: "admit", body: text, deadline: Date.now() + 10_000, perConstraint: false }, new Int32Array(1))).body!).response.status.message;
  assert.equal(await answer(deployment("-0")), "[rego] replicas 0\n[cel] replicas 0");
  assert.equal(await answer(deployment("0")), "[rego] replicas 0\n[cel] replicas 0");
  assert.equal(await answer(deployment("3")), "[rego] replicas 3\n[cel] replicas 3");
  // the request the review ran on is the parsed body itself: nothing in the review changed it
  const body = JSON.parse(deployment("2"));
  const before = JSON.stringify(body);
  const out = await admit(buildSnapshot(objs), body, opts, { bodyOwned: true });
  assert.equal(out.review.response.status.message, "[rego] replicas 2\n[cel] replicas 2");
  assert.equal(JSON.stringify(body), before);
});
