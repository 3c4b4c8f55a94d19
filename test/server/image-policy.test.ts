// The seed-003 flow: Kubernetes' ImagePolicyWebhook POSTs an ImageReview to
// /v0/data/io/k8s/image_policy/verify and reads back the policy's ImageReview; a scanner pushes
// vulnerability data with PUT/PATCH /v1/data. examples/image-policy served by
// `portcullis run --server` must answer exactly as `opa run --server` (recorded in
// test/server/recorded/opa-image-policy.json; compared live when OPA is installed).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { HAVE_OPA, OPA, differences, liveOPA, run, startPortcullis, type Recording } from "./harness.ts";
import type { DiffRequest } from "./diff-requests.ts";

const EXAMPLE = fileURLToPath(new URL("../../examples/image-policy/", import.meta.url));
const POLICY = EXAMPLE + "policy";
const RECORDED = fileURLToPath(new URL("./recorded/opa-image-policy.json", import.meta.url));
const VERIFY = "/v0/data/io/k8s/image_policy/verify";

const review = (namespace: string, images: string[], annotations: Record<string, string> = {}) =>
  JSON.stringify({ apiVersion: "imagepolicy.k8s.io/v1alpha1", kind: "ImageReview", spec: { containers: images.map((image) => ({ image })), annotations, namespace } });
const post = (body: string): DiffRequest => ({ method: "POST", path: VERIFY, body, headers: { "Content-Type": "application/json" } });

function requests(): DiffRequest[] {
  const file = (n: string) => readFileSync(`${EXAMPLE}reviews/${n}.json`, "utf8");
  return [
    post(file("allowed")),
    post(file("denied")),
    post(review("payments", ["ghcr.io/acme/pay:3.1", "registry.example.com/pay/api:1.0"])),
    post(review("payments", ["docker.io/library/redis:7"])),
    post(review("kube-system", ["registry.k8s.io/pause:3.9", "registry.k8s.io/coredns"])),
    post(review("", ["registry.example.com/x:1"])),
    post(review("shop", [])),
    post(review("shop", ["localhost:5000/app:1", "localhost/app:1", "registry.example.com/app@sha256:abc"])),
    post(JSON.stringify({ kind: "ImageReview" })),
    post("{not json"),
    post(""),
    // the scanner reports a critical vulnerability in an image admitted before
    { method: "PUT", path: "/v1/data/image_policy/vulnerabilities/registry.example.com~1shop~1cart:1.4.3", body: "[]" },
    {
      method: "PATCH",
      path: "/v1/data/image_policy/vulnerabilities",
      body: JSON.stringify([{ op: "add", path: "/registry.example.com%2Fshop%2Fcart:1.4.3", value: [{ id: "CVE-2024-0003", severity: "critical" }] }]),
    },
    { method: "GET", path: "/v1/data/image_policy/vulnerabilities" },
    post(file("allowed")),
    // a new namespace gets its own registry list
    { method: "PUT", path: "/v1/data/image_policy/registries/tools", body: JSON.stringify(["ghcr.io"]) },
    post(review("tools", ["ghcr.io/acme/tool:2.0"])),
    post(review("tools", ["registry.example.com/shop/cart:1.4.3"])),
    { method: "DELETE", path: "/v1/data/image_policy/vulnerabilities/registry.example.com%2Fshop%2Fcart:1.4.3" },
    post(file("allowed")),
    { method: "POST", path: "/v1/data/io/k8s/image_policy/verify", body: JSON.stringify({ input: JSON.parse(file("denied")) }) },
    { method: "POST", path: `${VERIFY}?pretty`, body: file("allowed") },
  ];
}

test("ImageReviews: portcullis answers as OPA does (recorded)", { timeout: 120000 }, async () => {
  const rec = JSON.parse(readFileSync(RECORDED, "utf8")) as Recording;
  const reqs = requests();
  assert.deepEqual(rec.requests, reqs.map((r) => ({ method: r.method, path: r.path })), "stale recording: re-record with PORTCULLIS_RECORD=1");
  const s = await startPortcullis([POLICY], { workers: 1 });
  let got;
  try {
    got = await run(s.base, reqs, EXAMPLE);
  } finally {
    await s.stop();
  }
  const diffs = differences(reqs, rec.answers, got);
  assert.equal(diffs.length, 0, diffs.join("\n"));
  // and the flow does what it is for: the denied review names each reason
  const denied = rec.answers[1].body as { status: { allowed: boolean; reason: string } };
  assert.equal(denied.status.allowed, false);
  assert.match(denied.status.reason, /nginx:latest: the :latest tag is not allowed/);
  assert.match(denied.status.reason, /critical vulnerability CVE-2024-0001/);
  assert.deepEqual(rec.answers[0].body, { apiVersion: "imagepolicy.k8s.io/v1alpha1", kind: "ImageReview", status: { allowed: true } });
});

test("ImageReviews: the recording matches a live opa run --server", { skip: HAVE_OPA ? false : `no OPA at ${OPA}`, timeout: 120000 }, async () => {
  const reqs = requests();
  const { live, recorded } = await liveOPA(RECORDED, [POLICY], reqs, EXAMPLE);
  const diffs = differences(reqs, recorded.answers, live);
  assert.equal(diffs.length, 0, diffs.join("\n"));
});

test("the example's unit tests pass (portcullis verify; opa test gives PASS: 8/8)", async () => {
  const { cli } = await import("../cli/helpers.ts");
  const r = await cli(["verify", "--no-color", POLICY, EXAMPLE + "test"]);
  assert.equal(r.code, 0, r.out + r.err);
  assert.match(r.out, /8 tests, 8 passed, 0 warnings, 0 failures/);
});
