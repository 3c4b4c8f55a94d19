// Bundles from a service (config `services` + `bundles`): a loopback HTTP bundle server serves
// signed revisions with ETags. Checked: /health?bundles before and after the first activation,
// 304 keeps the revision, a new revision switches, a 500 or a tampered archive keeps the old one
// (and logs), switches are atomic under concurrent queries, long polling, persistence, bearer
// credentials, and verification refusing an unsigned bundle.
import { test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { mkdtempSync, rmSync, writeFileSync, existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { startServer, loadConfig, Logger } from "../../src/server/index.ts";
import { testServerOptions } from "./harness.ts";
import { buildArchive } from "../../src/bundle/build.ts";
import { readTarGz, writeTarGz } from "../../src/bundle/index.ts";

const tmp = mkdtempSync(join(tmpdir(), "bundle-service-"));
process.on("exit", () => rmSync(tmp, { recursive: true, force: true }));
const SECRET = "s3cr3t-hmac";

let revCount = 0;
/** A signed (HS256) bundle archive: data.x.v = data.x.w = n, and a rule naming the revision. */
function revision(n: number, label: string, opts: { sign?: boolean } = {}): Buffer {
  const dir = join(tmp, `src-${revCount++}`);
  mkdirSync(join(dir, "x"), { recursive: true });
  writeFileSync(join(dir, ".manifest"), JSON.stringify({ revision: label, roots: ["x"] }));
  writeFileSync(join(dir, "x", "data.json"), JSON.stringify({ v: n, w: n }));
  writeFileSync(join(dir, "x", "p.rego"), `package x\n\npair := [data.x.v, data.x.w, ${JSON.stringify(label)}]\n\nallow if input.v == data.x.v\n`);
  return buildArchive({
    paths: [dir],
    bundleMode: true,
    regoVersion: "v1",
    signing: opts.sign === false ? undefined : { key: SECRET, algorithm: "HS256", keyId: "k1" },
  });
}

interface BundleServer {
  url: string;
  set(archive: Buffer, etag: string): void;
  fail: number; // answer this many requests with 500
  requests: { inm?: string; prefer?: string; auth?: string }[];
  notModified: number;
  close(): Promise<void>;
}

async function bundleServer(opts: { token?: string } = {}): Promise<BundleServer> {
  let archive: Buffer = Buffer.alloc(0);
  let etag = "";
  const waiting: (() => void)[] = [];
  const st: BundleServer = {
    url: "",
    fail: 0,
    requests: [],
    notModified: 0,
    set(a, e) {
      archive = a;
      etag = e;
      for (const w of waiting.splice(0)) w();
    },
    close: async () => {
      for (const w of waiting.splice(0)) w();
      srv.closeAllConnections();
      await new Promise<void>((r) => srv.close(() => r()));
    },
  };
  const srv = http.createServer(async (req, res) => {
    st.requests.push({ inm: req.headers["if-none-match"] as string | undefined, prefer: req.headers.prefer as string | undefined, auth: req.headers.authorization });
    if (opts.token && req.headers.authorization !== `Bearer ${opts.token}`) {
      res.writeHead(401).end();
      return;
    }
    if (req.url !== "/bundles/b1") {
      res.writeHead(404).end();
      return;
    }
    if (st.fail > 0) {
      st.fail--;
      res.writeHead(500).end("boom");
      return;
    }
    const prefer = /wait=(\d+)/.exec(String(req.headers.prefer ?? ""));
    if (prefer && req.headers["if-none-match"] === etag) {
      // long polling: hold the request until the revision changes or the wait is over
      await new Promise<void>((r) => {
        const t = setTimeout(r, Number(prefer[1]) * 1000);
        waiting.push(() => (clearTimeout(t), r()));
      });
    }
    // a server that supports long polling says so with its content type
    const ct = req.headers.prefer ? { "Content-Type": "application/vnd.openpolicyagent.bundles" } : { "Content-Type": "application/gzip" };
    if (req.headers["if-none-match"] === etag) {
      st.notModified++;
      res.writeHead(304, { ETag: etag, ...ct }).end();
      return;
    }
    res.writeHead(200, { ETag: etag, ...ct }).end(archive);
  });
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", () => r()));
  st.url = `http://127.0.0.1:${(srv.address() as { port: number }).port}`;
  return st;
}

function configFile(name: string, c: unknown): string {
  const f = join(tmp, name);
  writeFileSync(f, JSON.stringify(c));
  return f;
}

function config(url: string, extra: { polling?: unknown; persist?: boolean; dir?: string; token?: string; signing?: boolean } = {}) {
  return {
    services: { s1: { url, ...(extra.token ? { credentials: { bearer: { token: extra.token } } } : {}) } },
    keys: { k1: { algorithm: "HS256", key: SECRET } },
    bundles: {
      b1: {
        service: "s1",
        polling: extra.polling ?? { min_delay_seconds: 0.05, max_delay_seconds: 0.1 },
        ...(extra.signing === false ? {} : { signing: { keyid: "k1" } }),
        ...(extra.persist ? { persist: true } : {}),
      },
    },
    ...(extra.dir ? { persistence_directory: extra.dir } : {}),
  };
}

async function start(conf: unknown, name: string, logs: string[] = []) {
  return startServer(
    testServerOptions([], {
      config: loadConfig({ file: configFile(name, conf), id: "t", version: "t" }),
      logger: new Logger("info", "json", (l) => void logs.push(l)),
    }),
  );
}

async function get(base: string, path: string): Promise<{ status: number; body: any }> {
  const r = await fetch(base + path);
  const t = await r.text();
  return { status: r.status, body: t === "" ? undefined : JSON.parse(t) };
}

async function until(what: string, f: () => Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await f()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.fail(`timed out waiting for ${what}`);
}

test("download, 304, switch, failure keeps the revision, tampered refused, health?bundles", { timeout: 30000 }, async () => {
  const bs = await bundleServer();
  bs.fail = 2; // the first two requests fail: /health?bundles must say not activated meanwhile
  const logs: string[] = [];
  const server = await start(config(bs.url), "c1.json", logs);
  const base = `http://${server.addresses[0]}`;
  try {
    const h0 = await get(base, "/health?bundles");
    assert.equal(h0.status, 500);
    assert.deepEqual(h0.body, { error: "one or more bundles are not activated" });
    assert.equal((await get(base, "/health")).status, 200);
    bs.set(revision(1, "rev-1"), '"e1"');
    await until("rev-1", async () => (await get(base, "/health?bundles")).status === 200);
    assert.deepEqual((await get(base, "/v1/data/x/pair")).body, { result: [1, 1, "rev-1"] });
    assert.deepEqual((await get(base, "/v1/data/system/bundles/b1")).body, { result: { etag: '"e1"', manifest: { revision: "rev-1", roots: ["x"], rego_version: 1 } } });
    // conditional requests: 304 keeps the revision
    await until("a 304", async () => bs.notModified >= 2);
    assert.ok(bs.requests.some((r) => r.inm === '"e1"'));
    assert.deepEqual((await get(base, "/v1/data/x/pair")).body, { result: [1, 1, "rev-1"] });
    // a write under the bundle's root is refused
    const put = await fetch(`${base}/v1/data/x/v`, { method: "PUT", body: "9" });
    assert.equal(put.status, 400);
    // a new revision switches
    bs.set(revision(2, "rev-2"), '"e2"');
    await until("rev-2", async () => (await get(base, "/v1/data/x/pair")).body?.result?.[2] === "rev-2");
    assert.deepEqual((await get(base, "/v1/data/x/pair")).body, { result: [2, 2, "rev-2"] });
    // the service failing keeps rev-2 (and logs)
    bs.fail = 3;
    await until("three failures", async () => bs.fail === 0);
    assert.deepEqual((await get(base, "/v1/data/x/pair")).body, { result: [2, 2, "rev-2"] });
    assert.ok(logs.some((l) => /Bundle load failed/.test(l) && /Internal Server Error/.test(l)), logs.join("\n"));
    // a tampered archive (data changed after signing) is refused: rev-2 stays
    const good = revision(3, "rev-3");
    const tampered = writeTarGz(readTarGz(good).map((e) => (e.name === "/data.json" ? { name: e.name, data: Buffer.from(e.data.toString().replace('"v":3', '"v":666')) } : e)));
    bs.set(tampered, '"e3-bad"');
    await until("the tampered revision refused", async () => logs.some((l) => /digest mismatch/.test(l)));
    assert.deepEqual((await get(base, "/v1/data/x/pair")).body, { result: [2, 2, "rev-2"] });
    // an unsigned one too
    bs.set(revision(4, "rev-4", { sign: false }), '"e4-unsigned"');
    await until("the unsigned revision refused", async () => logs.some((l) => /bundle missing .signatures.json file/.test(l)));
    assert.deepEqual((await get(base, "/v1/data/x/pair")).body, { result: [2, 2, "rev-2"] });
    bs.set(good, '"e3"');
    await until("rev-3", async () => (await get(base, "/v1/data/x/pair")).body?.result?.[2] === "rev-3");
  } finally {
    await server.close();
    await bs.close();
  }
});

test("revision switches are atomic under concurrent queries (policy and data always from one revision)", { timeout: 30000 }, async () => {
  const bs = await bundleServer();
  const revs = [revision(1, "A"), revision(2, "B")];
  bs.set(revs[0], '"a"');
  const server = await start(config(bs.url, { polling: { min_delay_seconds: 0, max_delay_seconds: 0.01 } }), "c2.json");
  const base = `http://${server.addresses[0]}`;
  try {
    await until("A", async () => (await get(base, "/health?bundles")).status === 200);
    let flips = 0;
    let stop = false;
    const flipper = (async () => {
      while (!stop) {
        flips++;
        bs.set(revs[flips % 2], `"${flips}"`);
        await new Promise((r) => setTimeout(r, 15));
      }
    })();
    const seen = new Set<string>();
    let answers = 0;
    const t0 = Date.now();
    while (Date.now() - t0 < 3000) {
      const batch = await Promise.all(Array.from({ length: 16 }, () => get(base, "/v1/data/x/pair")));
      for (const a of batch) {
        answers++;
        const s = JSON.stringify(a.body.result);
        assert.ok(s === '[1,1,"A"]' || s === '[2,2,"B"]', `mixed revision: ${s}`);
        seen.add(s);
      }
    }
    stop = true;
    await flipper;
    assert.equal(seen.size, 2, "both revisions were served");
    assert.ok(answers > 100 && flips > 20, `${answers} answers, ${flips} flips`);
  } finally {
    await server.close();
    await bs.close();
  }
});

test("long polling: the request waits at the server; a new revision arrives at once despite a 60 s polling delay", { timeout: 30000 }, async () => {
  const bs = await bundleServer();
  bs.set(revision(1, "lp-1"), '"l1"');
  const server = await start(config(bs.url, { polling: { min_delay_seconds: 60, max_delay_seconds: 120, long_polling_timeout_seconds: 10 } }), "c3.json");
  const base = `http://${server.addresses[0]}`;
  try {
    await until("lp-1", async () => (await get(base, "/health?bundles")).status === 200);
    await until("a held request", async () => bs.requests.length >= 2);
    assert.equal(bs.requests[0].prefer, "modes=snapshot");
    assert.equal(bs.requests[1].prefer, "modes=snapshot;wait=10");
    const t = Date.now();
    bs.set(revision(2, "lp-2"), '"l2"');
    await until("lp-2", async () => (await get(base, "/v1/data/x/pair")).body?.result?.[2] === "lp-2", 3000);
    assert.ok(Date.now() - t < 2000);
  } finally {
    await server.close();
    await bs.close();
  }
});

test("persist: the activated archive is written; a restart with the service down activates it from disk", { timeout: 30000 }, async () => {
  const dir = join(tmp, "persist");
  const bs = await bundleServer();
  bs.set(revision(7, "p-7"), '"p7"');
  const server = await start(config(bs.url, { persist: true, dir }), "c4.json");
  try {
    const base = `http://${server.addresses[0]}`;
    await until("p-7", async () => (await get(base, "/health?bundles")).status === 200);
    await until("the file", async () => existsSync(join(dir, "bundles", "b1", "bundle.tar.gz")));
  } finally {
    await server.close();
  }
  bs.fail = 1_000_000;
  const again = await start(config(bs.url, { persist: true, dir }), "c5.json");
  try {
    const base = `http://${again.addresses[0]}`;
    await until("p-7 from disk", async () => (await get(base, "/v1/data/x/pair")).body?.result?.[2] === "p-7");
    assert.equal((await get(base, "/health?bundles")).status, 200);
  } finally {
    await again.close();
    await bs.close();
  }
});

test("bearer credentials are sent; /v1/config hides them and the keys", { timeout: 30000 }, async () => {
  const bs = await bundleServer({ token: "tok-123" });
  bs.set(revision(5, "auth-5"), '"a5"');
  const server = await start(config(bs.url, { token: "tok-123" }), "c6.json");
  try {
    const base = `http://${server.addresses[0]}`;
    await until("auth-5", async () => (await get(base, "/health?bundles")).status === 200);
    assert.equal(bs.requests[0].auth, "Bearer tok-123");
    const c = (await get(base, "/v1/config")).body.result;
    assert.equal(c.services.s1.credentials, undefined);
    assert.deepEqual(c.keys.k1, { algorithm: "HS256" });
  } finally {
    await server.close();
    await bs.close();
  }
});

test("configuration errors are clear", () => {
  const bad: [unknown, RegExp][] = [
    [{ bundles: { b: { service: "nope" } } }, /invalid configuration for bundle "b": service name "nope" not found/],
    [{ services: { s: { url: "http://x" } }, bundles: { b: { polling: { min_delay_seconds: 10, max_delay_seconds: 5 } } } }, /minimum polling interval is greater than maximum polling interval/],
    [{ services: { s: { url: "http://x" } }, bundles: { b: { signing: { keyid: "k9" } } } }, /key id k9 not found/],
    [{ services: { s: { url: "http://x", credentials: { s3_signing: {} } } }, bundles: { b: {} } }, /credentials.s3_signing is not supported/],
    // type: oci is supported (test/oci/run-oci.test.ts); its resource must be an image reference
    [{ services: { s: { url: "http://x", type: "oci" } }, bundles: { b: {} } }, /bundles\.b\.resource: "bundles\/b" names no tag or digest/],
    [{ services: { s: { url: "http://x", type: "s3" } }, bundles: { b: {} } }, /services\.s\.type: want "oci" or nothing, got "s3"/],
    [{ services: { s: { url: "http://x", type: "oci", headers: { a: "b" } } }, bundles: { b: { resource: "x/y:1" } } }, /services\.s\.headers is not supported by portcullis run for a service of type oci/],
  ];
  for (const [c, re] of bad) assert.throws(() => loadConfig({ file: configFile("bad.json", c), id: "t", version: "t" }), re);
});
