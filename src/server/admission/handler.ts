// What each admission worker holds and does (also used on the main thread when the pool has no
// workers: embedding and tests): the current Gatekeeper snapshot, swapped whole on every update, and
// the answer to one AdmissionReview. Requests already running keep the snapshot they started on.

import { buildSnapshot, type Snapshot, type SnapshotReport } from "../../gatekeeper/snapshot.ts";
import { admit, admitLabel, badRequest, DeadlineError, type AdmissionOutcome, type ConstraintStat, type WebhookOptions } from "../../gatekeeper/webhook.ts";
import type { GatekeeperObjects } from "../../gatekeeper/state.ts";
import { GATEKEEPER_GROUPS } from "../../gatekeeper/webhook.ts";
import { isNamespaceExcluded } from "../../gatekeeper/snapshot.ts";
import { mutateReview, type MutationStatus } from "../../gatekeeper/mutation/webhook.ts";
import { MutationDeadlineError } from "../../gatekeeper/mutation/system.ts";
import { providerCaller } from "../../gatekeeper/mutation/externaldata.ts";
import { jsonNeedsNoCopy } from "../../gatekeeper/review.ts";
import { warmUp, WARMUP_BUDGET_MS, WARMUP_REAL_REVIEWS } from "../../gatekeeper/warmup.ts";

export interface HandlerConfig {
  webhook: WebhookOptions;
  /** Provider URLs may be http:// (tests only). */
  allowHTTPProviders: boolean;
  /** Run templates' K8sNativeValidation (CEL) code when they have some (--enable-k8s-native-validation, default true). */
  k8sNativeValidation?: boolean;
  /** Wall-clock budget (ms) of a new worker's warm-up before it serves (gatekeeper/warmup.ts); 0: none. Default WARMUP_BUDGET_MS. */
  warmupMs?: number;
}

/** A new set of Gatekeeper objects, numbered so the main thread can tell reports apart. */
export interface PolicyUpdate {
  version: number;
  objects: GatekeeperObjects;
}

export interface AdmissionRequest {
  path: "admit" | "label" | "mutate";
  /** The request body as received (JSON text). */
  body: string;
  deadline: number;
  perConstraint: boolean;
}

export interface AdmissionReply {
  /** The AdmissionReview to send (JSON text), absent when `deadline` or `internal` is set. */
  body?: string;
  metric: AdmissionOutcome["metric"];
  /** For gatekeeper_mutation_request_count/_duration_seconds (/v1/mutate); null: not counted. */
  mutationMetric?: { status: MutationStatus } | null;
  constraints?: ConstraintStat[];
  error?: string;
  /** The deadline passed: answer so that the API server's failurePolicy applies. */
  deadline?: boolean;
  /** A fault of the webhook itself (worker died): answered as a server error. */
  internal?: boolean;
  /** Snapshot version the request was answered on. */
  version: number;
  /** Provider calls that failed since the last reply of this worker. */
  providerErrors: number;
}

export interface ReportEvent {
  version: number;
  report: SnapshotReport;
}

export class AdmissionHandler {
  private snap: Snapshot;
  private version: number;
  /** Provider errors of each snapshot already reported. */
  private reported = new WeakMap<Snapshot, number>();

  constructor(
    private readonly config: HandlerConfig,
    initial: PolicyUpdate,
    private readonly emit: (e: ReportEvent) => void,
  ) {
    this.snap = this.build(initial.objects);
    this.version = initial.version;
    emit({ version: this.version, report: this.snap.report });
  }

  private build(objs: GatekeeperObjects): Snapshot {
    return buildSnapshot(objs, { allowHTTPProviders: this.config.allowHTTPProviders, k8sNativeValidation: this.config.k8sNativeValidation !== false });
  }

  /** Swap in the snapshot of a new set of objects (requests in flight keep the old one). */
  update(u: PolicyUpdate): void {
    this.snap = this.build(u.objects);
    this.version = u.version;
    this.emit({ version: u.version, report: this.snap.report });
  }

  /** Reviews answered (the warm-up stops after WARMUP_REAL_REVIEWS of them). */
  private answered = 0;

  /**
   * Warm the worker up (gatekeeper/warmup.ts) on the current snapshot, between requests, until
   * its budget is spent or real reviews have done it.
   */
  async warm(): Promise<{ rounds: number; reviews: number; ms: number }> {
    return warmUp(() => this.snap, this.config.warmupMs ?? WARMUP_BUDGET_MS, { yieldBetween: true, stop: () => this.answered >= WARMUP_REAL_REVIEWS });
  }

  private providerErrors(snap: Snapshot): number {
    const total = snap.client.externalData.errorCount ?? 0;
    const delta = total - (this.reported.get(snap) ?? 0);
    this.reported.set(snap, total);
    return delta;
  }

  async run(req: AdmissionRequest, flag: Int32Array): Promise<AdmissionReply> {
    this.answered++;
    const snap = this.snap;
    const version = this.version;
    let body: unknown;
    try {
      body = JSON.parse(req.body);
    } catch (e) {
      const out = badRequest(`couldn't get version/kind; json parse error: ${(e as Error).message}`);
      return { body: JSON.stringify(out.review), metric: null, error: out.error, version, providerErrors: 0 };
    }
    if (req.path === "label") {
      const out = admitLabel(body, this.config.webhook);
      return { body: JSON.stringify(out.review), metric: out.metric, version, providerErrors: 0 };
    }
    if (req.path === "mutate") {
      try {
        const ctx = {
          mutation: snap.mutation,
          namespaces: snap.namespaces,
          excluded: (ns: string) => isNamespaceExcluded(snap, "mutation-webhook", ns),
          callProvider: providerCaller(snap.client.externalData.providers, req.deadline),
        };
        const out = await mutateReview(ctx, body, { serviceAccount: this.config.webhook.serviceAccount, gatekeeperGroups: GATEKEEPER_GROUPS, deadline: req.deadline });
        return { body: JSON.stringify(out.review), metric: null, mutationMetric: out.metric, ...(out.error ? { error: out.error } : {}), version, providerErrors: 0 };
      } catch (e) {
        if (e instanceof MutationDeadlineError) return { deadline: true, metric: null, error: e.message, version, providerErrors: 0 };
        throw e;
      }
    }
    try {
      // The flag is raised when the API server went away: stop instead of finishing an answer nobody reads.
      const out = await admit(snap, body, this.config.webhook, { deadline: req.deadline, cancel: flag, perConstraint: req.perConstraint, bodyOwned: jsonNeedsNoCopy(req.body) });
      return { body: JSON.stringify(out.review), metric: out.metric, ...(out.constraints ? { constraints: out.constraints } : {}), ...(out.error ? { error: out.error } : {}), version, providerErrors: this.providerErrors(snap) };
    } catch (e) {
      if (e instanceof DeadlineError) return { deadline: true, metric: null, error: e.message, version, providerErrors: this.providerErrors(snap) };
      throw e;
    }
  }
}
