// Portcullis's Gatekeeper-compatible core: ConstraintTemplates, constraints, admission
// reviews, `gator verify` suites and `gator test`.
export { Client, humanMessage, sortViolations, isDenyAction } from "./client.ts";
export type { Violation, ReviewResponse, ClientOptions } from "./client.ts";
export { compileTemplate, regoSourceOf, isTemplate, TemplateError, TARGET } from "./template.ts";
export type { CompiledTemplate, RegoSource } from "./template.ts";
export { buildConstraint, constraintSchema, isConstraint, scopedActionsFor, ConstraintError, GATOR_ENFORCEMENT_POINT } from "./constraint.ts";
export type { Constraint } from "./constraint.ts";
export { matches, objectMatches, selectorMatches, wildcardMatches, validateMatch, MatchError, MATCH_SCHEMA } from "./match.ts";
export type { Match, LabelSelector, Matchable } from "./match.ts";
export { buildReview, isAdmissionReview, ReviewError } from "./review.ts";
export type { ReviewOptions, BuiltReview } from "./review.ts";
export { validateSchema, compileRE2, goQuote } from "./schema.ts";
export type { FieldError, ValidationResult } from "./schema.ts";
export { parseManifests, ManifestError, K8S_SCHEMA } from "./yaml.ts";
export { readManifests, manifestFiles } from "./manifestfiles.ts";
export {
  runSuites,
  runSuite,
  parseSuites,
  findSuiteFiles,
  checkAssertion,
  formatText,
  formatJSON,
  countCases,
  allPassed,
  suitePassed,
  testPassed,
  casePassed,
  SUITE_API_VERSION,
} from "./suite.ts";
export type { SuiteResult, TestResult, CaseResult, RunOptions, Suite, SuiteTest, SuiteCase, Assertion } from "./suite.ts";
export { gatorTest, gatorTestArgs, hasGatekeeperPolicies, GatorInputError, formatGatorLine } from "./gatortest.ts";
export type { GatorTestOptions, GatorTestResult } from "./gatortest.ts";
export { EXTERNAL_DATA_BUILTINS, GATEKEEPER_BUILTINS, parseProvider, isProvider, externalDataBuiltin, CACHE_TTL_MS } from "./externaldata.ts";
export type { Provider, ExternalDataState } from "./externaldata.ts";
