// Referential data: the objects of the Config's spec.sync.syncOnly kinds and of the SyncSets'
// spec.gvks, kept in data.inventory by informers (list, then watch; re-list after 410 Gone and
// every resync), in Gatekeeper's shapes: cluster[apiVersion][Kind][name] and
// namespace[ns][apiVersion][Kind][name]. One InventorySync is shared by whoever evaluates
// (`--audit-from-cache` audits it). Objects are held once: the informer's cache and the
// inventory document share them.

import { Informer, KubeClient, type ResourceRef } from "../../kube/index.ts";
import { metaOf, type Obj } from "../yaml.ts";
import { gvkKey, type GVK } from "./lister.ts";
import { KubeLister } from "./kubelister.ts";
import { addToInventory, type SyncKind } from "./policy.ts";

interface Synced {
  kind: SyncKind;
  informer: Informer;
}

/** Gatekeeper's buckets for gatekeeper_sync_duration_seconds. */
export const SYNC_DURATION_BUCKETS = [0.0001, 0.0002, 0.0003, 0.0004, 0.0005, 0.0006, 0.0007, 0.0008, 0.0009, 0.001, 0.002, 0.003, 0.004, 0.005, 0.01, 0.02, 0.03, 0.04, 0.05];

export class InventorySync {
  private doc: { cluster: Obj; namespace: Obj } = { cluster: {}, namespace: {} };
  private synced = new Map<string, Synced>();
  private lister: KubeLister;
  /** Bumped on every change of the inventory. */
  version = 0;
  private durations: number[] = [];
  private lastRun: number | null = null;

  constructor(
    private readonly kube: KubeClient,
    private readonly o: { log?: (level: "info" | "error", msg: string, fields: Record<string, unknown>) => void; resyncMs?: number } = {},
  ) {
    this.lister = new KubeLister(kube);
  }

  /** data.inventory (live: changed in place as events arrive; read `version` to notice). */
  inventory(): Obj {
    return this.doc;
  }

  /** Objects held, per kind key. */
  counts(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [k, s] of this.synced) out[k] = s.informer.list().length;
    return out;
  }

  /** Sync exactly these kinds: informers start for new ones (resolves once they listed), stop for dropped ones. */
  async setKinds(kinds: SyncKind[]): Promise<void> {
    const want = new Map(kinds.map((k) => [gvkKey(k), k]));
    for (const [key, s] of this.synced) {
      if (want.has(key)) continue;
      this.synced.delete(key);
      await s.informer.stop();
      for (const o of s.informer.list()) this.remove(o);
      this.version++;
    }
    const added: Synced[] = [];
    const fresh = [...want].filter(([key]) => !this.synced.has(key));
    if (fresh.length) await this.lister.kinds().catch(() => []); // discovery for the plurals
    for (const [key, k] of fresh) {
      let ref: ResourceRef;
      try {
        ref = this.lister.resourceRef(k as GVK);
      } catch {
        this.o.log?.("error", "sync kind not served by the cluster", { event_type: "sync_error", kind: key });
        continue;
      }
      const informer = new Informer(this.kube, ref, { resyncMs: this.o.resyncMs });
      const t = (f: () => void) => {
        const t0 = performance.now();
        f();
        this.observe((performance.now() - t0) / 1000);
      };
      informer.on("add", (o) => t(() => this.add(o)));
      informer.on("update", (o, old) => t(() => {
        if (old) this.remove(old);
        this.add(o);
      }));
      informer.on("delete", (o) => t(() => this.remove(o)));
      informer.onError((e) => this.o.log?.("error", "sync watch failed; retrying", { event_type: "sync_error", kind: key, err: (e as Error).message }));
      this.synced.set(key, { kind: k, informer });
      added.push({ kind: k, informer });
    }
    await Promise.all(added.map((s) => s.informer.start()));
  }

  private observe(seconds: number): void {
    this.durations.push(seconds);
    if (this.durations.length > 100_000) this.durations.splice(0, 50_000);
    this.lastRun = Date.now() / 1000;
  }

  private add(o: Obj): void {
    addToInventory(this.doc, o);
    this.version++;
  }

  private remove(o: Obj): void {
    const gv = String(o.apiVersion ?? "");
    const kind = String(o.kind ?? "");
    const meta = metaOf(o);
    const ns = typeof meta.namespace === "string" ? meta.namespace : "";
    const root = ns === "" ? this.doc.cluster : this.doc.namespace[ns];
    const byName = root?.[gv]?.[kind];
    if (!byName) return;
    delete byName[String(meta.name ?? "")];
    if (Object.keys(byName).length === 0) {
      delete root[gv][kind];
      if (Object.keys(root[gv]).length === 0) delete root[gv];
      if (ns !== "" && Object.keys(root).length === 0) delete this.doc.namespace[ns];
    }
    this.version++;
  }

  async stop(): Promise<void> {
    for (const s of this.synced.values()) await s.informer.stop();
    this.synced.clear();
  }

  /** gatekeeper_sync{kind,status}, gatekeeper_sync_duration_seconds, gatekeeper_sync_last_run_time. */
  metricsText(): string {
    let out = "# HELP gatekeeper_sync Total number of resources of each kind being cached\n# TYPE gatekeeper_sync gauge\n";
    for (const s of this.synced.values()) out += `gatekeeper_sync{kind="${s.kind.kind}",status="active"} ${s.informer.list().length}\n`;
    out += "# HELP gatekeeper_sync_duration_seconds Latency of sync operation in seconds\n# TYPE gatekeeper_sync_duration_seconds histogram\n";
    let sum = 0;
    for (const d of this.durations) sum += d;
    for (const b of SYNC_DURATION_BUCKETS) out += `gatekeeper_sync_duration_seconds_bucket{le="${b}"} ${this.durations.filter((d) => d <= b).length}\n`;
    out += `gatekeeper_sync_duration_seconds_bucket{le="+Inf"} ${this.durations.length}\ngatekeeper_sync_duration_seconds_sum ${sum}\ngatekeeper_sync_duration_seconds_count ${this.durations.length}\n`;
    out += "# HELP gatekeeper_sync_last_run_time Timestamp of last sync operation\n# TYPE gatekeeper_sync_last_run_time gauge\n";
    if (this.lastRun !== null) out += `gatekeeper_sync_last_run_time ${this.lastRun}\n`;
    return out;
  }
}
