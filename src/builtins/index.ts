// OPA's builtin table: every category file contributes its Builtin[]; the table serves the type
// checker (declarations), the evaluator (implementations) and `portcullis capabilities`.
// To add a category: create `<category>.ts` exporting `builtins: Builtin[]` and list it here.
// The table is read-only and holds exactly OPA's builtins: hosts (conftest, Gatekeeper) give
// their own builtins to their own engines (src/engine/index.ts `withBuiltins`), never here.

import type { Builtin, BuiltinTable } from "./registry.ts";
import { builtins as core } from "./core.ts";
import { builtins as aggregates } from "./aggregates.ts";
import { builtins as arithmetic } from "./arithmetic.ts";
import { builtins as bits } from "./bits.ts";
import { builtins as arrays } from "./arrays.ts";
import { builtins as sets } from "./sets.ts";
import { builtins as comparison } from "./comparison.ts";
import { builtins as types } from "./types.ts";
import { builtins as encoding } from "./encoding.ts";
import { builtins as objects } from "./objects.ts";
import { builtins as crypto } from "./crypto.ts";
import { builtins as jwt } from "./jwt.ts";
import { builtins as providers } from "./providers.ts";
import { builtins as httpSend } from "./http.ts";
import { builtins as graphql } from "./graphql.ts";
import { builtins as time } from "./time.ts";
import { builtins as units } from "./units.ts";
import { builtins as semver } from "./semver.ts";
import { builtins as uuid } from "./uuid.ts";
import { builtins as net } from "./net.ts";
import { builtins as netLookup } from "./netlookup.ts";
import { builtins as strings } from "./strings.ts";
import { builtins as regex } from "./regex.ts";
import { builtins as glob } from "./glob.ts";
import { builtins as graph } from "./graph.ts";
import { builtins as uri } from "./uri.ts";
import { builtins as rego } from "./rego.ts";

const categories: Builtin[][] = [
  strings,
  regex,
  glob,
  time,
  units,
  semver,
  uuid,
  net,
  netLookup,
  crypto,
  jwt,
  providers,
  httpSend,
  graphql,
  core,
  aggregates,
  arithmetic,
  bits,
  arrays,
  sets,
  comparison,
  types,
  encoding,
  objects,
  graph,
  uri,
  rego,
];

const table = new Map<string, Builtin>();
for (const list of categories) {
  for (const b of list) {
    if (table.has(b.name)) throw new Error(`builtin ${b.name} registered twice`);
    table.set(b.name, b);
  }
}

/** OPA 1.19's builtins, by name. Read-only: engines copy it to add their own. */
export const OPA_BUILTINS: BuiltinTable = table;
/** Old name of OPA_BUILTINS. */
export const BUILTINS: BuiltinTable = table;

export function getBuiltin(name: string): Builtin | undefined {
  return table.get(name);
}
