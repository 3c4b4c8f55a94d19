// The Kubernetes client against the real API server (../shared/kube): pagination across pages,
// an informer that sees objects created, changed and deleted after its first list, create-or-
// replace, status patches, and a CRD applied and served. Skipped when the API server, etcd or
// kubectl is missing.
import { test } from "node:test";
import assert from "node:assert/strict";
import { kubeMissing, startKube } from "../support/kube.ts";
import { KubeClient, Informer, refs, applyCRD, waitEstablished, KubeError } from "../../src/kube/index.ts";

const missing = kubeMissing();

async function until(cond: () => boolean, what: string, ms = 20000): Promise<void> {
  for (const end = Date.now() + ms; !cond(); ) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test("kube client against a real API server", { skip: missing || false, timeout: 180000 }, async () => {
  const kube = await startKube();
  const c = await KubeClient.connect({ kubeconfig: kube.kubeconfig });
  const inf = new Informer(c, refs.namespaces, { labelSelector: "portcullis-test=yes", pageSize: 2 });
  try {
    for (let i = 0; i < 5; i++) await c.create(refs.namespaces, { metadata: { name: `page-${i}`, labels: { "portcullis-test": "yes" } } });
    const sizes: number[] = [];
    for await (const p of c.pages(refs.namespaces, { limit: 2, labelSelector: "portcullis-test=yes" })) sizes.push(p.items.length);
    assert.deepEqual(sizes, [2, 2, 1]);

    const events: string[] = [];
    inf.on("add", (o) => events.push(`add ${o.metadata.name}`));
    inf.on("update", (o) => events.push(`update ${o.metadata.name} ${o.metadata.labels?.extra ?? ""}`));
    inf.on("delete", (o) => events.push(`delete ${o.metadata.name}`));
    await inf.start();
    assert.equal(inf.list().length, 5);
    events.length = 0;
    await c.create(refs.namespaces, { metadata: { name: "late", labels: { "portcullis-test": "yes" } } });
    await c.patch(refs.namespaces, "late", { metadata: { labels: { extra: "1" } } });
    await c.delete(refs.namespaces, "page-0");
    await until(() => events.includes("add late") && events.includes("update late 1") && events.some((e) => e === "update page-0 " || e === "delete page-0"), `informer events (${events.join(", ")})`);

    // create-or-replace: created, then unchanged, then updated
    const secret = { apiVersion: "v1", kind: "Secret", metadata: { name: "s", namespace: "page-1" }, data: { a: "YQ==" } };
    assert.equal((await c.createOrReplace(refs.secrets, secret, () => false)).action, "created");
    assert.equal((await c.createOrReplace(refs.secrets, secret, (e) => e.data.a !== secret.data.a)).action, "unchanged");
    assert.equal((await c.createOrReplace(refs.secrets, { ...secret, data: { a: "Yg==" } })).action, "updated");
    assert.equal((await c.get(refs.secrets, "s", "page-1")).data.a, "Yg==");

    // a CRD applied, established and served; its status subresource patched
    const crd = {
      apiVersion: "apiextensions.k8s.io/v1",
      kind: "CustomResourceDefinition",
      metadata: { name: "widgets.example.com" },
      spec: {
        group: "example.com",
        scope: "Cluster",
        names: { kind: "Widget", plural: "widgets", singular: "widget", listKind: "WidgetList" },
        versions: [{ name: "v1", served: true, storage: true, subresources: { status: {} }, schema: { openAPIV3Schema: { type: "object", properties: { spec: { type: "object", properties: { size: { type: "integer" } } }, status: { type: "object", "x-kubernetes-preserve-unknown-fields": true } } } } }],
      },
    };
    assert.equal((await applyCRD(c, crd)).action, "created");
    assert.equal((await applyCRD(c, crd)).action, "unchanged");
    await waitEstablished(c, "widgets.example.com");
    const widgets = { group: "example.com", version: "v1", plural: "widgets", namespaced: false, kind: "Widget" };
    await c.create(widgets, { apiVersion: "example.com/v1", kind: "Widget", metadata: { name: "w" }, spec: { size: 3 } });
    const st = await c.patchStatus(widgets, "w", { status: { ok: true } });
    assert.equal(st.status.ok, true);
    await assert.rejects(c.create(widgets, { apiVersion: "example.com/v1", kind: "Widget", metadata: { name: "bad" }, spec: { size: "x" } }), (e: unknown) => e instanceof KubeError && e.code === 422 && !e.message.includes("\n"));
    assert.equal(await c.delete(refs.crds, "widgets.example.com"), true);
  } finally {
    await inf.stop();
    c.close();
    await kube.stop();
  }
});
