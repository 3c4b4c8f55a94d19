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

/** A new builtin table: `base` without the named builtins. */
export function withoutBuiltins(names: Iterable<string>, base: BuiltinTable = OPA_BUILTINS): BuiltinTable {
  const t = new Map(base);
  for (const n of names) t.delete(n);
  return t;
}

/**
 * Builtins that reach outside the evaluation: the network (http.send, net.lookup_ip_addr) or
 * the host (opa.runtime, whose `env` is what the host passes as the engine's `runtime`; the
 * library passes none). Servers and admission hosts leave the network ones out unless enabled,
 * as Gatekeeper does with http.send (docs/LIMITS.md).
 */
export const NETWORK_BUILTINS: readonly string[] = ["http.send", "net.lookup_ip_addr"];
