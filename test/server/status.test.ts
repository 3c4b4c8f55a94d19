// The status plugin (config `status`): GET /v1/status and the documents uploaded to a loopback
// status service, compared with what `opa run --server` 1.19.0 answered and uploaded for the same
// configuration (recorded in test/server/recorded/opa-status.json; re-recorded with
// PORTCULLIS_RECORD=1 when OPA is installed). Timestamps, ids, the version label and OPA's
// metrics (bundle timers, Go runtime metrics) are normalized away; the rest must be equal.
// Also: console lines, retry with backoff after a failed upload, configuration errors.
import { test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync, readFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { startServer, loadConfig, Logger } from "../../src/server/index.ts";
import { testServerOptions, HAVE_OPA, OPA, freePort } from "./harness.ts";
import { buildArchive } from "../../src/bundle/build.ts";

const tmp = mkdtempSync(join(tmpdir(), "status-plugin-"));
process.on("exit", () => rmSync(tmp, { recursive: true, force: true }));
const RECORDED = join(import.meta.dirname, "recorded/opa-status.json");

mkdirSync(join(tmp, "src", "x"), { recursive: true });
writeFileSync(join(tmp, "src", ".manifest"), JSON.stringify({ revision: "rev-1", roots: ["x"] }));
writeFileSync(join(tmp, "src", "x", "p.rego"), "package x\n\nallow := true\n");
writeFileSync(join(tmp, "src", "x", "data.json"), '{"d": 1}');
const ARCHIVE = buildArchive({ paths: [join(tmp, "src")], bundleMode: true, regoVersion: "v1" });

interface Upload {
  path: string;
  contentType: string | undefined;
  doc: Record<string, unknown>;
}

/** One loopback server: bundles (good, missing → 404), status uploads (the first `failStatus` answered 500), decision logs (under /failing-logs: 500). */
async function controlPlane(opts: { failStatus?: number } = {}) {
  const uploads: Upload[] = [];
  let fail = opts.failStatus ?? 0;
  const srv = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const url = req.url ?? "";
      if (req.method === "GET" && url === "/bundles/good.tar.gz") {
        res.writeHead(200, { etag: '"e1"', "content-type": "application/gzip" }).end(ARCHIVE);
      } else if (req.method === "POST" && url.startsWith("/status")) {
        if (fail > 0) {
          fail--;
          res.writeHead(500).end();
          return;
        }
        uploads.push({ path: url, contentType: req.headers["content-type"], doc: JSON.parse(Buffer.concat(chunks).toString()) });
        res.writeHead(200).end();
      } else if (req.method === "POST" && url.startsWith("/failing-logs")) {
        res.writeHead(500).end();
      } else if (req.method === "POST" && url.startsWith("/logs")) {
        res.writeHead(200).end();
      } else {
        res.writeHead(404).end();
      }
    });
  });
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", () => r()));
  return {
    url: `http://127.0.0.1:${(srv.address() as { port: number }).port}`,
    uploads,
    close: () => new Promise<void>((r) => (srv.closeAllConnections(), srv.close(() => r()))),
  };
}

const polling = { min_delay_seconds: 60, max_delay_seconds: 120 };
/** The scenarios: bundles (one activated, one failing with 404), decision logs, status to a partition, console. */
const SCENARIOS: Record<string, (url: string) => Record<string, unknown>> = {
  full: (url) => ({
    labels: { app: "t", region: "eu" },
    services: { s: { url } },
    bundles: { main: { service: "s", resource: "bundles/good.tar.gz", polling }, bad: { service: "s", resource: "bundles/missing.tar.gz", polling } },
    decision_logs: { service: "s", reporting: { min_delay_seconds: 300, max_delay_seconds: 600 } },
    status: { service: "s", console: true, partition_name: "p1" },
  }),
  // the first service is the default, no partition: POST /status
  defaultService: (url) => ({
    services: { s: { url } },
    bundles: { main: { service: "s", resource: "bundles/good.tar.gz", polling } },
    status: {},
  }),
  consoleOnly: () => ({ status: { console: true } }),
  // a decision log upload answered 500: decision_logs has the error
  logsFailing: (url) => ({
    services: { s: { url } },
    decision_logs: { service: "s", resource: "/failing-logs", reporting: { min_delay_seconds: 1, max_delay_seconds: 1 } },
    status: { service: "s" },
  }),
};

/** What legitimately differs between runs and servers. */
function normalize(doc: unknown, key = ""): unknown {
  if (Array.isArray(doc)) return doc.map((d) => normalize(d));
  if (doc && typeof doc === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(doc)) {
      // OPA's metrics: bundle timers and Go runtime metrics (a documented difference)
      if (k === "metrics") continue;
      if (key === "labels" && (k === "id" || k === "version")) out[k] = typeof v;
      else if (k === "size") out[k] = v === ARCHIVE.length ? "ARCHIVE_SIZE" : v;
      else out[k] = normalize(v, k);
    }
    return out;
  }
  if (typeof doc === "string" && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.test(doc)) return doc === "0001-01-01T00:00:00Z" ? "ZERO_TIME" : "TIME";
  return doc;
}

interface Observed {
  status: number;
  body: unknown;
  uploads: { path: string; contentType: string | undefined; keys: string[] }[];
  lastUpload: unknown;
}

async function until(what: string, f: () => boolean | Promise<boolean>, ms = 10000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await f()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`timed out waiting for ${what}`);
}

/** Settled: the main bundle is active and the missing one has failed; the last upload equals the status. */
async function observe(base: string, cp: Awaited<ReturnType<typeof controlPlane>>, name: string): Promise<Observed> {
  const get = async () => {
    const r = await fetch(`${base}/v1/status`);
    return { status: r.status, body: (await r.json()) as { result?: { bundles?: Record<string, { active_revision?: string; code?: string }> } } };
  };
  if (name === "logsFailing") {
    await fetch(`${base}/v1/data/x`, { method: "POST", body: JSON.stringify({ input: { a: 1 } }) });
    await until("the failed log upload in the status", async () => ((await get()).body.result as { decision_logs?: { code?: string } } | undefined)?.decision_logs?.code === "decision_log_error");
  } else if (name !== "consoleOnly") {
    await until("bundles settled", async () => {
      const b = (await get()).body.result?.bundles;
      return b?.main?.active_revision === "rev-1" && (name !== "full" || b?.bad?.code === "bundle_error");
    });
  }
  await new Promise((r) => setTimeout(r, 300));
  const got = await get();
  return {
    status: got.status,
    body: normalize(got.body),
    uploads: cp.uploads.map((u) => ({ path: u.path, contentType: u.contentType, keys: Object.keys(u.doc).filter((k) => k !== "metrics") })),
    lastUpload: cp.uploads.length > 0 ? normalize(cp.uploads[cp.uploads.length - 1].doc) : null,
  };
}

function configFile(name: string, c: unknown): string {
  const f = join(tmp, name);
  writeFileSync(f, JSON.stringify(c));
  return f;
}

async function recordOPA(): Promise<Record<string, Observed>> {
  const out: Record<string, Observed> = {};
  for (const [name, conf] of Object.entries(SCENARIOS)) {
    const cp = await controlPlane();
    const port = await freePort();
    const child = spawn(OPA, ["run", "-s", "-a", `127.0.0.1:${port}`, "-c", configFile(`opa-${name}.json`, conf(cp.url))], { stdio: "ignore" });
    const base = `http://127.0.0.1:${port}`;
    try {
      await until("opa", async () => fetch(base + "/health").then(() => true, () => false));
      out[name] = await observe(base, cp, name);
    } finally {
      child.kill("SIGTERM");
      await cp.close();
    }
  }
  return out;
}

test("GET /v1/status and the uploaded documents match opa's (recorded)", { timeout: 60000 }, async () => {
  if (process.env.PORTCULLIS_RECORD === "1" && HAVE_OPA) {
    writeFileSync(RECORDED, JSON.stringify({ opa: "1.19.0", scenarios: await recordOPA() }, null, 1) + "\n");
  }
  const rec = JSON.parse(readFileSync(RECORDED, "utf8")) as { scenarios: Record<string, Observed> };
  for (const [name, conf] of Object.entries(SCENARIOS)) {
    const want = rec.scenarios[name];
    const cp = await controlPlane();
    const logs: string[] = [];
    const server = await startServer(
      testServerOptions([], { config: loadConfig({ file: configFile(`pcs-${name}.json`, conf(cp.url)), id: "t", version: "t" }), logger: new Logger("info", "json", (l) => void logs.push(l)) }),
    );
    try {
      const got = await observe(`http://${server.addresses[0]}`, cp, name);
      assert.equal(got.status, want.status, name);
      assert.deepEqual(got.body, want.body, name);
      assert.deepEqual(got.lastUpload, want.lastUpload, `${name}: last upload`);
      // every upload to the same path, as JSON, with keys OPA's uploads had
      assert.deepEqual([...new Set(got.uploads.map((u) => `${u.path} ${u.contentType}`))], [...new Set(want.uploads.map((u) => `${u.path} ${u.contentType}`))], name);
      const wantKeys = new Set(want.uploads.flatMap((u) => u.keys));
      for (const u of got.uploads) for (const k of u.keys) assert.ok(wantKeys.has(k), `${name}: upload key ${k}`);
      if (conf(cp.url).status && (conf(cp.url).status as { console?: boolean }).console) {
        const line = logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === "Status Log").pop();
        assert.ok(line, `${name}: a Status Log line`);
        assert.equal(line.type, "openpolicyagent.org/status");
        assert.equal(line.level, "info");
        assert.deepEqual(normalize(line.plugins), (want.body as { result: { plugins: unknown } }).result.plugins);
      }
    } finally {
      await server.close();
      await cp.close();
    }
  }
});

test("a failed status upload is logged as OPA logs it and retried with backoff", { timeout: 30000 }, async () => {
  const cp = await controlPlane({ failStatus: 3 });
  const logs: string[] = [];
  const server = await startServer(
    testServerOptions([], { config: loadConfig({ file: configFile("retry.json", { services: { s: { url: cp.url } }, status: { service: "s" } }), id: "t", version: "t" }), logger: new Logger("info", "json", (l) => void logs.push(l)) }),
  );
  try {
    await until("an upload after the failures", () => cp.uploads.length >= 1);
    assert.equal(server.status!.stats.failures, 3);
    const errors = logs.map((l) => JSON.parse(l)).filter((l) => l.level === "error");
    assert.equal(errors.length, 3);
    for (const e of errors) {
      assert.equal(e.msg, "status update failed, server replied with HTTP 500 Internal Server Error.");
      assert.equal(e.plugin, "status");
    }
    assert.equal(cp.uploads[0].path, "/status");
    assert.deepEqual((cp.uploads[0].doc as { plugins: unknown }).plugins, { discovery: { state: "OK" }, status: { state: "OK" } });
  } finally {
    await server.close();
    await cp.close();
  }
});

test("status configuration errors name the problem (OPA's messages)", () => {
  const load = (c: unknown) => () => loadConfig({ file: configFile("bad.json", c), id: "t", version: "t" });
  const services = { s: { url: "http://127.0.0.1:1" } };
  assert.throws(load({ services, status: { service: "nope" } }), /^ConfigError: invalid service name "nope" in status$/);
  assert.throws(load({ status: { plugin: "p" } }), /^ConfigError: invalid plugin name "p" in status$/);
  assert.throws(load({ status: { console: true, trigger: "manual" } }), /invalid status config: trigger mode mismatch: periodic and manual/);
  assert.throws(load({ status: { console: true, trigger: "sometimes" } }), /invalid status config: invalid trigger mode "sometimes"/);
  assert.throws(load({ status: { console: true, prometheus: true } }), /status.prometheus is not supported/);
  assert.throws(load({ status: { console: "yes" } }), /status.console: want a boolean/);
  assert.throws(load({ status: { console: true, extra: 1 } }), /status.extra is not supported/);
  // nothing enabled: no plugin (GET /v1/status stays 500, as OPA)
  assert.equal(load({ status: {} })().status, undefined);
  assert.ok(load({ services, status: {} })().status?.service);
  assert.equal(load({ services, status: { console: true } })().status?.service, undefined);
});

test("without the status plugin GET /v1/status is 500 as OPA's", { timeout: 30000 }, async () => {
  const server = await startServer(testServerOptions([], { config: loadConfig({ file: configFile("none.json", { status: {} }), id: "t", version: "t" }) }));
  try {
    const r = await fetch(`http://${server.addresses[0]}/v1/status`);
    assert.equal(r.status, 500);
    assert.deepEqual(await r.json(), { code: "internal_error", message: "status plugin not enabled" });
  } finally {
    await server.close();
  }
});
