// Records gator test's answers on the hand-written fixtures (fixtures/<case>/: a template with
// K8sNativeValidation code, constraints and objects) into recorded/fixtures.json. Each case is
// recorded with the CEL driver on, off (--enable-k8s-native-validation=false) and with
// --default-k8s-native-validation-failure-policy=Ignore.
//   node --import tsx test/gatekeeper/cel/record-fixtures.ts
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { FIXTURE_MODES, fixtureCases } from "./library.ts";

const here = path.dirname(fileURLToPath(import.meta.url));
const gator = process.env.GATOR ?? path.join(os.homedir(), "go/bin/gator");
const out: Record<string, { stdout: string[]; stderr: string; code: number }> = {};
for (const c of fixtureCases()) {
  for (const [mode, flags] of Object.entries(FIXTURE_MODES)) {
    const r = spawnSync(gator, ["test", ...flags, ...c.files.flatMap((f) => ["-f", f])], { encoding: "utf8", cwd: c.dir });
    out[`${c.name}:${mode}`] = { stdout: r.stdout.split("\n").filter(Boolean).sort(), stderr: r.stderr, code: r.status ?? -1 };
  }
}
fs.writeFileSync(path.join(here, "recorded", "fixtures.json"), JSON.stringify(out, null, 1) + "\n");
console.log(`recorded ${Object.keys(out).length} runs`);
