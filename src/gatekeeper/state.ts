// The seam between where Gatekeeper's objects come from and the webhook that evaluates them.
//
// A PolicySource (the files of --policy-dir, or the cluster's CRDs and informers) delivers the
// whole set of Gatekeeper objects each time something changes; the host turns each delivery
// into an immutable evaluation snapshot (snapshot.ts) and swaps it in atomically. Sources hand
// over plain Kubernetes objects, so nothing here depends on how they were read.

import type { Obj } from "./yaml.ts";

export type { Obj };

/** Everything the webhook needs, as plain Kubernetes objects. */
export interface GatekeeperObjects {
  /** templates.gatekeeper.sh ConstraintTemplates. */
  templates: Obj[];
  /** constraints.gatekeeper.sh objects (any kind a template defines). */
  constraints: Obj[];
  /** externaldata.gatekeeper.sh Providers. */
  providers: Obj[];
  /** mutations.gatekeeper.sh mutators (Assign, AssignMetadata, ModifySet, AssignImage); absent: none. */
  mutators?: Obj[];
  /** config.gatekeeper.sh Config (spec.match exemptions, spec.sync), or null. */
  config: Obj | null;
  /** The cluster's Namespaces by name (namespaceSelector, input.review.namespaceObject). */
  namespaces: Map<string, Obj>;
  /** data.inventory as Gatekeeper shapes it ({cluster: {gv: {Kind: {name: obj}}}, namespace: {ns: …}}). */
  inventory?: Obj;
  /** expansion.gatekeeper.sh ExpansionTemplates (generated resources reviewed too). */
  expansionTemplates?: Obj[];
}

/** Where Gatekeeper objects come from: files (policydir.ts) or a cluster (controller/). */
export interface PolicySource {
  /**
   * Start delivering: `onChange` gets the whole current set after the initial sync and after
   * every later change. Resolves once the initial sync was delivered (the host's /readyz).
   */
  start(onChange: (objs: GatekeeperObjects) => void): Promise<void>;
  /** Stop watching; no onChange call follows. */
  stop(): Promise<void>;
}

/** An empty set of objects. */
export function emptyObjects(): GatekeeperObjects {
  return { templates: [], constraints: [], providers: [], mutators: [], config: null, namespaces: new Map() };
}
