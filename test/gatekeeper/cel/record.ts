// Records gator's answers on the CEL samples of the gatekeeper-library (gator test with the CEL
// driver on and off, gator verify -v) into recorded/gator-library.json.
//   node --import tsx test/gatekeeper/cel/record.ts
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { sharedSamples, versionedSamples, verifySummary, type SampleDir, type Recorded } from "./library.ts";

const here = path.dirname(fileURLToPath(import.meta.url));
const gator = process.env.GATOR ?? path.join(os.homedir(), "go/bin/gator");
const version = spawnSync(gator, ["--version"], { encoding: "utf8" }).stdout.trim();

const lines = (s: string) => s.split("\n").filter(Boolean).sort();

const out: Record<string, Recorded> = {};
const record = (set: string, dirs: SampleDir[] | null) => {
  for (const d of dirs ?? []) {
    const f = d.files.flatMap((x) => ["-f", x]);
    const t = spawnSync(gator, ["test", ...f], { encoding: "utf8" });
    const r = spawnSync(gator, ["test", "--enable-k8s-native-validation=false", ...f], { encoding: "utf8" });
    const rec: Recorded = { test: { lines: lines(t.stdout), code: t.status ?? -1 }, testRego: { lines: lines(r.stdout), code: r.status ?? -1 } };
    if (fs.existsSync(path.join(d.dir, "suite.yaml"))) {
      const v = spawnSync(gator, ["verify", "-v", `${d.dir}/...`], { encoding: "utf8" });
      rec.verify = { out: verifySummary(v.stdout, d.dir), code: v.status ?? -1 };
    }
    out[`${set}:${d.key}`] = rec;
  }
};
record("shared", sharedSamples());
record("versioned", versionedSamples());
fs.writeFileSync(path.join(here, "recorded", "gator-library.json"), JSON.stringify({ gator: version, entries: out }, null, 1) + "\n");
console.log(`recorded ${Object.keys(out).length} sample directories with ${version}`);
