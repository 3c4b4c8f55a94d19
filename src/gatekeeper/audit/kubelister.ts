// The audit's view of a cluster through src/kube: discovery of the listable kinds (one
// preferred version per group, as Gatekeeper's ServerPreferredResources), lists a page at a
// time with `limit`/`continue`, Namespaces by name, and the policy stored in the cluster
// (ConstraintTemplates, their constraints, Providers, the Config) and data.inventory for the
// Config's syncOnly and SyncSets' kinds.

import { KubeClient, KubeError, isNotFound, type KubeConfigOptions, type ResourceRef } from "../../kube/index.ts";
import type { Obj } from "../yaml.ts";
import { emptyObjects, type GatekeeperObjects } from "../state.ts";
import { apiVersionOf, gvkKey, type GVK, type ListOptions, type ListPage, type Lister } from "./lister.ts";
import { addToInventory, type SyncKind } from "./policy.ts";

interface DiscoveredResource extends GVK {
  plural: string;
  namespaced: boolean;
}

interface APIResource {
  name?: string;
  kind?: string;
  namespaced?: boolean;
  verbs?: string[];
}

/** Resource lists of one group version: the listable kinds (subresources left out). */
function listable(group: string, version: string, resources: APIResource[]): DiscoveredResource[] {
  const out: DiscoveredResource[] = [];
  for (const r of resources) {
    if (typeof r.name !== "string" || r.name.includes("/") || typeof r.kind !== "string") continue;
    if (!Array.isArray(r.verbs) || !r.verbs.includes("list")) continue;
    out.push({ group, version, kind: r.kind, plural: r.name, namespaced: r.namespaced === true });
  }
  return out;
}

export class KubeLister implements Lister {
  private resources = new Map<string, DiscoveredResource>();
  /** Groups whose discovery failed (the audit reports them; Gatekeeper logs them). */
  readonly discoveryErrors: string[] = [];

  constructor(readonly client: KubeClient) {}

  async kinds(): Promise<GVK[]> {
    this.resources.clear();
    this.discoveryErrors.length = 0;
    const add = (rs: DiscoveredResource[]) => {
      for (const r of rs) if (!this.resources.has(gvkKey(r))) this.resources.set(gvkKey(r), r);
    };
    const core = await this.client.request("GET", "/api/v1");
    add(listable("", "v1", Array.isArray(core?.resources) ? core.resources : []));
    const groups = await this.client.request("GET", "/apis");
    for (const g of Array.isArray(groups?.groups) ? groups.groups : []) {
      const name = typeof g?.name === "string" ? g.name : "";
      const version = typeof g?.preferredVersion?.version === "string" ? g.preferredVersion.version : typeof g?.versions?.[0]?.version === "string" ? g.versions[0].version : "";
      if (!name || !version) continue;
      try {
        const list = await this.client.request("GET", `/apis/${name}/${version}`);
        add(listable(name, version, Array.isArray(list?.resources) ? list.resources : []));
      } catch (e) {
        this.discoveryErrors.push(`discovery of ${name}/${version}: ${(e as Error).message}`);
      }
    }
    if (this.discoveryErrors.length) {
      // A group that cannot be discovered cannot be audited: fail loudly rather than report a clean audit.
      throw new KubeError(this.discoveryErrors.join("; "));
    }
    return Array.from(this.resources.values(), ({ group, version, kind }) => ({ group, version, kind }));
  }

  /** The resource of a discovered kind (after kinds()). */
  resourceRef(g: GVK): ResourceRef {
    const r = this.resources.get(gvkKey(g));
    if (!r) throw new KubeError(`${gvkKey(g)}: not a listable kind of this cluster`);
    return { group: r.group, version: r.version, plural: r.plural, namespaced: r.namespaced, kind: r.kind };
  }

  async list(g: GVK, opts: ListOptions): Promise<ListPage> {
    return listRaw(this.client, this.resourceRef(g), opts.limit, opts.continue ?? "");
  }

  async namespace(name: string): Promise<Obj | null> {
    const ns = await this.client.getOrNull({ group: "", version: "v1", plural: "namespaces", namespaced: false, kind: "Namespace" }, name);
    if (ns) {
      ns.apiVersion ??= "v1";
      ns.kind ??= "Namespace";
    }
    return ns;
  }
}

/** One page of a list; limit 0 asks for everything at once (Gatekeeper's --audit-chunk-size=0). */
export async function listRaw(client: KubeClient, r: ResourceRef, limit: number, token: string): Promise<ListPage> {
  const path = r.group === "" ? `/api/${r.version}/${r.plural}` : `/apis/${r.group}/${r.version}/${r.plural}`;
  const list = await client.request("GET", path, { query: { limit: limit > 0 ? limit : undefined, continue: token || undefined } });
  const items: Obj[] = Array.isArray(list?.items) ? list.items : [];
  const apiVersion = apiVersionOf(r);
  for (const it of items) {
    it.apiVersion ??= apiVersion;
    it.kind ??= r.kind;
  }
  return { items, continue: String(list?.metadata?.continue ?? "") };
}

async function listAll(client: KubeClient, r: ResourceRef, onItem: (o: Obj) => void, chunk = 500): Promise<boolean> {
  let token = "";
  for (;;) {
    let page: ListPage;
    try {
      page = await listRaw(client, r, chunk, token);
    } catch (e) {
      if (isNotFound(e)) return false;
      throw e;
    }
    for (const it of page.items) onItem(it);
    if (!page.continue) return true;
    token = page.continue;
  }
}

const TEMPLATES: ResourceRef = { group: "templates.gatekeeper.sh", version: "v1", plural: "constrainttemplates", namespaced: false, kind: "ConstraintTemplate" };
const PROVIDERS: ResourceRef = { group: "externaldata.gatekeeper.sh", version: "v1beta1", plural: "providers", namespaced: false, kind: "Provider" };
const CONFIGS: ResourceRef = { group: "config.gatekeeper.sh", version: "v1alpha1", plural: "configs", namespaced: true, kind: "Config" };
const SYNCSETS: ResourceRef = { group: "syncset.gatekeeper.sh", version: "v1alpha1", plural: "syncsets", namespaced: false, kind: "SyncSet" };
const EXPANSION_TEMPLATES: ResourceRef = { group: "expansion.gatekeeper.sh", version: "v1beta1", plural: "expansiontemplate", namespaced: false, kind: "ExpansionTemplate" };

/** The Gatekeeper objects stored in a cluster (the constraint CRDs are named after the templates' kinds). */
export async function clusterPolicy(client: KubeClient): Promise<GatekeeperObjects> {
  const out = emptyObjects();
  const found = await listAll(client, TEMPLATES, (o) => out.templates.push(o));
  if (!found) throw new KubeError(`the cluster has no ConstraintTemplate CRD (${TEMPLATES.plural}.${TEMPLATES.group}): install the CRDs, or give --policy-dir`);
  for (const t of out.templates) {
    const kind = t?.spec?.crd?.spec?.names?.kind;
    if (typeof kind !== "string" || kind === "") continue;
    // A template whose CRD is not there yet has no constraints to audit.
    await listAll(client, { group: "constraints.gatekeeper.sh", version: "v1beta1", plural: kind.toLowerCase(), namespaced: false, kind }, (o) => out.constraints.push(o));
  }
  await listAll(client, PROVIDERS, (o) => out.providers.push(o));
  // (none when the ExpansionTemplate CRD is not installed)
  await listAll(client, EXPANSION_TEMPLATES, (o) => (out.expansionTemplates ??= []).push(o));
  await listAll(client, CONFIGS, (o) => {
    if (o?.metadata?.name === "config" && out.config === null) out.config = o;
  });
  return out;
}

/** SyncSets' spec.gvks, as sync kinds. */
export async function syncSetKinds(client: KubeClient): Promise<SyncKind[]> {
  const out: SyncKind[] = [];
  await listAll(client, SYNCSETS, (o) => {
    for (const g of Array.isArray(o?.spec?.gvks) ? o.spec.gvks : []) {
      if (typeof g?.kind === "string" && typeof g?.version === "string" && g.kind && g.version) out.push({ group: typeof g.group === "string" ? g.group : "", version: g.version, kind: g.kind });
    }
  });
  return out;
}

export interface ClusterConnection {
  lister: KubeLister;
  client: KubeClient;
  /** The policy stored in the cluster. */
  policy(): Promise<GatekeeperObjects>;
  /** data.inventory: every object of these kinds (plus the SyncSets' kinds), in Gatekeeper's shape. */
  inventory(kinds: SyncKind[]): Promise<Obj>;
}

export async function connectCluster(cfg: KubeConfigOptions): Promise<ClusterConnection> {
  const client = await KubeClient.connect(cfg);
  const lister = new KubeLister(client);
  return {
    lister,
    client,
    policy: () => clusterPolicy(client),
    inventory: (kinds: SyncKind[]) => clusterInventory(client, kinds, lister),
  };
}

/** data.inventory: every object of these kinds and of the SyncSets' kinds, in Gatekeeper's shape. */
export async function clusterInventory(client: KubeClient, kinds: SyncKind[], lister = new KubeLister(client)): Promise<Obj> {
  const all = [...kinds, ...(await syncSetKinds(client))];
  const doc = { cluster: {}, namespace: {} };
  if (all.length === 0) return doc;
  await lister.kinds();
  const seen = new Set<string>();
  for (const k of all) {
    const key = gvkKey(k);
    if (seen.has(key)) continue;
    seen.add(key);
    let ref: ResourceRef;
    try {
      ref = lister.resourceRef(k);
    } catch {
      throw new KubeError(`sync kind ${key}: the cluster does not serve it`);
    }
    await listAll(client, ref, (o) => addToInventory(doc, o));
  }
  return doc;
}
