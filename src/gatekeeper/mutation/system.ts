// The mutation system: a set of mutators applied to an object as Gatekeeper applies them.
//
// Mutators run in the order of their IDs (group, kind, namespace, name: Assign before
// AssignImage before AssignMetadata before ModifySet, then by name). One pass applies every
// mutator that matches; passes repeat until a pass changes nothing, at most (number of
// mutators + 1) passes, after which the object is refused as `mutation not converging`.
// Mutators in schema conflict (schema.ts) are kept but never applied. A mutator that fails to
// match or to apply stops the mutation with Gatekeeper's error text.

import { isPlainObject, gvkOf, metaOf, type Obj } from "../yaml.ts";
import { MatchError } from "../match.ts";
import { buildMutator, jsonEqual, MUTATIONS_GROUP, type Mutable, type Mutator } from "./mutators.ts";
import { conflictMessage, SchemaDB } from "./schema.ts";
import { cloneValue, hasPlaceholders, ProviderNotFound, resolvePlaceholders, type ProviderCaller, type ResolveLog } from "./externaldata.ts";

/** One mutator object that could not be ingested, or that is in conflict. */
export interface MutatorStatus {
  kind: string;
  name: string;
  id: string;
  /** Empty: the mutator is active. */
  errors: { code: "ingest_error" | "schema_conflict"; message: string }[];
  /** Time spent building the mutator (gatekeeper_mutator_ingestion_duration_seconds). */
  seconds: number;
}

export class MutationFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = "MutationFailure";
  }
}

/** Past the caller's deadline between two mutators. */
export class MutationDeadlineError extends Error {
  constructor() {
    super("mutation deadline exceeded");
    this.name = "MutationDeadlineError";
  }
}

export interface MutateOptions {
  /** Calls external data providers (mutators with externalData); without it every provider is missing. */
  callProvider?: ProviderCaller;
  /** Where failure-policy fallbacks are logged. */
  log?: ResolveLog;
  /** ms since the epoch (Date.now()) after which the mutation stops with MutationDeadlineError. */
  deadline?: number;
  /** The mutation's id in error texts (default: a random UUID, as Gatekeeper's). */
  uuid?: string;
}

export interface MutateResult {
  /** Did any mutator change the object? */
  mutated: boolean;
  /** Passes run (0: nothing applied). */
  iterations: number;
  /** The mutators applied in the passes that changed the object, in application order. */
  applied: string[];
}

function idParts(m: Mutator): [string, string, string, string] {
  return [MUTATIONS_GROUP, m.kind, "", m.name];
}

function compareMutators(a: Mutator, b: Mutator): number {
  const x = idParts(a);
  const y = idParts(b);
  for (let i = 0; i < 4; i++) if (x[i] !== y[i]) return x[i] < y[i] ? -1 : 1;
  return 0;
}

function nameOrGenerateName(o: Obj): string {
  const meta = metaOf(o);
  if (typeof meta.name === "string" && meta.name !== "") return meta.name;
  return typeof meta.generateName === "string" ? meta.generateName : "";
}

function describe(o: Obj): string {
  const g = gvkOf(o);
  const ns = typeof metaOf(o).namespace === "string" ? metaOf(o).namespace : "";
  return `${g.group} ${g.kind} ${ns} ${nameOrGenerateName(o)}`;
}

export class MutationSystem {
  /** Mutators in application order (conflicting ones included; they are skipped). */
  readonly mutators: readonly Mutator[];
  readonly statuses: readonly MutatorStatus[];
  private readonly db: SchemaDB;

  private constructor(mutators: Mutator[], statuses: MutatorStatus[], db: SchemaDB) {
    this.mutators = mutators;
    this.statuses = statuses;
    this.db = db;
  }

  /**
   * Build from mutator objects. A mutator that cannot be built is reported (ingest_error) and left
   * out; a later object with the same kind and name replaces an earlier one, as an update would.
   */
  static build(objects: Obj[]): MutationSystem {
    const byId = new Map<string, Mutator>();
    const statusById = new Map<string, MutatorStatus>();
    const failed: MutatorStatus[] = [];
    for (const o of objects) {
      const kind = String(o.kind ?? "");
      const name = isPlainObject(o.metadata) && typeof o.metadata.name === "string" ? o.metadata.name : "";
      const id = `${kind}.${MUTATIONS_GROUP} /${name}`;
      const t0 = performance.now();
      try {
        const m = buildMutator(o);
        byId.set(m.id, m);
        statusById.set(m.id, { kind, name, id: m.id, errors: [], seconds: (performance.now() - t0) / 1000 });
      } catch (e) {
        byId.delete(id);
        statusById.delete(id);
        failed.push({ kind, name, id, errors: [{ code: "ingest_error", message: (e as Error).message }], seconds: (performance.now() - t0) / 1000 });
      }
    }
    const mutators = [...byId.values()].sort(compareMutators);
    const db = new SchemaDB();
    for (const m of mutators) db.upsert(m);
    const conflicting = db.conflicting();
    const statuses = mutators.map((m) => {
      const s = statusById.get(m.id)!;
      if (db.hasConflicts(m.id)) s.errors.push({ code: "schema_conflict", message: conflictMessage(conflicting) });
      return s;
    });
    return new MutationSystem(mutators, [...statuses, ...failed], db);
  }

  /** IDs of the mutators in schema conflict (sorted). */
  conflicts(): string[] {
    return this.db.conflicting();
  }

  /**
   * Mutate `m.object` in place and then replace external data placeholders with the providers'
   * answers. Throws MutationFailure (Gatekeeper's texts) or MutationDeadlineError.
   */
  async mutateResolved(m: Mutable, opts: MutateOptions = {}): Promise<MutateResult> {
    const r = this.mutate(m, opts);
    if (r.mutated && hasPlaceholders(m.object)) {
      const call: ProviderCaller = opts.callProvider ?? ((provider) => Promise.reject(new ProviderNotFound(`provider ${provider} not found`)));
      try {
        await resolvePlaceholders(m.object, call, opts.log);
      } catch (e) {
        throw new MutationFailure(`failed to resolve external data placeholders: ${(e as Error).message}`);
      }
    }
    return r;
  }

  /** Mutate `m.object` in place, leaving external data placeholders. Throws MutationFailure (Gatekeeper's texts) or MutationDeadlineError. */
  mutate(m: Mutable, opts: MutateOptions = {}): MutateResult {
    const uuid = opts.uuid ?? globalThis.crypto.randomUUID();
    const maxIterations = this.mutators.length + 1;
    const applied: string[] = [];
    for (let iteration = 1; iteration <= maxIterations; iteration++) {
      const old = cloneValue(m.object);
      let changedThisPass = 0;
      const appliedThisPass: string[] = [];
      for (const mut of this.mutators) {
        if (this.db.hasConflicts(mut.id)) continue;
        if (opts.deadline !== undefined && Date.now() > opts.deadline) throw new MutationDeadlineError();
        let matches: boolean;
        try {
          matches = mut.matches(m);
        } catch (e) {
          const inner = e instanceof MatchError ? `failed to run Match criteria: ${e.message}` : (e as Error).message;
          throw new MutationFailure(`matching for mutator ${mut.id} failed for ${describe(m.object)}: ${inner}`);
        }
        if (!matches) continue;
        try {
          if (mut.mutate(m)) {
            changedThisPass++;
            appliedThisPass.push(mut.id);
          }
        } catch (e) {
          throw new MutationFailure(`mutation ${uuid} for mutator ${mut.id} failed for ${describe(m.object)}: ${(e as Error).message}`);
        }
      }
      if (changedThisPass === 0 || jsonEqual(old, m.object)) {
        if (iteration === 1) return { mutated: false, iterations: 0, applied: [] };
        return { mutated: true, iterations: iteration, applied };
      }
      // Gatekeeper logs the mutators of the passes that changed the object.
      applied.push(...appliedThisPass);
    }
    throw new MutationFailure(`mutation not converging: mutation ${uuid} not converging for ${describe(m.object)}`);
  }
}
