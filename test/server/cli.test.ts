// `portcullis run --server` as a command: flag and configuration errors (a clear message and exit
// 1, never a stack trace), and a real process: several addresses including a unix socket, the
// diagnostic address, the configuration file and --set, text logs, and a clean shutdown on SIGTERM.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cli } from "../cli/helpers.ts";
import { SOURCE_CLI } from "../cli/portcullis-src.ts";
import { freePort, testServerOptions } from "./harness.ts";

function tmp(): string {
  return mkdtempSync(join(tmpdir(), "portcullis-run-"));
}

test("run: errors in flags, configuration and files are one line and exit 1", { timeout: 120000 }, async () => {
  const dir = tmp();
  writeFileSync(join(dir, "p.rego"), "package p\n\nx := 1\n");
  writeFileSync(join(dir, "bad.rego"), "package bad\n\nx := y\n");
  const cases: [string[], RegExp][] = [
    [["run", join(dir, "p.rego")], /pass -s\/--server/],
    [["run", "-s", "--log-level", "loud", join(dir, "p.rego")], /invalid argument "loud" for "--log-level" flag/],
    [["run", "-s", "--log-format", "xml"], /invalid argument "xml" for "--log-format" flag/],
    [["run", "-s", "--set", "bundles.authz.service=acme"], /invalid configuration for bundle "authz": service name "acme" not found/],
    [["run", "-s", "--set", "caching.inter_query_builtin_cache.max_size_bytes=1", "--set", "discovery.resource=x"], /configuration keys "caching", "discovery" are not supported/],
    [["run", "-s", "--set", "server.metrics.prom.enabled=true"], /server\.metrics is not supported/],
    [["run", "-s", "--set", "server.encoding.gzip.compression_level=5"], /invalid value for server\.encoding\.gzip\.compression_level field, accepted values are 0, 1 or 9/],
    [["run", "-s", "--set", "novalue"], /--set novalue: want key\.path=value/],
    [["run", "-s", "-c", join(dir, "missing.yaml")], /config file .*missing\.yaml: no such file or directory/],
    [["run", "-s", join(dir, "nope")], /nope: no such file or directory/],
    [["run", "-s", "--addr", "nonsense"], /invalid address "nonsense"/],
    // OPA 1.19's messages for the CA file and --min-tls-version
    [["run", "-s", "--tls-ca-cert-file", join(dir, "none.crt")], /^error: read CA cert file: open .*none\.crt: no such file or directory$/m],
    [["run", "-s", "--tls-ca-cert-file", join(dir, "p.rego")], /^error: failed to parse CA cert ".*p\.rego"$/m],
    [["run", "-s", "--min-tls-version", "1.4"], /invalid argument "1\.4" for "--min-tls-version" flag: must be one of \{1\.0,1\.1,1\.2,1\.3\}/],
    [["run", "-s", "--tls-cert-file", join(dir, "p.rego")], /must be given together/],
    [["run", "-s", "--request-timeout", "soon"], /invalid argument "soon" for "--request-timeout" flag/],
    [["run", "-s", "--ready-timeout", "1.5"], /invalid argument "1\.5" for "--ready-timeout" flag: want whole seconds/],
    [["run", "-s", "--set-file", `labels.x=${join(dir, "none.txt")}`], /^error: failed parsing --set-file data: open .*none\.txt: no such file or directory$/m],
    [["run", "-s", "--addr", "127.0.0.1:0", "--ready-timeout", "1", "--set", "services.s.url=http://127.0.0.1:1", "--set", "bundles.b.service=s"], /^error: the plugins were not ready within --ready-timeout \(bundles not activated: b\)$/m],
    [["run", "-s", "--addr", "127.0.0.1:0", join(dir, "bad.rego")], /rego_unsafe_var_error: var y is unsafe/],
  ];
  for (const [args, want] of cases) {
    const r = await cli(args);
    assert.equal(r.code, 1, `${args.join(" ")}: ${r.err}`);
    assert.match(r.err, want, args.join(" "));
    assert.doesNotMatch(r.err, /\n\s+at /, "no stack trace");
  }
});

test("run: an address in use is a one-line error", async () => {
  const { createServer } = await import("node:net");
  const blocker = createServer();
  const port = await freePort();
  await new Promise<void>((r) => blocker.listen(port, "127.0.0.1", () => r()));
  try {
    const r = await cli(["run", "-s", "--eval-workers", "0", "--addr", `127.0.0.1:${port}`]);
    assert.equal(r.code, 1);
    assert.match(r.err, /^error: listen EADDRINUSE: address already in use 127\.0\.0\.1:\d+\n$/m);
  } finally {
    blocker.close();
  }
});

test("run: --v0-compatible loads Rego v0 policies", { timeout: 60000 }, async () => {
  const dir = tmp();
  writeFileSync(join(dir, "p.rego"), "package p\n\ns[x] { x := 1 }\n\ndefault allow = false\n\nallow { input.ok }\n");
  const { startServer } = await import("../../src/server/index.ts");
  const server = await startServer(testServerOptions([dir], { regoVersion: "v0" }));
  try {
    const base = `http://${server.addresses[0]}`;
    assert.deepEqual(await (await fetch(`${base}/v1/data/p`, { method: "POST", body: '{"input":{"ok":true}}' })).json(), { result: { allow: true, s: [1] } });
    const put = await fetch(`${base}/v1/policies/q`, { method: "PUT", body: "package q\n\nt[y] { y := 2 }\n" });
    assert.equal(put.status, 200);
    assert.deepEqual(await (await fetch(`${base}/v1/data/q/t`)).json(), { result: [2] });
  } finally {
    await server.close();
  }
  const v1 = await cli(["run", "-s", "--addr", "127.0.0.1:0", "--eval-workers", "0", join(dir, "p.rego")]);
  assert.equal(v1.code, 1, "without --v0-compatible the v0 policy does not parse");
  assert.match(v1.err, /rego_parse_error/);
});

test("run: <dotted.path>:<file> places the data under that path (as opa run does)", { timeout: 60000 }, async () => {
  const dir = tmp();
  writeFileSync(join(dir, "d.json"), '{"a": 1}');
  writeFileSync(join(dir, "p.rego"), "package p\n\nx := data.cfg.prod.a\n");
  const { startPortcullis } = await import("./harness.ts");
  const s = await startPortcullis([`cfg.prod:${join(dir, "d.json")}`, join(dir, "p.rego")], { workers: 0 });
  try {
    // opa run -s cfg.prod:d.json p.rego answers {"result":{"cfg":{"prod":{"a":1}},"p":{"x":1}}}
    assert.deepEqual(await (await fetch(`${s.base}/v1/data`)).json(), { result: { cfg: { prod: { a: 1 } }, p: { x: 1 } } });
  } finally {
    await s.stop();
  }
});

test("run: --log-level debug logs request bodies, parameters and response bodies (OPA's fields)", { timeout: 60000 }, async () => {
  const dir = tmp();
  writeFileSync(join(dir, "p.rego"), "package p\n\nx := input.n\n");
  const { startPortcullis } = await import("./harness.ts");
  const lines: string[] = [];
  const s = await startPortcullis([dir], { workers: 0, logLevel: "debug", log: (l) => lines.push(l) });
  try {
    await (await fetch(`${s.base}/v1/data/p/x?pretty=true&pretty=1`, { method: "POST", body: '{"input":{"n":7}}' })).text();
  } finally {
    await s.stop();
  }
  const recs = lines.map((l) => JSON.parse(l));
  const received = recs.find((r) => r.msg === "Received request.");
  const sent = recs.find((r) => r.msg === "Sent response.");
  assert.equal(received.req_body, '{"input":{"n":7}}');
  assert.deepEqual(received.req_params, { pretty: ["true", "1"] });
  assert.equal(received.level, "info");
  assert.equal(sent.resp_body, '{\n  "result": 7\n}\n');
  assert.equal(sent.resp_status, 200);
  assert.deepEqual(Object.keys(sent).sort(), ["client_addr", "level", "msg", "req_id", "req_method", "req_path", "resp_body", "resp_bytes", "resp_duration", "resp_status", "time"]);
});

function get(opts: { socketPath?: string; port?: number; path: string }): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", ...opts, method: "GET" }, (res) => {
      let body = "";
      res.on("data", (c) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode!, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

test("run: a process on TCP and unix addresses, a diagnostic address, config file and --set, SIGTERM", { timeout: 90000 }, async () => {
  const dir = tmp();
  writeFileSync(join(dir, "p.rego"), "package p\n\nx := 1\n");
  writeFileSync(join(dir, "config.yaml"), "default_decision: p/x\nlabels:\n  region: eu\ncustom_thing: 1\n");
  const port = await freePort();
  const diag = await freePort();
  const sock = join(dir, "opa.sock");
  const child = spawn(
    process.execPath,
    [...SOURCE_CLI, "run", "--server", "--addr", `127.0.0.1:${port}`, "--addr", `unix://${sock}`, "--diagnostic-addr", `127.0.0.1:${diag}`, "-c", join(dir, "config.yaml"), "--set", "labels.team=a", "--log-format", "text", "--eval-workers", "1", join(dir, "p.rego")],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let err = "";
  child.stderr.on("data", (c) => (err += c));
  const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
  for (let i = 0; i < 300 && !/Initializing server/.test(err); i++) await new Promise((r) => setTimeout(r, 100));
  assert.match(err, /level=warning msg="unknown configuration option \\"custom_thing\\" encountered"/);
  const config = JSON.parse((await get({ port, path: "/v1/config" })).body);
  assert.equal(config.result.default_decision, "p/x");
  assert.equal(config.result.labels.region, "eu");
  assert.equal(config.result.labels.team, "a");
  assert.equal(config.result.custom_thing, 1);
  const viaSocket = await get({ socketPath: sock, path: "/v1/data/p/x" });
  assert.deepEqual(JSON.parse(viaSocket.body), { result: 1 });
  assert.equal((await get({ port: diag, path: "/health" })).status, 200);
  assert.match((await get({ port: diag, path: "/metrics" })).body, /http_request_duration_seconds_count\{code="200",handler="v1\/config",method="get"\} 1/);
  assert.equal((await get({ port: diag, path: "/v1/data/p/x" })).status, 404);
  assert.match(err, /level=info msg="Sent response\." client_addr=.* req_id=\d+ req_method=GET req_path=\/v1\/config resp_bytes=\d+ resp_duration=[\d.]+ resp_status=200/);
  child.kill("SIGTERM");
  assert.equal(await exited, 0);
  assert.match(err, /msg="Server shutdown\."/);
});
