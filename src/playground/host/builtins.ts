// The browser bundle's src/builtins/index.ts (see ./substitutes.ts): OPA's builtin table with
// every category that runs in a browser, and the builtins that need Node — http.send,
// net.lookup_ip_addr, crypto.*, io.jwt.*, uuid.*, providers.aws.sign_req, graphql.* — registered
// with their real declarations (so policies type-check as in OPA) and an implementation that
// stops evaluation with "not available in the browser" (a HaltError: never a silent undefined).

import type { Builtin, BuiltinTable } from "../../builtins/registry.ts";
import { builtins as core } from "../../builtins/core.ts";
import { builtins as aggregates } from "../../builtins/aggregates.ts";
import { builtins as arithmetic } from "../../builtins/arithmetic.ts";
import { builtins as bits } from "../../builtins/bits.ts";
import { builtins as arrays } from "../../builtins/arrays.ts";
import { builtins as sets } from "../../builtins/sets.ts";
import { builtins as comparison } from "../../builtins/comparison.ts";
import { builtins as types } from "../../builtins/types.ts";
import { builtins as encoding } from "../../builtins/encoding.ts";
import { builtins as objects } from "../../builtins/objects.ts";
import { builtins as time } from "../../builtins/time.ts";
import { builtins as units } from "../../builtins/units.ts";
import { builtins as semver } from "../../builtins/semver.ts";
import { builtins as net } from "../../builtins/net.ts";
import { builtins as strings } from "../../builtins/strings.ts";
import { builtins as regex } from "../../builtins/regex.ts";
import { builtins as glob } from "../../builtins/glob.ts";
import { builtins as graph } from "../../builtins/graph.ts";
import { builtins as uri } from "../../builtins/uri.ts";
import { builtins as rego } from "../../builtins/rego.ts";
import { UNAVAILABLE } from "./unavailable-builtins.ts";
import { notInBrowser } from "./unavailable.ts";

const categories: Builtin[][] = [strings, regex, glob, time, units, semver, net, core, aggregates, arithmetic, bits, arrays, sets, comparison, types, encoding, objects, graph, uri, rego];

const table = new Map<string, Builtin>();
for (const list of categories) {
  for (const b of list) {
    if (table.has(b.name)) throw new Error(`builtin ${b.name} registered twice`);
    table.set(b.name, b);
  }
}
for (const d of UNAVAILABLE) {
  if (table.has(d.name)) throw new Error(`builtin ${d.name} registered twice`);
  table.set(d.name, { ...d, impl: () => notInBrowser(d.name) });
}

/** The browser's builtin table: OPA 1.19's names, some of them "not available in the browser". */
export const OPA_BUILTINS: BuiltinTable = table;
export const BUILTINS: BuiltinTable = table;

export function getBuiltin(name: string): Builtin | undefined {
  return table.get(name);
}

/** The names whose implementation reports "not available in the browser". */
export const UNAVAILABLE_NAMES: readonly string[] = UNAVAILABLE.map((d) => d.name);
