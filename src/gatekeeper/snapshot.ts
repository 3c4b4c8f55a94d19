// An immutable evaluation snapshot built from a set of Gatekeeper objects (state.ts).
//
// buildSnapshot() compiles every template, validates every constraint against its template and
// every Provider, reads the Config's namespace exclusions, and returns a Client loaded with what
// was good plus a report of what was not (per object: Rego's code, message and location, or
// Gatekeeper's status error code), so a source can write errors to status. A snapshot is never
// changed after it is built: a policy change builds a new one and the host swaps it atomically,
// so reviews already running finish on the old one.

import { Client } from "./client.ts";
import { TemplateError, isTemplate } from "./template.ts";
import { ConstraintError, isConstraint } from "./constraint.ts";
import { wildcardMatches } from "./match.ts";
import { isPlainObject, type Obj } from "./yaml.ts";
import type { GatekeeperObjects } from "./state.ts";
import { MutationSystem, type MutatorStatus } from "./mutation/system.ts";
import { mutationHook } from "./mutation/expansion.ts";
import { ExpansionSystem, type MutationHook } from "./expansion/system.ts";
import { parseExpansionTemplate } from "./expansion/template.ts";

/** The enforcement point of the validating webhook (scopedEnforcementActions). */
export const WEBHOOK_ENFORCEMENT_POINT = "validation.gatekeeper.sh";

/** Gatekeeper's processes that a Config's spec.match can exclude namespaces from. */
export const PROCESSES = ["audit", "webhook", "sync", "mutation-webhook"] as const;
export type Process = (typeof PROCESSES)[number];

/** One error of an object, in the shape of Gatekeeper's status `errors[]`. */
export interface StatusError {
  code: string;
  message: string;
  /** file:row:col for Rego errors. */
  location?: string;
}

export interface ObjectReport {
  kind: string;
  name: string;
  /** Empty: the object is active. */
  errors: StatusError[];
}

export interface TemplateReport extends ObjectReport {
  /** Time spent validating and compiling the template (gatekeeper_constraint_template_ingestion_duration_seconds). */
  seconds: number;
}

export interface ConstraintReport extends ObjectReport {
  enforcementAction: string;
}

export interface SnapshotReport {
  templates: TemplateReport[];
  constraints: ConstraintReport[];
  providers: ObjectReport[];
  config: ObjectReport | null;
  /** Mutators: ingestion errors and schema conflicts (mutation/). */
  mutators: MutatorStatus[];
  /** ExpansionTemplates (errors: Gatekeeper's validation, or part of an expansion cycle). */
  expansionTemplates?: ObjectReport[];
}

export interface Snapshot {
  readonly client: Client;
  /** Namespace patterns excluded per process by the Config (wildcards as Gatekeeper's). */
  readonly excluded: Readonly<Record<Process, readonly string[]>>;
  readonly report: SnapshotReport;
  /** The mutators, ordered and checked for conflicts (the mutating webhook's). */
  readonly mutation: MutationSystem;
  /** The Namespaces the source knows (the mutating webhook's namespaceSelector). */
  readonly namespaces: ReadonlyMap<string, Obj>;
  /** The ExpansionTemplates in force (null: none), whose generated resources are reviewed too. */
  readonly expansion?: ExpansionSystem | null;
}

export interface SnapshotOptions {
  /** Enforcement point for scoped actions (default validation.gatekeeper.sh). */
  enforcementPoint?: string;
  /** Accept http:// Provider URLs (tests only; Gatekeeper requires https). */
  allowHTTPProviders?: boolean;
  /** Gatekeeper's mutators, applied to generated resources before they are reviewed (the mutation system's hook). */
  mutateGenerated?: MutationHook;
  /** Run a template's K8sNativeValidation (CEL) code when it has some (default true; Gatekeeper's --enable-k8s-native-validation). */
  k8sNativeValidation?: boolean;
}

function nameOf(o: Obj): string {
  const n = isPlainObject(o.metadata) ? o.metadata.name : undefined;
  return typeof n === "string" ? n : "";
}

function templateErrors(e: unknown): StatusError[] {
  if (e instanceof TemplateError && e.reason === "compile" && e.regoErrors.length > 0) {
    return e.regoErrors.map((d) => ({ code: d.code, message: d.message, ...(d.location ? { location: `${d.location.file}:${d.location.row}:${d.location.col}` } : {}) }));
  }
  return [{ code: "ingest_error", message: `Could not ingest Rego: ${e instanceof Error ? e.message : String(e)}` }];
}

/** The Config's exclusions: spec.match[].excludedNamespaces per process (`*` means every process). */
export function configExclusions(config: Obj | null): Record<Process, string[]> {
  const out = { audit: [], webhook: [], sync: [], "mutation-webhook": [] } as Record<Process, string[]>;
  const entries = config && isPlainObject(config.spec) && Array.isArray(config.spec.match) ? config.spec.match : [];
  for (const m of entries) {
    if (!isPlainObject(m)) continue;
    const nss = Array.isArray(m.excludedNamespaces) ? m.excludedNamespaces.filter((x: unknown): x is string => typeof x === "string") : [];
    const procs = Array.isArray(m.processes) ? m.processes.filter((x: unknown): x is string => typeof x === "string") : [];
    for (const p of procs) {
      const targets = p === "*" ? PROCESSES : (PROCESSES as readonly string[]).includes(p) ? [p as Process] : [];
      for (const t of targets) for (const ns of nss) if (!out[t].includes(ns)) out[t].push(ns);
    }
  }
  return out;
}

/** Is this namespace excluded from the process by the snapshot's Config? */
export function isNamespaceExcluded(snap: Snapshot, process: Process, namespace: string): boolean {
  return snap.excluded[process].some((p) => wildcardMatches(p, namespace));
}

/** Compile a set of Gatekeeper objects into a snapshot; bad objects are reported and left out. */
export function buildSnapshot(objs: GatekeeperObjects, opts: SnapshotOptions = {}): Snapshot {
  const client = new Client({
    enforcementPoint: opts.enforcementPoint ?? WEBHOOK_ENFORCEMENT_POINT,
    externalData: { allowHTTP: opts.allowHTTPProviders === true },
    k8sNativeValidation: opts.k8sNativeValidation !== false,
  });
  const report: SnapshotReport = { templates: [], constraints: [], providers: [], config: null, mutators: [] };

  // Providers first: templates are compiled with external_data known to the compiler.
  for (const p of objs.providers) {
    try {
      client.addProvider(p);
      report.providers.push({ kind: "Provider", name: nameOf(p), errors: [] });
    } catch (e) {
      report.providers.push({ kind: "Provider", name: nameOf(p), errors: [{ code: "ingest_error", message: (e as Error).message }] });
    }
  }
  const templates = [...objs.templates].sort((a, b) => (nameOf(a) < nameOf(b) ? -1 : nameOf(a) > nameOf(b) ? 1 : 0));
  for (const t of templates) {
    const t0 = performance.now();
    let errors: StatusError[] = [];
    if (!isTemplate(t)) errors = [{ code: "ingest_error", message: `not a ConstraintTemplate: apiVersion ${JSON.stringify(t.apiVersion ?? "")} kind ${JSON.stringify(t.kind ?? "")}` }];
    else {
      try {
        client.addTemplate(t);
      } catch (e) {
        errors = templateErrors(e);
      }
    }
    report.templates.push({ kind: "ConstraintTemplate", name: nameOf(t), errors, seconds: (performance.now() - t0) / 1000 });
  }
  for (const c of objs.constraints) {
    const kind = typeof c.kind === "string" ? c.kind : "";
    const spec = isPlainObject(c.spec) ? c.spec : {};
    const action = typeof spec.enforcementAction === "string" && spec.enforcementAction !== "" ? spec.enforcementAction : "deny";
    let errors: StatusError[] = [];
    if (!isConstraint(c)) errors = [{ code: "invalid_constraint", message: `not a constraint: apiVersion ${JSON.stringify(c.apiVersion ?? "")}` }];
    else if (!client.templates.has(kind)) errors = [{ code: "missing_template", message: `missing ConstraintTemplate: template ${JSON.stringify(kind.toLowerCase())} not found` }];
    else {
      try {
        client.addConstraint(c);
      } catch (e) {
        errors = [{ code: e instanceof ConstraintError && e.reason === "schema" ? "schema_error" : "invalid_constraint", message: (e as Error).message }];
        // the last object of a kind and name is the one in force (lastOfEach below): an earlier
        // valid one of the same name does not stay enforced behind this one's error
        client.removeConstraint(kind, nameOf(c));
      }
    }
    report.constraints.push({ kind, name: nameOf(c), errors, enforcementAction: action });
  }
  let excluded = configExclusions(null);
  if (objs.config) {
    // Gatekeeper reconciles only the Config named "config".
    if (nameOf(objs.config) !== "config") report.config = { kind: "Config", name: nameOf(objs.config), errors: [{ code: "ignored", message: "config resource must have name 'config'" }] };
    else {
      excluded = configExclusions(objs.config);
      report.config = { kind: "Config", name: "config", errors: [] };
    }
  }
  // An object given twice (two policy files with the same kind and name) is one object, the last
  // one read, as the API server keeps one per name: it is reported (and counted in the metrics) once.
  report.providers = lastOfEach(report.providers);
  report.templates = lastOfEach(report.templates);
  report.constraints = lastOfEach(report.constraints);
  client.setNamespaces(objs.namespaces);
  if (objs.inventory) client.setInventoryDoc(objs.inventory);
  const mutation = MutationSystem.build(objs.mutators ?? []);
  report.mutators = [...mutation.statuses];
  // Generated resources are mutated by the snapshot's mutators unless the host gives its own hook.
  const expansion = buildExpansion(objs.expansionTemplates ?? [], report, opts.mutateGenerated ?? (mutation.mutators.length > 0 ? mutationHook(mutation) : undefined));
  return { client, excluded, report, mutation, namespaces: objs.namespaces, expansion };
}

/** One report per kind and name: the last, in the order of the last ones. */
function lastOfEach<T extends { kind: string; name: string }>(reports: T[]): T[] {
  const byName = new Map<string, T>();
  for (const r of reports) {
    const key = `${r.kind}\u0000${r.name}`;
    byName.delete(key);
    byName.set(key, r);
  }
  return byName.size === reports.length ? reports : [...byName.values()];
}

/** The ExpansionTemplates as Gatekeeper keeps them: each validated, those in a cycle left out (and reported). */
function buildExpansion(objs: Obj[], report: SnapshotReport, mutate?: MutationHook): ExpansionSystem | null {
  if (objs.length === 0) return null;
  const system = new ExpansionSystem({ mutate });
  const reports: ObjectReport[] = [];
  for (const o of [...objs].sort((a, b) => (nameOf(a) < nameOf(b) ? -1 : nameOf(a) > nameOf(b) ? 1 : 0))) {
    const r: ObjectReport = { kind: "ExpansionTemplate", name: nameOf(o), errors: [] };
    reports.push(r);
    try {
      system.upsert(parseExpansionTemplate(o));
    } catch (e) {
      r.errors.push({ code: "ingest_error", message: (e as Error).message });
    }
  }
  const conflicts = new Set(system.conflicts());
  for (const r of reports) if (conflicts.has(r.name) && r.errors.length === 0) r.errors.push({ code: "ingest_error", message: "template forms expansion cycle" });
  report.expansionTemplates = reports;
  return system.size > 0 ? system : null;
}
