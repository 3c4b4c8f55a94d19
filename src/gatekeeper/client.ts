// The Gatekeeper client: templates, constraints and inventory in; reviews out.
//
// Constraints are indexed by the kinds their match can select, so a review evaluates only the
// constraints that can apply. Each matching constraint's template is queried for
// `violation[r]` with input {review, parameters}; every result with a string `msg` becomes a
// violation; a Rego runtime error becomes one violation of that constraint carrying the error
// text, and so does a match error (a namespaceSelector on an object whose Namespace is unknown).

import { RegoError, formatError } from "../index.ts";
import { isPlainObject, gvkOf, metaOf, clone, type Obj } from "./yaml.ts";
import type { BuiltinTable } from "../rego/builtin.ts";
import { PreparedInput } from "../rego/engine.ts";
import { compileTemplate, TemplateError, isTemplate, TARGET, type CompiledTemplate, type TemplateOptions } from "./template.ts";
import { evaluateCel, CelStopped } from "./cel/driver.ts";
import { buildConstraint, ConstraintError, isConstraint, GATOR_ENFORCEMENT_POINT, type Constraint } from "./constraint.ts";
import { matches, matchKinds, isNamespaceObject } from "./match.ts";
import { buildReview, ReviewError, type ReviewOptions, type BuiltReview } from "./review.ts";
import { parseProvider, EXTERNAL_DATA_BUILTINS, GATEKEEPER_BUILTINS, isProvider, type ExternalDataState, type Provider } from "./externaldata.ts";

/** The most candidate lists a client keeps (one per combination of reviewed kinds). */
const CANDIDATE_LISTS = 1024;

export interface Violation {
  target: string;
  msg: string;
  details: unknown;
  /** The constraint object (with defaults applied). */
  constraint: Obj;
  constraintName: string;
  constraintKind: string;
  enforcementAction: string;
  /** For enforcementAction "scoped": the actions that apply at this enforcement point. */
  scopedActions?: string[];
  /** The object the review is about. */
  object: Obj | null;
  /** True when the violation reports an evaluation or match error rather than a policy result. */
  error?: boolean;
}

/** Options of one review (the webhook's deadline and per-constraint timing). */
export interface EvaluateOptions {
  /** Stop evaluating at this time (ms since the epoch): a DeadlineError, never a violation. */
  deadline?: number;
  /** The caller went away once element 0 is non-zero (a worker pool's flag): a DeadlineError too. */
  cancel?: Int32Array;
  /** Called after each constraint is evaluated (seconds of evaluation, violations found). */
  onConstraint?: (c: Constraint, seconds: number, violations: number) => void;
  /** No external data: `external_data` calls fail as for an undefined provider (warm-up reviews, warmup.ts). */
  offline?: boolean;
}

/** The review's deadline passed: Gatekeeper's eval_cancel_error (the caller's failurePolicy applies). */
export class DeadlineError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DeadlineError";
  }
}

export interface ReviewResponse {
  review: Obj;
  results: Violation[];
}

export interface ClientOptions {
  /** Enforcement point for scoped enforcement actions (default gator.gatekeeper.sh). */
  enforcementPoint?: string;
  /** Put the Namespace object from the inventory in input.review.namespaceObject (default true). */
  namespaceObject?: boolean;
  /**
   * Enable Gatekeeper's `external_data` builtin (also enabled by adding a Provider). With
   * `allowHTTP`, providers may use http:// URLs (for tests; Gatekeeper requires https).
   */
  externalData?: boolean | { allowHTTP?: boolean };
  /** Evaluate templates' K8sNativeValidation (CEL) code when present (default true), as Gatekeeper's --enable-k8s-native-validation. */
  k8sNativeValidation?: boolean;
  /** failurePolicy of CEL code that gives none (default "Fail"), as --default-k8s-native-validation-failure-policy. */
  celFailurePolicy?: TemplateOptions["celFailurePolicy"];
  /** Give CEL code the object's Namespace as namespaceObject (default true; gator passes none: false). */
  celNamespaceObject?: boolean;
}

/** `[name] msg`, as Gatekeeper's webhook prints a denial. */
export function humanMessage(v: Violation): string {
  return `[${v.constraintName}] ${v.msg}`;
}

/** Gator's order: by enforcement action, then message (stable otherwise). */
export function sortViolations(vs: Violation[]): Violation[] {
  return vs
    .map((v, i) => ({ v, i }))
    .sort((a, b) => cmp(a.v.enforcementAction, b.v.enforcementAction) || cmp(a.v.msg, b.v.msg) || a.i - b.i)
    .map((x) => x.v);
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function isDenyAction(v: Violation): boolean {
  const a = v.enforcementAction.toLowerCase();
  return a === "deny" || (a === "scoped" && (v.scopedActions ?? []).includes("deny"));
}
export { isDenyAction };

/** A document converted for Rego queries, or null when it cannot be (the query then reports why itself). */
function preparedOrNull(x: unknown): PreparedInput | null {
  try {
    return PreparedInput.of(x);
  } catch {
    return null;
  }
}

/** One review as its Rego constraints read it: input.review converted once (undefined: not yet; null: not convertible). */
interface RegoReview {
  built: BuiltReview;
  review: PreparedInput | null | undefined;
}

export class Client {
  readonly templates = new Map<string, CompiledTemplate>(); // by kind
  private constraintsByKey = new Map<string, Constraint>(); // kind/name
  private index = new Map<string, Constraint[]>(); // "group/kind" (either may be "*")
  private anyKind: Constraint[] = [];
  private order = new Map<Constraint, number>();
  private indexDirty = false;
  /** candidates() lists by the reviewed objects' (group, kind)s. */
  private candidateLists = new Map<string, Constraint[]>();
  /** Each constraint's parameters as a Rego input member (null: not convertible), made on first use. */
  private preparedParameters = new WeakMap<Constraint, PreparedInput | null>();
  private inventory: { cluster: Obj; namespace: Obj } = { cluster: {}, namespace: {} };
  private inventoryVersion = 0;
  /** The cluster's Namespaces (setNamespaces); when set, namespace lookups read it instead of data.inventory. */
  private namespaces: Map<string, Obj> | null = null;
  private opts: Required<Omit<ClientOptions, "externalData" | "k8sNativeValidation" | "celFailurePolicy" | "celNamespaceObject">>;
  private celNamespaceObject: boolean;
  private templateOpts: TemplateOptions;
  readonly externalData: ExternalDataState;

  constructor(opts: ClientOptions = {}) {
    this.opts = { enforcementPoint: opts.enforcementPoint ?? GATOR_ENFORCEMENT_POINT, namespaceObject: opts.namespaceObject ?? true };
    this.celNamespaceObject = opts.celNamespaceObject ?? true;
    this.templateOpts = { k8sNativeValidation: opts.k8sNativeValidation ?? true, ...(opts.celFailurePolicy ? { celFailurePolicy: opts.celFailurePolicy } : {}) };
    const ed = opts.externalData;
    this.externalData = { providers: new Map(), cache: new Map(), allowHTTP: typeof ed === "object" && ed.allowHTTP === true };
    if (ed) this.builtins = EXTERNAL_DATA_BUILTINS;
  }

  /** The builtins this client's templates may call: OPA's less http.send, plus external_data once enabled. */
  private builtins: BuiltinTable = GATEKEEPER_BUILTINS;

  /** Add an external data Provider (externaldata.gatekeeper.sh); enables `external_data`. */
  addProvider(obj: Obj): Provider {
    const p = parseProvider(obj, this.externalData.allowHTTP);
    this.builtins = EXTERNAL_DATA_BUILTINS;
    this.externalData.providers.set(p.name, p);
    this.externalData.cache.delete(p.name);
    return p;
  }

  // ---- templates and constraints ----------------------------------------------------------

  /** Validate and compile a ConstraintTemplate (replacing one of the same kind). Throws TemplateError. */
  addTemplate(obj: Obj, file?: string): CompiledTemplate {
    const t = compileTemplate(obj, file, this.builtins, this.templateOpts);
    const prev = this.templates.get(t.kind);
    this.templates.set(t.kind, t);
    if (prev) {
      // Constraints of the kind now run against the new template.
      for (const [k, c] of this.constraintsByKey) if (c.kind === t.kind) this.constraintsByKey.set(k, { ...c, template: t });
      this.indexDirty = true;
    }
    return t;
  }

  removeTemplate(kind: string): void {
    this.templates.delete(kind);
    for (const [k, c] of this.constraintsByKey) if (c.kind === kind) this.constraintsByKey.delete(k);
    this.indexDirty = true;
  }

  /** Validate a constraint against its template's schema and add it. Throws ConstraintError. */
  addConstraint(obj: Obj, file?: string): Constraint {
    if (!isPlainObject(obj) || !isConstraint(obj)) {
      throw new ConstraintError(`not a constraint${file ? ` (${file})` : ""}: apiVersion must be constraints.gatekeeper.sh/<version>, got ${JSON.stringify(obj?.apiVersion ?? "")}`, file);
    }
    const t = this.templates.get(obj.kind);
    // gator's and Gatekeeper's words: the template is named by the lower-case kind
    if (!t) throw new ConstraintError(`missing ConstraintTemplate: template ${JSON.stringify(String(obj.kind).toLowerCase())} not found`, file, "no-template");
    const c = buildConstraint(obj, t, file, this.opts.enforcementPoint);
    this.constraintsByKey.set(`${c.kind}/${c.name}`, c);
    this.indexDirty = true;
    return c;
  }

  removeConstraint(kind: string, name: string): void {
    this.constraintsByKey.delete(`${kind}/${name}`);
    this.indexDirty = true;
  }

  constraints(): Constraint[] {
    return Array.from(this.constraintsByKey.values());
  }

  private rebuildIndex(): void {
    this.index.clear();
    this.candidateLists.clear();
    this.anyKind = [];
    this.order.clear();
    for (const c of this.constraintsByKey.values()) {
      this.order.set(c, this.order.size);
      const kinds = matchKinds(c.match);
      if (kinds === null) {
        this.anyKind.push(c);
        continue;
      }
      const keys = new Set(kinds.map((k) => `${k.group}/${k.kind}`));
      for (const key of keys) {
        let list = this.index.get(key);
        if (!list) this.index.set(key, (list = []));
        list.push(c);
      }
    }
    this.indexDirty = false;
  }

  /** Constraints whose match.kinds can select one of these objects, in insertion order (a list not to be changed). */
  candidates(objs: (Obj | null)[]): readonly Constraint[] {
    if (this.indexDirty) this.rebuildIndex();
    // The list depends only on the objects' (group, kind)s: made once per combination (until the index changes).
    let key = "";
    for (const o of objs) {
      if (!o) continue;
      const { group, kind } = gvkOf(o);
      key += JSON.stringify(group) + JSON.stringify(kind); // unambiguous whatever the names hold
    }
    const known = this.candidateLists.get(key);
    if (known) return known;
    const set = new Set<Constraint>(this.anyKind);
    for (const o of objs) {
      if (!o) continue;
      const { group, kind } = gvkOf(o);
      for (const key of [`${group}/${kind}`, `*/${kind}`, `${group}/*`, `*/*`]) for (const c of this.index.get(key) ?? []) set.add(c);
    }
    const list = set.size <= 1 ? Array.from(set) : Array.from(set).sort((a, b) => this.order.get(a)! - this.order.get(b)!);
    // bounded: reviews of many different kinds do not grow it past CANDIDATE_LISTS
    if (this.candidateLists.size >= CANDIDATE_LISTS) this.candidateLists.clear();
    this.candidateLists.set(key, list);
    return list;
  }

  // ---- inventory (data.inventory) ----------------------------------------------------------

  /** Add an object to data.inventory: cluster[gv][Kind][name] or namespace[ns][gv][Kind][name]. */
  addData(obj: Obj): void {
    if (!isPlainObject(obj)) return;
    const gv = typeof obj.apiVersion === "string" ? obj.apiVersion : "";
    const kind = typeof obj.kind === "string" ? obj.kind : "";
    const meta = metaOf(obj);
    const name = typeof meta.name === "string" ? meta.name : "";
    const ns = typeof meta.namespace === "string" ? meta.namespace : "";
    const root = ns === "" ? this.inventory.cluster : ((this.inventory.namespace[ns] ??= {}) as Obj);
    ((root[gv] ??= {})[kind] ??= {})[name] = obj;
    this.inventoryVersion++;
  }

  removeData(obj: Obj): void {
    const gv = String(obj.apiVersion ?? "");
    const kind = String(obj.kind ?? "");
    const meta = metaOf(obj);
    const ns = typeof meta.namespace === "string" ? meta.namespace : "";
    const root = ns === "" ? this.inventory.cluster : this.inventory.namespace[ns];
    if (root?.[gv]?.[kind]) delete root[gv][kind][String(meta.name ?? "")];
    this.inventoryVersion++;
  }

  /** Replace the whole inventory. */
  setInventory(objs: Obj[]): void {
    this.inventory = { cluster: {}, namespace: {} };
    for (const o of objs) this.addData(o);
    this.inventoryVersion++;
  }

  /** Replace data.inventory with a document already in Gatekeeper's shape ({cluster, namespace}). */
  setInventoryDoc(doc: Obj): void {
    this.inventory = { cluster: isPlainObject(doc.cluster) ? doc.cluster : {}, namespace: isPlainObject(doc.namespace) ? doc.namespace : {} };
    this.inventoryVersion++;
  }

  /** The Namespaces used for namespaceSelector and namespaceObject (null: read them from data.inventory). */
  setNamespaces(nss: Map<string, Obj> | null): void {
    this.namespaces = nss;
  }

  getInventory(): Obj {
    return this.inventory;
  }

  /** A Namespace from the inventory. */
  namespace(name: string): Obj | null {
    if (!name) return null;
    if (this.namespaces) return this.namespaces.get(name) ?? null;
    const ns = this.inventory.cluster?.v1?.Namespace?.[name];
    return isPlainObject(ns) ? ns : null;
  }

  // ---- review --------------------------------------------------------------------------------

  /** Review an object (or AdmissionReview) against every constraint that matches it. */
  async review(obj: Obj, opts: ReviewOptions = {}): Promise<ReviewResponse> {
    const built = buildReview(obj, opts);
    return this.reviewBuilt(built);
  }

  async reviewBuilt(built: BuiltReview, eo: EvaluateOptions = {}): Promise<ReviewResponse> {
    const nsObj: Obj | null = built.namespaceOverride !== undefined ? built.namespaceOverride : isNamespaceObject(built.object) ? null : this.namespace(built.namespace);
    const review = built.review;
    review.namespaceObject = this.opts.namespaceObject && nsObj && !isNamespaceObject(built.object) ? nsObj : {};
    const results: Violation[] = [];
    const objs = [built.object, built.oldObject];
    // what matching reads, the same for every constraint
    const target = { object: built.object, oldObject: built.operation === "UPDATE" ? built.oldObject : null, namespace: nsObj, source: built.source };
    // input.review in the value model, converted once for all the review's Rego constraints (on
    // first use); null when it cannot be converted (each query then reports the error itself).
    const rego: RegoReview = { built, review: undefined };
    for (const c of this.candidates(objs)) {
      if (eo.deadline !== undefined && Date.now() >= eo.deadline) throw new DeadlineError(`eval_cancel_error: the review's deadline passed before constraint ${JSON.stringify(c.name)} (${c.kind}) was evaluated`);
      if (eo.cancel && Atomics.load(eo.cancel, 0) !== 0) throw new DeadlineError("eval_cancel_error: caller cancelled query execution");
      if (c.enforcementAction.toLowerCase() === "scoped" && c.scopedActions.length === 0) continue;
      let applies: boolean;
      try {
        applies = matches(c.match, target);
      } catch (e) {
        const name = String(metaOf(built.object).name ?? "");
        results.push(this.violation(c, built, `unable to match constraints: error matching the requested object: ${name}: failed to run Match criteria: ${(e as Error).message}`, {}, true));
        continue;
      }
      if (!applies) continue;
      const t0 = eo.onConstraint ? performance.now() : 0;
      // Rego evaluation is synchronous unless a builtin suspends it (external data): awaited only then.
      let vs = c.template.cel ? this.evaluateCel(c, built, nsObj, eo) : this.evaluateNow(c, rego, eo.deadline, eo.cancel, eo.offline === true);
      if (vs instanceof Promise) vs = await vs;
      if (eo.onConstraint) eo.onConstraint(c, (performance.now() - t0) / 1000, vs.length);
      for (const v of vs) results.push(v);
    }
    return { review, results: sortViolations(results) };
  }

  private violation(c: Constraint, built: BuiltReview, msg: string, details: unknown, error = false): Violation {
    const v: Violation = {
      target: TARGET,
      msg,
      details,
      constraint: c.object,
      constraintName: c.name,
      constraintKind: c.kind,
      enforcementAction: c.enforcementAction,
      object: built.object,
    };
    if (c.enforcementAction.toLowerCase() === "scoped") v.scopedActions = c.scopedActions;
    if (error) v.error = true;
    return v;
  }

  private syncInventory(t: CompiledTemplate): void {
    if (t.inventoryVersion === this.inventoryVersion) return;
    t.engine.setData({ inventory: this.inventory });
    t.inventoryVersion = this.inventoryVersion;
  }

  /** Run one constraint's CEL (K8sNativeValidation) template against a review. */
  private evaluateCel(c: Constraint, built: BuiltReview, nsObj: Obj | null, eo: EvaluateOptions): Violation[] {
    const { deadline, cancel } = eo;
    const stop = deadline !== undefined || cancel ? () => (deadline !== undefined && Date.now() >= deadline) || (!!cancel && Atomics.load(cancel, 0) !== 0) : undefined;
    let msgs: string[];
    try {
      msgs = evaluateCel(
        c.template.cel!,
        {
          object: built.object,
          oldObject: built.oldObject,
          request: built.review,
          operation: built.operation,
          constraint: c.object,
          namespaceObject: !this.celNamespaceObject || isNamespaceObject(built.object) ? null : nsObj,
        },
        stop,
      );
    } catch (e) {
      // As for Rego: past the deadline is not a policy result (the caller's failurePolicy applies).
      if (e instanceof CelStopped) {
        if (cancel && Atomics.load(cancel, 0) !== 0) throw new DeadlineError("eval_cancel_error: caller cancelled query execution");
        throw new DeadlineError(`constraint ${JSON.stringify(c.name)} (${c.kind}): eval_cancel_error: the review's deadline passed during CEL evaluation`);
      }
      throw e;
    }
    return msgs.map((m) => this.violation(c, built, m, {}));
  }

  /** Run one constraint's template against a review. */
  async evaluate(c: Constraint, built: BuiltReview, deadline?: number, cancel?: Int32Array): Promise<Violation[]> {
    return this.evaluateNow(c, { built, review: undefined }, deadline, cancel);
  }

  /** The query input of a constraint: {review, parameters}, converted to Rego values once per review and once per constraint. */
  private regoInput(c: Constraint, rego: RegoReview): unknown {
    if (rego.review === undefined) rego.review = preparedOrNull(rego.built.review);
    let params = this.preparedParameters.get(c);
    if (params === undefined) this.preparedParameters.set(c, (params = preparedOrNull(c.parameters ?? {})));
    // Either part not convertible: the plain document, which the query converts (and refuses) itself.
    if (rego.review === null || params === null) return { review: rego.built.review, parameters: c.parameters ?? {} };
    return PreparedInput.object({ review: rego.review, parameters: params });
  }

  /** evaluate(), answered synchronously when the query did not suspend (no external data call). */
  private evaluateNow(c: Constraint, rego: RegoReview, deadline?: number, cancel?: Int32Array, offline = false): Violation[] | Promise<Violation[]> {
    const t = c.template;
    const built = rego.built;
    this.syncInventory(t);
    let q;
    try {
      q = t.engine.query(t.query, {
        input: this.regoInput(c, rego),
        // Violations are printed with JSON.stringify (gator's and the webhook's output), which
        // cannot print a bigint: big numbers in `details` are the nearest double there.
        exactNumbers: false,
        ...(deadline !== undefined ? { deadline } : {}),
        ...(cancel ? { cancel } : {}),
        ...(this.externalData.providers.size && !offline ? { host: { externalData: this.externalData, ...(deadline !== undefined ? { deadline } : {}) } } : {}),
      });
    } catch (e) {
      return this.queryFailed(e, c, built, deadline, cancel);
    }
    if (q instanceof Promise) {
      return q.then(
        (rs) => this.violations(rs, c, built),
        (e: unknown) => this.queryFailed(e, c, built, deadline, cancel),
      );
    }
    return this.violations(q, c, built);
  }

  /** A query's error: past the deadline or cancelled, a DeadlineError; a Rego error, one violation carrying it. */
  private queryFailed(e: unknown, c: Constraint, built: BuiltReview, deadline?: number, cancel?: Int32Array): Violation[] {
    // A review past its deadline is not a policy result: the caller answers as Gatekeeper
    // does on eval_cancel_error (the API server's failurePolicy applies).
    if (e instanceof RegoError && e.code === "eval_cancel_error" && cancel && Atomics.load(cancel, 0) !== 0) throw new DeadlineError("eval_cancel_error: caller cancelled query execution");
    if (deadline !== undefined && e instanceof RegoError && e.code === "eval_cancel_error" && Date.now() >= deadline) {
      throw new DeadlineError(`constraint ${JSON.stringify(c.name)} (${c.kind}): eval_cancel_error: ${e.errors[0]?.message ?? "deadline exceeded"}`);
    }
    if (e instanceof RegoError) return [this.violation(c, built, e.errors.map(formatError).join("\n"), {}, true)];
    throw e;
  }

  /** The violations of a query's results (`violation[r]`: each r with a string msg). */
  private violations(rs: { bindings: Record<string, unknown> }[], c: Constraint, built: BuiltReview): Violation[] {
    const out: Violation[] = [];
    for (const r of rs) {
      const v = r.bindings.r as unknown;
      if (!isPlainObject(v) || !("msg" in v)) continue;
      if (typeof v.msg !== "string") {
        throw new ReviewError(`constraint ${JSON.stringify(c.name)} (${c.kind}): violation msg must be a string, got ${JSON.stringify(v.msg)}`);
      }
      out.push(this.violation(c, built, v.msg, v.details === undefined ? {} : v.details));
    }
    return out;
  }

  // ---- convenience ---------------------------------------------------------------------------

  /** Add templates, constraints and (optionally) data from a list of objects. */
  addObjects(objs: Obj[], opts: { data?: boolean } = {}): void {
    for (const o of objs) if (isProvider(o)) this.addProvider(o);
    for (const o of objs) if (isTemplate(o)) this.addTemplate(o);
    for (const o of objs) if (isConstraint(o) && this.templates.has(o.kind)) this.addConstraint(o);
    if (opts.data) for (const o of objs) this.addData(o);
  }
}

export { TemplateError, ConstraintError, ReviewError, clone };
