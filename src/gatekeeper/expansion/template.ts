// ExpansionTemplates (expansion.gatekeeper.sh/v1alpha1, v1beta1): which kinds of generator
// resources (spec.applyTo: groups × versions × kinds, matched exactly — `*` is not a wildcard
// here) expand into which resource (spec.generatedGVK), from which field of the generator
// (spec.templateSource, a dotted path such as `spec.template`), and the enforcement action that
// replaces the constraints' actions for violations of the generated resource
// (spec.enforcementAction, empty: keep them).
//
// Parsing follows Gatekeeper's typed conversion (a field of the wrong type fails with its
// "cannot restore <want> from <got>" wording) and its ValidateTemplate checks, with its texts.

import { isPlainObject, type Obj } from "../yaml.ts";

export const EXPANSION_GROUP = "expansion.gatekeeper.sh";
/** Names of 64 characters or more are refused (Gatekeeper's limit). */
export const MAX_TEMPLATE_NAME = 63;

export interface GVK {
  group: string;
  version: string;
  kind: string;
}

export interface ApplyTo {
  groups: string[];
  versions: string[];
  kinds: string[];
}

export interface ExpansionTemplate {
  name: string;
  applyTo: ApplyTo[];
  templateSource: string;
  generatedGVK: GVK;
  enforcementAction: string;
  /** The object as given. */
  object: Obj;
}

export class ExpansionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ExpansionError";
  }
}

export function isExpansionTemplate(o: unknown): boolean {
  return isPlainObject(o) && o.kind === "ExpansionTemplate" && typeof o.apiVersion === "string" && o.apiVersion.split("/")[0] === EXPANSION_GROUP;
}

/** Go's reflect kind of a decoded JSON value, as the unstructured converter names it. */
function goKind(v: unknown): string {
  if (v === null) return "invalid";
  if (Array.isArray(v)) return "slice";
  if (isPlainObject(v)) return "map";
  if (typeof v === "number") return Number.isInteger(v) ? "int64" : "float64";
  if (typeof v === "boolean") return "bool";
  return "string";
}

function str(v: unknown): string {
  if (v === undefined || v === null) return "";
  if (typeof v !== "string") throw new ExpansionError(`cannot restore string from ${goKind(v)}`);
  return v;
}

function strList(v: unknown): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new ExpansionError(`cannot restore slice from ${goKind(v)}`);
  return v.map(str);
}

function struct(v: unknown): Obj {
  if (v === undefined || v === null) return {};
  if (!isPlainObject(v)) throw new ExpansionError(`cannot restore struct from ${goKind(v)}`);
  return v;
}

/** The typed fields of an ExpansionTemplate object (conversion errors as Gatekeeper's converter words them). */
export function parseExpansionTemplate(o: Obj): ExpansionTemplate {
  const meta = struct(o.metadata);
  const spec = struct(o.spec);
  const applyRaw = spec.applyTo;
  if (applyRaw !== undefined && applyRaw !== null && !Array.isArray(applyRaw)) throw new ExpansionError(`cannot restore slice from ${goKind(applyRaw)}`);
  const applyTo = ((applyRaw ?? []) as unknown[]).map((a) => {
    const s = struct(a);
    return { groups: strList(s.groups), versions: strList(s.versions), kinds: strList(s.kinds) };
  });
  const g = struct(spec.generatedGVK);
  return {
    name: str(meta.name),
    applyTo,
    templateSource: str(spec.templateSource),
    generatedGVK: { group: str(g.group), version: str(g.version), kind: str(g.kind) },
    enforcementAction: str(spec.enforcementAction),
    object: o,
  };
}

/** Go's GroupVersionKind.String(): `apps/v1, Kind=Deployment` (`/v1, Kind=Pod` for the core group). */
export function gvkString(g: GVK): string {
  return `${g.group}/${g.version}, Kind=${g.kind}`;
}

export function sameGVK(a: GVK, b: GVK): boolean {
  return a.group === b.group && a.version === b.version && a.kind === b.kind;
}

/** Every GVK the template applies to (the product of each applyTo entry's lists). */
export function applyToGVKs(t: ExpansionTemplate): GVK[] {
  const out: GVK[] = [];
  for (const a of t.applyTo) for (const group of a.groups) for (const version of a.versions) for (const kind of a.kinds) out.push({ group, version, kind });
  return out;
}

/** Gatekeeper's ValidateTemplate: throws ExpansionError with its texts. */
export function validateExpansionTemplate(t: ExpansionTemplate): void {
  const k = t.name;
  if (k === "") throw new ExpansionError("ExpansionTemplate has empty name field");
  if (k.length > MAX_TEMPLATE_NAME) throw new ExpansionError("ExpansionTemplate name must be less than 64 characters");
  if (t.templateSource === "") throw new ExpansionError(`ExpansionTemplate ${k} has empty source field`);
  const g = t.generatedGVK;
  if (g.group === "" && g.version === "" && g.kind === "") throw new ExpansionError(`ExpansionTemplate ${k} has empty generatedGVK field`);
  if (t.applyTo.length === 0) throw new ExpansionError(`ExpansionTemplate ${k} must specify ApplyTo`);
  for (const a of t.applyTo) {
    if (a.groups.includes(g.group) && a.versions.includes(g.version) && a.kinds.includes(g.kind)) {
      throw new ExpansionError(`ExpansionTemplate ${k} generates GVK ${gvkString(g)}, but also applies to that same GVK`);
    }
  }
}
