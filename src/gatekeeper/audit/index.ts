// Gatekeeper's audit without its caps: streaming listing and review, capped deterministic
// constraint status, and the complete report (docs/audit.md).
export { runAudit, reviewItems, selectKinds, rfc3339, AuditError, AUDIT_ENFORCEMENT_POINT, DEFAULT_CHUNK_SIZE, DEFAULT_VIOLATIONS_LIMIT, DEFAULT_EVALUATOR_BATCH, KNOWN_ACTIONS } from "./audit.ts";
export type { AuditOptions, AuditSummary, ConstraintAudit, ReportViolation, ReportSink, AuditLogEvent, AuditEvaluator, AuditItem, AuditOutcome, AuditResult } from "./audit.ts";
export { ManifestLister, goCompare, compareListOrder, gvkKey, apiVersionOf } from "./lister.ts";
export type { Lister, GVK, ListOptions, ListPage } from "./lister.ts";
export { LimitQueue, compareViolations, truncateMessage, auditStatus, STATUS_MESSAGE_BYTES } from "./status.ts";
export type { StatusViolation, ByPodStatus, AuditStatusInput } from "./status.ts";
export { FileReportSink, CollectingSink, ReportEncoder, teeSinks, toCheckResults, compareReport, objectRef, isDenyViolation, reportFormatFor, ALL_OBJECTS } from "./report.ts";
export type { ReportFormat } from "./report.ts";
export { policyObjects, syncOnly, inventoryDoc, addToInventory, auditSnapshot, auditExclusion, snapshotProblems, isConfig, isGatekeeperPolicy } from "./policy.ts";
export type { SyncKind } from "./policy.ts";
export { auditOnce } from "./oneshot.ts";
export type { OneShotOptions, OneShotResult } from "./oneshot.ts";
