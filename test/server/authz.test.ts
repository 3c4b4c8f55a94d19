// --authentication=token --authorization=basic: every request is first decided by
// data.system.authz.allow with OPA's input (method, path segments, params, headers with Go's
// canonical names, identity from `Authorization: Bearer …`, the parsed body of POSTs to the data
// APIs). Recorded from `opa run --server` with the same flags (test/server/recorded/opa-authz.json).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { HAVE_OPA, OPA, differences, liveOPA, run, startPortcullis, type Recording } from "./harness.ts";
import type { DiffRequest } from "./diff-requests.ts";

const FIXTURES = fileURLToPath(new URL("./fixtures/authz/", import.meta.url));
const RECORDED = fileURLToPath(new URL("./recorded/opa-authz.json", import.meta.url));
const admin = { Authorization: "Bearer secret-admin" };

function requests(): DiffRequest[] {
  const J = JSON.stringify;
  return [
    { method: "GET", path: "/v1/data/app" },
    { method: "GET", path: "/v1/data/app", headers: admin },
    { method: "GET", path: "/v1/data/app", headers: { Authorization: "Bearer wrong" } },
    { method: "GET", path: "/v1/data/app", headers: { Authorization: "bearer secret-admin" } },
    { method: "GET", path: "/v1/data/app", headers: { Authorization: "Bearer  secret-admin" } },
    { method: "GET", path: "/v1/data/app", headers: { Authorization: "Basic c2VjcmV0" } },
    { method: "GET", path: "/health" },
    { method: "GET", path: "/health/live" },
    { method: "GET", path: "/nope" },
    { method: "GET", path: "/nope", headers: admin },
    { method: "POST", path: "/v1/data/app/allow", body: J({ input: { user: "alice" } }) },
    { method: "POST", path: "/v1/data/app/allow", body: J({ input: { user: "bob" } }) },
    { method: "POST", path: "/v1/data/app/allow", body: "{bad" },
    { method: "POST", path: "/v1/data/app/allow", body: "input:\n  user: alice\n", headers: { "Content-Type": "application/yaml" } },
    { method: "POST", path: "/v1/data/app/echo", body: J({ input: { user: "alice" } }) },
    { method: "GET", path: "/v1/data/app", headers: { "X-Team": "ops" } },
    { method: "GET", path: "/v1/data/app", headers: { "x-team": "ops" } },
    { method: "GET", path: "/v1/data/app", headers: { "X-Team": "dev" } },
    { method: "GET", path: "/v1/data/app?ticket=t-1" },
    { method: "GET", path: "/v1/data/app?ticket=t-2&ticket=t-1" },
    { method: "POST", path: "/", body: J({ user: "alice" }) },
    { method: "POST", path: "/", body: J({ user: "bob" }) },
    { method: "POST", path: "/v0/data/app/allow", body: J({ user: "alice" }), headers: admin },
    { method: "GET", path: "/v1/policies", headers: { "X-Team": "ops" } },
    { method: "PUT", path: "/v1/policies/authz2", body: "package system.authz\n\nallow if input.identity == \"second\"\n", headers: admin },
    { method: "GET", path: "/v1/data/app", headers: { Authorization: "Bearer second" } },
    { method: "PUT", path: "/v1/data/x", body: "1", headers: { Authorization: "Bearer second" } },
    { method: "DELETE", path: "/v1/policies/authz2", headers: admin },
    { method: "GET", path: "/v1/data/app", headers: { Authorization: "Bearer second" } },
    { method: "GET", path: "/metrics" },
    { method: "GET", path: "/metrics", headers: admin },
  ];
}

test("authorization: portcullis answers as OPA does (recorded)", { timeout: 120000 }, async () => {
  const rec = JSON.parse(readFileSync(RECORDED, "utf8")) as Recording;
  const reqs = requests();
  assert.deepEqual(rec.requests, reqs.map((r) => ({ method: r.method, path: r.path })), "stale recording: re-record with PORTCULLIS_RECORD=1");
  const s = await startPortcullis([FIXTURES], { workers: 1, authz: true, token: true });
  let got;
  try {
    got = await run(s.base, reqs, FIXTURES);
  } finally {
    await s.stop();
  }
  const diffs = differences(reqs, rec.answers, got);
  assert.equal(diffs.length, 0, diffs.join("\n"));
  assert.equal(rec.answers[0].status, 401);
  assert.equal(rec.answers[1].status, 200);
});

test("authorization: the recording matches a live opa run --server", { skip: HAVE_OPA ? false : `no OPA at ${OPA}`, timeout: 120000 }, async () => {
  const reqs = requests();
  const { live, recorded } = await liveOPA(RECORDED, [FIXTURES], reqs, FIXTURES, ["--authentication=token", "--authorization=basic"]);
  const diffs = differences(reqs, recorded.answers, live);
  assert.equal(diffs.length, 0, diffs.join("\n"));
});
