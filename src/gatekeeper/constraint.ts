// Constraints: instances of a template's kind (constraints.gatekeeper.sh/*).
//
// A constraint is validated against the CRD Gatekeeper generates for its template: spec.match
// (fixed schema), spec.enforcementAction, spec.scopedEnforcementActions and spec.parameters
// (the template's openAPIV3Schema). Value errors fail as "schema validation failed"; fields the
// schema does not declare fail as unknown fields (legacy v1beta1 schemas keep them).

import { isPlainObject, clone, type Obj } from "./yaml.ts";
import { validateSchema, type FieldError } from "./schema.ts";
import { MATCH_SCHEMA, type Match } from "./match.ts";
import { applyDefaults } from "./defaults.ts";
import type { CompiledTemplate } from "./template.ts";

export const CONSTRAINT_GROUP = "constraints.gatekeeper.sh";
/** The enforcement point gator and Portcullis evaluate as. */
export const GATOR_ENFORCEMENT_POINT = "gator.gatekeeper.sh";

export const ENFORCEMENT_ACTIONS = ["deny", "dryrun", "warn", "scoped"];

export class ConstraintError extends Error {
  constructor(
    message: string,
    public readonly file?: string,
    /** "schema" for schema validation failures (what Suite `invalid: true` expects). */
    public readonly reason: "schema" | "unknown-fields" | "invalid" | "no-template" = "invalid",
    public readonly fieldErrors: FieldError[] = [],
  ) {
    super(message);
    this.name = "ConstraintError";
  }
}

export interface Constraint {
  name: string;
  kind: string;
  /** The constraint object with defaults applied (spec.enforcementAction: deny). */
  object: Obj;
  match: Match;
  parameters: unknown;
  enforcementAction: string;
  /** For `scoped`: the actions that apply at this enforcement point (empty: not enforced here). */
  scopedActions: string[];
  template: CompiledTemplate;
  file?: string;
}

export function isConstraint(o: Obj): boolean {
  return typeof o.apiVersion === "string" && o.apiVersion.split("/")[0] === CONSTRAINT_GROUP && typeof o.kind === "string";
}

/** The schema of `spec.scopedEnforcementActions` (validation here and in the constraint CRDs). */
export const SCOPED_ACTIONS_SCHEMA: Obj = {
  type: "array",
  items: {
    type: "object",
    properties: {
      action: { type: "string" },
      enforcementPoints: { type: "array", items: { type: "object", properties: { name: { type: "string" } } } },
    },
  },
};

/** The schema of a whole constraint object. */
export function constraintSchema(t: CompiledTemplate): Obj {
  const specProps: Obj = {
    match: MATCH_SCHEMA,
    enforcementAction: { type: "string", default: "deny" },
    scopedEnforcementActions: SCOPED_ACTIONS_SCHEMA,
  };
  if (t.schema) {
    specProps.parameters = t.legacySchema ? { ...t.schema, "x-kubernetes-preserve-unknown-fields": true } : t.schema;
  } else if (t.legacySchema) {
    specProps.parameters = { "x-kubernetes-preserve-unknown-fields": true };
  }
  return {
    type: "object",
    properties: {
      apiVersion: { type: "string" },
      kind: { type: "string" },
      metadata: { type: "object", "x-kubernetes-preserve-unknown-fields": true },
      spec: { type: "object", properties: specProps },
      status: { type: "object", "x-kubernetes-preserve-unknown-fields": true },
    },
  };
}

/** Does this action list apply at the given enforcement point? */
export function scopedActionsFor(spec: Obj, point = GATOR_ENFORCEMENT_POINT): string[] {
  const out: string[] = [];
  for (const s of Array.isArray(spec.scopedEnforcementActions) ? spec.scopedEnforcementActions : []) {
    if (!isPlainObject(s) || typeof s.action !== "string") continue;
    const points = Array.isArray(s.enforcementPoints) ? s.enforcementPoints : [];
    if (points.some((p: unknown) => isPlainObject(p) && (p.name === point || p.name === "*"))) {
      if (!out.includes(s.action.toLowerCase())) out.push(s.action.toLowerCase());
    }
  }
  return out;
}

/** Validate a constraint against its template and apply Gatekeeper's defaults. */
export function buildConstraint(obj: Obj, t: CompiledTemplate, file?: string, point = GATOR_ENFORCEMENT_POINT): Constraint {
  const name = obj.metadata?.name;
  const at = file ? ` (${file})` : "";
  if (typeof name !== "string" || name === "") throw new ConstraintError(`invalid Constraint of kind ${t.kind}: metadata.name is required${at}`, file);
  const schema = constraintSchema(t);
  const res = validateSchema(schema, obj, "");
  // Worded as gator words them: the field paths of Gatekeeper's validation start at `[]`, and
  // several errors are listed in brackets.
  if (res.errors.length) {
    const msgs = res.errors.map((e) => `[].${e.message}`);
    throw new ConstraintError(`schema validation failed: ${msgs.length === 1 ? msgs[0] : `[${msgs.join(", ")}]`}`, file, "schema", res.errors);
  }
  if (res.unknownFields.length) {
    throw new ConstraintError(`invalid Constraint: unknown fields: [${res.unknownFields.join(" ")}]`, file, "unknown-fields");
  }
  const o = clone(obj);
  // As Gatekeeper's constraint client, after validation: Kubernetes' structural defaulting with
  // the constraint CRD's schema — spec.enforcementAction defaults to deny inside a spec, and the
  // template's `default:` values fill spec.parameters where their parents exist. A constraint
  // without spec keeps none (as gator prints it) and is enforced as deny.
  applyDefaults(o, schema);
  if (isPlainObject(o.spec) && o.spec.enforcementAction === "") o.spec.enforcementAction = "deny";
  const spec: Obj = isPlainObject(o.spec) ? o.spec : {};
  const action = String(spec.enforcementAction ?? "deny");
  // Like gator, an unrecognised action is kept as written (it is simply not "deny").
  const lower = action.toLowerCase();
  return {
    name,
    kind: t.kind,
    object: o,
    match: isPlainObject(spec.match) ? (spec.match as Match) : {},
    parameters: spec.parameters ?? {},
    enforcementAction: action,
    scopedActions: lower === "scoped" ? scopedActionsFor(spec, point) : [],
    template: t,
    file,
  };
}
