// Schema conflicts between mutators (Gatekeeper's pkg/mutation/schema).
//
// Every mutator with applyTo claims, for each (group, version, kind, operation) it binds to, a
// shape along its location: `spec.containers[name: x].image` says spec is an object, containers
// a list keyed by `name`, image a String (AssignImage), a Set (ModifySet) or Unknown (Assign).
// Two mutators that give the same field different shapes (an object here, a list there; a list
// keyed by `name` here and by `image` there; a String where a Set is expected) are both in
// conflict, and the system applies neither of them. A mutator that must end its path
// (AssignImage) conflicts with any mutator whose location goes deeper through the same field.

import type { Path, PathNode } from "./path.ts";
import type { Mutator, TerminalType } from "./mutators.ts";

type NodeType = "Object" | "List" | TerminalType;

interface SchemaNode {
  referencedBy: Set<string>;
  children: Map<string, Map<NodeType, SchemaNode>>;
  mustTerminate: Set<string>;
}

const newNode = (): SchemaNode => ({ referencedBy: new Set(), children: new Map(), mustTerminate: new Set() });
const keyOf = (n: PathNode) => (n.type === "Object" ? n.reference : n.keyField);
const headType = (path: Path, terminal: TerminalType): NodeType => (path.length < 2 ? terminal : path[1].type);

function addAll(into: Set<string>, from: Iterable<string>): void {
  for (const x of from) into.add(x);
}

/** The conflicts among the children of `n` under one key. */
function conflictsAt(n: SchemaNode, childKey: string): Set<string> {
  const out = new Set<string>();
  const types = n.children.get(childKey) ?? new Map<NodeType, SchemaNode>();
  let nTypes = types.size;
  if (types.has("Unknown")) nTypes--;
  let mustTerminate = false;
  let hasGrandchildren = false;
  for (const [t, child] of types) {
    mustTerminate ||= child.mustTerminate.size > 0;
    hasGrandchildren ||= child.children.size > 0;
    if (t === "Unknown") continue;
    if (nTypes > 1 || (t === "List" && child.children.size > 1)) addAll(out, child.referencedBy);
  }
  if (!mustTerminate || !hasGrandchildren) return out;
  for (const child of types.values()) {
    addAll(out, child.mustTerminate);
    for (const byType of child.children.values()) for (const grandchild of byType.values()) addAll(out, grandchild.referencedBy);
  }
  return out;
}

function add(n: SchemaNode, id: string, path: Path, terminal: TerminalType, mustTerminate: boolean): Set<string> {
  n.referencedBy.add(id);
  if (path.length === 0) {
    if (mustTerminate) n.mustTerminate.add(id);
    return new Set();
  }
  const k = keyOf(path[0]);
  let byType = n.children.get(k);
  if (!byType) n.children.set(k, (byType = new Map()));
  const t = headType(path, terminal);
  let child = byType.get(t);
  if (!child) byType.set(t, (child = newNode()));
  const out = add(child, id, path.slice(1), terminal, mustTerminate);
  addAll(out, conflictsAt(n, k));
  return out;
}

/** The schema database of one set of mutators: which of them conflict. */
export class SchemaDB {
  private readonly schemas = new Map<string, SchemaNode>();
  private readonly conflicts = new Set<string>();

  /** Add a mutator; returns the ids its addition put in conflict (itself included when it is). */
  upsert(m: Mutator): Set<string> {
    const found = new Set<string>();
    if (m.terminalType === null) return found;
    for (const b of m.bindings) {
      const key = `${b.gvk.group}\u0000${b.gvk.version}\u0000${b.gvk.kind}\u0000${b.operation}`;
      let root = this.schemas.get(key);
      if (!root) this.schemas.set(key, (root = newNode()));
      addAll(found, add(root, m.id, m.path, m.terminalType, m.mustTerminate));
    }
    addAll(this.conflicts, found);
    return found;
  }

  hasConflicts(id: string): boolean {
    return this.conflicts.has(id);
  }

  /** Every mutator in conflict, in Gatekeeper's order (by ID text). */
  conflicting(): string[] {
    return [...this.conflicts].sort();
  }
}

/** Gatekeeper's ErrConflictingSchema text. */
export function conflictMessage(ids: Iterable<string>): string {
  return `the following mutators have conflicting schemas: [${[...ids].sort().join(",")}]`;
}
