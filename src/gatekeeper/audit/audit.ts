// One audit: every object a constraint can select, listed a page at a time, reviewed against
// every constraint that matches it, with Gatekeeper's audit semantics:
//
// - reviews are built as Gatekeeper's audit builds them: no operation, no userInfo, source
//   "Original", `namespaceObject` from the object's Namespace (looked up once per audit);
// - the Client evaluates at the `audit.gatekeeper.sh` enforcement point (scoped actions), and
//   `dryrun`/`warn` violations are reported with their action;
// - per constraint: `totalViolations` (uncapped) and the first `violationsLimit` violations in
//   the status order (status.ts), whatever order the objects came in;
// - the complete report, every violation with its untruncated message and details, goes to the
//   sink as it is found (nothing is collected), so memory is bounded by one page (two while the
//   next page is fetched) plus `violationsLimit` per constraint, never by the cluster's size.
//
// Which kinds are listed: only kinds some constraint can select (a constraint without
// match.kinds selects every kind); kinds nothing can select would give no violation, so the
// report is the same as Gatekeeper's listing of every kind. With `matchKindOnly`, as
// Gatekeeper's --audit-match-kind-only, a kind is listed only when its name appears in a
// constraint's match.kinds (any group), unless some constraint matches all kinds. Kinds are
// audited in (group, version, kind) order and objects in the lister's order.

import { DeadlineError, type Client, type Violation } from "../client.ts";
import { buildReview, ReviewError } from "../review.ts";
import { isPlainObject, gvkOf, metaOf, type Obj } from "../yaml.ts";
import { matchKinds } from "../match.ts";
import { CONSTRAINT_GROUP } from "../constraint.ts";
import { goCompare, gvkKey, type GVK, type Lister, type ListPage } from "./lister.ts";
import { LimitQueue, truncateMessage, type StatusViolation } from "./status.ts";
import type { ExpansionSystem } from "../expansion/system.ts";
import { reviewResultants } from "../expansion/review.ts";

/** The enforcement point of Gatekeeper's audit. */
export const AUDIT_ENFORCEMENT_POINT = "audit.gatekeeper.sh";
export const DEFAULT_CHUNK_SIZE = 500;
export const DEFAULT_VIOLATIONS_LIMIT = 20;
/** The actions whose totals are always reported (Gatekeeper's KnownEnforcementActions). */
export const KNOWN_ACTIONS = ["deny", "dryrun", "warn", "scoped", "unrecognized"];
/** Constraints are reported in this apiVersion, as Gatekeeper's audit lists them. */
export const CONSTRAINT_VERSION = "v1beta1";

/** One violation of the complete report. */
export interface ReportViolation {
  constraint: { group: string; version: string; kind: string; name: string };
  enforcementAction: string;
  enforcementActions?: string[];
  group: string;
  version: string;
  kind: string;
  namespace?: string;
  name: string;
  message: string;
  details: unknown;
  /** Set when the violation reports an evaluation or match error rather than a policy result. */
  error?: boolean;
}

export interface ConstraintAudit {
  group: string;
  version: string;
  kind: string;
  name: string;
  enforcementAction: string;
  enforcementActions?: string[];
  totalViolations: number;
  /** At most `violationsLimit`, ascending in the status order, messages truncated as Gatekeeper's. */
  violations: StatusViolation[];
  /** The constraint object as the audit saw it (metadata.uid and metadata.generation for status). */
  object: Obj;
}

export interface AuditSummary {
  auditId: string;
  startTime: string;
  endTime: string;
  durationSeconds: number;
  objectsAudited: number;
  /** Objects skipped by `exclude`. */
  objectsExcluded: number;
  kinds: string[];
  totalViolations: number;
  violationsByAction: Record<string, number>;
  constraints: ConstraintAudit[];
  /** Listing and review errors; a report with errors is incomplete. */
  errors: string[];
  chunkSize: number;
  violationsLimit: number;
}

/** Where the complete report goes, one call per violation, in the order found. */
export interface ReportSink {
  begin?(info: { auditId: string; startTime: string }): void | Promise<void>;
  violation(v: ReportViolation): void | Promise<void>;
  end?(summary: AuditSummary): void | Promise<void>;
  /** The audit failed or was aborted: drop what was written. */
  abort?(err: unknown): void | Promise<void>;
}

export type AuditLogEvent = { event_type: string; audit_id: string; [k: string]: unknown };

export interface AuditOptions {
  lister: Lister;
  /** The policy snapshot: templates, constraints, data.inventory; built with the audit enforcement point. */
  client: Client;
  /**
   * ExpansionTemplates in force: each object's generated resources are reviewed too (source
   * Generated), their violations reported against the object, prefixed `[Implied by <template>]`.
   */
  expansion?: ExpansionSystem | null;
  /** Page size for listing (default 500; 0: one page per kind). */
  chunkSize?: number;
  /** Violations kept per constraint for status (default 20). */
  violationsLimit?: number;
  matchKindOnly?: boolean;
  /** Objects to skip (Config.spec.match exclusions for the audit process). */
  exclude?: (obj: Obj) => boolean;
  sink?: ReportSink;
  /** Structured log events: audit_started, violation_audited, constraint_audited, audit_finished. */
  log?: (e: AuditLogEvent) => void;
  /** Log violation_audited events (one per violation; default true when `log` is set). */
  logViolations?: boolean;
  signal?: AbortSignal;
  /** Deadline of one object's review, ms (default 10,000): past it the object is an error of the report. */
  reviewTimeoutMs?: number;
  now?: () => Date;
  /**
   * Reviews pages of objects elsewhere (the audit's worker pool, src/server/audit.ts) instead
   * of on this thread; not used when `expansion` has templates (those objects stay local).
   * Outcomes are consumed in the objects' order, so the report is the same as the local one.
   */
  evaluator?: AuditEvaluator | null;
}

/** The fields of a violation the audit reports (what crosses a thread boundary). */
export type AuditResult = Pick<Violation, "constraintKind" | "constraintName" | "enforcementAction" | "msg" | "details" | "scopedActions" | "error">;

/** One object to review, with its Namespace. */
export interface AuditItem {
  obj: Obj;
  namespaceObject: Obj | null;
}

/** Per object: its results, or the review error (a deadline, a review that could not be built or a worker that failed). */
export type AuditOutcome = { results: AuditResult[] } | { error: string };

export interface AuditEvaluator {
  /** Objects per request (default 25). */
  batchSize?: number;
  /** Review these objects, each with its own deadline of `reviewTimeoutMs`; one outcome per item, in order. */
  review(items: AuditItem[], reviewTimeoutMs: number): Promise<AuditOutcome[]>;
}

export const DEFAULT_EVALUATOR_BATCH = 25;

/** Review objects on this thread as the audit does (the audit worker's side of an AuditEvaluator). */
export async function reviewItems(client: Client, items: AuditItem[], reviewTimeoutMs: number, cancel?: Int32Array): Promise<AuditOutcome[]> {
  const out: AuditOutcome[] = [];
  for (const it of items) {
    if (cancel && Atomics.load(cancel, 0) !== 0) {
      out.push({ error: "review cancelled" });
      continue;
    }
    try {
      const r = await client.reviewBuilt(buildReview(it.obj, { namespaceObject: it.namespaceObject }), { deadline: Date.now() + reviewTimeoutMs });
      out.push({ results: r.results.map(slim) });
    } catch (e) {
      if (!(e instanceof ReviewError) && !(e instanceof DeadlineError)) throw e;
      out.push({ error: e.message });
    }
  }
  return out;
}

function slim(v: Violation): AuditResult {
  const r: AuditResult = { constraintKind: v.constraintKind, constraintName: v.constraintName, enforcementAction: v.enforcementAction, msg: v.msg, details: v.details };
  if (v.scopedActions) r.scopedActions = v.scopedActions;
  if (v.error) r.error = true;
  return r;
}

export const DEFAULT_REVIEW_TIMEOUT_MS = 10_000;
/** The longest the audit runs without yielding to the event loop, ms. */
const YIELD_MS = 10;

export class AuditError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AuditError";
  }
}

/** Gatekeeper's audit id and auditTimestamp: RFC 3339, UTC, whole seconds. */
export function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, "Z");
}

interface ConstraintState {
  audit: ConstraintAudit;
  queue: LimitQueue;
}

/** Kinds to list for these constraints (see the header). */
export function selectKinds(all: GVK[], client: Client, matchKindOnly: boolean, expansion?: ExpansionSystem | null): GVK[] {
  const constraints = client.constraints();
  let names: Set<string> | null = null;
  if (matchKindOnly) {
    names = new Set();
    for (const c of constraints) {
      const kinds = matchKinds(c.match);
      if (kinds === null || kinds.some((k) => k.kind === "*" || k.kind === "")) {
        names = null;
        break;
      }
      for (const k of kinds) names.add(k.kind);
    }
  }
  const seen = new Set<string>();
  const out: GVK[] = [];
  for (const g of all) {
    const key = gvkKey(g);
    if (seen.has(key)) continue;
    seen.add(key);
    if (names && !names.has(g.kind)) continue;
    // a generator is listed whenever an ExpansionTemplate applies to its kind: what it
    // generates may be selected even when the generator's own kind is not
    if (expansion && expansion.templatesFor(g).length > 0) {
      out.push(g);
      continue;
    }
    const probe = { apiVersion: g.group ? `${g.group}/${g.version}` : g.version, kind: g.kind };
    if (client.candidates([probe]).length === 0) continue;
    out.push(g);
  }
  return out.sort((a, b) => goCompare(a.group, b.group) || goCompare(a.version, b.version) || goCompare(a.kind, b.kind));
}

function constraintKey(kind: string, name: string): string {
  return `${kind}/${name}`;
}

/** Run one audit. Throws AuditError when the kinds cannot be discovered or the sink fails. */
export async function runAudit(o: AuditOptions): Promise<AuditSummary> {
  const now = o.now ?? (() => new Date());
  const chunkSize = o.chunkSize ?? DEFAULT_CHUNK_SIZE;
  const limit = o.violationsLimit ?? DEFAULT_VIOLATIONS_LIMIT;
  if (!Number.isInteger(chunkSize) || chunkSize < 0) throw new AuditError(`chunk size must be a whole number ≥ 0, got ${chunkSize}`);
  if (!Number.isInteger(limit) || limit < 0) throw new AuditError(`constraint violations limit must be a whole number ≥ 0, got ${limit}`);
  const reviewTimeout = o.reviewTimeoutMs ?? DEFAULT_REVIEW_TIMEOUT_MS;
  const start = now();
  const auditId = rfc3339(start);
  const log = o.log;
  const logViolations = log !== undefined && o.logViolations !== false;
  log?.({ event_type: "audit_started", audit_id: auditId, msg: "auditing constraints and violations" });

  const states = new Map<string, ConstraintState>();
  for (const c of o.client.constraints()) {
    const gv = String(c.object.apiVersion ?? "");
    const version = gv.includes("/") ? gv.slice(gv.indexOf("/") + 1) : CONSTRAINT_VERSION;
    const audit: ConstraintAudit = {
      group: CONSTRAINT_GROUP,
      version,
      kind: c.kind,
      name: c.name,
      enforcementAction: c.enforcementAction,
      totalViolations: 0,
      violations: [],
      object: c.object,
    };
    if (c.enforcementAction.toLowerCase() === "scoped") audit.enforcementActions = c.scopedActions;
    states.set(constraintKey(c.kind, c.name), { audit, queue: new LimitQueue(limit) });
  }
  const byAction: Record<string, number> = {};
  for (const a of KNOWN_ACTIONS) byAction[a] = 0;
  const errors: string[] = [];
  let objectsAudited = 0;
  let objectsExcluded = 0;
  let total = 0;

  let all: GVK[];
  try {
    all = await o.lister.kinds();
  } catch (e) {
    throw new AuditError(`cannot discover the kinds to audit: ${(e as Error).message}`);
  }
  const kinds = selectKinds(all, o.client, o.matchKindOnly ?? false, o.expansion);

  const nsCache = new Map<string, Obj | null>();
  const namespaceOf = async (ns: string, errs: string[] = errors): Promise<Obj | null> => {
    if (nsCache.has(ns)) return nsCache.get(ns)!;
    let v: Obj | null = null;
    try {
      v = await o.lister.namespace(ns);
    } catch (e) {
      errs.push(`namespace ${JSON.stringify(ns)}: ${(e as Error).message}`);
    }
    nsCache.set(ns, v);
    return v;
  };

  let lastYield = performance.now();
  const record = async (obj: Obj, meta: Obj, ns: string, results: AuditResult[]): Promise<void> => {
    for (const v of results) {
      const st = states.get(constraintKey(v.constraintKind, v.constraintName));
      if (!st) continue;
      const g = gvkOf(obj);
      const name = typeof meta.name === "string" ? meta.name : "";
      st.audit.totalViolations++;
      total++;
      const action = KNOWN_ACTIONS.includes(v.enforcementAction) ? v.enforcementAction : "unrecognized";
      byAction[action]++;
      const sv: StatusViolation = { group: g.group, version: g.version, kind: g.kind, name, message: truncateMessage(v.msg), enforcementAction: v.enforcementAction };
      if (ns) sv.namespace = ns;
      if (v.scopedActions) sv.enforcementActions = v.scopedActions;
      st.queue.offer(sv);
      const rv: ReportViolation = {
        constraint: { group: st.audit.group, version: st.audit.version, kind: st.audit.kind, name: st.audit.name },
        enforcementAction: v.enforcementAction,
        ...(v.scopedActions ? { enforcementActions: v.scopedActions } : {}),
        group: g.group,
        version: g.version,
        kind: g.kind,
        ...(ns ? { namespace: ns } : {}),
        name,
        message: v.msg,
        details: v.details,
        ...(v.error ? { error: true } : {}),
      };
      if (sink) await sink.violation(rv);
      if (logViolations) {
        log!({
          event_type: "violation_audited",
          audit_id: auditId,
          msg: sv.message,
          details: v.details,
          constraint_group: rv.constraint.group,
          constraint_api_version: rv.constraint.version,
          constraint_kind: rv.constraint.kind,
          constraint_name: rv.constraint.name,
          constraint_action: v.enforcementAction,
          ...(v.scopedActions ? { constraint_enforcement_actions: v.scopedActions } : {}),
          resource_group: g.group,
          resource_api_version: g.version,
          resource_kind: g.kind,
          resource_namespace: ns,
          resource_name: name,
          resource_labels: isPlainObject(meta.labels) ? meta.labels : null,
        });
      }
    }
  };

  /**
   * A listed object is audited unless it is not an object or the Config excludes it (counted
   * either way); list items lack apiVersion/kind, which are filled in from the listed kind.
   */
  const admit = (obj: unknown, gvk: GVK): obj is Obj => {
    if (!isPlainObject(obj)) return false;
    if (!obj.apiVersion) obj.apiVersion = gvk.group ? `${gvk.group}/${gvk.version}` : gvk.version;
    if (!obj.kind) obj.kind = gvk.kind;
    if (o.exclude?.(obj)) {
      objectsExcluded++;
      return false;
    }
    objectsAudited++;
    return true;
  };

  // The pooled path: the page's objects are prepared here (exclusion, Namespace), reviewed in
  // batches elsewhere, all batches of the page in flight at once, and their outcomes consumed in
  // the objects' order: the report, counts and errors are the same as the local path's.
  const evaluator = o.evaluator ?? null;
  const batchSize = Math.max(1, evaluator?.batchSize ?? DEFAULT_EVALUATOR_BATCH);
  interface Prepared { obj: Obj; meta: Obj; ns: string; nsObj: Obj | null; errors: string[] }
  const reviewPage = async (items: unknown[], gvk: GVK, what: string): Promise<void> => {
    const prepared: Prepared[] = [];
    for (const obj of items) {
      if (!admit(obj, gvk)) continue;
      const meta = metaOf(obj);
      const ns = typeof meta.namespace === "string" ? meta.namespace : "";
      const errs: string[] = [];
      const nsObj = ns ? await namespaceOf(ns, errs) : null;
      prepared.push({ obj, meta, ns, nsObj, errors: errs });
    }
    const batches: Promise<AuditOutcome[]>[] = [];
    for (let i = 0; i < prepared.length; i += batchSize) {
      const batch = prepared.slice(i, i + batchSize);
      const p = evaluator!.review(batch.map((x) => ({ obj: x.obj, namespaceObject: x.nsObj })), reviewTimeout);
      p.catch(() => {}); // handled when awaited
      batches.push(p);
    }
    for (let bi = 0; bi < batches.length; bi++) {
      checkAbort(o.signal);
      const batch = prepared.slice(bi * batchSize, (bi + 1) * batchSize);
      let outcomes: AuditOutcome[];
      try {
        outcomes = await batches[bi];
        if (outcomes.length !== batch.length) throw new Error(`evaluator answered ${outcomes.length} outcomes for ${batch.length} objects`);
      } catch (e) {
        outcomes = batch.map(() => ({ error: (e as Error).message }));
      }
      for (let i = 0; i < batch.length; i++) {
        if (performance.now() - lastYield > YIELD_MS) {
          await new Promise<void>((r) => setImmediate(r));
          lastYield = performance.now();
          checkAbort(o.signal);
        }
        const x = batch[i];
        const out = outcomes[i];
        errors.push(...x.errors);
        if ("error" in out) {
          errors.push(`reviewing ${what} ${x.ns ? x.ns + "/" : ""}${String(x.meta.name ?? "")}: ${out.error}`);
          continue;
        }
        await record(x.obj, x.meta, x.ns, out.results);
      }
    }
  };

  const sink = o.sink;
  let sinkOpen = false;
  try {
    await sink?.begin?.({ auditId, startTime: auditId });
    sinkOpen = true;
    for (const gvk of kinds) {
      const what = `${gvk.group ? gvk.group + "/" : ""}${gvk.version}, Kind=${gvk.kind}`;
      let next: Promise<ListPage> | null = o.lister.list(gvk, { limit: chunkSize });
      while (next) {
        checkAbort(o.signal);
        let page: ListPage;
        try {
          page = await next;
        } catch (e) {
          errors.push(`listing ${what}: ${(e as Error).message}`);
          break;
        }
        const token = page.continue;
        // Fetch the next page while this one is reviewed (two pages at most in memory).
        next = token ? o.lister.list(gvk, { limit: chunkSize, continue: token }) : null;
        next?.catch(() => {}); // handled when awaited
        // Kinds an ExpansionTemplate applies to stay on the local path (expansion runs here).
        if (evaluator && !(o.expansion && o.expansion.templatesFor(gvk).length > 0)) {
          await reviewPage(page.items, gvk, what);
          continue;
        }
        for (const obj of page.items) {
          // Yield to the event loop every few milliseconds: the process may serve a webhook,
          // metrics and health checks while it audits (and finalizers get to run).
          if (performance.now() - lastYield > YIELD_MS) {
            await new Promise<void>((r) => setImmediate(r));
            lastYield = performance.now();
            checkAbort(o.signal);
          }
          if (!admit(obj, gvk)) continue;
          const meta = metaOf(obj);
          const ns = typeof meta.namespace === "string" ? meta.namespace : "";
          const nsObj = ns ? await namespaceOf(ns) : null;
          let results: AuditResult[];
          const deadline = Date.now() + reviewTimeout;
          try {
            results = (await o.client.reviewBuilt(buildReview(obj, { namespaceObject: nsObj }), { deadline })).results;
          } catch (e) {
            if (!(e instanceof ReviewError) && !(e instanceof DeadlineError)) throw e;
            errors.push(`reviewing ${what} ${ns ? ns + "/" : ""}${String(meta.name ?? "")}: ${e.message}`);
            continue;
          }
          if (o.expansion) {
            // As Gatekeeper's audit: an object that cannot be expanded is left out (an error of
            // the report); a resultant whose review fails is skipped (also an error).
            let resultants;
            try {
              resultants = await o.expansion.expand(obj, ns ? (nsObj ?? { metadata: { name: ns } }) : null);
            } catch (e) {
              errors.push(`expanding ${what} ${ns ? ns + "/" : ""}${String(meta.name ?? "")}: unable to expand object: ${(e as Error).message}`);
              continue;
            }
            for (const r of resultants) {
              try {
                results.push(...(await reviewResultants(o.client, [r], obj, { namespaceObject: nsObj }, { deadline })));
              } catch (e) {
                if (!(e instanceof ReviewError) && !(e instanceof DeadlineError)) throw e;
                errors.push(`reviewing ${what} ${ns ? ns + "/" : ""}${String(meta.name ?? "")}: expanded resource ${String(r.obj.metadata?.name ?? "")}: ${e.message}`);
              }
            }
          }
          await record(obj, meta, ns, results);
        }
      }
    }
    const end = now();
    const constraints = Array.from(states.values(), (s) => {
      s.audit.violations = s.queue.sorted();
      return s.audit;
    }).sort((a, b) => goCompare(a.kind, b.kind) || goCompare(a.name, b.name));
    for (const c of constraints) {
      if (c.totalViolations === 0) continue;
      log?.({
        event_type: "constraint_audited",
        audit_id: auditId,
        msg: "audit results for constraint",
        constraint_group: c.group,
        constraint_api_version: c.version,
        constraint_kind: c.kind,
        constraint_name: c.name,
        constraint_action: c.enforcementAction,
        constraint_status: "enforced",
        constraint_violations: String(c.totalViolations),
      });
    }
    const summary: AuditSummary = {
      auditId,
      startTime: auditId,
      endTime: rfc3339(end),
      durationSeconds: (end.getTime() - start.getTime()) / 1000,
      objectsAudited,
      objectsExcluded,
      kinds: kinds.map(gvkKey),
      totalViolations: total,
      violationsByAction: byAction,
      constraints,
      errors,
      chunkSize,
      violationsLimit: limit,
    };
    await sink?.end?.(summary);
    log?.({ event_type: "audit_finished", audit_id: auditId, msg: "auditing is complete", duration: `${summary.durationSeconds}s` });
    return summary;
  } catch (e) {
    if (sinkOpen || sink) await sink?.abort?.(e);
    throw e;
  }
}

function checkAbort(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AuditError(`audit aborted: ${String(signal.reason ?? "aborted")}`);
}
