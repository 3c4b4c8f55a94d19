// npm run bench: CPU time per evaluation, Portcullis side by side with JSON.parse of the same
// input and, when their toolchains are installed, OPA (Go API, PrepareForEval) and regorus (Rust
// API), on the workload families of bench/workloads; then scaling curves by input size and the
// Gatekeeper review stream against `gator bench -e rego`. See docs/performance.md.
//
// The engine measured is the shipped build (dist/, built first when missing or stale); BENCH_SRC=1
// or --src measures the TypeScript sources through tsx instead (bench/lib/engine.ts).
//
// Environment:
//   BENCH_SRC=1              the sources through tsx instead of dist/ (also: --src)
//   BENCH_BUILD=0            fail instead of running `npm run build` when dist/ is missing or stale
//   BENCH_QUICK=1            a fast smoke (few workloads, short batches, sizes 10 and 100)
//   BENCH_PEERS=opa,regorus  peers to run ("none" for Portcullis alone)
//   BENCH_FAMILIES=...       comma-separated subset of gatekeeper,rbac,comprehensions,aci,regorus
//   BENCH_ROUNDS, BENCH_BATCH_MS, BENCH_WARM_MS   the measurement protocol (bench/lib/measure.ts)
//   BENCH_TABLES=0, BENCH_SCALING=0, BENCH_STREAM=0   leave out the per-workload tables / the scaling table / the review stream
//   BENCH_SIZES=10,100,1000,10000                     input sizes of the scaling table
//   BENCH_JSON=FILE          also write every figure as JSON
import * as fs from "node:fs";
import { DEFAULT_OPTIONS, QUICK_OPTIONS, measure, type Measurement, type MeasureOptions } from "./lib/measure.ts";
import { PortcullisRunner, JsonParseRunner, type Runner } from "./lib/runners.ts";
import { startPeers } from "./lib/peers.ts";
import { familyTable, summaryTable, scalingTable, REF, PARSE, type FamilySummary } from "./lib/report.ts";
import type { Workload } from "./lib/workload.ts";
import { gatekeeperWorkloads, gatekeeperScaled } from "./workloads/gatekeeper.ts";
import { rbacWorkloads, rbacScaled, compWorkloads, compWorkload, regorusWorkloads, regorusScaled } from "./workloads/families.ts";
import { aciWorkloads, aciScaled } from "./workloads/aci.ts";
import { streamBench } from "./gatekeeper.ts";
import { loadLibrary, BUILD_LABEL } from "./lib/engine.ts";

const env = process.env;
const QUICK = env.BENCH_QUICK === "1";
const base = QUICK ? QUICK_OPTIONS : DEFAULT_OPTIONS;
const opts: MeasureOptions = {
  rounds: Number(env.BENCH_ROUNDS ?? base.rounds),
  batchMs: Number(env.BENCH_BATCH_MS ?? base.batchMs),
  warmMs: Number(env.BENCH_WARM_MS ?? base.warmMs),
  slowMs: base.slowMs,
};
for (const [k, v] of Object.entries(opts)) {
  if (!Number.isFinite(v) || v <= 0) {
    console.error(`bench: ${k} must be a positive number, got ${v}`);
    process.exit(2);
  }
}
const ALL = ["gatekeeper", "rbac", "comprehensions", "aci", "regorus"];
const families = (env.BENCH_FAMILIES ?? ALL.join(",")).split(",").map((s) => s.trim()).filter(Boolean);
const unknown = families.filter((f) => !ALL.includes(f));
if (unknown.length) {
  console.error(`bench: unknown family ${unknown.join(", ")} (families: ${ALL.join(", ")})`);
  process.exit(2);
}
const out = (s: string) => console.log(s);
const log = (s: string) => console.error(s);

const SIZES = env.BENCH_SIZES ? env.BENCH_SIZES.split(",").map(Number) : QUICK ? [10, 100] : [10, 100, 1000, 10000];
if (SIZES.some((n) => !Number.isInteger(n) || n < 1 || n > 1_000_000)) {
  console.error(`bench: BENCH_SIZES must list whole numbers from 1 to 1000000, got ${env.BENCH_SIZES}`);
  process.exit(2);
}
const COMP_SIZES = QUICK ? [100] : [100, 1000, 10000];

function familyWorkloads(f: string): { ws: Workload[]; skipped: string[] } {
  switch (f) {
    case "gatekeeper": {
      const { workloads, skipped } = gatekeeperWorkloads(undefined, QUICK ? 4 : Infinity);
      return { ws: workloads, skipped };
    }
    case "rbac":
      return { ws: rbacWorkloads(), skipped: [] };
    case "comprehensions":
      return { ws: compWorkloads(COMP_SIZES), skipped: [] };
    case "aci":
      return { ws: aciWorkloads(), skipped: [] };
    default:
      return { ws: regorusWorkloads(), skipped: [] };
  }
}

const SCALED: Record<string, { label: string; make: (n: number) => Workload }> = {
  gatekeeper: { label: "k8sallowedrepos, µs per evaluation by number of containers", make: (n) => gatekeeperScaled(n) },
  rbac: { label: "200-rule RBAC, µs per evaluation by number of the user's roles", make: rbacScaled },
  comprehensions: { label: "members per team (by_team), µs per evaluation by number of items", make: (n) => compWorkload(n, "by_team") },
  aci: { label: "create_container, µs per evaluation by number of environment variables", make: aciScaled },
  regorus: { label: "recreated rbac bench, µs per evaluation by number of role bindings", make: regorusScaled },
};

/** Evaluate w for about ms of CPU (at least once); errors are left for measure() to report. */
async function warmUp(r: Runner, w: Workload, ms: number): Promise<void> {
  try {
    let spent = 0;
    let n = 1;
    while (spent < ms * 1e6) {
      const res = await r.run(w, n);
      spent += Math.max(res.ns, 1) * n;
      n = Math.min(n * 4, Math.max(1, Math.ceil((ms * 1e6 - spent) / Math.max(res.ns, 1))));
    }
  } catch {
    /* measure() reports it */
  }
}

async function main(): Promise<number> {
  const started = Date.now();
  const ref = new PortcullisRunner(await loadLibrary(log));
  const parse = new JsonParseRunner();
  const peerNames = env.BENCH_PEERS ?? "opa,regorus";
  const { runners: peers, skipped: peerSkips } = peerNames === "none" ? { runners: [], skipped: [] } : startPeers(peerNames, log);
  const compare = new Set<Runner>(peers);
  const names = peers.map((p) => p.name);
  out(`Portcullis bench: CPU time per evaluation (process CPU, user+system; median of ${opts.rounds} interleaved rounds of ~${opts.batchMs} ms batches after ${opts.warmMs} ms warm-up, each workload also evaluated for ${opts.warmMs} ms before any is measured${QUICK ? "; QUICK" : ""})`);
  out(`÷X = Portcullis CPU ÷ X's CPU per evaluation (below 1: Portcullis spends less). Every peer's answer is checked against Portcullis's first; ° = equal up to the order of set elements.`);
  out(`engines: Portcullis (${BUILD_LABEL}; in process, Engine.prepare + eval), JSON.parse of the input${peers.length ? ", " + peers.map((p) => (p.name === "OPA" ? "OPA 1.19.0 (Go API: rego.New().PrepareForEval, Eval)" : "regorus (crates.io, Rust API: Engine.eval_rule on a rule path, else eval_query)")).join(", ") : ""}`);
  for (const s of peerSkips) out(`  ${s}`);

  const cache = new Map<string, Measurement>();
  const run = async (w: Workload): Promise<Measurement> => {
    const hit = cache.get(w.id);
    if (hit) return hit;
    const m = await measure(w, ref, [parse, ...peers], opts, compare);
    cache.set(w.id, m);
    return m;
  };

  const summaries: FamilySummary[] = [];
  const tables: Record<string, Measurement[]> = {};
  const loaded: [string, { ws: Workload[]; skipped: string[] } | Error][] = (env.BENCH_TABLES === "0" ? [] : families).map((f) => {
    try {
      return [f, familyWorkloads(f)];
    } catch (e) {
      return [f, e as Error];
    }
  });
  // The process warm-up: Portcullis evaluates every workload of the tables for warmMs before any
  // is measured, so that the engine's shared code is compiled (and as polymorphic) as in a
  // process that has evaluated many policies. Without it the first workloads measured pay for
  // the JIT's first compilations: allowed-repos, measured first, took 120 µs against 20 µs once
  // the process was warm.
  const warmStarted = process.cpuUsage();
  for (const [, fw] of loaded) if (!(fw instanceof Error)) for (const w of fw.ws) await warmUp(ref, w, opts.warmMs);
  const warmCpu = process.cpuUsage(warmStarted);
  if (loaded.length) log(`  process warm-up: ${((warmCpu.user + warmCpu.system) / 1e6).toFixed(1)} s CPU`);
  for (const [f, fw] of loaded) {
    if (fw instanceof Error) {
      out(`\n${f}: skipped: ${fw.message}`);
      continue;
    }
    const ms: Measurement[] = [];
    for (const w of fw.ws) {
      log(`  ${f}: ${w.name}`);
      ms.push(await run(w));
    }
    tables[f] = ms;
    summaries.push(familyTable(f, ms, names, out));
    for (const s of fw.skipped) out(`  not measured: ${s}`);
  }
  if (summaries.length) summaryTable(summaries, names, out);

  const scaling: Record<string, unknown> = {};
  if (env.BENCH_SCALING !== "0") {
    out(`\nscaling: µs per evaluation by input size; slope = least-squares slope of log(time) on log(size) (1 linear, 2 quadratic); last step = slope between the two largest sizes`);
    for (const f of families) {
      let ws: Workload[];
      try {
        ws = SIZES.map((n) => SCALED[f].make(n));
      } catch (e) {
        out(`\n${f}: skipped: ${(e as Error).message}`);
        continue;
      }
      const ms: Measurement[] = [];
      for (const w of ws) {
        log(`  scaling ${f}: ${w.name}`);
        ms.push(await run(w));
      }
      scaling[f] = scalingTable(f, SCALED[f].label, SIZES, ms, [REF, ...names, PARSE], out);
      for (const m of ms) for (const [e, fig] of Object.entries(m.figures)) if (fig.skipped) out(`  n=${m.workload.size} ${e}: ${fig.skipped}`);
    }
  }

  let stream: unknown;
  if (env.BENCH_STREAM !== "0" && families.includes("gatekeeper")) {
    try {
      stream = await streamBench({ quick: QUICK, out, log });
    } catch (e) {
      out(`\ngatekeeper review stream: skipped: ${(e as Error).message}`);
    }
  }

  await Promise.all([ref.close(), ...peers.map((p) => p.close())]);
  out(`\nbench finished in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  if (env.BENCH_JSON) {
    const strip = (ms: Measurement[]) => ms.map((m) => ({ id: m.workload.id, family: m.workload.family, name: m.workload.name, size: m.workload.size, figures: m.figures }));
    fs.writeFileSync(
      env.BENCH_JSON,
      JSON.stringify({ options: opts, peers: names, peerSkips, summaries, tables: Object.fromEntries(Object.entries(tables).map(([k, v]) => [k, strip(v)])), scaling, stream }, null, 1),
    );
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(`bench: ${(e as Error).message}`);
    process.exit(1);
  },
);
