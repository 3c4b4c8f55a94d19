// The complete audit report: every violation, uncapped, written as it is found.
//
//   NDJSON  one JSON object per line: {"type":"audit_started",auditId,startTime}, then
//           {"type":"violation", …ReportViolation} per violation in the order found, then
//           {"type":"summary", …AuditSummary} (constraints with totals and their capped
//           status violations)
//   JSON    {"auditId", "startTime", "violations": [...], "summary": {...}}
//
// A file report is written to FILE.tmp-<pid> and renamed over FILE when the audit ends, so a
// reader always sees a whole report (the previous one until the next is complete). Writes
// wait for the stream to drain, so a slow disk slows the audit instead of filling memory.

import { createWriteStream, renameSync, rmSync, type WriteStream } from "node:fs";
import { once } from "node:events";
import type { AuditSummary, ReportSink, ReportViolation } from "./audit.ts";
import type { CheckResult, Result } from "../../output/index.ts";

export type ReportFormat = "json" | "ndjson";

/** A report format from a file name: `.ndjson`/`.jsonl` → ndjson, otherwise json. */
export function reportFormatFor(file: string): ReportFormat {
  return /\.(ndjson|jsonl)$/i.test(file) ? "ndjson" : "json";
}

/** Chunks of the report text, for any writer. */
export class ReportEncoder {
  private first = true;
  constructor(readonly format: ReportFormat) {}

  begin(info: { auditId: string; startTime: string }): string {
    if (this.format === "ndjson") return JSON.stringify({ type: "audit_started", ...info }) + "\n";
    return `{"auditId":${JSON.stringify(info.auditId)},"startTime":${JSON.stringify(info.startTime)},"violations":[`;
  }

  violation(v: ReportViolation): string {
    if (this.format === "ndjson") return JSON.stringify({ type: "violation", ...v }) + "\n";
    const sep = this.first ? "\n" : ",\n";
    this.first = false;
    return sep + JSON.stringify(v);
  }

  end(s: AuditSummary): string {
    if (this.format === "ndjson") return JSON.stringify({ type: "summary", ...s }) + "\n";
    return `${this.first ? "" : "\n"}],"summary":${JSON.stringify(s)}}\n`;
  }
}

/** Writes the report to a file (atomically replaced at the end). */
export class FileReportSink implements ReportSink {
  private stream: WriteStream | null = null;
  private enc: ReportEncoder;
  private tmp: string;
  private failed: Error | null = null;

  constructor(
    readonly file: string,
    format: ReportFormat = reportFormatFor(file),
  ) {
    this.enc = new ReportEncoder(format);
    this.tmp = `${file}.tmp-${process.pid}`;
  }

  private async write(s: string): Promise<void> {
    if (this.failed) throw this.failed;
    const st = this.stream!;
    if (st.write(s)) return;
    await new Promise<void>((resolve, reject) => {
      const onDrain = () => {
        st.off("error", onError);
        resolve();
      };
      const onError = (e: Error) => {
        st.off("drain", onDrain);
        reject(e);
      };
      st.once("drain", onDrain);
      st.once("error", onError);
    });
  }

  async begin(info: { auditId: string; startTime: string }): Promise<void> {
    const st = createWriteStream(this.tmp, { flags: "w", mode: 0o644 });
    st.on("error", (e) => (this.failed = new Error(`audit report ${this.file}: ${e.message}`)));
    await Promise.race([once(st, "open"), once(st, "error").then(([e]) => Promise.reject(new Error(`audit report ${this.file}: ${(e as Error).message}`)))]);
    this.stream = st;
    await this.write(this.enc.begin(info));
  }

  async violation(v: ReportViolation): Promise<void> {
    await this.write(this.enc.violation(v));
  }

  async end(s: AuditSummary): Promise<void> {
    await this.write(this.enc.end(s));
    const st = this.stream!;
    st.end();
    await once(st, "finish");
    if (this.failed) throw this.failed;
    renameSync(this.tmp, this.file);
    this.stream = null;
  }

  async abort(): Promise<void> {
    this.stream?.destroy();
    this.stream = null;
    rmSync(this.tmp, { force: true });
  }
}

/** Several sinks as one (e.g. a report file and the CLI's collector). */
export function teeSinks(...sinks: (ReportSink | undefined)[]): ReportSink {
  const ss = sinks.filter((s): s is ReportSink => s !== undefined);
  return {
    async begin(info) {
      for (const s of ss) await s.begin?.(info);
    },
    async violation(v) {
      for (const s of ss) await s.violation(v);
    },
    async end(sum) {
      for (const s of ss) await s.end?.(sum);
    },
    async abort(e) {
      for (const s of ss) await s.abort?.(e);
    },
  };
}

/** Keeps every violation in memory (the CLI prints them all; its memory grows with violations, not objects). */
export class CollectingSink implements ReportSink {
  readonly violations: ReportViolation[] = [];
  violation(v: ReportViolation): void {
    this.violations.push(v);
  }
}

/** `apiVersion/Kind [namespace/]name`, as gator names an object. */
export function objectRef(v: { group: string; version: string; kind: string; namespace?: string; name: string }): string {
  const av = v.group ? `${v.group}/${v.version}` : v.version;
  return `${av}/${v.kind} ${v.namespace ? v.namespace + "/" : ""}${v.name}`;
}

/** The order the CLI prints violations in: constraint kind and name, then the status order. */
export function compareReport(a: ReportViolation, b: ReportViolation): number {
  const c = (x: string, y: string) => (x < y ? -1 : x > y ? 1 : 0);
  return (
    c(a.constraint.kind, b.constraint.kind) ||
    c(a.constraint.name, b.constraint.name) ||
    c(a.group, b.group) ||
    c(a.version, b.version) ||
    c(a.kind, b.kind) ||
    c(a.namespace ?? "", b.namespace ?? "") ||
    c(a.name, b.name) ||
    c(a.message, b.message)
  );
}

/** Whether a violation is a deny (or scoped with deny at the audit point). */
export function isDenyViolation(v: ReportViolation): boolean {
  const a = v.enforcementAction.toLowerCase();
  return a === "deny" || (a === "scoped" && (v.enforcementActions ?? []).includes("deny"));
}

/** Label for the check results of constraints without violations. */
export const ALL_OBJECTS = "all objects";

/**
 * The audit in conftest's result model, for src/output's formats: one CheckResult per object and
 * constraint with violations (filename: the object as `apiVersion/Kind ns/name`, namespace: the
 * constraint's name); deny violations are failures, dryrun, warn and other actions warnings;
 * the message is `[constraint] msg` as Gatekeeper prints it, and metadata carries the action,
 * the constraint and the details. Each constraint without violations is one success (filename
 * "all objects"). Violations must be sorted with compareReport.
 */
export function toCheckResults(violations: ReportViolation[], summary: AuditSummary): CheckResult[] {
  const out: CheckResult[] = [];
  let cur: CheckResult | null = null;
  let curKey = "";
  for (const v of violations) {
    const file = objectRef(v);
    const key = `${v.constraint.kind}\0${v.constraint.name}\0${file}`;
    if (!cur || key !== curKey) {
      cur = { filename: file, namespace: v.constraint.name, successes: 0, skipped: [], warnings: [], failures: [], exceptions: [] };
      curKey = key;
      out.push(cur);
    }
    const r: Result = {
      msg: `[${v.constraint.name}] ${v.message}`,
      metadata: {
        constraint: `${v.constraint.kind}/${v.constraint.name}`,
        enforcementAction: v.enforcementAction,
        ...(v.enforcementActions ? { enforcementActions: v.enforcementActions } : {}),
        details: v.details,
      },
    };
    (isDenyViolation(v) ? cur.failures : cur.warnings).push(r);
  }
  for (const c of summary.constraints) {
    if (c.totalViolations === 0) out.push({ filename: ALL_OBJECTS, namespace: c.name, successes: 1, skipped: [], warnings: [], failures: [], exceptions: [] });
  }
  return out;
}
