// Gatekeeper mutation (mutations.gatekeeper.sh): docs/gatekeeper-mutation.md.
export { parsePath, pathString, PathError, type Path, type PathNode } from "./path.ts";
export { buildMutator, isMutatorObject, MutatorError, MUTATOR_KINDS, MUTATIONS_GROUP, type Mutator, type Mutable } from "./mutators.ts";
export { MutationSystem, MutationFailure, MutationDeadlineError, type MutatorStatus, type MutateResult } from "./system.ts";
export { conflictMessage } from "./schema.ts";
export { mutateImage } from "./image.ts";
export { printObjects, toGoYaml } from "./print.ts";
export { mutateOffline, type OfflineResult } from "./offline.ts";
export { gatorMutation, mutationHook } from "./expansion.ts";
export { createPatch, applyPatch, type PatchOp } from "./patch.ts";
export { mutateReview, type MutationOutcome, type MutationContext, type MutationStatus } from "./webhook.ts";
