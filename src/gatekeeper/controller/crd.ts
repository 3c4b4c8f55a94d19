// The CustomResourceDefinition Gatekeeper generates for a ConstraintTemplate: group
// constraints.gatekeeper.sh, kind from the template (plural and singular its lowercase, list kind
// <Kind>List, the template's short names), categories constraint/constraints, cluster-scoped,
// versions v1beta1 (storage) and v1alpha1 served, the status subresource, the printer
// columns enforcement-action and total-violations, the label gatekeeper.sh/constraint: "yes".
// Its schema: metadata.name at most 63 characters; spec.match (Gatekeeper's match schema);
// spec.enforcementAction (default deny); spec.scopedEnforcementActions; spec.parameters (the
// template's openAPIV3Schema, with x-kubernetes-preserve-unknown-fields at every object level
// when the template uses legacySchema); status kept as written.

import { clone, isPlainObject, type Obj } from "../yaml.ts";
import { CONSTRAINT_GROUP, SCOPED_ACTIONS_SCHEMA } from "../constraint.ts";
import type { CompiledTemplate } from "../template.ts";

const WILDCARD = { type: "string", pattern: "^\\*?[-:a-z0-9]*\\*?$" };

const SELECTOR = {
  type: "object",
  "x-kubernetes-map-type": "atomic",
  properties: {
    matchExpressions: {
      type: "array",
      "x-kubernetes-list-type": "atomic",
      items: {
        type: "object",
        required: ["key", "operator"],
        properties: {
          key: { type: "string" },
          operator: { type: "string" },
          values: { type: "array", "x-kubernetes-list-type": "atomic", items: { type: "string" } },
        },
      },
    },
    matchLabels: { type: "object", additionalProperties: { type: "string" } },
  },
};

/** spec.match as Gatekeeper's constraint CRDs declare it (pkg/mutation/match's Match type). */
export const CRD_MATCH_SCHEMA: Obj = {
  type: "object",
  properties: {
    excludedNamespaces: { type: "array", items: WILDCARD },
    kinds: {
      type: "array",
      items: {
        type: "object",
        properties: { apiGroups: { type: "array", items: { type: "string" } }, kinds: { type: "array", items: { type: "string" } } },
      },
    },
    labelSelector: SELECTOR,
    name: WILDCARD,
    namespaceSelector: SELECTOR,
    namespaces: { type: "array", items: WILDCARD },
    scope: { type: "string" },
    source: { type: "string", enum: ["All", "Generated", "Original"] },
  },
};

/** x-kubernetes-preserve-unknown-fields on every object (or untyped) level, as Gatekeeper does for legacySchema. */
export function preserveUnknownFields(schema: Obj): Obj {
  const s = clone(schema);
  const walk = (n: Obj, depth: number) => {
    if (depth > 64) return;
    if (n.type === undefined || n.type === "" || n.type === "object") n["x-kubernetes-preserve-unknown-fields"] = true;
    if (n.type === "array" && !isPlainObject(n.items)) n.items = { "x-kubernetes-preserve-unknown-fields": true };
    if (isPlainObject(n.properties)) for (const v of Object.values(n.properties)) if (isPlainObject(v)) walk(v, depth + 1);
    if (isPlainObject(n.items)) walk(n.items, depth + 1);
    if (isPlainObject(n.additionalProperties)) walk(n.additionalProperties, depth + 1);
  };
  walk(s, 0);
  return s;
}

/** The constraint CRD's name for a template kind: <lowercase kind>.constraints.gatekeeper.sh. */
export function constraintCRDName(kind: string): string {
  return `${kind.toLowerCase()}.${CONSTRAINT_GROUP}`;
}

/** The resource of a constraint kind, for the API client. */
export function constraintResource(kind: string) {
  return { group: CONSTRAINT_GROUP, version: "v1beta1", plural: kind.toLowerCase(), namespaced: false, kind };
}

export function constraintCRD(t: CompiledTemplate): Obj {
  const names = t.object.spec?.crd?.spec?.names ?? {};
  const shortNames = Array.isArray(names.shortNames) ? names.shortNames.filter((n: unknown) => typeof n === "string") : undefined;
  const specProps: Obj = {
    enforcementAction: { type: "string", default: "deny" },
    match: CRD_MATCH_SCHEMA,
    scopedEnforcementActions: clone(SCOPED_ACTIONS_SCHEMA),
  };
  let params = t.schema ? clone(t.schema) : t.legacySchema ? {} : undefined;
  if (params && t.legacySchema) params = preserveUnknownFields(params);
  if (params) specProps.parameters = params;
  const schema = {
    type: "object",
    properties: {
      metadata: { type: "object", properties: { name: { type: "string", maxLength: 63 } } },
      spec: { type: "object", properties: specProps },
      status: { type: "object", "x-kubernetes-preserve-unknown-fields": true },
    },
  };
  const plural = t.kind.toLowerCase();
  const version = (name: string, storage: boolean) => ({
    name,
    served: true,
    storage,
    schema: { openAPIV3Schema: schema },
    subresources: { status: {} },
    additionalPrinterColumns: [
      { name: "enforcement-action", type: "string", description: "Type of enforcement action", jsonPath: ".spec.enforcementAction" },
      { name: "total-violations", type: "integer", description: "Total number of violations", jsonPath: ".status.totalViolations" },
    ],
  });
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(t.object.metadata?.labels ?? {})) if (typeof v === "string") labels[k] = v;
  labels["gatekeeper.sh/constraint"] = "yes";
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: constraintCRDName(t.kind), labels },
    spec: {
      group: CONSTRAINT_GROUP,
      names: { kind: t.kind, listKind: `${t.kind}List`, plural, singular: plural, categories: ["constraint", "constraints"], ...(shortNames?.length ? { shortNames } : {}) },
      scope: "Cluster",
      preserveUnknownFields: false,
      versions: [version("v1beta1", true), version("v1alpha1", false)],
    },
  };
}
