// The controller's audit (`portcullis controller --operation=audit`): every `intervalMs`, when
// this process leads (lease.ts), one audit of the cluster on the current policy, then each
// constraint's status written as Gatekeeper writes it, the complete report kept for /v1/audit
// (and --audit-report), and the audit metrics. One audit at a time; a tick that finds the
// previous audit still running is skipped.

import { mkdtempSync, rmSync, createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KubeClient, isConflict, isNotFound, type ResourceRef } from "../../kube/index.ts";
import type { GatekeeperObjects } from "../state.ts";
import type { Snapshot } from "../snapshot.ts";
import type { Obj } from "../yaml.ts";
import { runAudit, type AuditEvaluator, KNOWN_ACTIONS, type AuditSummary, type AuditLogEvent, type ConstraintAudit } from "./audit.ts";
import { FileReportSink, teeSinks } from "./report.ts";
import { auditStatus } from "./status.ts";
import { auditSnapshot, auditExclusion, snapshotProblems, syncOnly } from "./policy.ts";
import { KubeLister, clusterInventory, syncSetKinds } from "./kubelister.ts";
import type { InventorySync } from "./sync.ts";
import { ManifestLister, type Lister } from "./lister.ts";

export interface AuditManagerOptions {
  kube: KubeClient;
  /** The current Gatekeeper objects (from the controller's policy source); null before the first sync. */
  policy: () => GatekeeperObjects | null | Promise<GatekeeperObjects | null>;
  /** Time between audits, ms; 0: no periodic audit (runOnce still works). Default 60,000. */
  intervalMs?: number;
  chunkSize?: number;
  violationsLimit?: number;
  matchKindOnly?: boolean;
  /** Also write each complete report to this file. */
  reportFile?: string;
  /** This pod's id in status.byPod (Gatekeeper: the pod name). */
  podId: string;
  /** The operations this pod runs (status.byPod[].operations). */
  operations?: string[];
  /** Write constraint status (default true). */
  writeStatus?: boolean;
  /** Audit only while this returns true (leader election). */
  isLeader?: () => boolean;
  /** Audit data.inventory's objects instead of listing (Gatekeeper's --audit-from-cache). */
  fromCache?: boolean;
  /** Watched data.inventory (sync.ts): kept on the Config's syncOnly and the SyncSets' kinds; without it the audit lists those kinds at each run. */
  sync?: InventorySync;
  log?: (level: "info" | "error", msg: string, fields: Record<string, unknown>) => void;
  reviewTimeoutMs?: number;
  /** Run templates' K8sNativeValidation (CEL) code when they have some (default true). */
  k8sNativeValidation?: boolean;
  /**
   * Where each run reviews its objects (the audit's worker pool, src/server/audit.ts): called at
   * the start of a run with its policy and data.inventory; null or absent: on this thread.
   */
  evaluator?: (objs: GatekeeperObjects, inventory: Obj) => AuditEvaluator | null;
}

export interface LastAudit {
  summary: AuditSummary;
  /** The NDJSON report of this audit. */
  reportPath: string;
}

/** Gatekeeper's gatekeeper_audit_duration_seconds buckets (1 min to 320 min). */
export const AUDIT_DURATION_BUCKETS = [60, 180, 300, 600, 900, 1200, 2400, 4800, 9600, 19200];

export class AuditManager {
  private timer: NodeJS.Timeout | null = null;
  private current: Promise<AuditSummary | null> | null = null;
  private dir = mkdtempSync(join(tmpdir(), "portcullis-audit-"));
  private seq = 0;
  private lastSnap: { objs: GatekeeperObjects; snap: Snapshot } | null = null;
  private durations: number[] = [];
  private runStart: number | null = null;
  private runEnd: number | null = null;
  last: LastAudit | null = null;
  private readonly o: AuditManagerOptions;

  constructor(o: AuditManagerOptions) {
    this.o = o;
  }

  start(): void {
    const interval = this.o.intervalMs ?? 60_000;
    if (interval <= 0) return;
    const tick = () => {
      this.timer = setTimeout(async () => {
        if (!this.current && (this.o.isLeader?.() ?? true)) await this.runOnce().catch(() => {});
        if (this.timer) tick();
      }, interval);
    };
    tick();
  }

  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.current?.catch(() => {});
    rmSync(this.dir, { recursive: true, force: true });
  }

  get running(): boolean {
    return this.current !== null;
  }

  /** One audit now (resolves to null when there is no policy yet); errors are logged and rethrown. */
  runOnce(): Promise<AuditSummary | null> {
    if (this.current) return this.current;
    this.current = this.run().finally(() => (this.current = null));
    return this.current;
  }

  private snapshotFor(objs: GatekeeperObjects): Snapshot {
    if (this.lastSnap?.objs === objs) return this.lastSnap.snap;
    const snap = auditSnapshot(objs, { k8sNativeValidation: this.o.k8sNativeValidation });
    this.lastSnap = { objs, snap };
    for (const p of snapshotProblems(snap)) this.o.log?.("error", "policy object not audited", { event_type: "audit_policy_error", problem: p });
    return snap;
  }

  private async run(): Promise<AuditSummary | null> {
    const objs = await this.o.policy();
    if (!objs) return null;
    const log = this.o.log;
    const snap = this.snapshotFor(objs);
    const client = snap.client;
    let lister: Lister;
    if (this.o.sync) {
      await this.o.sync.setKinds([...syncOnly(objs.config), ...(await syncSetKinds(this.o.kube))]);
      client.setInventoryDoc(this.o.sync.inventory());
    } else client.setInventoryDoc(await clusterInventory(this.o.kube, syncOnly(objs.config)));
    if (this.o.fromCache) lister = inventoryLister(client.getInventory());
    else {
      const kl = new KubeLister(this.o.kube);
      lister = objs.namespaces.size
        ? { kinds: () => kl.kinds(), list: (g, lo) => kl.list(g, lo), namespace: async (n) => objs.namespaces.get(n) ?? (await kl.namespace(n)) }
        : kl;
    }
    const path = join(this.dir, `report-${++this.seq}.ndjson`);
    const started = Date.now();
    this.runStart = started / 1000;
    let summary: AuditSummary;
    try {
      summary = await runAudit({
        lister,
        client,
        expansion: snap.expansion,
        chunkSize: this.o.chunkSize,
        violationsLimit: this.o.violationsLimit,
        matchKindOnly: this.o.matchKindOnly,
        exclude: auditExclusion(snap),
        sink: teeSinks(new FileReportSink(path, "ndjson"), this.o.reportFile ? new FileReportSink(this.o.reportFile) : undefined),
        log: log ? (e: AuditLogEvent) => log("info", String(e.msg ?? e.event_type), e) : undefined,
        reviewTimeoutMs: this.o.reviewTimeoutMs,
        evaluator: this.o.evaluator?.(objs, client.getInventory()) ?? null,
      });
    } catch (e) {
      rmSync(path, { force: true });
      log?.("error", "audit failed", { event_type: "audit_error", err: (e as Error).message });
      throw e;
    } finally {
      this.runEnd = Date.now() / 1000;
      this.durations.push((Date.now() - started) / 1000);
      if (this.durations.length > 10_000) this.durations.splice(0, this.durations.length - 10_000);
    }
    for (const e of summary.errors) log?.("error", "audit incomplete", { event_type: "audit_error", audit_id: summary.auditId, err: e });
    const previous = this.last;
    this.last = { summary, reportPath: path };
    if (previous) rmSync(previous.reportPath, { force: true });
    if (this.o.writeStatus !== false) await this.writeStatuses(summary);
    return summary;
  }

  /** Each audited constraint's status (auditTimestamp, totalViolations, violations, byPod). */
  async writeStatuses(summary: AuditSummary): Promise<void> {
    for (const c of summary.constraints) {
      try {
        await this.writeStatus(c, summary.auditId);
      } catch (e) {
        this.o.log?.("error", "could not update constraint status", { event_type: "audit_error", audit_id: summary.auditId, constraint_kind: c.kind, constraint_name: c.name, err: (e as Error).message });
      }
    }
  }

  private async writeStatus(c: ConstraintAudit, auditId: string): Promise<void> {
    const ref: ResourceRef = { group: "constraints.gatekeeper.sh", version: "v1beta1", plural: c.kind.toLowerCase(), namespaced: false, kind: c.kind };
    for (let attempt = 0; attempt < 5; attempt++) {
      let obj: Obj | null;
      try {
        obj = await this.o.kube.getOrNull(ref, c.name);
      } catch (e) {
        if (isNotFound(e)) return;
        throw e;
      }
      if (!obj) return; // deleted since
      const meta = obj.metadata ?? {};
      obj.status = auditStatus(obj.status, { auditTimestamp: auditId, totalViolations: c.totalViolations, violations: c.violations }, {
        id: this.o.podId,
        ...(typeof meta.uid === "string" ? { constraintUID: meta.uid } : {}),
        enforced: true,
        ...(typeof meta.generation === "number" ? { observedGeneration: meta.generation } : {}),
        operations: this.o.operations ?? ["audit"],
      });
      try {
        await this.o.kube.request("PUT", `/apis/constraints.gatekeeper.sh/v1beta1/${ref.plural}/${encodeURIComponent(c.name)}/status`, { body: obj });
        return;
      } catch (e) {
        if (isConflict(e)) continue; // someone else wrote: read again
        if (isNotFound(e)) return;
        throw e;
      }
    }
    throw new Error(`status of ${c.kind}/${c.name}: still conflicting after 5 attempts`);
  }

  /** The audit's Prometheus metrics, in the text exposition format. */
  metricsText(): string {
    let out = "";
    out += "# HELP gatekeeper_violations Total number of audited violations\n# TYPE gatekeeper_violations gauge\n";
    const by = this.last?.summary.violationsByAction;
    for (const a of KNOWN_ACTIONS) out += `gatekeeper_violations{enforcement_action="${a}"} ${by?.[a] ?? 0}\n`;
    out += "# HELP gatekeeper_audit_duration_seconds Latency of audit operation in seconds\n# TYPE gatekeeper_audit_duration_seconds histogram\n";
    let sum = 0;
    for (const d of this.durations) sum += d;
    for (const b of AUDIT_DURATION_BUCKETS) out += `gatekeeper_audit_duration_seconds_bucket{le="${b}"} ${this.durations.filter((d) => d <= b).length}\n`;
    out += `gatekeeper_audit_duration_seconds_bucket{le="+Inf"} ${this.durations.length}\n`;
    out += `gatekeeper_audit_duration_seconds_sum ${sum}\ngatekeeper_audit_duration_seconds_count ${this.durations.length}\n`;
    out += "# HELP gatekeeper_audit_last_run_time Timestamp of last audit run starting time\n# TYPE gatekeeper_audit_last_run_time gauge\n";
    if (this.runStart !== null) out += `gatekeeper_audit_last_run_time ${this.runStart}\n`;
    out += "# HELP gatekeeper_audit_last_run_end_time Timestamp of last audit run ending time\n# TYPE gatekeeper_audit_last_run_end_time gauge\n";
    if (this.runEnd !== null) out += `gatekeeper_audit_last_run_end_time ${this.runEnd}\n`;
    return out;
  }
}

/** A Lister over data.inventory (--audit-from-cache): every synced object, kind by kind. */
export function inventoryLister(inv: Obj): Lister {
  const byKind = new Map<string, Obj[]>();
  const add = (gv: string, kind: string, o: Obj) => {
    const key = `${gv}\0${kind}`;
    let l = byKind.get(key);
    if (!l) byKind.set(key, (l = []));
    l.push(o);
  };
  for (const [gv, kinds] of Object.entries((inv.cluster ?? {}) as Obj)) for (const [kind, objs] of Object.entries(kinds as Obj)) for (const o of Object.values(objs as Obj)) add(gv, kind, o as Obj);
  for (const nsd of Object.values((inv.namespace ?? {}) as Obj)) for (const [gv, kinds] of Object.entries(nsd as Obj)) for (const [kind, objs] of Object.entries(kinds as Obj)) for (const o of Object.values(objs as Obj)) add(gv, kind, o as Obj);
  const all: Obj[] = [];
  for (const l of byKind.values()) all.push(...l);
  // ManifestLister orders and pages them as the API server would.
  return new ManifestLister(all);
}

/** Stream the report at `path` (NDJSON) as NDJSON lines or as the JSON document. */
export async function streamReport(path: string, format: "json" | "ndjson", write: (chunk: string) => Promise<void> | void): Promise<void> {
  const rl = createInterface({ input: createReadStream(path, "utf8"), crlfDelay: Infinity });
  let first = true;
  for await (const line of rl) {
    if (line === "") continue;
    if (format === "ndjson") {
      await write(line + "\n");
      continue;
    }
    const rec = JSON.parse(line) as Record<string, unknown>;
    const { type, ...rest } = rec;
    if (type === "audit_started") await write(`{"auditId":${JSON.stringify(rest.auditId)},"startTime":${JSON.stringify(rest.startTime)},"violations":[`);
    else if (type === "violation") {
      await write((first ? "\n" : ",\n") + JSON.stringify(rest));
      first = false;
    } else if (type === "summary") await write(`${first ? "" : "\n"}],"summary":${JSON.stringify(rest)}}\n`);
  }
}
