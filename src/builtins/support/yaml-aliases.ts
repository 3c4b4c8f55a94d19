/**
 * YAML aliases, bounded as Go's YAML reader bounds them.
 *
 * js-yaml resolves an alias to the very value its anchor names, so a
 * document comes back as a graph that shares (or, for an anchor used inside
 * its own value, contains) sub-values. Go's decoder instead expands every
 * alias, and refuses two kinds of documents, which are refused here too:
 *
 * - an anchor used inside its own value (`a: &a [*a]`):
 *   "anchor 'a' value contains itself";
 * - "excessive aliasing": Go counts every node it decodes (the document
 *   node, each key, value, element, and each alias node) and, separately,
 *   those decoded while expanding an alias. The document is refused as soon
 *   as more than 100 nodes came from aliases, more than 1,000 were decoded
 *   in all, and the share that came from aliases exceeds the allowed ratio:
 *   99% up to 400,000 decoded nodes, 10% from 4,000,000 on, and linearly
 *   decreasing in between. This caps alias expansion at about 400,000
 *   nodes whatever the document (the "billion laughs" shape fails within
 *   a few thousand steps).
 *
 * `checkAliases` replays that count on js-yaml's graph: a container reached
 * a second time is an alias (its first appearance, in document order, is
 * the anchored node). Aliases of scalars are not visible in the graph (the
 * scalar is copied); they count as plain nodes, which only makes the share
 * smaller than Go's by one node per such alias. The expanded value must also
 * stay within MAX_DEPTH.
 */
import { MAX_DEPTH, DEPTH_REASON } from './doclimits.ts';

export class YamlAliasError extends Error {
  constructor(public reason: string) {
    super(reason);
    this.name = 'YamlAliasError';
  }
}

const RATIO_RANGE_LOW = 400_000;
const RATIO_RANGE_HIGH = 4_000_000;

/** The share of decoded nodes that may come from aliases, for a document of `decoded` nodes so far. */
export function allowedAliasRatio(decoded: number): number {
  if (decoded <= RATIO_RANGE_LOW) return 0.99;
  if (decoded >= RATIO_RANGE_HIGH) return 0.1;
  return 0.99 - 0.89 * ((decoded - RATIO_RANGE_LOW) / (RATIO_RANGE_HIGH - RATIO_RANGE_LOW));
}

type Container = unknown[] | Record<string, unknown>;
const isContainer = (v: unknown): v is Container => v !== null && typeof v === 'object';

interface Frame {
  obj: Container;
  keys: string[] | undefined;
  n: number;
  i: number;
  /** entered by expanding an alias */
  alias: boolean;
  /** first visit: classify the edges to children */
  defining: boolean;
}

/**
 * Throws YamlAliasError when the value, read as Go reads it, uses an anchor
 * inside its own value, aliases excessively, or expands deeper than
 * MAX_DEPTH. `anchorOf` names the anchor of a container (for the message).
 */
export function checkAliases(root: unknown, anchorOf: (o: object) => string | undefined = () => undefined): void {
  if (!isContainer(root)) return;
  let decoded = 1; // the document node
  let fromAliases = 0;
  let aliasDepth = 0;
  const seen = new Set<object>();
  const active = new Set<object>();
  /** per container, the keys/indexes whose value is an alias */
  const aliasEdges = new Map<object, Set<string | number>>();
  const stack: Frame[] = [];

  const count = () => {
    decoded++;
    if (aliasDepth > 0) fromAliases++;
    if (fromAliases > 100 && decoded > 1000 && fromAliases / decoded > allowedAliasRatio(decoded)) {
      throw new YamlAliasError('document contains excessive aliasing');
    }
  };
  const enter = (obj: Container, alias: boolean, defining: boolean) => {
    if (stack.length >= MAX_DEPTH) throw new YamlAliasError(DEPTH_REASON);
    active.add(obj);
    if (defining) seen.add(obj);
    if (alias) aliasDepth++;
    const keys = Array.isArray(obj) ? undefined : Object.keys(obj);
    stack.push({ obj, keys, n: keys ? keys.length : (obj as unknown[]).length, i: 0, alias, defining });
  };

  count(); // the root node
  enter(root, false, true);
  while (stack.length) {
    const top = stack[stack.length - 1]!;
    if (top.i >= top.n) {
      stack.pop();
      active.delete(top.obj);
      if (top.alias) aliasDepth--;
      continue;
    }
    const idx = top.i++;
    const key: string | number = top.keys ? top.keys[idx]! : idx;
    const child = top.keys ? (top.obj as Record<string, unknown>)[key as string] : (top.obj as unknown[])[idx];
    if (top.keys) count(); // the key node
    count(); // the value node (for an alias: the alias node itself)
    if (!isContainer(child)) continue;
    let isAlias: boolean;
    if (top.defining) {
      isAlias = seen.has(child);
      if (isAlias) {
        let set = aliasEdges.get(top.obj);
        if (!set) aliasEdges.set(top.obj, (set = new Set()));
        set.add(key);
      }
    } else {
      isAlias = aliasEdges.get(top.obj)?.has(key) ?? false;
    }
    if (isAlias) {
      if (active.has(child)) throw new YamlAliasError(`anchor '${anchorOf(child) ?? '?'}' value contains itself`);
      enter(child, true, false);
      count(); // the anchored node, decoded again through the alias
    } else {
      enter(child, false, top.defining);
    }
  }
}
