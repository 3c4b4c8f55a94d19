// The Kubernetes client against a scripted API server on loopback (plain HTTP): kubeconfig
// bearer tokens, pagination with `continue`, one-line errors from Status answers, deadlines,
// size limits, watches, and the informer's re-list after 410 Gone (differences become events).
import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KubeClient, Informer, KubeError, refs, resourcePath } from "../../src/kube/index.ts";

type Handler = (req: IncomingMessage, res: ServerResponse, url: URL) => void;

async function fakeServer(handler: Handler): Promise<{ client: KubeClient; seen: string[]; auth: string[]; close: () => Promise<void> }> {
  const seen: string[] = [];
  const auth: string[] = [];
  const srv = createServer((req, res) => {
    const url = new URL(req.url!, "http://x");
    seen.push(`${req.method} ${url.pathname}${url.search}`);
    auth.push(String(req.headers.authorization));
    handler(req, res, url);
  });
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const port = (srv.address() as { port: number }).port;
  const dir = mkdtempSync(join(tmpdir(), "kubecfg-"));
  const kc = join(dir, "config");
  writeFileSync(kc, `apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "http://127.0.0.1:${port}", insecure-skip-tls-verify: true}}]\nusers: [{name: u, user: {token: "s3cret"}}]\ncontexts: [{name: x, context: {cluster: c, user: u, namespace: team}}]\ncurrent-context: x\n`);
  const client = await KubeClient.connect({ kubeconfig: kc }, { timeoutMs: 500, maxResponseBytes: 4096 });
  return {
    client,
    seen,
    auth,
    close: async () => {
      client.close();
      srv.closeAllConnections();
      await new Promise((r) => srv.close(r));
    },
  };
}

const ns = (name: string, rv: string, labels: Record<string, string> = {}) => ({ metadata: { name, resourceVersion: rv, labels } });
const json = (res: ServerResponse, code: number, body: unknown) => {
  res.writeHead(code, { "Content-Type": "application/json" });
  res.end(JSON.stringify(body));
};

test("resource paths for core, grouped, namespaced and subresources", () => {
  assert.equal(resourcePath(refs.namespaces), "/api/v1/namespaces");
  assert.equal(resourcePath(refs.secrets, "gk", "cert"), "/api/v1/namespaces/gk/secrets/cert");
  assert.equal(resourcePath(refs.crds, undefined, "a.b.c"), "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/a.b.c");
  assert.equal(resourcePath({ group: "constraints.gatekeeper.sh", version: "v1beta1", plural: "k8srequiredlabels", namespaced: false, kind: "K8sRequiredLabels" }, "ignored", "x", "status"), "/apis/constraints.gatekeeper.sh/v1beta1/k8srequiredlabels/x/status");
});

test("kubeconfig: server, token and namespace; lists are paged with limit/continue", async () => {
  const all = [ns("a", "1"), ns("b", "2"), ns("c", "3"), ns("d", "4"), ns("e", "5")];
  const f = await fakeServer((req, res, url) => {
    const start = Number(url.searchParams.get("continue") || 0);
    const limit = Number(url.searchParams.get("limit"));
    const next = start + limit < all.length ? String(start + limit) : "";
    json(res, 200, { kind: "NamespaceList", apiVersion: "v1", metadata: { resourceVersion: "77", continue: next }, items: all.slice(start, start + limit) });
  });
  try {
    assert.equal(f.client.namespace, "team");
    const pages = [];
    for await (const p of f.client.pages(refs.namespaces, { limit: 2, labelSelector: "a=b" })) pages.push(p.items.map((i) => i.metadata.name));
    assert.deepEqual(pages, [["a", "b"], ["c", "d"], ["e"]]);
    assert.deepEqual(f.seen, ["GET /api/v1/namespaces?limit=2&labelSelector=a%3Db", "GET /api/v1/namespaces?limit=2&continue=2&labelSelector=a%3Db", "GET /api/v1/namespaces?limit=2&continue=4&labelSelector=a%3Db"]);
    assert.ok(f.auth.every((a) => a === "Bearer s3cret"));
    const l = await f.client.list(refs.namespaces, { limit: 3 });
    assert.equal(l.items.length, 5);
    assert.equal(l.resourceVersion, "77");
    assert.equal(l.items[0].kind, "Namespace"); // put back on list items
    assert.equal(l.items[0].apiVersion, "v1");
  } finally {
    await f.close();
  }
});

test("errors are one line with the server's Status; deadlines and size limits hold", async () => {
  const f = await fakeServer((req, res, url) => {
    if (url.pathname.endsWith("/missing")) return json(res, 404, { kind: "Status", status: "Failure", reason: "NotFound", message: 'namespaces "missing" not found', code: 404 });
    if (url.pathname.endsWith("/slow")) return; // never answers
    if (url.pathname.endsWith("/big")) return json(res, 200, { data: "x".repeat(10000) });
    if (url.pathname.endsWith("/text")) {
      res.writeHead(500);
      return res.end("boom\nsecond line");
    }
    json(res, 409, { kind: "Status", reason: "Conflict", message: "the object has been modified" });
  });
  try {
    await assert.rejects(f.client.get(refs.namespaces, "missing"), (e: unknown) => e instanceof KubeError && e.code === 404 && e.message === 'GET /api/v1/namespaces/missing: 404 NotFound: namespaces "missing" not found');
    assert.equal(await f.client.getOrNull(refs.namespaces, "missing"), null);
    assert.equal(await f.client.delete(refs.namespaces, "missing"), false);
    await assert.rejects(f.client.get(refs.namespaces, "slow"), /GET \/api\/v1\/namespaces\/slow: no answer within 500 ms/);
    await assert.rejects(f.client.get(refs.namespaces, "big"), /answer larger than 4096 bytes/);
    await assert.rejects(f.client.get(refs.namespaces, "text"), (e: unknown) => e instanceof KubeError && e.message === "GET /api/v1/namespaces/text: 500 Internal Server Error: boom second line");
    await assert.rejects(f.client.patch(refs.namespaces, "x", { metadata: { labels: { a: "b" } } }), (e: unknown) => e instanceof KubeError && e.code === 409 && e.reason === "Conflict");
    assert.match(f.seen.at(-1)!, /^PATCH \/api\/v1\/namespaces\/x$/);
  } finally {
    await f.close();
  }
});

test("kubeconfig errors are one line", async () => {
  await assert.rejects(KubeClient.connect({ kubeconfig: "/nonexistent/kubeconfig" }), (e: unknown) => e instanceof KubeError && /^kubeconfig \/nonexistent\/kubeconfig: no such file$/.test(e.message));
  const dir = mkdtempSync(join(tmpdir(), "kubecfg-"));
  writeFileSync(join(dir, "c"), "apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n");
  await assert.rejects(KubeClient.connect({ kubeconfig: join(dir, "c") }), /no current-context \(set current-context or pass --context\)/);
  await assert.rejects(KubeClient.connect({ kubeconfig: join(dir, "c"), context: "nope" }), /no context "nope"/);
  if (!process.env.KUBERNETES_SERVICE_HOST) await assert.rejects(KubeClient.connect({ inCluster: true }), /^KubeError: in-cluster configuration: not running in a pod \(no KUBERNETES_SERVICE_HOST or no \/var\/run\/secrets\/kubernetes\.io\/serviceaccount\/token\)$/);
});

test("informer: list, watch, re-watch from the last version, re-list after 410 Gone with the differences as events", async () => {
  let phase = 0;
  const watches: string[] = [];
  const f = await fakeServer((req, res, url) => {
    if (url.searchParams.get("watch")) {
      watches.push(url.searchParams.get("resourceVersion") ?? "");
      res.writeHead(200, { "Content-Type": "application/json" });
      if (phase === 0) {
        // one event, then the server ends the watch (its timeout)
        phase = 1;
        res.end(JSON.stringify({ type: "ADDED", object: ns("c", "12") }) + "\n" + JSON.stringify({ type: "BOOKMARK", object: { metadata: { resourceVersion: "13" } } }) + "\n");
      } else if (phase === 1) {
        phase = 2;
        res.end(JSON.stringify({ type: "ERROR", object: { kind: "Status", code: 410, reason: "Expired", message: "too old resource version: 13 (20)" } }) + "\n");
      } else {
        res.write(JSON.stringify({ type: "MODIFIED", object: ns("b", "21", { x: "y" }) }) + "\n");
      }
      return;
    }
    if (phase === 0) return json(res, 200, { metadata: { resourceVersion: "10" }, items: [ns("a", "1"), ns("b", "2")] });
    // after 410: a is gone, b changed, c unchanged, d new
    json(res, 200, { metadata: { resourceVersion: "20" }, items: [ns("b", "15"), ns("c", "12"), ns("d", "16")] });
  });
  const events: string[] = [];
  const inf = new Informer(f.client, refs.namespaces, { backoffMs: [10, 50] });
  inf.on("add", (o) => events.push(`add ${o.metadata.name}`));
  inf.on("update", (o, old) => events.push(`update ${o.metadata.name} ${old?.metadata.resourceVersion}->${o.metadata.resourceVersion}`));
  inf.on("delete", (o) => events.push(`delete ${o.metadata.name}`));
  const errors: string[] = [];
  inf.onError((e) => errors.push(String(e)));
  try {
    await inf.start();
    for (let i = 0; i < 200 && !events.includes("update b 15->21"); i++) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(events, ["add a", "add b", "add c", "delete a", "update b 2->15", "add d", "update b 15->21"]);
    assert.deepEqual(watches, ["10", "13", "20"]);
    assert.deepEqual(inf.list().map((o) => o.metadata.name).sort(), ["b", "c", "d"]);
    assert.equal(inf.get("b")?.metadata.labels.x, "y");
    assert.equal(inf.stats.lists, 2);
    assert.deepEqual(errors, []);
  } finally {
    await inf.stop();
    await f.close();
  }
});

test("informer: a failing server is retried with backoff and the errors are reported, one line each", async () => {
  let calls = 0;
  const f = await fakeServer((req, res) => {
    calls++;
    if (calls < 3) return json(res, 503, { kind: "Status", reason: "ServiceUnavailable", message: "etcd is down" });
    if (calls === 3) return json(res, 200, { metadata: { resourceVersion: "5" }, items: [ns("a", "1")] });
    res.writeHead(200);
    res.write("\n"); // an idle watch
  });
  const errors: string[] = [];
  const inf = new Informer(f.client, refs.namespaces, { backoffMs: [10, 40] });
  inf.onError((e) => errors.push((e as Error).message));
  try {
    await inf.start();
    assert.deepEqual(errors, ["GET /api/v1/namespaces: 503 ServiceUnavailable: etcd is down", "GET /api/v1/namespaces: 503 ServiceUnavailable: etcd is down"]);
    assert.equal(inf.list().length, 1);
  } finally {
    await inf.stop();
    await f.close();
  }
});

test("informer: a full re-list every resyncMs, the watch's timeoutSeconds cut to it", async () => {
  const timeouts: string[] = [];
  let lists = 0;
  const f = await fakeServer((req, res, url) => {
    if (url.searchParams.get("watch")) {
      const t = url.searchParams.get("timeoutSeconds")!;
      timeouts.push(t);
      res.writeHead(200);
      res.write("\n");
      setTimeout(() => res.end(), Number(t) * 1000); // the server ends the watch after timeoutSeconds
      return;
    }
    lists++;
    json(res, 200, { metadata: { resourceVersion: String(lists) }, items: [ns("a", String(lists))] });
  });
  const updates: string[] = [];
  const inf = new Informer(f.client, refs.namespaces, { resyncMs: 500, watchSeconds: 600 });
  inf.on("update", (o) => updates.push(o.metadata.resourceVersion));
  try {
    await inf.start();
    for (let i = 0; i < 100 && updates.length < 2; i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok(lists >= 3, `lists: ${lists}`);
    assert.ok(timeouts.every((t) => t === "1"), `watch timeouts ${timeouts}`);
    assert.deepEqual(updates.slice(0, 2), ["2", "3"]); // a changed object found by the re-list is an update
  } finally {
    await inf.stop();
    await f.close();
  }
});
