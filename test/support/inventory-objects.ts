// Generated ConfigMaps, Services and Ingresses (with their Namespaces) of realistic size, and an
// offline API server for InventorySync: a duck-typed KubeClient that answers discovery, serves
// the lists page by page as JSON text parsed per page (as the real client does), and holds
// watches open until they are stopped. Used by the inventory test and
// scripts/audit-inventory-memory.ts; the objects are made on demand, none is kept here.
import type { KubeClient, ListOptions, ListPage, ResourceRef, WatchEvent } from "../../src/kube/index.ts";

type Obj = Record<string, any>;

export const INVENTORY_KINDS = [
  { group: "", version: "v1", kind: "Namespace", plural: "namespaces", namespaced: false },
  { group: "", version: "v1", kind: "ConfigMap", plural: "configmaps", namespaced: true },
  { group: "", version: "v1", kind: "Service", plural: "services", namespaced: true },
  { group: "networking.k8s.io", version: "v1", kind: "Ingress", plural: "ingresses", namespaced: true },
] as const;

/** `total` ConfigMaps + Services + Ingresses (a third each) in one Namespace per 100 objects. */
export function inventoryCounts(total: number): Record<string, number> {
  const cm = Math.ceil(total / 3);
  const svc = Math.ceil((total - cm) / 2);
  return { Namespace: Math.max(1, Math.ceil(total / 100)), ConfigMap: cm, Service: svc, Ingress: total - cm - svc };
}

const pad = (i: number) => String(i).padStart(6, "0");
export const nsName = (i: number) => `team-${pad(i)}`;

function uid(kind: string, i: number): string {
  const h = (i * 2654435761 + kind.length * 40503) >>> 0;
  const x = h.toString(16).padStart(8, "0");
  return `${x}-${pad(i).slice(2)}-4${x.slice(1, 4)}-a${x.slice(4, 7)}-${x}${pad(i).slice(2)}`;
}

function meta(kind: string, i: number, name: string, namespace: string | undefined, nsCount: number): Obj {
  const app = `app-${i % 97}`;
  const m: Obj = {
    name,
    uid: uid(kind, i),
    resourceVersion: String(100000 + i),
    creationTimestamp: "2026-11-02T09:14:07Z",
    labels: { "app.kubernetes.io/name": app, "app.kubernetes.io/part-of": `system-${i % 11}`, owner: `team-${i % nsCount}` },
    annotations: { "meta.helm.sh/release-name": app, "meta.helm.sh/release-namespace": namespace ?? "default" },
    managedFields: [
      {
        manager: "helm",
        operation: "Update",
        apiVersion: kind === "Ingress" ? "networking.k8s.io/v1" : "v1",
        time: "2026-11-02T09:14:07Z",
        fieldsType: "FieldsV1",
        fieldsV1: { "f:metadata": { "f:labels": { ".": {}, "f:app.kubernetes.io/name": {}, "f:app.kubernetes.io/part-of": {}, "f:owner": {} } } },
      },
    ],
  };
  if (namespace !== undefined) m.namespace = namespace;
  return m;
}

/** The i-th object of a kind (0-based), as the API server lists it. */
export function inventoryObject(kind: string, i: number, total: number): Obj {
  const counts = inventoryCounts(total);
  const nsCount = counts.Namespace;
  if (kind === "Namespace") {
    return { apiVersion: "v1", kind, metadata: meta(kind, i, nsName(i), undefined, nsCount), spec: { finalizers: ["kubernetes"] }, status: { phase: "Active" } };
  }
  const ns = nsName(i % nsCount);
  const name = `${kind.toLowerCase()}-${pad(i)}`;
  if (kind === "ConfigMap") {
    const data: Obj = {};
    for (let k = 0; k < 6; k++) data[`setting-${k}.properties`] = `key.${k}=value-${i}-${k}\nendpoint=https://svc-${i % 97}.${ns}.svc:8443/api/v${k}\ntimeout=${(i % 30) + 1}s\n`;
    return { apiVersion: "v1", kind, metadata: meta(kind, i, name, ns, nsCount), data };
  }
  if (kind === "Service") {
    const ip = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
    return {
      apiVersion: "v1",
      kind,
      metadata: meta(kind, i, name, ns, nsCount),
      spec: {
        type: "ClusterIP",
        clusterIP: ip,
        clusterIPs: [ip],
        ipFamilies: ["IPv4"],
        ipFamilyPolicy: "SingleStack",
        sessionAffinity: "None",
        internalTrafficPolicy: "Cluster",
        selector: { "app.kubernetes.io/name": `app-${i % 97}`, instance: `i-${pad(i)}` },
        ports: [
          { name: "http", protocol: "TCP", port: 80, targetPort: 8080 },
          { name: "metrics", protocol: "TCP", port: 9090, targetPort: "metrics" },
        ],
      },
      status: { loadBalancer: {} },
    };
  }
  if (kind === "Ingress") {
    return {
      apiVersion: "networking.k8s.io/v1",
      kind,
      metadata: meta(kind, i, name, ns, nsCount),
      spec: {
        ingressClassName: "nginx",
        tls: [{ hosts: [`h${pad(i)}.apps.example.com`], secretName: `tls-${pad(i)}` }],
        rules: [
          {
            host: `h${pad(i)}.apps.example.com`,
            http: {
              paths: [
                { path: "/", pathType: "Prefix", backend: { service: { name: `service-${pad(i)}`, port: { number: 80 } } } },
                { path: "/metrics", pathType: "Exact", backend: { service: { name: `service-${pad(i)}`, port: { name: "metrics" } } } },
              ],
            },
          },
        ],
      },
      status: { loadBalancer: { ingress: [{ ip: "192.0.2.10" }] } },
    };
  }
  throw new Error(`inventoryObject: unknown kind ${kind}`);
}

/** A KubeClient stand-in serving `total` generated objects: discovery, paginated lists, idle watches. */
export class OfflineInventoryServer {
  /** Bytes of JSON served (the objects as listed). */
  bytesServed = 0;
  constructor(readonly total: number) {}

  async request(method: string, path: string): Promise<Obj> {
    if (method !== "GET") throw new Error(`offline server: ${method} ${path} not served`);
    const resources = (group: string, version: string) =>
      INVENTORY_KINDS.filter((k) => k.group === group && k.version === version).map((k) => ({ name: k.plural, kind: k.kind, namespaced: k.namespaced, verbs: ["list", "watch"] }));
    if (path === "/api/v1") return { resources: resources("", "v1") };
    if (path === "/apis") return { groups: [{ name: "networking.k8s.io", preferredVersion: { version: "v1" }, versions: [{ version: "v1" }] }] };
    if (path === "/apis/networking.k8s.io/v1") return { resources: resources("networking.k8s.io", "v1") };
    throw new Error(`offline server: GET ${path} not served`);
  }

  async *pages(r: ResourceRef, opts: ListOptions = {}): AsyncGenerator<ListPage> {
    const n = inventoryCounts(this.total)[r.kind ?? ""] ?? 0;
    const limit = opts.limit ?? 500;
    for (let start = 0; start < n || start === 0; start += limit) {
      const parts: string[] = [];
      for (let i = start; i < Math.min(n, start + limit); i++) parts.push(JSON.stringify(inventoryObject(r.kind ?? "", i, this.total)));
      const text = `[${parts.join(",")}]`;
      this.bytesServed += text.length;
      yield { items: JSON.parse(text), resourceVersion: "1", continue: start + limit < n ? String(start + limit) : "" };
      await new Promise((res) => setImmediate(res));
    }
  }

  async watch(_r: ResourceRef, opts: { signal?: AbortSignal }, _onEvent: (e: WatchEvent) => void): Promise<void> {
    await new Promise<void>((res) => {
      if (!opts.signal || opts.signal.aborted) return res();
      opts.signal.addEventListener("abort", () => res(), { once: true });
    });
  }

  asClient(): KubeClient {
    return this as unknown as KubeClient;
  }
}
