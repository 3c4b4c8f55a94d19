// A constraint's audit status, as Gatekeeper's audit writes it (pkg/audit/manager.go, v3.23):
//
//   status.auditTimestamp   the audit's start, RFC 3339 in UTC with seconds
//   status.totalViolations  every violation found (uncapped)
//   status.violations[]     {group, version, kind, namespace?, name, message, enforcementAction,
//                           enforcementActions?}; at most --constraint-violations-limit of them:
//                           the first N in the order (group, version, kind, namespace, name,
//                           message, enforcementAction), compared as Go compares strings, and
//                           written last-first (Gatekeeper pops its max-heap); left out when empty
//   status.byPod[]          {id, constraintUID, enforced, observedGeneration, operations}
//
// Messages longer than 256 bytes are cut to 253 bytes and "..." (Gatekeeper's msgSize).

import { goCompare } from "./lister.ts";

export interface StatusViolation {
  group: string;
  version: string;
  kind: string;
  name: string;
  namespace?: string;
  message: string;
  enforcementAction: string;
  /** For `scoped` constraints: the actions that apply at the audit enforcement point. */
  enforcementActions?: string[];
}

/** Gatekeeper's limit on a status message, in bytes. */
export const STATUS_MESSAGE_BYTES = 256;

/**
 * Go's `str[0:253] + "..."` for strings over 256 bytes. A cut through a UTF-8 sequence leaves
 * invalid bytes, which Go's JSON encoder writes as one U+FFFD each; so does this.
 */
export function truncateMessage(msg: string, size = STATUS_MESSAGE_BYTES): string {
  if (msg.length * 3 <= size) return msg; // at most 3 bytes per UTF-16 code unit
  const b = Buffer.from(msg, "utf8");
  if (b.length <= size) return msg;
  const cut = size > 3 ? size - 3 : size;
  // Step back over an incomplete sequence; each of its bytes becomes U+FFFD.
  let start = cut;
  while (start > 0 && (b[start - 1] & 0xc0) === 0x80) start--;
  let keep = cut;
  let partial = 0;
  if (start > 0) {
    const lead = b[start - 1];
    const need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
    const have = cut - (start - 1);
    if (need > 1 && have < need) {
      keep = start - 1;
      partial = have;
    }
  }
  return b.subarray(0, keep).toString("utf8") + "\uFFFD".repeat(partial) + "...";
}

/** The status sort order (ascending); Gatekeeper keeps the first N in it. */
export function compareViolations(a: StatusViolation, b: StatusViolation): number {
  return (
    goCompare(a.group, b.group) ||
    goCompare(a.version, b.version) ||
    goCompare(a.kind, b.kind) ||
    goCompare(a.namespace ?? "", b.namespace ?? "") ||
    goCompare(a.name, b.name) ||
    goCompare(a.message, b.message) ||
    goCompare(a.enforcementAction, b.enforcementAction)
  );
}

/**
 * The `limit` smallest violations seen, in O(log limit) per offer: a max-heap whose root is the
 * largest kept, replaced when a smaller one arrives. Memory never exceeds `limit` entries.
 */
export class LimitQueue {
  private heap: StatusViolation[] = [];
  constructor(readonly limit: number) {}

  get size(): number {
    return this.heap.length;
  }

  offer(v: StatusViolation): void {
    if (this.limit <= 0) return;
    const h = this.heap;
    if (h.length < this.limit) {
      h.push(v);
      this.up(h.length - 1);
    } else if (compareViolations(v, h[0]) < 0) {
      h[0] = v;
      this.down(0);
    }
  }

  /** The kept violations in ascending order. */
  sorted(): StatusViolation[] {
    return this.heap.slice().sort(compareViolations);
  }

  private up(i: number): void {
    const h = this.heap;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (compareViolations(h[i], h[p]) <= 0) break;
      [h[i], h[p]] = [h[p], h[i]];
      i = p;
    }
  }

  private down(i: number): void {
    const h = this.heap;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && compareViolations(h[l], h[m]) > 0) m = l;
      if (r < h.length && compareViolations(h[r], h[m]) > 0) m = r;
      if (m === i) return;
      [h[i], h[m]] = [h[m], h[i]];
      i = m;
    }
  }
}

export interface ByPodStatus {
  id: string;
  constraintUID?: string;
  enforced: boolean;
  observedGeneration?: number;
  operations: string[];
}

export interface AuditStatusInput {
  auditTimestamp: string;
  totalViolations: number;
  /** Ascending (LimitQueue.sorted()). */
  violations: StatusViolation[];
}

/**
 * The `status` fields the audit owns, merged into an existing status: auditTimestamp,
 * totalViolations, violations (Gatekeeper's last-first order; removed when there are none),
 * and this pod's byPod entry (replacing an entry with the same id).
 */
export function auditStatus(existing: Record<string, unknown> | undefined, a: AuditStatusInput, pod?: ByPodStatus): Record<string, unknown> {
  const status: Record<string, unknown> = { ...(existing ?? {}) };
  status.auditTimestamp = a.auditTimestamp;
  status.totalViolations = a.totalViolations;
  if (a.violations.length) status.violations = a.violations.slice().reverse();
  else delete status.violations;
  if (pod) {
    const others = Array.isArray(status.byPod) ? (status.byPod as { id?: unknown }[]).filter((p) => p?.id !== pod.id) : [];
    const entry: Record<string, unknown> = { id: pod.id };
    if (pod.constraintUID) entry.constraintUID = pod.constraintUID;
    entry.enforced = pod.enforced;
    if (pod.observedGeneration !== undefined) entry.observedGeneration = pod.observedGeneration;
    entry.operations = pod.operations;
    status.byPod = [...others, entry].sort((x, y) => goCompare(String((x as { id?: unknown }).id ?? ""), String((y as { id?: unknown }).id ?? "")));
  }
  return status;
}
