// gator's Expander: the expansion system built from a set of objects (ExpansionTemplates,
// mutators and Namespaces among them), used by `portcullis expand` and by gator test.
//
// Namespaces as gator finds them: an object without namespace gets an empty Namespace (so the
// generated resource has none), a namespace present among the objects gets that Namespace, the
// namespace `default` gets a bare `default` Namespace, and any other gets none (the generated
// resource then keeps the generator's metadata.namespace).

import { isPlainObject, gvkOf, type Obj } from "../yaml.ts";
import { ExpansionSystem, type MutationHook, type Resultant } from "./system.ts";
import { ExpansionError, isExpansionTemplate, parseExpansionTemplate, type ExpansionTemplate } from "./template.ts";

export const MUTATION_GROUP = "mutations.gatekeeper.sh";
export const MUTATOR_KINDS = ["Assign", "AssignMetadata", "ModifySet", "AssignImage"];

export function isMutator(o: Obj): boolean {
  return MUTATOR_KINDS.includes(o.kind) && gvkOf(o).group === MUTATION_GROUP;
}

/**
 * Builds Gatekeeper's mutation system from the mutator objects among the inputs (in input
 * order); the hook it returns mutates a resource in place. Throws (with the mutator's error) for
 * a mutator that cannot be built.
 */
export type MutationSystemFactory = (mutators: Obj[]) => MutationHook;

export interface ExpanderOptions {
  mutation?: MutationSystemFactory;
}

function nameOf(o: Obj): string {
  const n = isPlainObject(o.metadata) ? o.metadata.name : undefined;
  return typeof n === "string" ? n : "";
}

export class Expander {
  readonly system: ExpansionSystem;
  readonly templates: ExpansionTemplate[] = [];
  private readonly namespaces = new Map<string, Obj>();
  private readonly mutate?: MutationHook;

  /** Throws ExpansionError worded as gator's NewExpander. */
  constructor(objs: Obj[], opts: ExpanderOptions = {}) {
    const mutators: Obj[] = [];
    for (const o of objs) {
      if (isMutator(o)) mutators.push(o);
      else if (isExpansionTemplate(o)) {
        try {
          this.templates.push(parseExpansionTemplate(o));
        } catch (e) {
          throw new ExpansionError(`error parsing resources: ${(e as Error).message}`);
        }
      } else if (o.kind === "Namespace" && gvkOf(o).group === "") this.namespaces.set(nameOf(o), o);
    }
    // Without ExpansionTemplates nothing is generated, and the mutators would change no answer
    // here; with them, expanding without the mutators would give resources Gatekeeper does not.
    if (mutators.length && (opts.mutation || this.templates.length > 0)) {
      if (!opts.mutation) {
        const m = mutators[0];
        throw new ExpansionError(
          `error parsing resources: mutator ${m.kind} ${JSON.stringify(nameOf(m))} cannot be applied: no mutation system is available to expansion here, and expanding without it would give resources Gatekeeper would not generate`,
        );
      }
      try {
        this.mutate = opts.mutation(mutators);
      } catch (e) {
        // gator: a mutator that cannot be built fails reading the resources; a conflict fails its upsert.
        if ((e as Error).name === "MutatorError") throw new ExpansionError(`error parsing resources: ${(e as Error).message}`);
        throw new ExpansionError(`error upserting mutator: ${(e as Error).message}`);
      }
    }
    this.system = new ExpansionSystem({ mutate: this.mutate });
    for (const t of this.templates) {
      try {
        this.system.upsert(t);
      } catch (e) {
        throw new ExpansionError(`error upserting template ${t.name}: ${(e as Error).message}`);
      }
    }
  }

  /** The Namespace gator attaches to an object (null: none known). */
  namespaceFor(o: Obj): Obj | null {
    const ns = isPlainObject(o.metadata) && typeof o.metadata.namespace === "string" ? o.metadata.namespace : "";
    if (ns === "") return {};
    const found = this.namespaces.get(ns);
    if (found) return found;
    return ns === "default" ? { metadata: { name: "default" } } : null;
  }

  /**
   * The resources an object implies. As gator, the mutators first run on the object itself
   * (source Original, in place). Throws ExpansionError.
   */
  async expand(o: Obj): Promise<Resultant[]> {
    const ns = this.namespaceFor(o);
    if (this.mutate) {
      try {
        await this.mutate(o, { namespace: ns, username: "", source: "Original" });
      } catch (e) {
        throw new ExpansionError(`error mutating base resource ${nameOf(o)}: ${(e as Error).message}`);
      }
    }
    try {
      return await this.system.expand(o, ns);
    } catch (e) {
      throw new ExpansionError(`error expanding resource ${nameOf(o)}: ${(e as Error).message}`);
    }
  }
}

/** gator expand: every resource the objects imply, sorted as gator sorts them. */
export async function expandAll(objs: Obj[], opts: ExpanderOptions = {}): Promise<Obj[]> {
  const er = new Expander(objs, opts);
  const out: Obj[] = [];
  for (const o of objs) for (const r of await er.expand(o)) out.push(r.obj);
  return sortResultants(out);
}

/** gator's order: by name + apiVersion + kind, descending (byte order). */
export function sortResultants(objs: Obj[]): Obj[] {
  const key = (o: Obj) => Buffer.from(nameOf(o) + String(o.apiVersion ?? "") + String(o.kind ?? ""));
  return objs
    .map((o, i) => ({ o, i, k: key(o) }))
    .sort((a, b) => Buffer.compare(b.k, a.k) || a.i - b.i)
    .map((x) => x.o);
}
