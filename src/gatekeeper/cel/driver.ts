// The K8sNativeValidation driver: a template's CEL code (spec.targets[0].code[] entry with
// `engine: K8sNativeValidation`) compiled and evaluated as Gatekeeper's k8scel driver does, on
// Kubernetes' ValidatingAdmissionPolicy validator:
//
//   source.validations[]   {expression, message, messageExpression}: a violation for each
//                          expression that is not true, with the message chosen as Kubernetes
//                          chooses it (messageExpression's string, else message, else
//                          "failed expression: <expression>"), trimmed
//   source.variables[]     {name, expression}: `variables.<name>`, evaluated on first use and
//                          shared by the expressions of one review (one that fails is an error
//                          value, which ||, && and ?: absorb, as in Kubernetes); Gatekeeper adds
//                          `variables.params` (the constraint's spec.parameters, or null) and
//                          `variables.anyObject` (object, or oldObject on DELETE)
//   source.matchCondition[] {name, expression}: the review is skipped unless all are true
//   source.failurePolicy   Fail (default; --default-k8s-native-validation-failure-policy) or
//                          Ignore: what an expression error or a compile error becomes — a
//                          violation carrying the error text, or nothing
// Bindings: object (null on DELETE), oldObject, request (the admission request, without the
// objects), params (the whole constraint), namespaceObject (the object's Namespace, metadata,
// spec and status only, or null).
//
// Cost: each expression may spend PER_CALL_LIMIT (1,000,000), and all the expressions of one
// review together the same budget, as Gatekeeper passes Kubernetes' per-call limit as the
// review's budget.

export { CelStopped } from "./engine.ts";
import { compile, CelCompileError, CelEvalError, CostMeter, PER_CALL_LIMIT, toCelInput, lazyMap, celErrorValue, currentMeter, VARIABLE_SLOTS, VARIABLE_COUNT, VARIABLE_VALUES, VARIABLE_UNSET, inEvalContext, type CelProgram, type Declarations } from "./engine.ts";
import { isPlainObject, type Obj } from "../yaml.ts";

export const ENGINE = "K8sNativeValidation";
const RESERVED_PREFIX = "gatekeeper_internal_";
/** Longest message a messageExpression may produce (Kubernetes' limit, bytes). */
export const MAX_MESSAGE_BYTES = 5 * 1024;
/** Kubernetes' cost budget for match conditions. */
const MATCH_CONDITION_BUDGET = 2_500_000;

export type FailurePolicy = "Fail" | "Ignore";

/** gator's complaint about a --default-k8s-native-validation-failure-policy value, or null when it is valid. */
export function celFailurePolicyError(v: string | undefined): string | null {
  if (v === undefined || v === "Fail" || v === "Ignore") return null;
  return `invalid default K8sNativeValidation failure policy: invalid failure policy: unrecognized failure policy: ${v}`;
}

/** An invalid K8sNativeValidation source: Gatekeeper refuses the template. */
export class CelSourceError extends Error {}

interface Compiled {
  text: string;
  program?: CelProgram;
  error?: string;
}

interface CompiledValidation {
  expression: Compiled;
  message: string;
  messageExpression?: Compiled;
}

export interface CelTemplate {
  validations: CompiledValidation[];
  variables: { name: string; expr: Compiled }[];
  /** The variables' names in order, and each name's definition (the last of a name wins): planned once, read by every review. */
  variableNames: string[];
  variableDefs: Map<string, Compiled>;
  /** The variables by slot (Declarations.slots): each distinct name and its definition. */
  slotDefs: { name: string; expr: Compiled }[];
  slotOf: Map<string, number>;
  matchConditions: { name: string; expr: Compiled }[];
  failurePolicy: FailurePolicy;
}

export interface CelReviewInput {
  object: Obj | null;
  oldObject: Obj | null;
  /** The admission request (input.review as built for Rego). */
  request: Obj;
  operation: string;
  /** The whole constraint. */
  constraint: Obj;
  namespaceObject: Obj | null;
}

/** The K8sNativeValidation entry of a template's code, if any (Gatekeeper takes the first). */
export function celCodeOf(tmpl: Obj): { source: unknown; field: string } | null {
  const targets = tmpl.spec?.targets;
  if (!Array.isArray(targets) || targets.length !== 1 || !isPlainObject(targets[0])) return null;
  const code = targets[0].code;
  if (!Array.isArray(code)) return null;
  for (let i = 0; i < code.length; i++) {
    const c = code[i];
    if (isPlainObject(c) && c.engine === ENGINE) return { source: c.source, field: `spec.targets[0].code[${i}].source` };
  }
  return null;
}

/** The fields of Kubernetes' typed `request` variable. */
const REQUEST_FIELDS = new Set(["kind", "resource", "subResource", "requestKind", "requestResource", "requestSubResource", "name", "namespace", "operation", "userInfo", "object", "oldObject", "dryRun", "options"]);

/** The documents without a schema: cel-go's static type of `object`, `oldObject` and `params` is dyn. */
const DYN_VARS: ReadonlySet<string> = new Set(["object", "oldObject", "params"]);

/**
 * What validations, message expressions and match conditions may use (not `params`: only
 * variables see it); `variableTypes`: the static types of the variables so far, where known.
 */
function declarations(variableNames: string[], withParams: boolean, slots: ReadonlyMap<string, number>, variableTypes: ReadonlyMap<string, string>): Declarations {
  const vars = new Set(["object", "oldObject", "request", "namespaceObject", "variables"]);
  if (withParams) vars.add("params");
  return { vars, fields: new Map([["variables", new Set(variableNames)], ["request", REQUEST_FIELDS]]), slots, types: { dynVars: DYN_VARS, variables: variableTypes } };
}

/** Each distinct variable name's slot (its first position). */
function slotsOf(names: readonly string[]): Map<string, number> {
  const slots = new Map<string, number>();
  for (const n of names) if (!slots.has(n)) slots.set(n, slots.size);
  return slots;
}

/**
 * Compile one expression. `want`: the type Kubernetes requires of it (bool for validations and
 * match conditions, string for message expressions); an expression of another static type is
 * a compile error then, as cel-go's checker makes it: `object.spec.hostNetwork` (dyn, the object
 * has no schema) is `must evaluate to bool but got dyn`, `size(x)` `… got int`.
 */
function compileOne(text: string, decl?: Declarations, want?: "bool" | "string"): Compiled {
  try {
    const program = compile(text, decl);
    if (want !== undefined && program.type !== undefined && program.type !== want) return { text, error: `must evaluate to ${want} but got ${program.type}` };
    return { text, program };
  } catch (e) {
    if (e instanceof CelCompileError) return { text, error: `compilation failed: ${e.message}` };
    throw e;
  }
}

const str = (v: unknown): string => (typeof v === "string" ? v : "");

/**
 * Check and compile a K8sNativeValidation source. Invalid sources (reserved variable names, an
 * unknown failure policy, a source that is not an object) throw CelSourceError; expressions that
 * do not compile are kept and reported at review time, as Gatekeeper does.
 */
export function compileCelSource(source: unknown, defaultFailurePolicy: FailurePolicy = "Fail"): CelTemplate {
  if (!isPlainObject(source)) throw new CelSourceError("could not recognize the type");
  const list = (v: unknown, field: string): Obj[] => {
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v) || v.some((x) => !isPlainObject(x))) throw new CelSourceError(`${field} must be a list of objects`);
    return v as Obj[];
  };
  const mcs = list(source.matchCondition, "matchCondition");
  for (const m of mcs) {
    const name = str(m.name);
    if (name.startsWith(RESERVED_PREFIX)) throw new CelSourceError(`invalid match condition: ${name} is not a valid match condition; cannot have "${RESERVED_PREFIX}" as a prefix`);
  }
  const vars = list(source.variables, "variables");
  for (const v of vars) {
    const name = str(v.name);
    if (name.startsWith(RESERVED_PREFIX)) throw new CelSourceError(`invalid variable definition: ${name} is not a valid variable; cannot have "${RESERVED_PREFIX}" as a prefix`);
    if (name === "params") throw new CelSourceError(`invalid variable definition: ${name} an invalid variable name, "params" is a reserved keyword`);
    if (name === "anyObject") throw new CelSourceError(`invalid variable definition: ${name} an invalid variable name, "anyObject" is a reserved keyword`);
  }
  // Gatekeeper's own variables come first (anyObject, then params); each variable sees those before it.
  const defs = [
    { name: "anyObject", expression: `has(request.operation) && request.operation == "DELETE" && object == null ? oldObject : object` },
    { name: "params", expression: "!has(params.spec) ? null : !has(params.spec.parameters) ? null: params.spec.parameters" },
    ...vars.map((v) => ({ name: str(v.name), expression: str(v.expression) })),
  ];
  const allNames = defs.map((d) => d.name);
  const slots = slotsOf(allNames);
  const variableTypes = new Map<string, string>();
  const variables = defs.map((d, i) => {
    const expr = compileOne(d.expression, declarations(allNames.slice(0, i), true, slots, variableTypes));
    const type = expr.program?.type;
    if (type !== undefined) variableTypes.set(d.name, type);
    else variableTypes.delete(d.name);
    return { name: d.name, expr };
  });
  const decl = declarations(allNames, false, slots, variableTypes);
  const matchConditions = mcs.map((m) => ({ name: str(m.name), expr: compileOne(str(m.expression), decl, "bool") }));
  let failurePolicy: FailurePolicy;
  if (source.failurePolicy === undefined || source.failurePolicy === null) failurePolicy = defaultFailurePolicy;
  else if (source.failurePolicy === "Fail" || source.failurePolicy === "Ignore") failurePolicy = source.failurePolicy;
  else throw new CelSourceError(`invalid failure policy: unrecognized failure policy: ${String(source.failurePolicy)}`);
  const validations = list(source.validations, "validations").map((v) => ({
    expression: compileOne(str(v.expression), decl, "bool"),
    message: str(v.message),
    ...(str(v.messageExpression) !== "" ? { messageExpression: compileOne(str(v.messageExpression), decl, "string") } : {}),
  }));
  const variableDefs = new Map(variables.map((v) => [v.name, v.expr]));
  return { validations, variables, variableNames: variables.map((v) => v.name), variableDefs, slotDefs: [...slots.keys()].map((n) => ({ name: n, expr: variableDefs.get(n)! })), slotOf: slots, matchConditions, failurePolicy };
}

/** The request as Kubernetes binds it: the admission request without its objects, zero-valued optional fields left out. */
function requestOf(review: Obj): Obj {
  const r: Obj = {};
  const kind = isPlainObject(review.kind) ? review.kind : {};
  const resource = isPlainObject(review.resource) ? review.resource : {};
  r.kind = { group: str(kind.group), version: str(kind.version), kind: str(kind.kind) };
  r.resource = { group: str(resource.group), version: str(resource.version), resource: str(resource.resource) };
  if (str(review.subResource)) r.subResource = review.subResource;
  r.requestKind = isPlainObject(review.requestKind) ? review.requestKind : r.kind;
  r.requestResource = isPlainObject(review.requestResource) ? review.requestResource : r.resource;
  if (str(review.requestSubResource) || str(review.subResource)) r.requestSubResource = str(review.requestSubResource) || str(review.subResource);
  if (str(review.name)) r.name = review.name;
  if (str(review.namespace)) r.namespace = review.namespace;
  r.operation = str(review.operation);
  const ui = isPlainObject(review.userInfo) ? review.userInfo : {};
  const userInfo: Obj = {};
  if (str(ui.username)) userInfo.username = ui.username;
  if (str(ui.uid)) userInfo.uid = ui.uid;
  if (Array.isArray(ui.groups) && ui.groups.length) userInfo.groups = ui.groups;
  if (isPlainObject(ui.extra) && Object.keys(ui.extra).length) userInfo.extra = ui.extra;
  r.userInfo = userInfo;
  r.dryRun = review.dryRun === true;
  if (isPlainObject(review.options) && Object.keys(review.options).length) r.options = review.options;
  return r;
}

/** A Namespace as Kubernetes exposes it to CEL: metadata (selected fields), spec and status. */
function namespaceOf(ns: Obj | null): Obj | null {
  if (!ns || !isPlainObject(ns)) return null;
  const m = isPlainObject(ns.metadata) ? ns.metadata : {};
  const meta: Obj = {};
  for (const k of ["name", "generateName", "namespace", "uid", "resourceVersion", "generation", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "labels", "annotations", "finalizers"]) {
    if (m[k] !== undefined && m[k] !== null && m[k] !== "") meta[k] = m[k];
  }
  if (!("creationTimestamp" in meta)) meta.creationTimestamp = null;
  return { metadata: meta, spec: isPlainObject(ns.spec) ? ns.spec : {}, status: isPlainObject(ns.status) ? ns.status : {} };
}

interface ReviewViews {
  /** What they were made of (a later input reuses them only when it has the same documents). */
  from: { object: Obj | null; oldObject: Obj | null; operation: string; namespaceObject: Obj | null };
  object: unknown;
  oldObject: unknown;
  request: unknown;
  namespaceObject: unknown;
}

/**
 * The views of one review's documents, shared by the constraints that review it: a member one
 * constraint's expressions converted is not converted again for the next. Keyed by the review
 * (the admission request object the caller builds per review, dropped with it), and reused only
 * for the same object, old object, operation and Namespace.
 */
const viewsByReview = new WeakMap<object, ReviewViews>();

function reviewViews(input: CelReviewInput): ReviewViews {
  const key = input.request;
  const hit = viewsByReview.get(key);
  if (hit && hit.from.object === input.object && hit.from.oldObject === input.oldObject && hit.from.operation === input.operation && hit.from.namespaceObject === input.namespaceObject) return hit;
  const v: ReviewViews = {
    from: { object: input.object, oldObject: input.oldObject, operation: input.operation, namespaceObject: input.namespaceObject },
    object: input.operation === "DELETE" ? null : toCelInput(input.object),
    oldObject: toCelInput(input.oldObject),
    request: toCelInput(requestOf(input.request)),
    namespaceObject: toCelInput(namespaceOf(input.namespaceObject)),
  };
  viewsByReview.set(key, v);
  return v;
}

/**
 * Each constraint's view (`params`), shared by the reviews that evaluate it: its members are
 * converted on the first review that reads them, not again for every review. Keyed by the
 * constraint object (immutable once built; dropped with it).
 */
const constraintViews = new WeakMap<object, unknown>();

function constraintView(constraint: Obj): unknown {
  if (constraint === null || typeof constraint !== "object") return toCelInput(constraint);
  let v = constraintViews.get(constraint);
  if (v === undefined) constraintViews.set(constraint, (v = toCelInput(constraint)));
  return v;
}

/**
 * The names a review's expressions read: the documents, and `variables`, the map of the
 * variables made on first read (Portcullis's evaluator reads them by slot, VARIABLE_SLOTS).
 */
class Bindings {
  [VARIABLE_SLOTS]: ((slot: number) => unknown) | undefined = undefined;
  [VARIABLE_COUNT]: number | undefined = undefined;
  [VARIABLE_VALUES]: readonly unknown[] | undefined = undefined;
  lazyVariables: (() => unknown) | undefined = undefined;
  private map: unknown = undefined;
  constructor(
    readonly object: unknown,
    readonly oldObject: unknown,
    readonly request: unknown,
    readonly params: unknown,
    readonly namespaceObject: unknown,
  ) {}
  get variables(): unknown {
    return (this.map ??= this.lazyVariables?.());
  }
}

class BudgetExceeded extends Error {}

/** A variable not computed yet (of this review). */
const UNSET = VARIABLE_UNSET;

const BUDGET_MESSAGE = "validation failed due to running out of cost budget, no further validation rules will be run";

/**
 * Review one object against a constraint of a CEL template: the messages of the violations
 * (Kubernetes' deny decisions, which include errors under failurePolicy Fail). `stop` is asked
 * now and then whether to give up (the review's deadline): CelStopped is thrown then.
 */
export function evaluateCel(t: CelTemplate, input: CelReviewInput, stop?: () => boolean): string[] {
  // @bufbuild/cel's evaluation context entered once for the review's expressions (engine.ts)
  return inEvalContext(() => evaluateIn(t, input, stop));
}

function evaluateIn(t: CelTemplate, input: CelReviewInput, stop?: () => boolean): string[] {
  // Views of the documents, not copies: a member is converted when an expression reads it.
  const docs = reviewViews(input);
  const bindings = new Bindings(docs.object, docs.oldObject, docs.request, constraintView(input.constraint), docs.namespaceObject) as unknown as Record<string, unknown>;
  // One budget per phase; an expression may spend what is left of it (at most PER_CALL_LIMIT).
  // Variables are charged to the expression that first reads them, as Kubernetes charges them.
  const run = (c: Compiled, budget: { left: number }): unknown => {
    if (c.error) throw new CelEvalError(`compilation error: ${c.error}`);
    const m = new CostMeter(Math.min(PER_CALL_LIMIT, budget.left), stop);
    try {
      return c.program!.eval(bindings, m);
    } catch (e) {
      if (m.exceeded) throw new BudgetExceeded(BUDGET_MESSAGE);
      throw e;
    } finally {
      budget.left -= m.used;
    }
  };
  // Variables: each computed on its first read and kept for the review's other expressions;
  // read by slot (Portcullis's evaluator) or through the `variables` map (@bufbuild/cel's).
  const slotDefs = t.slotDefs;
  const values: unknown[] = new Array(slotDefs.length).fill(UNSET);
  // A variable that fails is an error value (Kubernetes' composition: a lazy map whose member is
  // the error), which `||`, `&&` and `?:` absorb: `variables.bad || true` is true. Only the cost
  // limit (the reading expression's meter) ends the reading expression.
  const variable = (slot: number): unknown => {
    const known = values[slot];
    if (known !== UNSET) return known;
    const { name, expr: c } = slotDefs[slot];
    let v: unknown;
    if (c.error) v = celErrorValue(new CelEvalError(`composited variable "${name}" fails to compile: ${c.error}`));
    else {
      try {
        v = c.program!.eval(bindings, currentMeter() ?? new CostMeter(PER_CALL_LIMIT, stop));
      } catch (e) {
        if (!(e instanceof CelEvalError)) throw e;
        const err = new CelEvalError(`composited variable "${name}" fails to evaluate: ${e.message}`, e.costExceeded);
        if (e.costExceeded) throw err;
        v = celErrorValue(err);
      }
    }
    values[slot] = v;
    return v;
  };
  const b = bindings as unknown as Bindings;
  b[VARIABLE_SLOTS] = variable;
  b[VARIABLE_VALUES] = values;
  b[VARIABLE_COUNT] = t.variableNames.length; // the size of the lazyVariables map below
  b.lazyVariables = () => lazyMap(t.variableNames, t.slotOf, (name) => variable(t.slotOf.get(name)!));
  const onError = (msg: string): string[] => (t.failurePolicy === "Fail" ? [msg] : []);

  // Match conditions: any false skips the review; errors (without a false) follow failurePolicy.
  if (t.matchConditions.length) {
    const mb = { left: MATCH_CONDITION_BUDGET };
    const errors: string[] = [];
    for (const mc of t.matchConditions) {
      try {
        if (run(mc.expr, mb) === false) return [];
      } catch (e) {
        if (e instanceof BudgetExceeded) return onError(e.message);
        if (!(e instanceof CelEvalError)) throw e;
        errors.push(evalErrorText(mc.expr, e));
      }
    }
    if (errors.length) return onError(errors.length === 1 ? errors[0] : `[${errors.join(", ")}]`);
  }

  const budget = { left: PER_CALL_LIMIT };
  const results: { ok: boolean; error?: string }[] = [];
  for (const v of t.validations) {
    try {
      results.push({ ok: run(v.expression, budget) === true });
    } catch (e) {
      if (e instanceof BudgetExceeded) return onError(e.message);
      if (!(e instanceof CelEvalError)) throw e;
      results.push({ ok: false, error: evalErrorText(v.expression, e) });
    }
  }
  const out: string[] = [];
  let messageBudgetError: string | null = null;
  for (let i = 0; i < t.validations.length; i++) {
    const v = t.validations[i];
    const r = results[i];
    if (r.error !== undefined) {
      out.push(...onError(r.error));
      continue;
    }
    if (r.ok) continue;
    if (messageBudgetError !== null) {
      out.push(...onError(`failed messageExpression: ${messageBudgetError}`));
      continue;
    }
    let message = "";
    if (v.messageExpression) {
      try {
        const m = run(v.messageExpression, budget);
        if (typeof m === "string") {
          message = m.trim();
          if (Buffer.byteLength(message, "utf8") > MAX_MESSAGE_BYTES || message.includes("\n")) message = "";
        }
      } catch (e) {
        if (e instanceof BudgetExceeded) {
          messageBudgetError = e.message;
          out.push(...onError(`failed messageExpression: ${messageBudgetError}`));
          continue;
        }
        if (!(e instanceof CelEvalError)) throw e;
      }
    }
    if (message === "" && v.message !== "") message = v.message.trim();
    if (message === "") message = `failed expression: ${v.expression.text.trim()}`;
    out.push(message);
  }
  return out;
}

function evalErrorText(c: Compiled, e: CelEvalError): string {
  if (e.message.startsWith("compilation error: ")) return e.message;
  return `expression '${c.text}' resulted in error: ${e.message}`;
}
