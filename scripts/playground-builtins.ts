// Writes src/playground/host/unavailable-builtins.ts: the declarations of the builtins the
// browser playground leaves out (network, host and Node-crypto ones), so its engine still
// type-checks calls to them and stops with "not available in the browser" when one runs.
// Run after a change to those builtins: `node --import tsx scripts/playground-builtins.ts`
// (test/playground/bundle.test.ts fails while the file is out of date).

import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { unavailableBuiltinsSource } from "./playground-builtins-source.ts";

const out = fileURLToPath(new URL("../src/playground/host/unavailable-builtins.ts", import.meta.url));
writeFileSync(out, unavailableBuiltinsSource());
console.log(`wrote ${out}`);
