// One audit for `portcullis audit`: the policy (from files, or from a cluster), the objects
// (from files through a ManifestLister, or a cluster's Lister), the report file, and every
// violation collected for printing (sorted with compareReport).
//
// Offline (`-f`), data.inventory holds the objects of the Config's spec.sync.syncOnly kinds,
// or every object given when there is no Config (as `gator test` does).

import { gvkOf, type Obj } from "../yaml.ts";
import { readManifests } from "../manifestfiles.ts";
import type { GatekeeperObjects } from "../state.ts";
import { runAudit, AuditError, type AuditSummary, type ReportViolation, type AuditLogEvent } from "./audit.ts";
import { ManifestLister, type Lister } from "./lister.ts";
import { CollectingSink, FileReportSink, teeSinks, compareReport } from "./report.ts";
import { policyObjects, syncOnly, type SyncKind, inventoryDoc, auditSnapshot, auditExclusion, snapshotProblems } from "./policy.ts";

export interface OneShotOptions {
  /** Files or directories of templates, constraints, Providers and the Config (--policy-dir). */
  policyPaths?: string[];
  /** Files or directories of objects to audit (-f); their Gatekeeper objects count as policy too. */
  files?: string[];
  /** A cluster: its lister, its Gatekeeper objects (used when no policy file is given) and data.inventory. */
  cluster?: { lister: Lister; policy(): Promise<GatekeeperObjects>; inventory(kinds: SyncKind[]): Promise<Obj> };
  chunkSize?: number;
  violationsLimit?: number;
  matchKindOnly?: boolean;
  reportFile?: string;
  reviewTimeoutMs?: number;
  log?: (e: AuditLogEvent) => void;
}

export interface OneShotResult {
  summary: AuditSummary;
  /** Every violation, sorted with compareReport. */
  violations: ReportViolation[];
  /** Policy objects that could not be used (bad templates, invalid constraints). */
  problems: string[];
}

export async function auditOnce(o: OneShotOptions): Promise<OneShotResult> {
  const policyFiles: Obj[] = [];
  for (const p of o.policyPaths ?? []) policyFiles.push(...readManifests(p));
  const objects: Obj[] = [];
  for (const p of o.files ?? []) objects.push(...readManifests(p));
  let policy: GatekeeperObjects;
  if (o.cluster && policyFiles.length === 0 && objects.length === 0) policy = await o.cluster.policy();
  else policy = policyObjects([...policyFiles, ...objects]);
  if (policy.templates.length === 0) throw new AuditError("no ConstraintTemplate to audit with: give --policy-dir (or -f files holding templates), or a cluster that has some");
  if (o.cluster) policy.inventory = await o.cluster.inventory(syncOnly(policy.config));
  else {
    const sync = syncOnly(policy.config);
    const inSync = sync.length ? (x: Obj) => sync.some((k) => { const g = gvkOf(x); return g.group === k.group && g.version === k.version && g.kind === k.kind; }) : () => true;
    policy.inventory = inventoryDoc(objects.filter(inSync));
  }
  const snap = auditSnapshot(policy);
  const lister = o.cluster?.lister ?? new ManifestLister(objects);
  const collect = new CollectingSink();
  const summary = await runAudit({
    lister,
    client: snap.client,
    expansion: snap.expansion,
    chunkSize: o.chunkSize,
    violationsLimit: o.violationsLimit,
    matchKindOnly: o.matchKindOnly,
    exclude: auditExclusion(snap),
    sink: teeSinks(collect, o.reportFile ? new FileReportSink(o.reportFile) : undefined),
    log: o.log,
    reviewTimeoutMs: o.reviewTimeoutMs,
  });
  return { summary, violations: collect.violations.sort(compareReport), problems: snapshotProblems(snap) };
}
