// The engine most code wants: the core Engine (src/rego/engine.ts) with OPA's builtins as its
// default table. `import { Engine } from "portcullis"` is this class. Hosts that add builtins of
// their own (conftest's parse_config*, Gatekeeper's external_data) pass `builtins:
// withBuiltins(theirs)`, which makes a new table for their engines only.

import { Engine as CoreEngine, type EngineOptions } from "../rego/engine.ts";
import type { Builtin, BuiltinTable } from "../rego/builtin.ts";
import { OPA_BUILTINS } from "../builtins/index.ts";

export * from "../rego/engine.ts";
export { OPA_BUILTINS };

export class Engine extends CoreEngine {
  constructor(opts: EngineOptions = {}) {
    super({ ...opts, builtins: opts.builtins ?? OPA_BUILTINS });
  }
}

/** A new builtin table: `base` (OPA's by default) plus `extra` (replacing same-named ones). */
export function withBuiltins(extra: Iterable<Builtin>, base: BuiltinTable = OPA_BUILTINS): BuiltinTable {
  const t = new Map(base);
  for (const b of extra) t.set(b.name, b);
  return t;
}
