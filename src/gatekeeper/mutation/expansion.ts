// The mutation system as expansion's MutationHook (gator expand, gator test, suites, and the
// webhook's review of generated resources): the base resource is mutated as Original, each
// resultant as Generated, with no admission operation (so only mutators for every operation
// apply), as gator's Expander does.

import type { Obj } from "../yaml.ts";
import type { MutationHook } from "../expansion/system.ts";
import type { MutationSystemFactory } from "../expansion/expander.ts";
import { MutationSystem } from "./system.ts";
import { MutatorError } from "./mutators.ts";
import { conflictMessage } from "./schema.ts";

/** The hook of an already built system (the webhook snapshot's). */
export function mutationHook(system: MutationSystem): MutationHook {
  return async (obj, ctx) => {
    await system.mutateResolved({ object: obj, namespace: ctx.namespace, source: ctx.source, operation: "", username: ctx.username });
  };
}

/**
 * gator's NewExpander over the mutators among its inputs: a mutator that cannot be built throws
 * MutatorError (gator: `error parsing resources: …`), mutators in conflict throw Gatekeeper's
 * ErrConflictingSchema text (gator: `error upserting mutator: …`).
 */
export const gatorMutation: MutationSystemFactory = (mutators: Obj[]) => {
  const system = MutationSystem.build(mutators);
  for (const s of system.statuses) {
    const ingest = s.errors.find((e) => e.code === "ingest_error");
    if (ingest) throw new MutatorError(ingest.message);
  }
  const conflicts = system.conflicts();
  if (conflicts.length > 0) throw new Error(conflictMessage(conflicts));
  return mutationHook(system);
};
