// The server's safety properties: evaluation off the event loop (health answers while a long
// evaluation runs), a deadline on every request, request body limits (OPA's answers, recorded
// inline from opa run --server 1.19.0 with the same server.decoding settings), writes applied one
// at a time with reads seeing them, and network builtins off unless enabled.
import { test } from "node:test";
import assert from "node:assert/strict";
import { gzipSync } from "node:zlib";
import { fileURLToPath } from "node:url";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startPortcullis } from "./harness.ts";

const SLOW = fileURLToPath(new URL("./fixtures/slow/", import.meta.url));

test("health and quick queries answer while a long evaluation runs; the long one stops at its deadline", { timeout: 60000 }, async () => {
  const s = await startPortcullis([SLOW], { workers: 1, timeoutMs: 1500 });
  try {
    const order: string[] = [];
    const t0 = Date.now();
    const slow = fetch(`${s.base}/v1/data/slow/never`).then(async (r) => {
      order.push("slow");
      return { status: r.status, body: JSON.parse(await r.text()), ms: Date.now() - t0 };
    });
    await new Promise((r) => setTimeout(r, 200));
    const health = await fetch(`${s.base}/health`);
    order.push("health");
    const metrics = await fetch(`${s.base}/metrics`);
    order.push("metrics");
    assert.equal(health.status, 200);
    assert.equal(metrics.status, 200);
    const done = await slow;
    assert.deepEqual(order, ["health", "metrics", "slow"], "the event loop was blocked by the evaluation");
    assert.equal(done.status, 500);
    assert.equal(done.body.code, "internal_error");
    assert.equal(done.body.errors[0].code, "eval_cancel_error");
    assert.ok(done.ms >= 1400, `stopped after ${done.ms} ms, before its deadline`);
    // the worker is free again
    const quick = await fetch(`${s.base}/v1/data/slow/quick`);
    assert.deepEqual(await quick.json(), { result: "fast" });
  } finally {
    await s.stop();
  }
});

test("request body limits answer as OPA does", { timeout: 60000 }, async () => {
  const s = await startPortcullis([SLOW], { workers: 1, sets: ["server.decoding.max_length=64", "server.decoding.gzip.max_length=100"] });
  try {
    const big = JSON.stringify({ input: { x: "a".repeat(200) } });
    let r = await fetch(`${s.base}/v1/data/slow`, { method: "POST", body: big });
    assert.equal(r.status, 400);
    assert.deepEqual(await r.json(), { code: "invalid_parameter", message: "request body too large" });
    const gz = gzipSync(JSON.stringify({ input: { x: "a".repeat(300) } }));
    assert.ok(gz.length < 64);
    r = await fetch(`${s.base}/v1/data/slow`, { method: "POST", body: new Uint8Array(gz), headers: { "Content-Encoding": "gzip" } });
    assert.equal(r.status, 400);
    assert.deepEqual(await r.json(), { code: "invalid_parameter", message: "could not decompress the body: gzip payload too large" });
    // without Content-Length (chunked): OPA's PUT answers Go's MaxBytesReader error
    const chunks = new ReadableStream({
      start(c) {
        c.enqueue(new TextEncoder().encode(big));
        c.close();
      },
    });
    r = await fetch(`${s.base}/v1/data/x`, { method: "PUT", body: chunks, duplex: "half" } as RequestInit);
    assert.equal(r.status, 400);
    assert.deepEqual(await r.json(), { code: "invalid_parameter", message: "http: request body too large" });
    r = await fetch(`${s.base}/v1/data/slow/quick`, { method: "POST", body: '{"input":{}}' });
    assert.equal(r.status, 200);
  } finally {
    await s.stop();
  }
});

test("concurrent writes are applied one at a time and reads after them see them (2 workers)", { timeout: 60000 }, async () => {
  const s = await startPortcullis([SLOW], { workers: 2 });
  try {
    const n = 60;
    const writes = Array.from({ length: n }, (_, i) => fetch(`${s.base}/v1/data/k/${i}`, { method: "PUT", body: String(i) }));
    const statuses = (await Promise.all(writes)).map((r) => r.status);
    assert.deepEqual(statuses, Array(n).fill(204));
    // every worker has every write: read several times (requests spread over the workers)
    for (let j = 0; j < 6; j++) {
      const r = await fetch(`${s.base}/v1/query`, { method: "POST", body: JSON.stringify({ query: "n := count(data.k)" }) });
      assert.deepEqual(await r.json(), { result: [{ n }] });
    }
    // a patch of several operations is applied all or nothing
    const bad = await fetch(`${s.base}/v1/data/k`, { method: "PATCH", body: JSON.stringify([{ op: "remove", path: "/0" }, { op: "remove", path: "/nope" }]) });
    assert.equal(bad.status, 404);
    const still = await fetch(`${s.base}/v1/data/k/0`);
    assert.deepEqual(await still.json(), { result: 0 });
  } finally {
    await s.stop();
  }
});

test("network builtins are off unless enabled (a policy calling http.send does not load)", { timeout: 60000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), "portcullis-net-"));
  writeFileSync(join(dir, "net.rego"), 'package net\n\nr := http.send({"method": "GET", "url": "http://127.0.0.1:1/"})\n');
  await assert.rejects(startPortcullis([dir], { workers: 0 }), (e: Error) => /rego_type_error/.test(e.message) && /http\.send/.test(e.message));
  const s = await startPortcullis([SLOW], { workers: 0 });
  try {
    const r = await fetch(`${s.base}/v1/policies/net`, { method: "PUT", body: 'package net\n\nr := net.lookup_ip_addr("localhost")\n' });
    assert.equal(r.status, 400);
    const body = await r.json();
    assert.equal(body.errors[0].code, "rego_type_error");
    assert.match(body.errors[0].message, /undefined function net\.lookup_ip_addr/);
  } finally {
    await s.stop();
  }
});

test("what is not supported says so: the compile API's data filters answer 501 with a message; ?explain and the compile API answer on the workers", { timeout: 60000 }, async () => {
  const s = await startPortcullis([SLOW], { workers: 1 });
  try {
    for (const [method, path, body] of [
      ["GET", "/v1/data/slow/quick?explain=full", undefined],
      ["POST", "/v1/data/slow/quick?explain=notes", "{}"],
      ["GET", "/v1/query?q=x%3A%3D1&explain=fails", undefined],
    ] as const) {
      const r = await fetch(`${s.base}${path}`, { method, body });
      assert.equal(r.status, 200, path);
      assert.ok(Array.isArray((await r.json()).explanation), path);
    }
    const off = await fetch(`${s.base}/v1/data/slow/quick?explain=off`);
    assert.deepEqual(await off.json(), { result: "fast" });
    const c = await fetch(`${s.base}/v1/compile`, { method: "POST", body: JSON.stringify({ query: "x = data.slow.quick", unknowns: ["input"] }) });
    assert.equal(c.status, 200);
    assert.deepEqual((await c.json()).result.queries, [[{ index: 0, terms: [{ type: "ref", value: [{ type: "var", value: "eq" }] }, { type: "var", value: "x" }, { type: "string", value: "fast" }] }]]);
    const f = await fetch(`${s.base}/v1/compile/slow/quick`, { method: "POST", body: "{}", headers: { Accept: "application/vnd.opa.sql.postgresql+json" } });
    assert.equal(f.status, 501);
    assert.match((await f.json()).message, /the compile API's data filters .* are not supported by portcullis/);
    // OPA's router: GET /v1/compile is a 307 to /v1/compile/
    const g = await fetch(`${s.base}/v1/compile`, { redirect: "manual" });
    assert.equal(g.status, 307);
    assert.equal(g.headers.get("location"), "/v1/compile/");
    assert.equal(await g.text(), '<a href="/v1/compile/">Temporary Redirect</a>.\n\n');
  } finally {
    await s.stop();
  }
});

test("a client that goes away cancels its evaluation (the worker is free long before the deadline)", { timeout: 60000 }, async () => {
  const s = await startPortcullis([SLOW], { workers: 1, timeoutMs: 30000 });
  try {
    const ac = new AbortController();
    const slow = fetch(`${s.base}/v1/data/slow/never`, { signal: ac.signal }).catch((e: Error) => e.name);
    await new Promise((r) => setTimeout(r, 300));
    ac.abort();
    assert.equal(await slow, "AbortError");
    const t0 = Date.now();
    const quick = await fetch(`${s.base}/v1/data/slow/quick`);
    assert.deepEqual(await quick.json(), { result: "fast" });
    assert.ok(Date.now() - t0 < 10000, `the worker stayed busy for ${Date.now() - t0} ms after the client left`);
  } finally {
    await s.stop();
  }
});

test("responses of the data API are gzipped as OPA does (Vary, min_length, Accept-Encoding)", { timeout: 60000 }, async () => {
  const { request } = await import("node:http");
  const { gunzipSync } = await import("node:zlib");
  const s = await startPortcullis([SLOW], { workers: 0, sets: ["server.encoding.gzip.min_length=64"] });
  const port = Number(s.base.split(":").pop());
  const raw = (path: string, headers: Record<string, string>) =>
    new Promise<{ headers: Record<string, unknown>; body: Buffer }>((resolve, reject) => {
      const req = request({ host: "127.0.0.1", port, path, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }));
      });
      req.on("error", reject);
      req.end();
    });
  try {
    await fetch(`${s.base}/v1/data/big`, { method: "PUT", body: JSON.stringify("x".repeat(200)) });
    const big = await raw("/v1/data/big", { "Accept-Encoding": "gzip" });
    assert.equal(big.headers["content-encoding"], "gzip");
    assert.equal(big.headers.vary, "Accept-Encoding");
    assert.deepEqual(JSON.parse(gunzipSync(big.body).toString()), { result: "x".repeat(200) });
    const small = await raw("/v1/data/slow/quick", { "Accept-Encoding": "gzip" });
    assert.equal(small.headers["content-encoding"], undefined, "shorter than min_length: not compressed");
    const plain = await raw("/v1/data/big", {});
    assert.equal(plain.headers["content-encoding"], undefined);
    const health = await raw("/v1/policies", { "Accept-Encoding": "gzip" });
    assert.equal(health.headers["content-encoding"], undefined, "only the data and compile APIs are compressed");
  } finally {
    await s.stop();
  }
});
