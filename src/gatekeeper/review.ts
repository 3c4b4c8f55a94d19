// input.review, built the way Gatekeeper builds it for gator.
//
// A plain object becomes an AdmissionRequest-shaped document: kind {group, version, kind} from
// the object, name and namespace (omitted when empty), object, oldObject: null, operation "",
// uid "", userInfo {}, resource {group:"", version:"", resource:""}, options: null and
// namespaceObject. An AdmissionReview object supplies its request as is (operation, userInfo,
// oldObject, dryRun, …); a DELETE request without an object reviews its oldObject.

import { isPlainObject, gvkOf, metaOf, clone, type Obj } from "./yaml.ts";

export interface ReviewOptions {
  /** Override the operation of a plain object (default "" as gator sends; "CREATE", "UPDATE", …). */
  operation?: string;
  oldObject?: Obj | null;
  userInfo?: Obj;
  dryRun?: boolean;
  uid?: string;
  /** "Original" (default) or "Generated". */
  source?: string;
  /**
   * The object's Namespace, overriding the inventory lookup (gator test passes the Namespace
   * from its inputs, or an empty one when there is none).
   */
  namespaceObject?: Obj | null;
  /**
   * The AdmissionReview's request is used as it is, not copied: the caller parsed it from JSON
   * for this review alone and holds no other reference that could change it, and it has no
   * value the copy (a JSON round trip) would normalise (see `jsonNeedsNoCopy`).
   */
  noCopy?: boolean;
}

/**
 * A JSON number token that is minus zero (`-0`, `-0.0`, `-0e3`, …), which a JSON round trip turns
 * into 0: after `:`, `[` or `,` and before `,`, `]` or `}`. Inside a string such text is only a
 * false alarm (then the request is copied, as always).
 */
const MINUS_ZERO = /[:[,]\s*-0(?:\.0*)?(?:[eE][+-]?\d+)?\s*[,\]}]/;

/**
 * Is JSON.parse(text) exactly what a copy of it would be? The copy (clone: a JSON round trip)
 * changes only minus zero into 0 for a document JSON.parse made.
 */
export function jsonNeedsNoCopy(text: string): boolean {
  return !MINUS_ZERO.test(text);
}

export interface BuiltReview {
  /** The document bound to input.review. */
  review: Obj;
  /** The object the review is about (object, or oldObject for DELETE). */
  object: Obj | null;
  oldObject: Obj | null;
  /** The namespace name used for namespace lookups ("" for cluster-scoped). */
  namespace: string;
  operation: string;
  source: string;
  isAdmissionReview: boolean;
  /** ReviewOptions.namespaceObject, when given. */
  namespaceOverride?: Obj | null;
}

export class ReviewError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ReviewError";
  }
}

export function isAdmissionReview(o: Obj): boolean {
  return o.kind === "AdmissionReview" && typeof o.apiVersion === "string" && o.apiVersion.startsWith("admission.k8s.io/");
}

const nonEmpty = (o: unknown): o is Obj => isPlainObject(o) && Object.keys(o).length > 0;

/** Build input.review for an object or an AdmissionReview. */
export function buildReview(obj: Obj, opts: ReviewOptions = {}): BuiltReview {
  if (isAdmissionReview(obj)) return fromAdmissionReview(obj, opts);
  const g = gvkOf(obj);
  const meta = metaOf(obj);
  const review: Obj = {
    kind: { group: g.group, version: g.version, kind: g.kind },
    object: obj,
    oldObject: opts.oldObject ?? null,
    operation: opts.operation ?? "",
    options: null,
    resource: { group: "", version: "", resource: "" },
    uid: opts.uid ?? "",
    userInfo: opts.userInfo ?? {},
  };
  if (typeof meta.name === "string" && meta.name !== "") review.name = meta.name;
  if (typeof meta.namespace === "string" && meta.namespace !== "") review.namespace = meta.namespace;
  if (opts.dryRun !== undefined) review.dryRun = opts.dryRun;
  return {
    review,
    object: obj,
    oldObject: opts.oldObject ?? null,
    namespace: typeof meta.namespace === "string" ? meta.namespace : "",
    operation: review.operation,
    source: opts.source ?? "Original",
    isAdmissionReview: false,
    ...(opts.namespaceObject !== undefined ? { namespaceOverride: opts.namespaceObject } : {}),
  };
}

function fromAdmissionReview(ar: Obj, opts: ReviewOptions): BuiltReview {
  const req = ar.request;
  if (!isPlainObject(req)) throw new ReviewError("AdmissionReview has no request");
  const r: Obj = opts.noCopy === true ? req : clone(req);
  let object = nonEmpty(r.object) ? r.object : null;
  const oldObject = nonEmpty(r.oldObject) ? r.oldObject : null;
  const operation = typeof r.operation === "string" ? r.operation : "";
  if (!object && oldObject && (operation === "DELETE" || operation === "")) object = oldObject;
  if (!object) throw new ReviewError("AdmissionReview request has no object to review (an object, or an oldObject for DELETE)");
  const review: Obj = {
    ...r,
    kind: isPlainObject(r.kind) ? { group: r.kind.group ?? "", version: r.kind.version ?? "", kind: r.kind.kind ?? "" } : { group: "", version: "", kind: "" },
    resource: isPlainObject(r.resource) ? { group: r.resource.group ?? "", version: r.resource.version ?? "", resource: r.resource.resource ?? "" } : { group: "", version: "", resource: "" },
    object,
    oldObject: oldObject ?? null,
    operation,
    options: r.options ?? null,
    uid: typeof r.uid === "string" ? r.uid : "",
    userInfo: isPlainObject(r.userInfo) ? r.userInfo : {},
  };
  for (const k of ["name", "namespace", "subResource", "requestSubResource"]) if (review[k] === "" || review[k] === null) delete review[k];
  const objNs = metaOf(object).namespace;
  const namespace = typeof r.namespace === "string" && r.namespace !== "" ? r.namespace : typeof objNs === "string" ? objNs : "";
  return {
    review,
    object,
    oldObject,
    namespace,
    operation,
    source: opts.source ?? "Original",
    isAdmissionReview: true,
    ...(opts.namespaceObject !== undefined ? { namespaceOverride: opts.namespaceObject } : {}),
  };
}
