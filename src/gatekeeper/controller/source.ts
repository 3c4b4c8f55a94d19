// ClusterSource: Gatekeeper's objects from a cluster (a PolicySource, state.ts).
//
// It watches ConstraintTemplates; for each it compiles the template, creates or updates the
// constraint CRD as Gatekeeper does (crd.ts), waits until the API server serves it, and then
// watches the constraints of that kind; a deleted template takes its CRD (and so its constraints)
// with it. It also watches the Config named `config` in the Gatekeeper namespace, Providers,
// ExpansionTemplates (Gatekeeper's --enable-generator-resource-expansion, on by default), the
// mutators (Assign, AssignMetadata, ModifySet, AssignImage) and Namespaces. Every change is
// delivered, debounced, as the whole current set of objects. Each
// template and constraint gets this pod's `status.byPod[]` entry (status.ts). Transient API
// failures are retried with backoff; watches recover by themselves (src/kube/informer.ts).

import { hostname } from "node:os";
import { compileTemplate, type CompiledTemplate } from "../template.ts";
import { buildConstraint } from "../constraint.ts";
import type { GatekeeperObjects, PolicySource } from "../state.ts";
import type { Obj } from "../yaml.ts";
import { KubeClient, Informer, applyCRD, waitEstablished, errorText, isNotFound, KubeError, type ResourceRef, type KubeConfigOptions } from "../../kube/index.ts";
import { constraintCRD, constraintCRDName, constraintResource } from "./crd.ts";
import { templateStatusErrors, constraintStatusErrors, writePodStatus, ERR_CREATE, ERR_UPDATE, type StatusError } from "./status.ts";

export const TEMPLATES: ResourceRef = { group: "templates.gatekeeper.sh", version: "v1", plural: "constrainttemplates", namespaced: false, kind: "ConstraintTemplate" };
export const CONFIGS: ResourceRef = { group: "config.gatekeeper.sh", version: "v1alpha1", plural: "configs", namespaced: true, kind: "Config" };
export const PROVIDERS: ResourceRef = { group: "externaldata.gatekeeper.sh", version: "v1beta1", plural: "providers", namespaced: false, kind: "Provider" };
/** The mutators (mutations.gatekeeper.sh; AssignImage is served as v1alpha1 only). */
export const MUTATORS: ResourceRef[] = [
  { group: "mutations.gatekeeper.sh", version: "v1", plural: "assign", namespaced: false, kind: "Assign" },
  { group: "mutations.gatekeeper.sh", version: "v1", plural: "assignmetadata", namespaced: false, kind: "AssignMetadata" },
  { group: "mutations.gatekeeper.sh", version: "v1", plural: "modifyset", namespaced: false, kind: "ModifySet" },
  { group: "mutations.gatekeeper.sh", version: "v1alpha1", plural: "assignimage", namespaced: false, kind: "AssignImage" },
];
export const NAMESPACES: ResourceRef = { group: "", version: "v1", plural: "namespaces", namespaced: false, kind: "Namespace" };
/** ExpansionTemplates (Gatekeeper's CRD names its plural in the singular). */
export const EXPANSION_TEMPLATES: ResourceRef = { group: "expansion.gatekeeper.sh", version: "v1beta1", plural: "expansiontemplate", namespaced: false, kind: "ExpansionTemplate" };

/** The webhook's enforcement point, for constraint validation of scoped actions. */
const WEBHOOK_POINT = "validation.gatekeeper.sh";

/** Same generation, labels and annotations: only status (or resourceVersion) changed. */
function sameSpec(a: Obj, b: Obj): boolean {
  const m = (o: Obj) => JSON.stringify([o.metadata?.generation, o.metadata?.labels ?? {}, o.metadata?.annotations ?? {}]);
  return a.metadata?.generation !== undefined && m(a) === m(b);
}

export type LogFn = (level: "debug" | "info" | "error", msg: string, fields?: Record<string, unknown>) => void;

export interface ClusterSourceOptions extends KubeConfigOptions {
  /** An existing client (tests); otherwise one is made from kubeconfig/in-cluster config. */
  client?: KubeClient;
  /** Namespace of the Config object `config` (Gatekeeper's --gatekeeper-namespace). Default gatekeeper-system. */
  gatekeeperNamespace?: string;
  /** This pod's id in status.byPod: $POD_NAME, else the host name. */
  podName?: string;
  /** The operations listed in status.byPod[].operations. Default ["webhook"]. */
  operations?: string[];
  /** Changes within this many ms are delivered once. Default 100. */
  debounceMs?: number;
  /** Create, update and delete the constraint CRDs. Default true. */
  manageCRDs?: boolean;
  /** Watch the mutators (mutations.gatekeeper.sh; their CRDs must be installed): --operation=mutation-webhook. Default false. */
  mutation?: boolean;
  /** Watch ExpansionTemplates (expansion.gatekeeper.sh), as Gatekeeper's --enable-generator-resource-expansion. Default true; without their CRD, none are watched. */
  expansion?: boolean;
  /** Write status.byPod entries. Default true. */
  writeStatus?: boolean;
  /** Full re-list interval of every watch, ms (default: the informer's, 10 min). */
  resyncMs?: number;
  /** Longest wait for one constraint kind's CRD to be served and listed, ms. Default 30,000. */
  kindTimeoutMs?: number;
  log?: LogFn;
}

interface KindState {
  kind: string;
  template: CompiledTemplate;
  informer: Informer;
}

export class ClusterSource implements PolicySource {
  private client: KubeClient | undefined;
  private readonly ns: string;
  private readonly podId: string;
  private readonly operations: string[];
  private readonly debounceMs: number;
  private readonly manageCRDs: boolean;
  private readonly writeStatus: boolean;
  private readonly kindTimeoutMs: number;
  private readonly log: LogFn;
  private templates!: Informer;
  private configs!: Informer;
  private providers!: Informer;
  private namespaces!: Informer;
  private expansion: Informer | undefined;
  private mutators: Informer[] = [];
  /** Template name → its constraint kind's watch (templates that compiled and whose CRD is served). */
  private readonly kinds = new Map<string, KindState>();
  /** Template name → the generation (and labels) last reconciled. */
  private readonly reconciled = new Map<string, string>();
  /** Constraint key → generation whose status this pod wrote. */
  private readonly constraintStatus = new Map<string, string>();
  private readonly queue = new Set<string>();
  private draining: Promise<void> | undefined;
  private readonly retries = new Map<string, { timer: NodeJS.Timeout; delay: number }>();
  private onChange: ((o: GatekeeperObjects) => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private started = false;
  private stopped = false;

  constructor(private readonly opts: ClusterSourceOptions = {}) {
    this.ns = opts.gatekeeperNamespace ?? "gatekeeper-system";
    this.podId = opts.podName ?? (process.env.POD_NAME || hostname());
    this.operations = opts.operations ?? ["webhook"];
    this.debounceMs = opts.debounceMs ?? 100;
    this.manageCRDs = opts.manageCRDs ?? true;
    this.writeStatus = opts.writeStatus ?? true;
    this.kindTimeoutMs = opts.kindTimeoutMs ?? 30_000;
    this.log = opts.log ?? (() => {});
  }

  async start(onChange: (objs: GatekeeperObjects) => void): Promise<void> {
    this.client = this.opts.client ?? (await KubeClient.connect({ kubeconfig: this.opts.kubeconfig, context: this.opts.context }));
    const c = this.client;
    const io = { resyncMs: this.opts.resyncMs };
    this.templates = new Informer(c, TEMPLATES, io);
    this.configs = new Informer(c, CONFIGS, { ...io, namespace: this.ns, fieldSelector: "metadata.name=config" });
    this.providers = new Informer(c, PROVIDERS, io);
    this.namespaces = new Informer(c, NAMESPACES, io);
    this.mutators = this.opts.mutation !== true ? [] : MUTATORS.map((r) => new Informer(c, r, io));
    this.expansion = this.opts.expansion === false || !(await this.served(EXPANSION_TEMPLATES)) ? undefined : new Informer(c, EXPANSION_TEMPLATES, io);
    const extra = [...this.mutators, ...(this.expansion ? [this.expansion] : [])];
    for (const inf of [this.templates, this.configs, this.providers, this.namespaces, ...extra]) {
      inf.onError((e) => this.log("error", "watch failed; retrying", { resource: inf.ref.plural, err: errorText(e) }));
    }
    const templateKey = (o: Obj) => `${o.metadata?.generation}|${JSON.stringify(o.metadata?.labels ?? {})}`;
    this.templates.on("add", (o) => this.enqueue(o.metadata.name));
    this.templates.on("update", (o) => {
      if (this.reconciled.get(o.metadata.name) !== templateKey(o)) this.enqueue(o.metadata.name);
    });
    this.templates.on("delete", (o) => this.enqueue(o.metadata.name));
    for (const inf of [this.configs, this.providers, this.namespaces, ...extra]) {
      inf.on("add", () => this.changed());
      inf.on("update", (o, old) => {
        if (!old || !sameSpec(o, old) || inf === this.namespaces) this.changed();
      });
      inf.on("delete", () => this.changed());
    }
    this.log("info", "watching Gatekeeper resources", { server: c.server, namespace: this.ns, pod: this.podId });
    await Promise.all([this.templates.start(), this.configs.start(), this.providers.start(), this.namespaces.start(), ...extra.map((m) => m.start())]);
    await this.drain();
    if (this.stopped) return;
    this.onChange = onChange;
    this.started = true;
    this.log("info", "initial sync done", { templates: this.templates.list().length, kinds: this.kinds.size, constraints: this.constraintObjects().length });
    onChange(this.snapshot());
  }

  /**
   * Whether the API server serves a resource: false only when it answers 404 (the CRD is not
   * installed); any other failure is left to the informer's retries.
   */
  private async served(r: ResourceRef): Promise<boolean> {
    try {
      await this.client!.listPage(r, { limit: 1 });
      return true;
    } catch (e) {
      if (!isNotFound(e)) return true;
      this.log("info", `the ${r.kind} CRD is not installed: ${r.kind}s are not watched`, { resource: `${r.plural}.${r.group}` });
      return false;
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.onChange = undefined;
    clearTimeout(this.timer);
    for (const r of this.retries.values()) clearTimeout(r.timer);
    this.retries.clear();
    const infs = [this.templates, this.configs, this.providers, this.namespaces, this.expansion, ...this.mutators, ...[...this.kinds.values()].map((k) => k.informer)].filter((i): i is Informer => i !== undefined);
    await Promise.all(infs.map((i) => i.stop()));
    await this.draining?.catch(() => {});
    if (!this.opts.client) this.client?.close();
  }

  /** The current objects (also what onChange receives). */
  snapshot(): GatekeeperObjects {
    const cfg = this.configs.list().find((o) => o.metadata?.name === "config") ?? null;
    const namespaces = new Map<string, Obj>();
    for (const n of this.namespaces.list()) namespaces.set(n.metadata.name, n);
    // Kind as listed (a list's items carry none) so the mutation system knows which mutator each is.
    const typed = (inf: Informer) => inf.list().map((o) => ({ ...o, apiVersion: `${inf.ref.group}/${inf.ref.version}`, kind: inf.ref.kind }));
    const mutators = this.mutators.flatMap(typed);
    const out: GatekeeperObjects = { templates: this.templates.list(), constraints: this.constraintObjects(), providers: this.providers.list(), mutators, config: cfg, namespaces };
    if (this.expansion) out.expansionTemplates = typed(this.expansion);
    return out;
  }

  private constraintObjects(): Obj[] {
    return [...this.kinds.values()].flatMap((k) => k.informer.list());
  }

  private changed(): void {
    if (!this.started || this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      if (this.onChange && !this.stopped) this.onChange(this.snapshot());
    }, this.debounceMs);
  }

  private enqueue(name: string): void {
    if (this.stopped) return;
    this.queue.add(name);
    this.draining ??= this.drainLoop();
  }

  private drain(): Promise<void> {
    return this.draining ?? Promise.resolve();
  }

  private async drainLoop(): Promise<void> {
    try {
      while (this.queue.size && !this.stopped) {
        const name = this.queue.values().next().value as string;
        this.queue.delete(name);
        try {
          await this.reconcile(name);
          const r = this.retries.get(name);
          if (r) {
            clearTimeout(r.timer);
            this.retries.delete(name);
          }
        } catch (e) {
          this.log("error", "reconciling a ConstraintTemplate failed; retrying", { template: name, err: errorText(e) });
          this.retry(name);
        }
        this.changed();
      }
    } finally {
      this.draining = undefined;
    }
  }

  private retry(name: string): void {
    if (this.stopped) return;
    const prev = this.retries.get(name);
    const delay = Math.min(30_000, prev ? prev.delay * 2 : 500);
    if (prev) clearTimeout(prev.timer);
    this.retries.set(name, { delay, timer: setTimeout(() => this.enqueue(name), delay) });
  }

  private async dropKind(name: string): Promise<void> {
    const k = this.kinds.get(name);
    if (!k) return;
    this.kinds.delete(name);
    await k.informer.stop();
    for (const key of [...this.constraintStatus.keys()]) if (key.startsWith(`${k.kind}/`)) this.constraintStatus.delete(key);
  }

  private async reconcile(name: string): Promise<void> {
    const c = this.client!;
    const obj = this.templates.get(name);
    if (!obj) {
      // Deleted: stop watching its constraints and delete its CRD (the API server deletes them).
      const k = this.kinds.get(name);
      await this.dropKind(name);
      this.reconciled.delete(name);
      if (this.manageCRDs) {
        const crdName = constraintCRDName(k?.kind ?? name);
        if (await c.delete({ group: "apiextensions.k8s.io", version: "v1", plural: "customresourcedefinitions", namespaced: false, kind: "CustomResourceDefinition" }, crdName)) {
          this.log("info", "deleted constraint CRD", { template: name, crd: crdName });
        }
      }
      return;
    }
    const key = `${obj.metadata?.generation}|${JSON.stringify(obj.metadata?.labels ?? {})}`;
    const entry: Obj = { id: this.podId, observedGeneration: obj.metadata?.generation ?? 0, operations: this.operations, templateUID: obj.metadata?.uid };
    let compiled: CompiledTemplate;
    try {
      compiled = compileTemplate(obj, undefined);
    } catch (e) {
      const errors = templateStatusErrors(e);
      this.log("error", "ConstraintTemplate does not compile", { template: name, err: errorText(e) });
      // Gatekeeper keeps serving the last good version of a template whose update fails.
      await this.status(obj, { ...entry, errors }, { created: this.kinds.has(name) });
      this.reconciled.set(name, key);
      return;
    }
    let crdErr: StatusError | undefined;
    if (this.manageCRDs) {
      try {
        const r = await applyCRD(c, constraintCRD(compiled));
        if (r.action !== "unchanged") this.log("info", `${r.action} constraint CRD`, { template: name, crd: constraintCRDName(compiled.kind) });
        await waitEstablished(c, constraintCRDName(compiled.kind), this.kindTimeoutMs);
      } catch (e) {
        if (!(e instanceof KubeError) || (e.code !== 0 && e.code < 500 && e.code !== 409 && e.code !== 429)) {
          crdErr = { code: this.kinds.has(name) ? ERR_UPDATE : ERR_CREATE, message: `Could not ${this.kinds.has(name) ? "update" : "create"} CRD: ${errorText(e)}` };
        } else throw e; // transient: retried
      }
    }
    if (crdErr) {
      await this.status(obj, { ...entry, errors: [crdErr] }, { created: this.kinds.has(name) });
      this.reconciled.set(name, key);
      return;
    }
    let k = this.kinds.get(name);
    if (k && k.kind !== compiled.kind) {
      await this.dropKind(name);
      k = undefined;
    }
    if (k) {
      k.template = compiled;
      // The schema may have changed: constraints are validated again.
      for (const o of k.informer.list()) this.constraintChanged(k, o, true);
    } else {
      const inf = new Informer(c, constraintResource(compiled.kind), { resyncMs: this.opts.resyncMs });
      const state: KindState = { kind: compiled.kind, template: compiled, informer: inf };
      this.kinds.set(name, state);
      inf.onError((e) => this.log("error", "watch failed; retrying", { resource: compiled.kind.toLowerCase(), err: errorText(e) }));
      inf.on("add", (o) => this.constraintChanged(state, o));
      // Status-only writes (this pod's and others') change nothing the webhook uses.
      inf.on("update", (o, old) => {
        if (!old || !sameSpec(o, old)) this.constraintChanged(state, o);
      });
      inf.on("delete", (o) => {
        this.constraintStatus.delete(`${state.kind}/${o.metadata?.name}`);
        this.changed();
      });
      let timer: NodeJS.Timeout | undefined;
      const synced = await Promise.race([inf.start().then(() => true), new Promise<boolean>((r) => (timer = setTimeout(() => r(false), this.kindTimeoutMs)))]);
      clearTimeout(timer);
      if (!synced) this.log("error", "constraints not listed in time; they arrive when the watch recovers", { kind: compiled.kind, timeout_ms: this.kindTimeoutMs });
    }
    await this.status(obj, entry, { created: true });
    this.reconciled.set(name, key);
  }

  private async status(obj: Obj, entry: Obj, extra: Obj): Promise<void> {
    if (!this.writeStatus || this.stopped) return;
    if (!entry.errors?.length) delete entry.errors;
    await writePodStatus(this.client!, TEMPLATES, this.templates.get(obj.metadata.name) ?? obj, entry, extra);
  }

  private constraintChanged(k: KindState, o: Obj, force = false): void {
    this.changed();
    if (!this.writeStatus || this.stopped) return;
    const key = `${k.kind}/${o.metadata?.name}`;
    const gen = `${o.metadata?.generation}|${k.template.object.metadata?.generation}`;
    if (!force && this.constraintStatus.get(key) === gen) return;
    this.constraintStatus.set(key, gen);
    const entry: Obj = { id: this.podId, constraintUID: o.metadata?.uid, enforced: true, observedGeneration: o.metadata?.generation ?? 0, operations: this.operations };
    try {
      buildConstraint(o, k.template, undefined, WEBHOOK_POINT);
    } catch (e) {
      entry.enforced = false;
      entry.errors = constraintStatusErrors(e);
    }
    writePodStatus(this.client!, constraintResource(k.kind), o, entry).catch((e) => {
      this.constraintStatus.delete(key);
      if (!this.stopped) this.log("error", "writing constraint status failed", { kind: k.kind, constraint: o.metadata?.name, err: errorText(e) });
    });
  }
}
