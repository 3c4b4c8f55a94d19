// Byte-for-byte comparison with `opa fmt` (when OPA is installed: ~/go/bin/opa or opa on the
// PATH; skipped otherwise) on the modules of ../shared (skipped when absent): v1 modules
// against `opa fmt`, v0 modules against `opa fmt --v0-compatible` and against
// `opa fmt --v0-v1`. Modules OPA cannot format (parse errors, or output OPA itself rejects)
// are left out. The counts reached are asserted as floors; the differing modules are listed.
import test from "node:test";
import assert from "node:assert/strict";
import { execFile, execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync, rmSync, existsSync } from "node:fs";
import { tmpdir, homedir } from "node:os";
import { join } from "node:path";
import { formatSource } from "../../src/rego/format.ts";
import { gatekeeperModules, conformanceModules, sharedAvailable, type CorpusModule } from "./corpus.ts";

function findOpa(): string | null {
  const home = join(homedir(), "go", "bin", "opa");
  if (existsSync(home)) return home;
  try {
    execFileSync("opa", ["version"], { stdio: "ignore" });
    return "opa";
  } catch {
    return null;
  }
}

const OPA = findOpa();

function opaFmt(file: string, flags: string[]): Promise<string | null> {
  return new Promise((resolve) => {
    execFile(OPA!, ["fmt", ...flags, file], { maxBuffer: 64 << 20 }, (err, stdout) => resolve(err ? null : stdout));
  });
}

async function pool<T, R>(items: T[], n: number, fn: (x: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]);
      }
    }),
  );
  return out;
}

type Mode = "native" | "v0-v1";

interface Tally {
  compared: number;
  equal: number;
  opaFailed: number;
  differing: string[];
}

async function compare(mods: CorpusModule[], mode: Mode, dir: string): Promise<Tally> {
  const t: Tally = { compared: 0, equal: 0, opaFailed: 0, differing: [] };
  const picked = mode === "v0-v1" ? mods.filter((m) => m.regoVersion === "v0") : mods;
  const results = await pool(picked, 8, async (m) => {
    const file = join(dir, `m${mods.indexOf(m)}-${mode}.rego`);
    writeFileSync(file, m.source);
    const flags = mode === "v0-v1" ? ["--v0-v1"] : m.regoVersion === "v0" ? ["--v0-compatible"] : [];
    return { m, want: await opaFmt(file, flags) };
  });
  for (const { m, want } of results) {
    if (want === null) {
      t.opaFailed++;
      continue;
    }
    t.compared++;
    let got: string | null;
    try {
      got =
        mode === "v0-v1"
          ? formatSource(m.name, m.source, { parseVersion: "v0", regoVersion: "v1", regoV1Import: true })
          : formatSource(m.name, m.source, { regoVersion: m.regoVersion });
    } catch {
      got = null;
    }
    if (got === want) t.equal++;
    else t.differing.push(m.name);
  }
  return t;
}

// Floors: what the formatter reaches today (see the diagnostics for the modules that differ
// and docs/fmt.md for why).
const FLOORS: Record<string, Record<Mode, number>> = {
  gatekeeper: { native: 86, "v0-v1": 86 },
  conformance: { native: 1151, "v0-v1": 556 },
};

for (const [set, load] of [
  ["gatekeeper", gatekeeperModules],
  ["conformance", conformanceModules],
] as const) {
  test(`fmt: ${set}: output equals opa fmt's`, async (t) => {
    if (!sharedAvailable()) {
      t.skip("../shared not present");
      return;
    }
    if (!OPA) {
      t.skip("opa not installed");
      return;
    }
    const mods = load();
    const dir = mkdtempSync(join(tmpdir(), "portcullis-fmt-"));
    try {
      for (const mode of ["native", "v0-v1"] as const) {
        const r = await compare(mods, mode, dir);
        const pct = r.compared ? ((100 * r.equal) / r.compared).toFixed(1) : "-";
        t.diagnostic(`${mode === "native" ? "opa fmt (v1) / opa fmt --v0-compatible (v0)" : "opa fmt --v0-v1 (v0 modules)"}: ${r.equal}/${r.compared} equal (${pct}%), ${r.opaFailed} that opa cannot format left out`);
        for (const d of r.differing) t.diagnostic(`  differs: ${d}`);
        assert.ok(r.equal >= FLOORS[set][mode], `${set} ${mode}: ${r.equal} equal, floor ${FLOORS[set][mode]}`);
        if (mode === "native") assert.ok(r.equal >= 0.95 * r.compared, `${set}: under 95% equal`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
