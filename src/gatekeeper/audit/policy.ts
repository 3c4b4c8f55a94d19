// The policy an audit runs: Gatekeeper's objects (templates, constraints, Providers, the
// Config) sorted out of a set of manifests, compiled into a snapshot at the audit enforcement
// point, with the Config's audit exclusions and its sync list.

import { isPlainObject, gvkOf, metaOf, type Obj } from "../yaml.ts";
import { isTemplate } from "../template.ts";
import { isConstraint } from "../constraint.ts";
import { isProvider } from "../externaldata.ts";
import { buildSnapshot, isNamespaceExcluded, type Snapshot } from "../snapshot.ts";
import { emptyObjects, type GatekeeperObjects } from "../state.ts";
import { AUDIT_ENFORCEMENT_POINT } from "./audit.ts";
import { isExpansionTemplate } from "../expansion/template.ts";

export function isConfig(o: Obj): boolean {
  const g = gvkOf(o);
  return g.group === "config.gatekeeper.sh" && g.kind === "Config";
}

export function isGatekeeperPolicy(o: Obj): boolean {
  return isTemplate(o) || isConstraint(o) || isProvider(o) || isConfig(o) || isExpansionTemplate(o);
}

/** Sort Gatekeeper's objects out of a list of manifests (the Config named "config" wins). */
export function policyObjects(objs: Iterable<Obj>): GatekeeperObjects {
  const out = emptyObjects();
  for (const o of objs) {
    if (!isPlainObject(o)) continue;
    if (isTemplate(o)) out.templates.push(o);
    else if (isConstraint(o)) out.constraints.push(o);
    else if (isProvider(o)) out.providers.push(o);
    else if (isExpansionTemplate(o)) (out.expansionTemplates ??= []).push(o);
    else if (isConfig(o) && (out.config === null || metaOf(o).name === "config")) out.config = o;
  }
  return out;
}

/** A kind of Config.spec.sync.syncOnly: {group, version, kind}. */
export interface SyncKind {
  group: string;
  version: string;
  kind: string;
}

/** Config.spec.sync.syncOnly (entries without a kind or version are left out). */
export function syncOnly(config: Obj | null): SyncKind[] {
  const list = config && isPlainObject(config.spec) && isPlainObject(config.spec.sync) && Array.isArray(config.spec.sync.syncOnly) ? config.spec.sync.syncOnly : [];
  const out: SyncKind[] = [];
  for (const e of list) {
    if (!isPlainObject(e) || typeof e.kind !== "string" || typeof e.version !== "string" || e.kind === "" || e.version === "") continue;
    out.push({ group: typeof e.group === "string" ? e.group : "", version: e.version, kind: e.kind });
  }
  return out;
}

/** Gatekeeper's data.inventory document for these objects. */
export function inventoryDoc(objs: Iterable<Obj>): Obj {
  const doc: { cluster: Obj; namespace: Obj } = { cluster: {}, namespace: {} };
  for (const o of objs) addToInventory(doc, o);
  return doc;
}

export function addToInventory(doc: { cluster: Obj; namespace: Obj }, o: Obj): void {
  const gv = typeof o.apiVersion === "string" ? o.apiVersion : "";
  const kind = typeof o.kind === "string" ? o.kind : "";
  const meta = metaOf(o);
  const name = typeof meta.name === "string" ? meta.name : "";
  const ns = typeof meta.namespace === "string" ? meta.namespace : "";
  const root = ns === "" ? doc.cluster : ((doc.namespace[ns] ??= {}) as Obj);
  ((root[gv] ??= {})[kind] ??= {})[name] = o;
}

/** The snapshot an audit evaluates on (scoped actions at audit.gatekeeper.sh). */
export function auditSnapshot(objs: GatekeeperObjects, opts: { k8sNativeValidation?: boolean } = {}): Snapshot {
  return buildSnapshot(objs, { enforcementPoint: AUDIT_ENFORCEMENT_POINT, k8sNativeValidation: opts.k8sNativeValidation !== false });
}

/** Gatekeeper's process excluder for the audit: a Namespace by its name, other objects by their namespace. */
export function auditExclusion(snap: Snapshot): ((obj: Obj) => boolean) | undefined {
  if (snap.excluded.audit.length === 0) return undefined;
  return (obj) => {
    const g = gvkOf(obj);
    const meta = metaOf(obj);
    const ns = g.group === "" && g.kind === "Namespace" ? meta.name : meta.namespace;
    return typeof ns === "string" && ns !== "" && isNamespaceExcluded(snap, "audit", ns);
  };
}

/** Problems in the snapshot's report (templates that did not compile, invalid constraints, …), one line each. */
export function snapshotProblems(snap: Snapshot): string[] {
  const out: string[] = [];
  const r = snap.report;
  for (const list of [r.templates, r.constraints, r.providers, r.config ? [r.config] : [], r.expansionTemplates ?? []]) {
    for (const o of list) for (const e of o.errors) out.push(`${o.kind} ${JSON.stringify(o.name)}: ${e.code}: ${e.message}${e.location ? ` (${e.location})` : ""}`);
  }
  return out;
}
