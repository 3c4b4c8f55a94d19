// `portcullis mutate`: every mutator of the input applied to every other object of the input,
// offline. Namespaces of the input serve namespaceSelector (and "default" exists without one, as
// in gator); cluster-scoped objects have no Namespace, as in the webhook. Objects are mutated as
// the webhook would on an admission without an operation (gator's rule: only mutators for every
// operation apply), unless an operation is given.

import { gvkOf, metaOf, type Obj } from "../yaml.ts";
import { isMutatorObject } from "./mutators.ts";
import { MutationFailure, MutationSystem } from "./system.ts";
import { conflictMessage } from "./schema.ts";
import { cloneValue, providerCaller, type ProviderCaller } from "./externaldata.ts";
import { isProvider, parseProvider, type Provider } from "../externaldata.ts";

export interface OfflineOptions {
  /** External data providers (default: the Provider objects of the input, called over HTTPS). */
  callProvider?: ProviderCaller;
  /** "" (default), "CREATE" or "UPDATE". */
  operation?: string;
  /** Per-object deadline, ms (default 10000). */
  timeoutMs?: number;
}

export interface OfflineResult {
  /** The non-mutator objects, mutated, in input order (failed objects left out). */
  objects: Obj[];
  /** Problems in Gatekeeper's wording, one line each (ingestion, conflicts, failed objects). */
  errors: string[];
  /** How many objects a mutator changed. */
  mutatedCount: number;
  mutatorCount: number;
}

function describe(o: Obj): string {
  const g = gvkOf(o);
  const meta = metaOf(o);
  const ns = typeof meta.namespace === "string" && meta.namespace !== "" ? `${meta.namespace}/` : "";
  return `${g.kind} ${ns}${typeof meta.name === "string" ? meta.name : String(meta.generateName ?? "")}`;
}

export async function mutateOffline(objects: Obj[], opts: OfflineOptions = {}): Promise<OfflineResult> {
  const mutatorObjs = objects.filter(isMutatorObject);
  const others = objects.filter((o) => !isMutatorObject(o));
  const providers = new Map<string, Provider>();
  const errors: string[] = [];
  for (const o of others.filter(isProvider)) {
    try {
      const p = parseProvider(o);
      providers.set(p.name, p);
    } catch (e) {
      errors.push(`invalid Provider: ${(e as Error).message}`);
    }
  }
  const system = MutationSystem.build(mutatorObjs);
  for (const s of system.statuses) {
    for (const e of s.errors) if (e.code === "ingest_error") errors.push(`invalid mutator ${s.kind} ${s.name}: ${e.message}`);
  }
  const conflicts = system.conflicts();
  if (conflicts.length > 0) errors.push(`${conflictMessage(conflicts)} (none of them is applied)`);
  const namespaces = new Map<string, Obj>();
  for (const o of others) {
    const g = gvkOf(o);
    if (g.group === "" && g.kind === "Namespace" && typeof metaOf(o).name === "string") namespaces.set(metaOf(o).name as string, o);
  }
  const out: Obj[] = [];
  let mutatedCount = 0;
  const timeout = opts.timeoutMs ?? 10000;
  for (const o of others) {
    const nsName = typeof metaOf(o).namespace === "string" ? (metaOf(o).namespace as string) : "";
    const namespace = nsName === "" ? null : (namespaces.get(nsName) ?? (nsName === "default" ? { apiVersion: "v1", kind: "Namespace", metadata: { name: "default" } } : null));
    const object = cloneValue(o);
    try {
      const deadline = Date.now() + timeout;
      const r = await system.mutateResolved({ object, namespace, source: "Original", operation: opts.operation ?? "" }, { deadline, callProvider: opts.callProvider ?? providerCaller(providers, deadline) });
      if (r.mutated) mutatedCount++;
      out.push(object);
    } catch (e) {
      if (!(e instanceof MutationFailure)) {
        errors.push(`${describe(o)}: ${(e as Error).message}`);
        continue;
      }
      errors.push(`${describe(o)}: ${e.message}`);
    }
  }
  return { objects: out, errors, mutatedCount, mutatorCount: system.mutators.length };
}
