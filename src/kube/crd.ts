// CustomResourceDefinitions: create or update one, wait until the API server serves it
// (`Established`), delete it.

import { KubeClient, refs, type Obj } from "./client.ts";
import { KubeError } from "./errors.ts";

function sameJSON(a: unknown, b: unknown): boolean {
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v && typeof v === "object") {
    const out: Obj = {};
    for (const k of Object.keys(v).sort()) out[k] = canonical((v as Obj)[k]);
    return out;
  }
  return v;
}

/** Does the stored CRD differ from the wanted one in spec or in the labels the wanted one sets? */
export function crdDiffers(existing: Obj, wanted: Obj): boolean {
  const labels = wanted.metadata?.labels ?? {};
  for (const [k, v] of Object.entries(labels)) if (existing.metadata?.labels?.[k] !== v) return true;
  // The server fills defaults in (conversion strategy, …): compare only what we set.
  return !subsetOf(wanted.spec, existing.spec);
}

function subsetOf(want: unknown, have: unknown): boolean {
  if (Array.isArray(want)) return Array.isArray(have) && want.length === have.length && want.every((w, i) => subsetOf(w, have[i]));
  if (want && typeof want === "object") {
    if (!have || typeof have !== "object" || Array.isArray(have)) return false;
    return Object.entries(want).every(([k, w]) => subsetOf(w, (have as Obj)[k]));
  }
  return sameJSON(want, have);
}

/** Create the CRD or update it when it differs. */
export async function applyCRD(client: KubeClient, crd: Obj): Promise<{ object: Obj; action: "created" | "updated" | "unchanged" }> {
  return client.createOrReplace(refs.crds, crd, (existing) => crdDiffers(existing, crd));
}

/** Wait until the CRD's `Established` condition is True (the API server serves its kind). */
export async function waitEstablished(client: KubeClient, name: string, timeoutMs = 30_000): Promise<Obj> {
  const until = Date.now() + timeoutMs;
  let last = "";
  for (let delay = 50; ; delay = Math.min(1000, delay * 2)) {
    const crd = await client.getOrNull(refs.crds, name);
    const conds: Obj[] = crd?.status?.conditions ?? [];
    const est = conds.find((c) => c.type === "Established");
    if (est?.status === "True") return crd!;
    const np = conds.find((c) => c.type === "NamesAccepted" && c.status === "False");
    if (np) throw new KubeError(`CustomResourceDefinition ${name}: names not accepted: ${np.message ?? np.reason ?? ""}`);
    last = crd ? `Established=${est?.status ?? "unknown"}` : "not found";
    if (Date.now() + delay > until) throw new KubeError(`CustomResourceDefinition ${name}: not established within ${timeoutMs} ms (${last})`);
    await new Promise((r) => setTimeout(r, delay));
  }
}
