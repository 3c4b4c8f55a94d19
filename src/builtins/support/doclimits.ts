// Document limits shared by every reader of documents, in the builtins layer so that both the
// input parsers (src/formats) and the builtins that parse (yaml.unmarshal, json.unmarshal) use
// the same ones: the nesting limit (10,000 levels, Go's and OPA's), the checks, and own-property
// helpers (keys such as __proto__ are kept as ordinary keys).
import { MAX_VALUE_DEPTH } from "../../rego/value.ts";

/** The deepest nesting of arrays/objects a reader builds (MAX_VALUE_DEPTH: OPA's 10,000). */
export const MAX_DEPTH = MAX_VALUE_DEPTH;

/** The reason text of a too-deep document, the same for every format. */
export const DEPTH_REASON = `exceeded max depth of ${MAX_DEPTH}`;

/** Thrown inside parsers that track their nesting; the parser turns it into a located ParseError. */
export class DepthError extends Error {
  constructor(public pos?: number) {
    super(DEPTH_REASON);
    this.name = 'DepthError';
  }
}

/**
 * Whether a parsed value nests arrays/objects deeper than `limit` (a scalar
 * is depth 0, `[]` 1, `[[1]]` 2), found without recursion. Returns "deep",
 * "cycle" (the value contains itself: a parser fault) or "ok". Shared
 * sub-values (YAML aliases) are walked once per reference; checkAliases
 * (yaml-aliases.ts) has bounded how often that can be.
 */
export function checkDepth(root: unknown, limit = MAX_DEPTH): 'ok' | 'deep' | 'cycle' {
  if (root === null || typeof root !== 'object') return 'ok';
  const path: object[] = [];
  const pending: unknown[][] = [];
  const idx: number[] = [];
  const enter = (o: object) => {
    path.push(o);
    pending.push(Array.isArray(o) ? o : Object.values(o));
    idx.push(0);
  };
  enter(root as object);
  while (path.length) {
    const top = path.length - 1;
    const kids = pending[top]!;
    if (idx[top]! >= kids.length) {
      path.pop();
      pending.pop();
      idx.pop();
      continue;
    }
    const c = kids[idx[top]!++];
    if (c === null || typeof c !== 'object') continue;
    if (path.length >= limit) return new Set(path).size < path.length || path.includes(c) ? 'cycle' : 'deep';
    enter(c);
  }
  return 'ok';
}

/** Set an own, enumerable property, also for keys such as `__proto__` that plain assignment would not create. */
export function setOwn(o: Record<string, unknown>, k: string, v: unknown): void {
  if (k === '__proto__') Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
  else o[k] = v;
}

/** The own property `k` of `o` (never one inherited from Object.prototype such as `constructor`). */
export function getOwn(o: object, k: string): unknown {
  return Object.prototype.hasOwnProperty.call(o, k) ? (o as Record<string, unknown>)[k] : undefined;
}

export function hasOwn(o: object, k: string): boolean {
  return Object.prototype.hasOwnProperty.call(o, k);
}

/**
 * js-yaml's maxDepth for documents up to MAX_DEPTH (it counts one level more for a sequence
 * holding a scalar); the exact limit is the value check afterwards.
 */
export const JS_YAML_MAX_DEPTH = MAX_DEPTH + 2;
