// The builtin table: every category file contributes its Builtin[]; one Map serves the type
// checker (declarations), the evaluator (implementations) and `portcullis capabilities`.
// To add a category: create `<category>.ts` exporting `builtins: Builtin[]` and list it here.

import type { Builtin } from "./registry.ts";
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
import { builtins as strings } from "./strings.ts";
import { builtins as regex } from "./regex.ts";
import { builtins as glob } from "./glob.ts";
import { builtins as graph } from "./graph.ts";
import { builtins as uri } from "./uri.ts";
import { builtins as rego } from "./rego.ts";
import { builtins as conftest } from "./conftest.ts";

const categories: Builtin[][] = [
  strings,
  regex,
  glob,
  time,
  units,
  semver,
  uuid,
  net,
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
  conftest,
];

export const BUILTINS: Map<string, Builtin> = new Map();
for (const list of categories) {
  for (const b of list) {
    if (BUILTINS.has(b.name)) throw new Error(`builtin ${b.name} registered twice`);
    BUILTINS.set(b.name, b);
  }
}

export function getBuiltin(name: string): Builtin | undefined {
  return BUILTINS.get(name);
}
