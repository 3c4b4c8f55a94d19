// Gatekeeper's mutating webhook (`/v1/mutate`) as pure logic: an AdmissionReview in, the
// AdmissionReview to answer out, with Gatekeeper's rules:
//
// - requests from the controller's own service account are allowed ("Gatekeeper does not
//   self-manage"); operations other than CREATE and UPDATE are allowed ("Mutating only on create
//   or update"); Gatekeeper's own resources are not mutated ("Not mutating gatekeeper
//   resources") — none of these is counted;
// - a namespace the Config excludes from `mutation-webhook` is allowed ("Namespace is set to be
//   ignored by Gatekeeper config", counted as `skip`);
// - the object is mutated with `request.namespace` as its namespace (a Namespace object is its
//   own namespace; other objects get their Namespace from the snapshot; an unknown Namespace
//   leaves namespaceSelector unanswerable, which fails the request as Gatekeeper's match error);
// - an object no mutator changed is allowed ("Resource was not mutated"); a changed one is
//   allowed with a base64 JSONPatch (`patchType: JSONPatch`); a mutation error is
//   controller-runtime's `Errored(500, …)` with Gatekeeper's text. All three count as `success`,
//   as Gatekeeper counts them.

import { isPlainObject, type Obj } from "../yaml.ts";
import { MutationDeadlineError, MutationFailure, type MutationSystem } from "./system.ts";
import { createPatch } from "./patch.ts";
import { cloneValue, type ProviderCaller, type ResolveLog } from "./externaldata.ts";

/** mutation_status of gatekeeper_mutation_request_count / _duration_seconds. */
export type MutationStatus = "success" | "skip";

export interface MutationOutcome {
  review: Obj;
  /** null: Gatekeeper does not count the request. */
  metric: { status: MutationStatus } | null;
  /** Something to log (a failed mutation). */
  error?: string;
  /** The mutators that changed the object. */
  applied?: string[];
}

export interface MutationContext {
  mutation: MutationSystem;
  namespaces: ReadonlyMap<string, Obj>;
  /** Is the namespace excluded from mutation-webhook by the Config? */
  excluded(namespace: string): boolean;
  /** External data providers (mutators with externalData). */
  callProvider?: ProviderCaller;
  /** Where externalData failure-policy fallbacks are logged. */
  log?: ResolveLog;
}

export interface MutationWebhookOptions {
  serviceAccount: string;
  /** API groups whose objects are never mutated (Gatekeeper's own). */
  gatekeeperGroups: ReadonlySet<string>;
  deadline?: number;
}

interface Parsed {
  apiVersion: string;
  request: Obj;
  uid: string;
}

function out(apiVersion: string | null, response: Obj): Obj {
  return apiVersion ? { kind: "AdmissionReview", apiVersion, response } : { response };
}

const allowed = (uid: string, message: string): Obj => ({ uid, allowed: true, status: { metadata: {}, message, code: 200 } });

/** controller-runtime's answer to a request it cannot decode. */
function bad(message: string): MutationOutcome {
  return { review: out(null, { uid: "", allowed: false, status: { metadata: {}, message, code: 400 } }), metric: null, error: message };
}

function parse(body: unknown): Parsed | MutationOutcome {
  if (!isPlainObject(body)) return bad("couldn't decode the request: the body is not a JSON object");
  const v = body.apiVersion;
  if (body.kind !== "AdmissionReview" || (v !== "admission.k8s.io/v1" && v !== "admission.k8s.io/v1beta1")) {
    return bad(`couldn't decode the request: want kind AdmissionReview of admission.k8s.io/v1 or v1beta1, got apiVersion ${JSON.stringify(v ?? "")} kind ${JSON.stringify(body.kind ?? "")}`);
  }
  if (!isPlainObject(body.request)) return bad("couldn't decode the request: the AdmissionReview has no request");
  return { apiVersion: v, request: body.request, uid: typeof body.request.uid === "string" ? body.request.uid : "" };
}

/** /v1/mutate. Throws MutationDeadlineError past `opts.deadline`. */
export async function mutateReview(ctx: MutationContext, body: unknown, opts: MutationWebhookOptions): Promise<MutationOutcome> {
  const p = parse(body);
  if (!("request" in p)) return p;
  const { apiVersion, request: req, uid } = p;
  const answer = (response: Obj, metric: MutationOutcome["metric"], extra: Partial<MutationOutcome> = {}): MutationOutcome => ({ review: out(apiVersion, response), metric, ...extra });

  const username = isPlainObject(req.userInfo) && typeof req.userInfo.username === "string" ? req.userInfo.username : "";
  if (opts.serviceAccount !== "" && username === opts.serviceAccount) return answer(allowed(uid, "Gatekeeper does not self-manage"), null);
  if (req.operation !== "CREATE" && req.operation !== "UPDATE") return answer(allowed(uid, "Mutating only on create or update"), null);
  const kind = isPlainObject(req.kind) ? req.kind : {};
  if (opts.gatekeeperGroups.has(String(kind.group ?? ""))) return answer(allowed(uid, "Not mutating gatekeeper resources"), null);

  const isNamespace = String(kind.group ?? "") === "" && kind.kind === "Namespace";
  const obj = req.object;
  const errored = (message: string) => answer({ uid, allowed: false, status: { metadata: {}, message, code: 500 } }, { status: "success" }, { error: message });
  if (!isPlainObject(obj)) return errored("the request carries no object to mutate");
  const reqNs = isNamespace ? "" : typeof req.namespace === "string" ? req.namespace : "";
  const checkNs = isNamespace ? String(isPlainObject(obj.metadata) ? (obj.metadata.name ?? "") : "") : reqNs;
  if (checkNs !== "" && ctx.excluded(checkNs)) return answer(allowed(uid, "Namespace is set to be ignored by Gatekeeper config"), { status: "skip" });

  const namespace = isNamespace ? obj : reqNs !== "" ? (ctx.namespaces.get(reqNs) ?? null) : null;
  const object = cloneValue(obj);
  if (!isPlainObject(object.metadata)) object.metadata = {};
  const hadNs = Object.hasOwn(object.metadata, "namespace");
  const oldNs = object.metadata.namespace;
  if (reqNs === "") delete object.metadata.namespace;
  else object.metadata.namespace = reqNs;
  let result;
  try {
    result = await ctx.mutation.mutateResolved(
      { object, namespace, source: "Original", operation: req.operation, username },
      { deadline: opts.deadline, ...(ctx.callProvider ? { callProvider: ctx.callProvider } : {}), ...(ctx.log ? { log: ctx.log } : {}) },
    );
  } catch (e) {
    if (e instanceof MutationDeadlineError) throw e;
    return errored(e instanceof MutationFailure ? e.message : `mutation failed: ${(e as Error).message}`);
  }
  if (!result.mutated) return answer(allowed(uid, "Resource was not mutated"), { status: "success" });
  if (hadNs) object.metadata.namespace = oldNs;
  else delete object.metadata.namespace;
  const patch = createPatch(obj, object);
  if (patch.length === 0) return answer({ uid, allowed: true }, { status: "success" }, { applied: result.applied });
  return answer(
    { uid, allowed: true, patch: Buffer.from(JSON.stringify(patch)).toString("base64"), patchType: "JSONPatch" },
    { status: "success" },
    { applied: result.applied },
  );
}
