// Status as Gatekeeper writes it, one `status.byPod[]` entry per controller pod, keyed by `id`
// (the pod's name). Templates: `status.created` and byPod {id, observedGeneration, operations,
// templateUID, errors[{code, message, location}]}; constraints: byPod {id, constraintUID,
// enforced, observedGeneration, operations, errors[]}. Each pod replaces only its own entry;
// the write carries the object's resourceVersion, so two pods writing at once conflict and
// retry instead of overwriting each other.

import { TemplateError } from "../template.ts";
import { ConstraintError } from "../constraint.ts";
import { KubeClient, isConflict, isNotFound, type ResourceRef } from "../../kube/index.ts";
import { isPlainObject, type Obj } from "../yaml.ts";

export interface StatusError {
  code: string;
  message: string;
  location?: string;
}

interface RegoDetail {
  code: string;
  message: string;
  location?: { file: string; row: number; col: number };
}

/** Gatekeeper's ErrCreateCode/ErrIngestCode etc. */
export const ERR_CREATE = "create_error";
export const ERR_UPDATE = "update_error";
export const ERR_INGEST = "ingest_error";

/**
 * A template's status errors from compileTemplate's failure: Rego's own errors (code, message,
 * file:row:col) for a compile failure; `create_error` for a template Gatekeeper refuses before
 * compiling (name, kind, targets); `ingest_error` for other Rego checks.
 */
export function templateStatusErrors(e: unknown): StatusError[] {
  const msg = e instanceof Error ? e.message : String(e);
  if (e instanceof TemplateError) {
    const details = (e as TemplateError & { regoErrors?: RegoDetail[] }).regoErrors ?? [];
    if (e.reason === "compile" && details.length > 0) {
      return dedupe(details.map((d) => ({ code: d.code, message: d.message, ...(d.location ? { location: `${d.location.file}:${d.location.row}:${d.location.col}` } : {}) })));
    }
    if (e.reason === "compile") {
      // Without the structured errors: each "file:row: code: message" line of the text.
      const out: StatusError[] = [];
      for (const line of msg.split("\n")) {
        const m = /(?:^|: )(template|lib_\d+):(\d+): ([a-z_]+): (.*)$/.exec(line.trim());
        if (m) out.push({ code: m[3], message: m[4], location: `${m[1]}:${m[2]}` });
      }
      if (out.length) return dedupe(out);
      return [{ code: ERR_INGEST, message: `Could not ingest Rego: ${msg}` }];
    }
    if (e.field && /rego|libs|code/.test(e.field)) return [{ code: ERR_INGEST, message: `Could not ingest Rego: ${msg}` }];
  }
  return [{ code: ERR_CREATE, message: msg }];
}

/**
 * One error per position and code: the parser may report the same failure twice, once with
 * detail ("unexpected } token: expected \",\" or \"]\"") and once without; OPA reports it once.
 */
function dedupe(errs: StatusError[]): StatusError[] {
  const out: StatusError[] = [];
  for (const e of errs) {
    const same = out.find((o) => o.code === e.code && o.location === e.location && (o.message.startsWith(e.message) || e.message.startsWith(o.message)));
    if (!same) out.push({ ...e });
    else if (e.message.length > same.message.length) same.message = e.message;
  }
  return out;
}

export function constraintStatusErrors(e: unknown): StatusError[] {
  const msg = e instanceof Error ? e.message : String(e);
  if (e instanceof ConstraintError) return [{ code: e.reason === "schema" ? "schema_error" : "invalid_constraint", message: msg }];
  return [{ code: "error", message: msg }];
}

function sameJSON(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * Replace this pod's byPod entry (and set `extra` top-level status fields) unless they already
 * say the same. `current` is the object as last seen; conflicts re-read it. Returns false when
 * the object is gone.
 */
export async function writePodStatus(client: KubeClient, ref: ResourceRef, current: Obj, entry: Obj, extra: Obj = {}): Promise<boolean> {
  let obj = current;
  const name = String(current.metadata?.name);
  for (let attempt = 0; ; attempt++) {
    const status = isPlainObject(obj.status) ? obj.status : {};
    const byPod: Obj[] = Array.isArray(status.byPod) ? status.byPod.filter((p: unknown) => isPlainObject(p)) : [];
    const mine = byPod.find((p) => p.id === entry.id);
    const unchanged = sameJSON(mine, entry) && Object.entries(extra).every(([k, v]) => sameJSON(status[k], v));
    if (unchanged) return true;
    const next = [...byPod.filter((p) => p.id !== entry.id), entry].sort((a, b) => String(a.id).localeCompare(String(b.id)));
    try {
      await client.patch(ref, name, { metadata: { resourceVersion: obj.metadata?.resourceVersion }, status: { ...extra, byPod: next } }, { subresource: "status" });
      return true;
    } catch (e) {
      if (isNotFound(e)) return false;
      if (!isConflict(e) || attempt >= 5) throw e;
      const fresh = await client.getOrNull(ref, name);
      if (!fresh) return false;
      obj = fresh;
    }
  }
}
