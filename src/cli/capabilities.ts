// `portcullis capabilities`: the builtins this engine provides, with OPA's declarations, in the
// shape of `opa capabilities --current` (so the two can be diffed), without OPA's doc strings.

import { BUILTINS } from "../builtins/index.ts";
import { jsonText } from "./json.ts";

export function capabilities(): Record<string, unknown> {
  const builtins = Array.from(BUILTINS.values())
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((b) => {
      const o: Record<string, unknown> = { name: b.name, decl: sortDecl(b.decl) };
      if (b.infix) o.infix = b.infix;
      if (b.relation) o.relation = true;
      if (b.nondeterministic) o.nondeterministic = true;
      if (b.deprecated) o.deprecated = true;
      return o;
    });
  return { builtins, future_keywords: ["contains", "every", "if", "in"], features: ["keywords_in_refs", "rego_v1"] };
}

/** Declarations print with sorted keys, as OPA's JSON does. */
function sortDecl(d: unknown): unknown {
  if (Array.isArray(d)) return d.map(sortDecl);
  if (d && typeof d === "object") {
    const o = d as Record<string, unknown>;
    return Object.fromEntries(Object.keys(o).sort().map((k) => [k, sortDecl(o[k])]));
  }
  return d;
}

export function capabilitiesText(): string {
  return jsonText(capabilities()) + "\n";
}
