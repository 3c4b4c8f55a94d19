// http.send against local HTTP and HTTPS servers on 127.0.0.1 (no other network). Expected values
// were checked against OPA 1.19 talking to the same kind of server.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import * as http from "node:http";
import * as https from "node:https";
import { gzipSync } from "node:zlib";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { AddressInfo } from "node:net";
import { AsyncSuspend, BuiltinError, BuiltinTypeError, type BuiltinContext } from "../../src/builtins/registry.ts";
import { getBuiltin } from "../../src/builtins/index.ts";
import { clearHTTPSendCache } from "../../src/builtins/http.ts";
import { fromJS, toJS, type PlainObject, type Value } from "../../src/rego/value.ts";
import { checkDecls, fakeContext } from "./helpers.ts";

const FIX = join(import.meta.dirname, "..", "fixtures", "crypto");
const CA = readFileSync(join(FIX, "ca.crt"), "utf8");

let hits = new Map<string, number>();
let httpServer: http.Server;
let httpsServer: https.Server;
let base = "";
let tlsBase = "";

function handler(req: http.IncomingMessage, res: http.ServerResponse): void {
  let body = "";
  req.on("data", (c) => (body += c));
  req.on("end", () => {
    const u = new URL(req.url ?? "/", "http://x");
    hits.set(u.pathname, (hits.get(u.pathname) ?? 0) + 1);
    switch (u.pathname) {
      case "/json":
        res.setHeader("Content-Type", "application/json");
        res.setHeader("X-Multi", ["a", "b"]);
        res.end(JSON.stringify({ hello: "world", list: [1, 2.5, null] }));
        return;
      case "/big":
        res.setHeader("Content-Type", "application/json");
        res.end('{"big": 12345678901234567890, "f": 0.1}');
        return;
      case "/echo":
        res.setHeader("Content-Type", "application/json");
        res.end(JSON.stringify({ method: req.method, body, headers: req.headers }));
        return;
      case "/text":
        res.setHeader("Content-Type", "text/plain");
        res.end("plain text");
        return;
      case "/yaml":
        res.setHeader("Content-Type", "application/yaml");
        res.end("a: 1\nb: [x, z]\n");
        return;
      case "/badjson":
        res.setHeader("Content-Type", "application/json");
        res.end("{not json");
        return;
      case "/gzip":
        res.setHeader("Content-Type", "application/json");
        res.setHeader("Content-Encoding", "gzip");
        res.end(gzipSync(JSON.stringify({ zipped: true })));
        return;
      case "/redirect":
        res.statusCode = 302;
        res.setHeader("Location", "/json");
        res.end();
        return;
      case "/slow":
        setTimeout(() => res.end("late"), 1500);
        return;
      case "/status":
        res.statusCode = Number(u.searchParams.get("code"));
        res.end("");
        return;
      case "/cached":
        res.setHeader("Content-Type", "application/json");
        res.setHeader("Cache-Control", "max-age=60");
        res.setHeader("Date", new Date().toUTCString());
        res.end(JSON.stringify({ n: hits.get("/cached") }));
        return;
      case "/nostore":
        res.setHeader("Content-Type", "application/json");
        res.setHeader("Cache-Control", "no-store");
        res.end(JSON.stringify({ n: hits.get("/nostore") }));
        return;
      case "/counter":
        res.setHeader("Content-Type", "application/json");
        res.end(JSON.stringify({ n: hits.get("/counter") }));
        return;
    }
    res.statusCode = 404;
    res.end("nope");
  });
}

before(async () => {
  httpServer = http.createServer(handler);
  httpsServer = https.createServer({ cert: readFileSync(join(FIX, "server.crt")), key: readFileSync(join(FIX, "server.key")) }, handler);
  await new Promise<void>((r) => httpServer.listen(0, "127.0.0.1", r));
  await new Promise<void>((r) => httpsServer.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(httpServer.address() as AddressInfo).port}`;
  tlsBase = `https://127.0.0.1:${(httpsServer.address() as AddressInfo).port}`;
});

after(() => {
  httpServer.closeAllConnections();
  httpsServer.closeAllConnections();
  httpServer.close();
  httpsServer.close();
});

/** A context whose awaitValue behaves like the engine: suspend, await, evaluate again. */
function asyncContext(): { ctx: BuiltinContext; results: Map<string, Value> } {
  const results = new Map<string, Value>();
  const ctx = fakeContext();
  ctx.nowNs = BigInt(Date.now()) * 1000000n;
  ctx.awaitValue = (key, start) => {
    if (results.has(key)) return results.get(key)!;
    throw new AsyncSuspend(key, start());
  };
  return { ctx, results };
}

/** Evaluate `body` (one "query") to completion, re-running it after each suspension. */
async function query<T>(body: (send: (req: unknown) => Value | undefined) => T): Promise<T> {
  const { ctx, results } = asyncContext();
  const b = getBuiltin("http.send")!;
  for (let i = 0; i < 20; i++) {
    try {
      return body((req) => b.impl([fromJS(req)], ctx));
    } catch (e) {
      if (!(e instanceof AsyncSuspend)) throw e;
      results.set(e.key, await e.promise);
    }
  }
  throw new Error("too many suspensions");
}

const send = (req: unknown) => query((s) => s(req));
const js = (v: Value | undefined) => toJS(v as Value) as Record<string, any>;

checkDecls(["http.send"]);

test("GET JSON: status, headers (lower-case keys, arrays), parsed body, raw body", async () => {
  const r = js(await send({ method: "get", url: `${base}/json` }));
  assert.equal(r.status, "200 OK");
  assert.equal(r.status_code, 200);
  assert.deepEqual(r.body, { hello: "world", list: [1, 2.5, null] });
  assert.equal(r.raw_body, '{"hello":"world","list":[1,2.5,null]}');
  assert.deepEqual(r.headers["content-type"], ["application/json"]);
  assert.deepEqual(r.headers["x-multi"], ["a", "b"]);
  assert.deepEqual(r.headers["content-length"], ["37"]);
  assert.ok(Array.isArray(r.headers.date));
});

test("integers beyond 2^53 in JSON bodies stay exact", async () => {
  const r = (await send({ method: "get", url: `${base}/big` })) as PlainObject;
  assert.deepEqual({ ...(r.body as object) }, { big: 12345678901234567890n, f: 0.1 });
});

test("POST: JSON-encoded body (Go escaping), custom headers, OPA's user agent", async () => {
  const r = js(await send({ method: "post", url: `${base}/echo`, body: { a: [1, "<x>"] }, headers: { "x-custom": "v", "content-type": "application/json" } }));
  assert.equal(r.body.method, "POST");
  assert.equal(r.body.body, '{"a":[1,"\\u003cx\\u003e"]}');
  assert.equal(r.body.headers["x-custom"], "v");
  assert.equal(r.body.headers["content-type"], "application/json");
  assert.equal(r.body.headers["content-length"], "25");
  assert.equal(r.body.headers["user-agent"], "Open-Policy-Agent/1.19.0 (linux, amd64)");
  assert.equal(r.body.headers["accept-encoding"], "gzip");
});

test("raw_body is sent as is; without headers the Go client's agent is used", async () => {
  const r = js(await send({ method: "post", url: `${base}/echo`, raw_body: "raw" }));
  assert.equal(r.body.body, "raw");
  assert.equal(r.body.headers["user-agent"], "Go-http-client/1.1");
  const g = js(await send({ method: "get", url: `${base}/echo` }));
  assert.equal(g.body.method, "GET");
  assert.equal(g.body.body, "");
  assert.equal(g.body.headers["content-length"], undefined);
});

test("body decoding: text is null, YAML by content type, bad JSON is null, force_json_decode", async () => {
  assert.equal(js(await send({ method: "get", url: `${base}/text` })).body, null);
  assert.equal(js(await send({ method: "get", url: `${base}/text` })).raw_body, "plain text");
  assert.deepEqual(js(await send({ method: "get", url: `${base}/yaml` })).body, { a: 1, b: ["x", "z"] });
  assert.equal(js(await send({ method: "get", url: `${base}/badjson` })).body, null);
  assert.equal(js(await send({ method: "get", url: `${base}/text`, force_json_decode: true })).body, null);
  assert.deepEqual(js(await send({ method: "get", url: `${base}/json`, force_yaml_decode: true })).body, { hello: "world", list: [1, 2.5, null] });
});

test("gzip responses are decoded like Go's transport does", async () => {
  const r = js(await send({ method: "get", url: `${base}/gzip` }));
  assert.deepEqual(r.body, { zipped: true });
  assert.equal(r.headers["content-encoding"], undefined);
});

test("other status codes are results, not errors", async () => {
  const r = js(await send({ method: "get", url: `${base}/status?code=418` }));
  assert.equal(r.status_code, 418);
  assert.equal(r.status, "418 I'm a Teapot");
  assert.equal(r.body, null);
  assert.equal(r.raw_body, "");
});

test("redirects: returned by default, followed with enable_redirect", async () => {
  const r = js(await send({ method: "get", url: `${base}/redirect` }));
  assert.equal(r.status_code, 302);
  assert.deepEqual(r.headers.location, ["/json"]);
  const f = js(await send({ method: "get", url: `${base}/redirect`, enable_redirect: true }));
  assert.equal(f.status_code, 200);
  assert.deepEqual(f.body, { hello: "world", list: [1, 2.5, null] });
});

test("timeout: error text as OPA's, or an error object with raise_error false", async () => {
  await assert.rejects(send({ method: "get", url: `${base}/slow`, timeout: "100ms" }), (e: Error) => {
    assert.ok(e instanceof BuiltinError);
    assert.equal(e.message, `http.send: Get ${base}/slow: request timed out`);
    return true;
  });
  const r = js(await send({ method: "get", url: `${base}/slow`, timeout: 100000000, raise_error: false }));
  assert.deepEqual(r, {
    status_code: 0,
    error: {
      code: "eval_http_send_network_error",
      message: `Get "${base}/slow": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`,
    },
  });
});

test("connection errors", async () => {
  const port = (httpServer.address() as AddressInfo).port;
  const closed = await new Promise<number>((resolve) => {
    const s = http.createServer();
    s.listen(0, "127.0.0.1", () => {
      const p = (s.address() as AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
  assert.notEqual(closed, port);
  const url = `http://127.0.0.1:${closed}/x`;
  await assert.rejects(send({ method: "get", url }), {
    message: `http.send: Get "${url}": dial tcp 127.0.0.1:${closed}: connect: connection refused`,
  });
  assert.deepEqual(js(await send({ method: "get", url, raise_error: false })), {
    status_code: 0,
    error: { code: "eval_http_send_network_error", message: `Get "${url}": dial tcp 127.0.0.1:${closed}: connect: connection refused` },
  });
  await assert.rejects(send({ method: "get", url: "foo" }), { message: 'http.send: Get "foo": unsupported protocol scheme ""' });
});

test("request validation errors", async () => {
  await assert.rejects(send({ method: "get", url: `${base}/x`, foo: 1 }), (e: Error) => {
    assert.ok(e instanceof BuiltinTypeError);
    assert.equal(e.message, 'http.send: operand 1 invalid request parameters(s): {"foo"}');
    return true;
  });
  await assert.rejects(send({ url: `${base}/x` }), { message: 'http.send: operand 1 missing required request parameters(s): {"method"}' });
  await assert.rejects(send({ method: "get", url: `${base}/x`, timeout: "abc" }), {
    message: 'http.send: invalid timeout value "abc": time: invalid duration "abc"',
  });
  await assert.rejects(send({ method: "get", url: `${base}/x`, timeout: true }), (e: Error) => {
    assert.ok(e instanceof BuiltinTypeError);
    assert.equal(e.message, "http.send: operand 1 'timeout' must be one of {string, number} but got boolean");
    return true;
  });
  await assert.rejects(send({ method: "get", url: `${base}/x`, raise_error: "x" }), { message: "http.send: invalid value for raise_error field" });
  await assert.rejects(send({ method: "get", url: 1 }), { message: 'http.send: "url" must be a string' });
  await assert.rejects(send({ method: "get", url: `${base}/x`, headers: [] }), { message: "http.send: invalid type for headers key" });
  await assert.rejects(send({ method: "get", url: `${base}/x`, cache: "x" }), { message: 'http.send: invalid value for "cache" field' });
  await assert.rejects(send({ method: "get", url: `${base}/x`, enable_redirect: "x" }), {
    message: 'http.send: strconv.ParseBool: parsing "\\"x\\"": invalid syntax',
  });
  const r = js(await send({ method: "get", url: `${base}/x`, foo: 1, raise_error: false }));
  assert.equal(r.status_code, 0);
  assert.equal(r.error.code, "eval_http_send_internal_error");
});

test("HTTPS: CA from tls_ca_cert, unknown authority, insecure skip verify", async () => {
  assert.equal(js(await send({ method: "get", url: `${tlsBase}/text`, tls_ca_cert: CA })).raw_body, "plain text");
  const localhost = tlsBase.replace("127.0.0.1", "localhost");
  assert.equal(js(await send({ method: "get", url: `${localhost}/text`, tls_ca_cert: CA })).raw_body, "plain text");
  await assert.rejects(send({ method: "get", url: `${tlsBase}/json` }), {
    message: `http.send: Get "${tlsBase}/json": tls: failed to verify certificate: x509: certificate signed by unknown authority`,
  });
  assert.equal(js(await send({ method: "get", url: `${tlsBase}/json`, tls_insecure_skip_verify: true })).status_code, 200);
  const caFile = join(FIX, "ca.crt");
  assert.equal(js(await send({ method: "get", url: `${tlsBase}/json`, tls_ca_cert_file: caFile })).status_code, 200);
});

test("within one query the same request is sent once", async () => {
  hits = new Map();
  const [a, b] = await query((s) => [js(s({ method: "get", url: `${base}/counter` })), js(s({ method: "get", url: `${base}/counter` }))]);
  assert.deepEqual(a.body, { n: 1 });
  assert.deepEqual(b.body, { n: 1 });
  assert.equal(hits.get("/counter"), 1);
  // a new query sends it again (no inter-query cache requested)
  assert.deepEqual(js(await send({ method: "get", url: `${base}/counter` })).body, { n: 2 });
});

test("inter-query cache: honours Cache-Control max-age, no-store, force_cache", async () => {
  clearHTTPSendCache();
  hits = new Map();
  const req = { method: "get", url: `${base}/cached`, cache: true };
  assert.deepEqual(js(await send(req)).body, { n: 1 });
  assert.deepEqual(js(await send(req)).body, { n: 1 });
  assert.equal(hits.get("/cached"), 1);

  const ns = { method: "get", url: `${base}/nostore`, cache: true };
  assert.deepEqual(js(await send(ns)).body, { n: 1 });
  assert.deepEqual(js(await send(ns)).body, { n: 2 });

  const forced = { method: "get", url: `${base}/counter`, force_cache: true, force_cache_duration_seconds: 60 };
  hits = new Map();
  assert.deepEqual(js(await send(forced)).body, { n: 1 });
  assert.deepEqual(js(await send(forced)).body, { n: 1 });
  assert.equal(hits.get("/counter"), 1);
  await assert.rejects(send({ method: "get", url: `${base}/counter`, force_cache: true }), {
    message: "http.send: 'force_cache' set but 'force_cache_duration_seconds' parameter is missing",
  });

  // headers listed in cache_ignored_headers do not split the cache
  hits = new Map();
  const h1 = { method: "get", url: `${base}/cached`, cache: true, headers: { "x-req": "1" }, cache_ignored_headers: ["x-req"] };
  const h2 = { ...h1, headers: { "x-req": "2" } };
  await send(h1);
  await send(h2);
  assert.equal(hits.get("/cached"), 1);
});

test("non-object operand", () => {
  const b = getBuiltin("http.send")!;
  assert.throws(() => b.impl(["x"], fakeContext()), { message: "http.send: operand 1 must be object but got string" });
});

