// The four mutators of mutations.gatekeeper.sh (v1, v1beta1, v1alpha1), read from Kubernetes
// objects with Gatekeeper's checks and error texts:
//
//   Assign          any field outside metadata: parameters.assign.{value | fromMetadata.field}
//   AssignMetadata  metadata.labels.<k> / metadata.annotations.<k> only, string values, never
//                   overwriting (an implicit MustNotExist on the location); no applyTo
//   ModifySet       a list treated as a set: operation merge (default) | prune, values.fromList
//   AssignImage     domain / path / tag parts of an image string
//
// applyTo (groups × versions × kinds, exact names, operations CREATE/UPDATE/*), match (the
// constraint matcher of ../match.ts), location (path.ts) and pathTests are shared.

import { gvkOf, isPlainObject, metaOf, type Obj } from "../yaml.ts";
import { objectMatches, validateMatch, type Match } from "../match.ts";
import { newTester, parsePath, pathString, PathError, type Condition, type Path, type PathTest, type Tester } from "./path.ts";
import { goType, mutatePath, MutationError, keyEquals, type Setter } from "./apply.ts";
import { imagePartsError, mutateImage } from "./image.ts";
import { cloneValue, ExternalDataPlaceholder, type ExternalDataRef } from "./externaldata.ts";

export const MUTATIONS_GROUP = "mutations.gatekeeper.sh";
export const MUTATOR_KINDS = ["Assign", "AssignMetadata", "ModifySet", "AssignImage"] as const;
export type MutatorKind = (typeof MUTATOR_KINDS)[number];

/** A mutator that cannot be built (Gatekeeper's ingestion error). */
export class MutatorError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "MutatorError";
  }
}

/** What a mutator is applied to. */
export interface Mutable {
  object: Obj;
  /** The object's Namespace; null for cluster-scoped objects or when unknown. */
  namespace: Obj | null;
  /** Original (as submitted) or Generated (expansion). */
  source: "Original" | "Generated";
  /** CREATE or UPDATE in the webhook; "" offline (then only mutators for every operation apply). */
  operation: string;
  /** The requesting user (externalData `dataSource: Username`). */
  username?: string;
}

export interface GVK {
  group: string;
  version: string;
  kind: string;
}

/** A schema binding: one GVK and operation a mutator applies to (for conflict detection). */
export interface Binding {
  gvk: GVK;
  operation: "CREATE" | "UPDATE";
}

/** How the end of a location is typed: Unknown (Assign), Set (ModifySet), String (AssignImage). */
export type TerminalType = "Unknown" | "Set" | "String";

export interface Mutator {
  readonly kind: MutatorKind;
  readonly name: string;
  /** Gatekeeper's ID text: `Assign.mutations.gatekeeper.sh /name`. */
  readonly id: string;
  readonly path: Path;
  /** Schema bindings (none for AssignMetadata, which takes no part in conflict detection). */
  readonly bindings: Binding[];
  readonly terminalType: TerminalType | null;
  readonly mustTerminate: boolean;
  /** Does the mutator apply? Throws MatchError (../match.ts) for a match that cannot be decided. */
  matches(m: Mutable): boolean;
  /** Apply in place; true when the setter ran. Throws MutationError. */
  mutate(m: Mutable): boolean;
}

interface ApplyTo {
  groups: string[];
  versions: string[];
  kinds: string[];
  operations: string[];
}

const SUPPORTED_OPERATIONS = ["CREATE", "UPDATE"] as const;

export function isMutatorObject(o: Obj): boolean {
  return gvkOf(o).group === MUTATIONS_GROUP && (MUTATOR_KINDS as readonly string[]).includes(String(o.kind));
}

/** Gatekeeper's ID text (GroupKind, then namespace/name). */
export function mutatorId(kind: string, name: string, namespace = ""): string {
  return `${kind}.${MUTATIONS_GROUP} ${namespace}/${name}`;
}

function stringList(v: unknown, field: string): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new MutatorError(`${field}: expected a list of strings, got ${goType(v)}`);
  return v.map((x, i) => {
    if (typeof x !== "string") throw new MutatorError(`${field}[${i}]: expected a string, got ${goType(x)}`);
    return x;
  });
}

function optString(v: unknown, field: string): string {
  if (v === undefined || v === null) return "";
  if (typeof v !== "string") throw new MutatorError(`${field}: expected a string, got ${goType(v)}`);
  return v;
}

function optObject(v: unknown, field: string): Obj {
  if (v === undefined || v === null) return {};
  if (!isPlainObject(v)) throw new MutatorError(`${field}: expected an object, got ${goType(v)}`);
  return v;
}

function readApplyTo(spec: Obj): ApplyTo[] {
  const raw = spec.applyTo;
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw new MutatorError(`spec.applyTo: expected a list, got ${goType(raw)}`);
  return raw.map((a, i) => {
    const o = optObject(a, `spec.applyTo[${i}]`);
    return {
      groups: stringList(o.groups, `spec.applyTo[${i}].groups`),
      versions: stringList(o.versions, `spec.applyTo[${i}].versions`),
      kinds: stringList(o.kinds, `spec.applyTo[${i}].kinds`),
      operations: stringList(o.operations, `spec.applyTo[${i}].operations`),
    };
  });
}

function effectiveOperations(a: ApplyTo): ("CREATE" | "UPDATE")[] {
  if (a.operations.length === 0 || a.operations.includes("*")) return [...SUPPORTED_OPERATIONS];
  return SUPPORTED_OPERATIONS.filter((op) => a.operations.includes(op));
}

/** Gatekeeper's NewValidatedBindings: every applyTo complete, operations valid, sorted bindings. */
function validatedBindings(name: string, kind: string, applies: ApplyTo[]): Binding[] {
  for (const a of applies) {
    if (a.groups.length === 0 || a.versions.length === 0 || a.kinds.length === 0) {
      throw new MutatorError(`invalid applyTo for ${kind} mutator ${name}, all of group, version and kind must be specified`);
    }
  }
  const errs: string[] = [];
  applies.forEach((a, i) => {
    const seen = new Set<string>();
    for (const op of a.operations) {
      if (seen.has(op)) errs.push(`duplicate operation ${JSON.stringify(op)} in applyTo[${i}].operations`);
      seen.add(op);
      if (op !== "CREATE" && op !== "UPDATE" && op !== "*") errs.push(`invalid operation ${JSON.stringify(op)} in applyTo[${i}].operations: must be one of CREATE, UPDATE, *`);
    }
    if (a.operations.includes("*") && a.operations.length > 1) errs.push(`wildcard "*" in applyTo[${i}].operations must not be combined with other operations`);
  });
  if (errs.length > 0) throw new MutatorError(`invalid applyTo for ${kind} mutator ${name}: ${errs.join("; ")}`);
  if (applies.length === 0) throw new MutatorError(`applyTo required for ${kind} mutator ${name}`);
  const seen = new Map<string, Binding>();
  for (const a of applies) {
    for (const group of a.groups) for (const version of a.versions) for (const k of a.kinds) {
      for (const operation of effectiveOperations(a)) seen.set(`${group}\u0000${version}\u0000${k}\u0000${operation}`, { gvk: { group, version, kind: k }, operation });
    }
  }
  const gvkText = (g: GVK) => `${g.group}/${g.version}, Kind=${g.kind}`;
  return [...seen.values()].sort((x, y) => {
    const a = gvkText(x.gvk);
    const b = gvkText(y.gvk);
    if (a !== b) return a < b ? -1 : 1;
    return SUPPORTED_OPERATIONS.indexOf(x.operation) - SUPPORTED_OPERATIONS.indexOf(y.operation);
  });
}

function matchesOperation(a: ApplyTo, operation: string): boolean {
  const all = a.operations.length === 0 || a.operations.includes("*");
  if (operation === "") return all || SUPPORTED_OPERATIONS.every((op) => a.operations.includes(op));
  if (!(SUPPORTED_OPERATIONS as readonly string[]).includes(operation)) return false;
  return all || a.operations.includes(operation);
}

function appliesTo(applies: ApplyTo[], o: Obj, operation: string): boolean {
  const g = gvkOf(o);
  return applies.some((a) => a.groups.includes(g.group) && a.versions.includes(g.version) && a.kinds.includes(g.kind) && matchesOperation(a, operation));
}

function readMatch(spec: Obj): Match {
  const m = optObject(spec.match, "spec.match");
  // Unknown fields are pruned by the API server (structural CRD schema), not refused.
  const errs = validateMatch(m, "spec.match").filter((e) => e.type !== "Unknown field");
  if (errs.length > 0) throw new MutatorError(errs.map((e) => e.message).join("; "));
  return m as Match;
}

function readPathTests(name: string, kind: string, params: Obj): PathTest[] {
  const raw = params.pathTests;
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw new MutatorError(`spec.parameters.pathTests: expected a list, got ${goType(raw)}`);
  return raw.map((t, i) => {
    const o = optObject(t, `spec.parameters.pathTests[${i}]`);
    const sub = optString(o.subPath, `spec.parameters.pathTests[${i}].subPath`);
    const condition = optString(o.condition, `spec.parameters.pathTests[${i}].condition`);
    if (condition !== "MustExist" && condition !== "MustNotExist") {
      throw new MutatorError(`spec.parameters.pathTests[${i}].condition: Unsupported value: ${JSON.stringify(condition)}: supported values: "MustExist", "MustNotExist"`);
    }
    let subPath: Path;
    try {
      subPath = parsePath(sub);
    } catch (e) {
      throw new MutatorError(`problem parsing sub path \`${sub}\` for ${kind} ${name}: ${(e as Error).message}`);
    }
    return { subPath, condition: condition as Condition };
  });
}

function tester(location: Path, tests: PathTest[]): Tester {
  try {
    return newTester(location, tests);
  } catch (e) {
    throw new MutatorError((e as Error).message);
  }
}

/** Gatekeeper's CheckKeyNotChanged: a location may not end in a list element's key field. */
function checkKeyNotChanged(p: Path): void {
  if (p.length < 2) return;
  const last = p[p.length - 1];
  const second = p[p.length - 2];
  if (second.type !== "List") return;
  if (last.type !== "Object") throw new MutatorError("invalid path format: child of a list can't be a list");
  if (last.reference === second.keyField) throw new MutatorError("invalid path format: changing the item key is not allowed");
}

const hasMetadataRoot = (p: Path) => p.length > 0 && p[0].type === "Object" && p[0].reference === "metadata";

/** Go's %v of a decoded JSON value (for error texts). */
function goValue(v: unknown): string {
  if (v === null || v === undefined) return "<nil>";
  if (Array.isArray(v)) return `[${v.map(goValue).join(" ")}]`;
  if (isPlainObject(v)) return `map[${Object.keys(v).sort().map((k) => `${k}:${goValue(v[k])}`).join(" ")}]`;
  return String(v);
}

interface AssignValue {
  kind: "value" | "fromMetadata" | "externalData";
  value?: unknown;
  field?: "namespace" | "name";
  ref?: ExternalDataRef;
}

function readAssign(params: Obj): AssignValue {
  const a = optObject(params.assign, "spec.parameters.assign");
  const has = (k: string) => a[k] !== undefined && a[k] !== null;
  const set = ["value", "fromMetadata", "externalData"].filter(has);
  if (set.length === 0) throw new MutatorError("assign must set one of `externalData`, `value` or `fromMetadata`: invalid assign field");
  if (set.length > 1) throw new MutatorError("assign must only set one of `externalData`, `value` or `fromMetadata`: invalid assign field");
  if (has("externalData")) {
    const ed = optObject(a.externalData, "spec.parameters.assign.externalData");
    const provider = optString(ed.provider, "spec.parameters.assign.externalData.provider");
    const dataSource = optString(ed.dataSource, "spec.parameters.assign.externalData.dataSource") || "ValueAtLocation";
    const failurePolicy = optString(ed.failurePolicy, "spec.parameters.assign.externalData.failurePolicy") || "Fail";
    const dflt = optString(ed.default, "spec.parameters.assign.externalData.default");
    if (dataSource !== "ValueAtLocation" && dataSource !== "Username") {
      throw new MutatorError(`spec.parameters.assign.externalData.dataSource: Unsupported value: ${JSON.stringify(dataSource)}: supported values: "ValueAtLocation", "Username"`);
    }
    if (failurePolicy !== "UseDefault" && failurePolicy !== "Ignore" && failurePolicy !== "Fail") {
      throw new MutatorError(`spec.parameters.assign.externalData.failurePolicy: Unsupported value: ${JSON.stringify(failurePolicy)}: supported values: "UseDefault", "Ignore", "Fail"`);
    }
    if (failurePolicy === "UseDefault" && dflt === "") throw new MutatorError("`default` must not be empty when `failurePolicy` is set to `UseDefault`");
    return { kind: "externalData", ref: { provider, dataSource, failurePolicy, default: dflt } };
  }
  if (has("fromMetadata")) {
    const fm = optObject(a.fromMetadata, "spec.parameters.assign.fromMetadata");
    const field = optString(fm.field, "spec.parameters.assign.fromMetadata.field");
    if (field !== "namespace" && field !== "name") throw new MutatorError(`field ${field} is not recognized: invalid fromMetadata field`);
    return { kind: "fromMetadata", field };
  }
  return { kind: "value", value: a.value };
}

function assignedValue(a: AssignValue, m: Mutable): unknown {
  if (a.kind === "externalData") return new ExternalDataPlaceholder(a.ref!, a.ref!.dataSource === "Username" ? (m.username ?? "") : "");
  if (a.kind === "fromMetadata") {
    const meta = metaOf(m.object);
    const v = a.field === "namespace" ? meta.namespace : meta.name;
    return typeof v === "string" ? v : "";
  }
  return cloneValue(a.value);
}

function valueSetter(value: unknown): Setter {
  return {
    keyedListOkay: true,
    setValue(obj, key) {
      if (value instanceof ExternalDataPlaceholder) {
        // The placeholder remembers the value it replaces (the key sent to the provider).
        const incoming = new ExternalDataPlaceholder(value.ref, value.valueAtLocation);
        if (Object.hasOwn(obj, key)) {
          const prev = obj[key];
          if (prev instanceof ExternalDataPlaceholder) incoming.valueAtLocation = prev.valueAtLocation;
          else if (typeof prev === "string") incoming.valueAtLocation = prev;
          else throw new MutationError(`value assigned to external data placeholder is not a string, got ${goValue(prev)} (${goType(prev)})`);
        }
        obj[key] = incoming;
        return;
      }
      obj[key] = value;
    },
    keyedListValue() {
      if (!isPlainObject(value) || value instanceof ExternalDataPlaceholder) throw new MutationError(`assign.value for keyed list is not an object: ${goValue(value)}`);
      return value;
    },
  };
}

function noKeyedList(): Obj {
  throw new MutationError("mutator does not understand keyed lists");
}

interface Common {
  name: string;
  spec: Obj;
  params: Obj;
  location: string;
}

function common(o: Obj, kind: MutatorKind): Common {
  const name = typeof metaOf(o).name === "string" ? (metaOf(o).name as string) : "";
  if (name.length > 63) throw new MutatorError("maximum name length is 63 characters");
  const spec = optObject(o.spec, "spec");
  const params = optObject(spec.parameters, "spec.parameters");
  const location = optString(spec.location, "spec.location");
  void kind;
  return { name, spec, params, location };
}

function parseLocation(location: string, wrap: (msg: string) => string): Path {
  try {
    return parsePath(location);
  } catch (e) {
    if (e instanceof PathError) throw new MutatorError(wrap(e.message));
    throw e;
  }
}

function buildAssign(o: Obj): Mutator {
  const { name, spec, params, location } = common(o, "Assign");
  const path = parseLocation(location, (m) => `invalid location format \`${location}\` for Assign ${name}: ${m}`);
  if (hasMetadataRoot(path)) throw new MutatorError(`assign ${name} can't change metadata`);
  if (path.length === 0) throw new MutatorError("empty path");
  checkKeyNotChanged(path);
  const assign = readAssign(params);
  const last = path[path.length - 1];
  if (assign.kind === "value" && last.type === "List") {
    if (last.glob) throw new MutatorError("can't append to a globbed list");
    if (!isPlainObject(assign.value)) throw new MutatorError(`invalid value: \`${goValue(assign.value)}\`, only objects can be added to keyed lists`);
    // The assigned object comes from JSON, where Gatekeeper's numbers are float64 and never equal
    // the path's int64 key: an integer-keyed element cannot be assigned (Gatekeeper refuses it too).
    if (typeof last.keyValue === "number" || !keyEquals(last.keyValue!, assign.value[last.keyField])) {
      throw new MutatorError(`adding object to list with different key ${last.keyField}: list key ${last.keyValue}, object key ${goValue(assign.value[last.keyField])}`);
    }
  }
  if (last.type === "List" && assign.kind === "fromMetadata") throw new MutatorError("cannot assign a metadata field to a list");
  if (last.type === "List" && assign.kind === "externalData") throw new MutatorError("cannot assign external data response to a list");
  const t = tester(path, readPathTests(name, "Assign", params));
  const applies = readApplyTo(spec);
  const bindings = validatedBindings(name, "Assign", applies);
  const match = readMatch(spec);
  return {
    kind: "Assign",
    name,
    id: mutatorId("Assign", name),
    path,
    bindings,
    terminalType: "Unknown",
    // A placeholder must stay a leaf: no other mutator may go deeper through it.
    mustTerminate: assign.kind === "externalData",
    matches: (m) => appliesTo(applies, m.object, m.operation) && objectMatches(match, m.object, m.namespace, m.source),
    mutate: (m) => mutatePath(path, t, valueSetter(assignedValue(assign, m)), m.object),
  };
}

function buildAssignMetadata(o: Obj): Mutator {
  const { name, spec, params, location } = common(o, "AssignMetadata");
  const path = parseLocation(location, (m) => `invalid location format for AssignMetadata ${name}: ${location}: ${m}`);
  const valid =
    path.length === 3 &&
    path.every((n) => n.type === "Object") &&
    (path[0] as { reference: string }).reference === "metadata" &&
    ["labels", "annotations"].includes((path[1] as { reference: string }).reference);
  if (!valid) throw new MutatorError(`invalid location for assignmetadata ${name}: ${location}`);
  const assign = readAssign(params);
  if (assign.kind === "externalData" && assign.ref!.dataSource !== "Username") throw new MutatorError(`only username data source is supported for assignmetadata ${name}`);
  if (assign.kind === "value" && typeof assign.value !== "string") {
    throw new MutatorError(`spec.parameters.assign.value field must be a string for AssignMetadata ${JSON.stringify(name)}`);
  }
  const t = tester(path, [{ subPath: path, condition: "MustNotExist" }]);
  const match = readMatch(spec);
  return {
    kind: "AssignMetadata",
    name,
    id: mutatorId("AssignMetadata", name),
    path,
    bindings: [],
    terminalType: null,
    mustTerminate: false,
    matches: (m) => objectMatches(match, m.object, m.namespace, m.source),
    mutate: (m) => mutatePath(path, t, valueSetter(assignedValue(assign, m)), m.object),
  };
}

/** Deep equality of decoded JSON values (go-cmp's cmp.Equal on them). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a instanceof ExternalDataPlaceholder || b instanceof ExternalDataPlaceholder) {
    return a instanceof ExternalDataPlaceholder && b instanceof ExternalDataPlaceholder && a.valueAtLocation === b.valueAtLocation && JSON.stringify(a.ref) === JSON.stringify(b.ref);
  }
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => jsonEqual(x, b[i]));
  if (isPlainObject(a)) {
    if (!isPlainObject(b)) return false;
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => Object.hasOwn(b, k) && jsonEqual(a[k], b[k]));
  }
  return false;
}

function buildModifySet(o: Obj): Mutator {
  const { name, spec, params, location } = common(o, "ModifySet");
  const path = parseLocation(location, (m) => `invalid location format \`${location}\` for ModifySet ${name}: ${m}`);
  if (hasMetadataRoot(path)) throw new MutatorError(`modifyset ${name} can't change metadata`);
  if (path.length > 0 && path[path.length - 1].type === "List") throw new MutatorError("final node in a modifyset location cannot be a keyed list");
  const op = optString(params.operation, "spec.parameters.operation") || "merge";
  if (op !== "merge" && op !== "prune") throw new MutatorError(`spec.parameters.operation: Unsupported value: ${JSON.stringify(op)}: supported values: "merge", "prune"`);
  const values = optObject(params.values, "spec.parameters.values");
  if (values.fromList !== undefined && values.fromList !== null && !Array.isArray(values.fromList)) {
    throw new MutatorError(`spec.parameters.values.fromList: expected a list, got ${goType(values.fromList)}`);
  }
  const fromList: unknown[] = Array.isArray(values.fromList) ? values.fromList : [];
  const t = tester(path, readPathTests(name, "ModifySet", params));
  const applies = readApplyTo(spec);
  const bindings = validatedBindings(name, "ModifySet", applies);
  const match = readMatch(spec);
  const setter: Setter = {
    keyedListOkay: false,
    keyedListValue: noKeyedList,
    setValue(obj, key) {
      if (!Object.hasOwn(obj, key)) {
        // merge into a missing list: the list of all the values; prune: nothing to do.
        if (op === "merge") obj[key] = cloneValue(fromList);
        return;
      }
      const cur = obj[key];
      if (!Array.isArray(cur)) throw new MutationError(`${goValue(cur)} is not a list of values, cannot treat it as a set`);
      if (op === "merge") {
        const out = [...cur];
        for (const v of fromList) if (!out.some((x) => jsonEqual(v, x))) out.push(cloneValue(v));
        obj[key] = out;
      } else {
        obj[key] = cur.filter((x) => !fromList.some((v) => jsonEqual(v, x)));
      }
    },
  };
  return {
    kind: "ModifySet",
    name,
    id: mutatorId("ModifySet", name),
    path,
    bindings,
    terminalType: "Set",
    mustTerminate: false,
    matches: (m) => appliesTo(applies, m.object, m.operation) && objectMatches(match, m.object, m.namespace, m.source),
    mutate: (m) => mutatePath(path, t, setter, m.object),
  };
}

function buildAssignImage(o: Obj): Mutator {
  const { name, spec, params, location } = common(o, "AssignImage");
  const path = parseLocation(location, (m) => `invalid location format \`${location}\` for assignImage ${name}: ${m}`);
  if (hasMetadataRoot(path)) throw new MutatorError(`assignImage ${name} can't change metadata`);
  if (path.length > 0 && path[path.length - 1].type === "List") throw new MutatorError(`assignImage ${name} cannot mutate list-type fields`);
  checkKeyNotChanged(path);
  const domain = optString(params.assignDomain, "spec.parameters.assignDomain");
  const imgPath = optString(params.assignPath, "spec.parameters.assignPath");
  const tag = optString(params.assignTag, "spec.parameters.assignTag");
  const bad = imagePartsError(domain, imgPath, tag);
  if (bad) throw new MutatorError(`assignImage ${name} has invalid parameters: ${bad}`);
  const t = tester(path, readPathTests(name, "AssignImage", params));
  const applies = readApplyTo(spec);
  const bindings = validatedBindings(name, "AssignImage", applies);
  const match = readMatch(spec);
  const setter: Setter = {
    keyedListOkay: false,
    keyedListValue: noKeyedList,
    setValue(obj, key) {
      let cur = "";
      if (Object.hasOwn(obj, key)) {
        const v = obj[key];
        // Gatekeeper's text shows its shadowed variable: always `got  of type string`.
        if (typeof v !== "string") throw new MutationError("expected value at AssignImage location to be a string, got  of type string");
        cur = v;
      }
      obj[key] = mutateImage(domain, imgPath, tag, cur);
    },
  };
  return {
    kind: "AssignImage",
    name,
    id: mutatorId("AssignImage", name),
    path,
    bindings,
    terminalType: "String",
    mustTerminate: true,
    matches: (m) => appliesTo(applies, m.object, m.operation) && objectMatches(match, m.object, m.namespace, m.source),
    mutate: (m) => mutatePath(path, t, setter, m.object),
  };
}

/** Build a mutator from its object. Throws MutatorError with Gatekeeper's wording. */
export function buildMutator(o: Obj): Mutator {
  if (!isMutatorObject(o)) throw new MutatorError(`cannot convert mutator of kind ${JSON.stringify(String(o.kind ?? ""))}`);
  switch (o.kind as MutatorKind) {
    case "Assign":
      return buildAssign(o);
    case "AssignMetadata":
      return buildAssignMetadata(o);
    case "ModifySet":
      return buildModifySet(o);
    case "AssignImage":
      return buildAssignImage(o);
  }
}

export { pathString };
