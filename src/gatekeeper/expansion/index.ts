// Gatekeeper's expansion: ExpansionTemplates, the expansion system, gator's Expander and the
// review of generated resources (docs/gatekeeper-expansion.md).
export {
  EXPANSION_GROUP,
  ExpansionError,
  isExpansionTemplate,
  parseExpansionTemplate,
  validateExpansionTemplate,
  type ExpansionTemplate,
  type GVK,
  type ApplyTo,
} from "./template.ts";
export { ExpansionSystem, MAX_EXPANSION_DEPTH, expandResource, type MutationHook, type MutationContext, type Resultant, type SourceType } from "./system.ts";
export { Expander, expandAll, sortResultants, isMutator, MUTATOR_KINDS, MUTATION_GROUP, type ExpanderOptions, type MutationSystemFactory } from "./expander.ts";
export { impliedByPrefix, impliedViolations, reviewResultants } from "./review.ts";
export { formatResources, type ExpandFormat } from "./output.ts";
