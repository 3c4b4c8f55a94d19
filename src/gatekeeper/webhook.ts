// Gatekeeper's validating webhook as pure logic: an AdmissionReview (admission.k8s.io/v1 or
// v1beta1) in, the AdmissionReview to answer out, with Gatekeeper's semantics:
//
// - requests from the controller's own service account are allowed ("Gatekeeper does not
//   self-manage") and not counted;
// - Gatekeeper's own resources are validated first: a ConstraintTemplate that does not compile
//   and a constraint whose parameters fail its template's schema are refused (422, Gatekeeper's
//   wording: `schema validation failed: …`, `invalid Constraint: unknown fields: …`), as are a
//   Config not named `config` and a Provider Gatekeeper could not load;
// - a namespace the Config excludes from `webhook` is allowed ("Namespace is set to be ignored by
//   Gatekeeper config");
// - the review runs at the `validation.gatekeeper.sh` enforcement point: `deny` (and scoped deny)
//   results refuse the request with 403 and the `[constraint-name] msg` lines joined by "\n" in
//   Gatekeeper's (action, message) order; `warn` results become `warnings`; `dryrun` never
//   refuses; an allowed answer with warnings carries code 299; a Rego runtime or match error is a
//   violation of that constraint; DELETE reviews oldObject; UPDATE matches object or oldObject;
// - a review error is answered as controller-runtime's `admission.Errored(500, …)`; a review past
//   its deadline throws DeadlineError (the HTTP layer answers so the API server's failurePolicy
//   applies, as when Gatekeeper's evaluation is cancelled).
//
// `/v1/admitlabel` (admitLabel) refuses the `admission.gatekeeper.sh/ignore` label on a Namespace
// that the --exempt-namespace[-prefix|-suffix] flags do not exempt.

import { buildReview, ReviewError } from "./review.ts";
import { DeadlineError, humanMessage, sortViolations, type EvaluateOptions, type Violation } from "./client.ts";
import { buildConstraint, ConstraintError, isConstraint, ENFORCEMENT_ACTIONS } from "./constraint.ts";
import { compileTemplate, TemplateError } from "./template.ts";
import { parseProvider, isProvider, EXTERNAL_DATA_BUILTINS } from "./externaldata.ts";
import { isNamespaceExcluded, type Snapshot } from "./snapshot.ts";
import { isPlainObject, clone, type Obj } from "./yaml.ts";
import { parseExpansionTemplate, validateExpansionTemplate } from "./expansion/template.ts";
import { reviewResultants } from "./expansion/review.ts";
import type { Resultant } from "./expansion/system.ts";

export { DeadlineError };

/** The label that keeps the API server from calling the webhook for a namespace. */
export const IGNORE_LABEL = "admission.gatekeeper.sh/ignore";
/** Gatekeeper's default service account: system:serviceaccount:<POD_NAMESPACE or gatekeeper-system>:gatekeeper-admin. */
export function defaultServiceAccount(podNamespace = "gatekeeper-system", name = "gatekeeper-admin"): string {
  return `system:serviceaccount:${podNamespace}:${name}`;
}

/** Largest AdmissionReview body accepted (controller-runtime's limit: two 3 MB objects and 1 MB more). */
export const MAX_REQUEST_BYTES = 7 * 1024 * 1024;

/** The API groups of Gatekeeper's own resources. */
export const GATEKEEPER_GROUPS: ReadonlySet<string> = new Set([
  "templates.gatekeeper.sh",
  "constraints.gatekeeper.sh",
  "mutations.gatekeeper.sh",
  "config.gatekeeper.sh",
  "externaldata.gatekeeper.sh",
  "expansion.gatekeeper.sh",
  "status.gatekeeper.sh",
]);

export interface WebhookOptions {
  /** Username of the controller's own service account: its requests are allowed unreviewed. */
  serviceAccount: string;
  /** --exempt-namespace, --exempt-namespace-prefix, --exempt-namespace-suffix (for /v1/admitlabel). */
  exemptNamespaces?: string[];
  exemptNamespacePrefixes?: string[];
  exemptNamespaceSuffixes?: string[];
}

/** admission_status of gatekeeper_validation_request_count. */
export type AdmissionStatus = "allow" | "deny" | "error";

export interface ConstraintStat {
  kind: string;
  name: string;
  seconds: number;
  violations: number;
}

export interface AdmissionOutcome {
  /** The AdmissionReview to answer with (HTTP 200). */
  review: Obj;
  /** For gatekeeper_validation_request_count/_duration_seconds; null when Gatekeeper does not count the request. */
  metric: { status: AdmissionStatus; dryRun: boolean } | null;
  /** Per-constraint evaluation time and violations (when asked for). */
  constraints?: ConstraintStat[];
  /** Something to log: review errors and refused Gatekeeper resources. */
  error?: string;
}

interface Status {
  code: number;
  message?: string;
  reason?: string;
}

interface Response {
  uid: string;
  allowed: boolean;
  status?: Status;
  warnings?: string[];
}

/** The answer in Go's field order (AdmissionReview{kind, apiVersion, response{uid, allowed, status{metadata, message, reason, code}, warnings}}). */
function reviewOut(apiVersion: string | null, r: Response): Obj {
  const status = r.status ? { metadata: {}, ...(r.status.message ? { message: r.status.message } : {}), ...(r.status.reason ? { reason: r.status.reason } : {}), code: r.status.code } : undefined;
  const response: Obj = { uid: r.uid, allowed: r.allowed };
  if (status) response.status = status;
  if (r.warnings && r.warnings.length) response.warnings = r.warnings;
  return apiVersion ? { kind: "AdmissionReview", apiVersion, response } : { response };
}

const allowed = (uid: string, message?: string): Response => ({ uid, allowed: true, status: { code: 200, ...(message ? { message } : {}) } });
const errored = (uid: string, code: number, message: string): Response => ({ uid, allowed: false, status: { code, message } });

interface Parsed {
  apiVersion: string;
  request: Obj;
  uid: string;
}

/** controller-runtime's answer to a request it cannot decode: Errored(400), written without a kind. */
export function badRequest(message: string, code = 400): AdmissionOutcome {
  return { review: reviewOut(null, errored("", code, message)), metric: null, error: message };
}

/** Read an AdmissionReview; a malformed one is controller-runtime's 400 answer (without a kind, as it writes it). */
function parse(body: unknown): Parsed | AdmissionOutcome {
  const bad = (message: string): AdmissionOutcome => badRequest(message);
  if (!isPlainObject(body)) return bad("couldn't decode the request: the body is not a JSON object");
  const v = body.apiVersion;
  if (body.kind !== "AdmissionReview" || (v !== "admission.k8s.io/v1" && v !== "admission.k8s.io/v1beta1")) {
    return bad(`couldn't decode the request: want kind AdmissionReview of admission.k8s.io/v1 or v1beta1, got apiVersion ${JSON.stringify(v ?? "")} kind ${JSON.stringify(body.kind ?? "")}`);
  }
  if (!isPlainObject(body.request)) return bad("couldn't decode the request: the AdmissionReview has no request");
  const uid = typeof body.request.uid === "string" ? body.request.uid : "";
  return { apiVersion: v, request: body.request, uid };
}

const nonEmpty = (o: unknown): o is Obj => isPlainObject(o) && Object.keys(o).length > 0;

/** The object a request is about: oldObject for DELETE (Gatekeeper's getReqObject). */
function requestObject(req: Obj): Obj | null {
  const o = req.operation === "DELETE" ? req.oldObject : req.object;
  return nonEmpty(o) ? o : null;
}

/** The generator Gatekeeper expands: the request's object with the request's namespace and kind. */
function generatorObject(obj: Obj, req: Obj, namespace: string): Obj {
  const g = clone(obj);
  if (!isPlainObject(g.metadata)) g.metadata = {};
  if (namespace === "") delete g.metadata.namespace;
  else g.metadata.namespace = namespace;
  const k = isPlainObject(req.kind) ? req.kind : {};
  const group = typeof k.group === "string" ? k.group : "";
  const version = typeof k.version === "string" ? k.version : "";
  g.apiVersion = group === "" ? version : `${group}/${version}`;
  g.kind = typeof k.kind === "string" ? k.kind : "";
  return g;
}

/** The `namespace` of a request: "" for Namespaces (Gatekeeper coerces server-side apply requests so). */
function isNamespaceRequest(req: Obj): boolean {
  return isPlainObject(req.kind) && (req.kind.group ?? "") === "" && req.kind.kind === "Namespace";
}

/**
 * Validate Gatekeeper's own resources. Returns the error answer, or null to go on reviewing.
 * `userError` is Gatekeeper's distinction: 422 for a resource the user got wrong, 500 otherwise.
 */
function validateGatekeeperResource(snap: Snapshot, req: Obj): { code: number; message: string } | null {
  const kind = isPlainObject(req.kind) ? req.kind : {};
  const group = String(kind.group ?? "");
  if (!GATEKEEPER_GROUPS.has(group)) return null;
  const name = typeof req.name === "string" ? req.name : "";
  if (req.operation === "DELETE" && name === "") return null;
  if (group !== "status.gatekeeper.sh" && name.length > 63) return { code: 500, message: `resource cannot have metadata.name larger than 63 char; length: ${name.length}` };
  if (req.operation === "DELETE") return null; // the object is going away: nothing to load
  const obj = requestObject(req);
  if (!obj) return { code: 500, message: "the request carries no object to validate" };
  if (group === "templates.gatekeeper.sh" && kind.kind === "ConstraintTemplate") {
    for (const t of Array.isArray(obj.spec?.targets) ? obj.spec.targets : []) {
      const ops = isPlainObject(t) && Array.isArray(t.operations) ? t.operations : null;
      if (ops && ops.includes("*") && ops.length > 1) return { code: 422, message: "if '*' is present, must not specify other operations" };
    }
    try {
      compileTemplate(obj, undefined, EXTERNAL_DATA_BUILTINS);
    } catch (e) {
      // A template no enabled driver handles is left to the status to report, as Gatekeeper does
      // (CEL-only templates are evaluated: the CEL driver is on here).
      if (e instanceof TemplateError && e.reason === "unsupported") return null;
      return { code: 422, message: (e as Error).message };
    }
    return null;
  }
  if (group === "constraints.gatekeeper.sh") {
    if (!isConstraint(obj)) return { code: 500, message: `invalid Constraint: apiVersion ${JSON.stringify(obj.apiVersion ?? "")}` };
    const t = snap.client.templates.get(String(obj.kind));
    if (!t) return { code: 422, message: `missing ConstraintTemplate: template ${JSON.stringify(String(obj.kind).toLowerCase())} not found` };
    const cname = isPlainObject(obj.metadata) && typeof obj.metadata.name === "string" ? obj.metadata.name : "";
    if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(cname) || cname.length > 253) {
      return { code: 422, message: `invalid Constraint: invalid name: "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"` };
    }
    try {
      buildConstraint(obj, t);
    } catch (e) {
      if (e instanceof ConstraintError && e.reason === "schema") {
        const msgs = e.fieldErrors.map((f) => f.message);
        return { code: 422, message: `schema validation failed: ${msgs.length === 1 ? msgs[0] : `[${msgs.join(", ")}]`}` };
      }
      if (e instanceof ConstraintError && e.reason === "unknown-fields") return { code: 422, message: `invalid Constraint: ${e.message.replace(/^.*?unknown fields:/, "unknown fields:")}` };
      return { code: 422, message: (e as Error).message };
    }
    const action = obj.spec?.enforcementAction;
    if (typeof action === "string" && action !== "" && !ENFORCEMENT_ACTIONS.includes(action)) {
      return { code: 500, message: `unrecognized enforcementAction: ${JSON.stringify(action)} is not within the supported list [${ENFORCEMENT_ACTIONS.join(" ")}]` };
    }
    return null;
  }
  if (group === "expansion.gatekeeper.sh" && kind.kind === "ExpansionTemplate") {
    try {
      validateExpansionTemplate(parseExpansionTemplate(obj));
    } catch (e) {
      // conversion errors are internal (500) in Gatekeeper, validation errors the user's (422)
      return { code: /^cannot restore /.test((e as Error).message) ? 500 : 422, message: (e as Error).message };
    }
    return null;
  }
  if (group === "config.gatekeeper.sh" && kind.kind === "Config") {
    return name === "config" ? null : { code: 422, message: "config resource must have name 'config'" };
  }
  if (group === "externaldata.gatekeeper.sh" && kind.kind === "Provider" && isProvider(obj)) {
    try {
      parseProvider(obj);
    } catch (e) {
      return { code: 422, message: (e as Error).message };
    }
  }
  return null;
}

/** Gatekeeper's deny and warn lines from the review's results (already in (action, msg) order). */
export function validationMessages(results: Violation[]): { deny: string[]; warn: string[] } {
  const deny: string[] = [];
  const warn: string[] = [];
  for (const v of results) {
    const a = v.enforcementAction.toLowerCase();
    const actions = a === "scoped" ? (v.scopedActions ?? []).filter((x) => x === "deny" || x === "warn" || x === "dryrun") : [a];
    for (const act of actions) {
      if (act === "deny") deny.push(humanMessage(v));
      else if (act === "warn") warn.push(humanMessage(v));
    }
  }
  return { deny, warn };
}

/**
 * /v1/admit: review an AdmissionReview against a snapshot. Throws DeadlineError past `eo.deadline`.
 * With `eo.bodyOwned` the body is reviewed without a copy of its request (the caller parsed it
 * from JSON text that `jsonNeedsNoCopy` accepts, and keeps no other reference to it).
 */
export async function admit(snap: Snapshot, body: unknown, opts: WebhookOptions, eo: EvaluateOptions & { perConstraint?: boolean; bodyOwned?: boolean } = {}): Promise<AdmissionOutcome> {
  const p = parse(body);
  if (!("request" in p)) return p;
  const { apiVersion, request: req, uid } = p;
  const answer = (r: Response, metric: AdmissionOutcome["metric"], extra: Partial<AdmissionOutcome> = {}): AdmissionOutcome => ({ review: reviewOut(apiVersion, r), metric, ...extra });

  const username = isPlainObject(req.userInfo) && typeof req.userInfo.username === "string" ? req.userInfo.username : "";
  if (opts.serviceAccount !== "" && username === opts.serviceAccount) return answer(allowed(uid, "Gatekeeper does not self-manage"), null);

  const invalid = validateGatekeeperResource(snap, req);
  if (invalid) return answer(errored(uid, invalid.code, invalid.message), null, { error: invalid.message });

  const dryRun = req.dryRun === true;
  const obj = requestObject(req);
  if (obj) {
    const ns = isNamespaceRequest(req) ? String(obj.metadata?.name ?? "") : typeof req.namespace === "string" ? req.namespace : "";
    if (ns !== "" && isNamespaceExcluded(snap, "webhook", ns)) return answer(allowed(uid, "Namespace is set to be ignored by Gatekeeper config"), { status: "allow", dryRun });
  }

  const stats: ConstraintStat[] = [];
  const reqNamespace = isNamespaceRequest(req) ? "" : typeof req.namespace === "string" ? req.namespace : "";
  // As Gatekeeper: the generator is expanded first (its resultants carry the request's
  // namespace, and the Namespace object when the request has one).
  let resultants: Resultant[] = [];
  if (snap.expansion && obj) {
    try {
      resultants = await snap.expansion.expand(generatorObject(obj, req, reqNamespace), reqNamespace === "" ? null : snap.client.namespace(reqNamespace) ?? { metadata: { name: reqNamespace } }, username);
    } catch (e) {
      const message = `unable to expand object: ${(e as Error).message}`;
      return answer(errored(uid, 500, message), { status: "error", dryRun }, { error: message });
    }
  }
  let results: Violation[];
  const evalOpts: EvaluateOptions = {
    deadline: eo.deadline,
    ...(eo.cancel ? { cancel: eo.cancel } : {}),
    ...(eo.offline ? { offline: true } : {}),
    ...(eo.perConstraint ? { onConstraint: (c, seconds, violations) => stats.push({ kind: c.kind, name: c.name, seconds, violations }) } : {}),
  };
  try {
    const review = isNamespaceRequest(req) ? { ...(body as Obj), request: { ...req, namespace: "" } } : (body as Obj);
    // `bodyOwned`: the caller parsed the body for this review alone (ReviewOptions.noCopy).
    const built = buildReview(review, eo.bodyOwned === true ? { noCopy: true } : {});
    const res = await snap.client.reviewBuilt(built, evalOpts);
    results = res.results;
  } catch (e) {
    if (e instanceof DeadlineError) throw e;
    const message = `error reviewing resource ${typeof req.name === "string" ? req.name : ""}: ${e instanceof ReviewError || e instanceof Error ? e.message : String(e)}`;
    return answer(errored(uid, 500, message), { status: "error", dryRun }, { error: message });
  }
  if (resultants.length) {
    try {
      const operation = typeof req.operation === "string" ? req.operation : "";
      // Gatekeeper reviews a resultant with the request's operation (and no user or old object).
      const implied = await reviewResultants(snap.client, resultants, obj, { operation }, evalOpts);
      results = sortViolations([...results, ...implied]);
    } catch (e) {
      if (e instanceof DeadlineError) throw e;
      const message = `error reviewing resultant resource: ${(e as Error).message}`;
      return answer(errored(uid, 500, message), { status: "error", dryRun }, { error: message });
    }
  }
  const { deny, warn } = validationMessages(results);
  const extra = eo.perConstraint ? { constraints: stats } : {};
  if (deny.length > 0) {
    return answer({ uid, allowed: false, status: { code: 403, reason: "Forbidden", message: deny.join("\n") }, warnings: warn }, { status: "deny", dryRun }, extra);
  }
  return answer({ uid, allowed: true, status: { code: warn.length > 0 ? 299 : 200 }, warnings: warn }, { status: "allow", dryRun }, extra);
}

/** /v1/admitlabel: only exempt namespaces may carry the admission.gatekeeper.sh/ignore label. */
export function admitLabel(body: unknown, opts: WebhookOptions): AdmissionOutcome {
  const p = parse(body);
  if (!("request" in p)) return p;
  const { apiVersion, request: req, uid } = p;
  const answer = (r: Response): AdmissionOutcome => ({ review: reviewOut(apiVersion, r), metric: null });
  if (req.operation === "DELETE") return answer(allowed(uid, "Delete is always allowed"));
  if (!isNamespaceRequest(req)) return answer(allowed(uid, "Not a namespace"));
  const obj = req.object;
  if (!isPlainObject(obj)) return answer({ uid, allowed: false, status: { code: 500, reason: "Forbidden", message: "while deserializing resource: the request has no object" } });
  const name = isPlainObject(obj.metadata) && typeof obj.metadata.name === "string" ? obj.metadata.name : "";
  const exempt =
    (opts.exemptNamespaces ?? []).includes(name) || (opts.exemptNamespacePrefixes ?? []).some((p) => name.startsWith(p)) || (opts.exemptNamespaceSuffixes ?? []).some((s) => name.endsWith(s));
  if (exempt) return answer(allowed(uid, `Namespace ${name} is allowed to set ${IGNORE_LABEL}`));
  const labels = isPlainObject(obj.metadata) && isPlainObject(obj.metadata.labels) ? obj.metadata.labels : {};
  if (Object.hasOwn(labels, IGNORE_LABEL)) return answer({ uid, allowed: false, status: { code: 403, reason: "Forbidden", message: `Only exempt namespace can have the ${IGNORE_LABEL} label` } });
  return answer(allowed(uid, `Namespace is not setting the ${IGNORE_LABEL} label`));
}
