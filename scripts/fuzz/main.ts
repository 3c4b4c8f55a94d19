// npm run fuzz -- [--target rego|formats|builtins|all] [--count N] [--seed S] [--budget-ms 2000]
//                 [--workers 2] [--formats yaml,json] [--out .fuzz-out] [--no-minimize]
//                 [--minimize-ms 240000] [--write-regressions test/fuzz/regressions] [--json]
//                 [--max-input CHARS] [--replay DIR|FILE.json]
//
// Without --count, each target runs its acceptance count: 250,000 Rego modules, 20,000 inputs
// per format (every parser in src/formats), 300,000 builtin calls. --count N sets the count of
// every selected target (for formats: per format). Exits 1 when anything crashed or hung.

import { resolve } from "node:path";
import { existsSync, statSync, readFileSync } from "node:fs";
import { fuzz, defaultOptions, TARGETS, DEFAULT_COUNTS, readRegressions, readReplayFile, replay, type TargetSummary, type RegressionFile } from "./run.ts";
import type { Stats } from "./cases.ts";
import type { Target } from "./targets.ts";
import { FORMAT_NAMES } from "./gen-formats.ts";
import { REPO } from "./corpus.ts";

function usage(msg?: string): never {
  if (msg) process.stderr.write(`fuzz: ${msg}\n`);
  process.stderr.write(readFileSync(new URL(import.meta.url), "utf8").split("\n").slice(0, 8).join("\n") + "\n");
  process.exit(2);
}

const argv = process.argv.slice(2);
const opts = defaultOptions({ outDir: resolve(REPO, ".fuzz-out") });
let count: number | undefined;
let json = false;
let replayPath: string | undefined;
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  const val = () => {
    const v = argv[++i];
    if (v === undefined) usage(`${a} needs a value`);
    return v;
  };
  const num = () => {
    const v = Number(val());
    if (!Number.isFinite(v) || v < 0) usage(`${a} needs a number`);
    return v;
  };
  switch (a) {
    case "--target":
    case "--targets": {
      const v = val();
      opts.targets = v === "all" ? TARGETS : (v.split(",") as Target[]);
      for (const t of opts.targets) if (!TARGETS.includes(t)) usage(`unknown target ${t}`);
      break;
    }
    case "--count":
      count = Math.floor(num());
      break;
    case "--seed":
      opts.seed = Math.floor(num());
      break;
    case "--budget-ms":
      opts.budgetMs = num();
      break;
    case "--workers":
      opts.workers = Math.max(1, Math.floor(num()));
      break;
    case "--formats":
      opts.formats = val().split(",");
      for (const f of opts.formats) if (!FORMAT_NAMES.includes(f)) usage(`unknown format ${f} (${FORMAT_NAMES.join(", ")})`);
      break;
    case "--out":
      opts.outDir = resolve(val());
      break;
    case "--no-out":
      opts.outDir = undefined;
      break;
    case "--no-minimize":
      opts.minimize = false;
      break;
    case "--minimize-ms":
      opts.minimizeMs = num();
      break;
    case "--write-regressions":
      opts.writeRegressions = resolve(val());
      break;
    case "--no-hang-stacks":
      opts.hangStacks = false;
      break;
    case "--heap-mb":
      opts.heapMb = num();
      break;
    case "--max-input":
      opts.maxInput = Math.max(1, Math.floor(num()));
      break;
    case "--slow-limit":
      opts.slowLimit = num();
      break;
    case "--quarantine-after":
      opts.quarantineAfter = num();
      break;
    case "--json":
      json = true;
      break;
    case "--replay":
      replayPath = resolve(val());
      break;
    case "-h":
    case "--help":
      usage();
      break;
    default:
      usage(`unknown option ${a}`);
  }
}
opts.counts = { ...DEFAULT_COUNTS };
if (count !== undefined) for (const t of TARGETS) opts.counts[t] = count;

if (replayPath) {
  const regs: { file: string; reg: RegressionFile }[] =
    (() => {
      try {
        return existsSync(replayPath) && statSync(replayPath).isDirectory() ? readRegressions(replayPath) : [{ file: replayPath, reg: readReplayFile(replayPath) }];
      } catch (e) {
        usage(`--replay: ${(e as Error).message}`);
      }
    })();
  const results = await replay(regs.map((r) => r.reg.case), opts);
  let bad = 0;
  regs.forEach((r, i) => {
    const res = results[i];
    const fine = res.kind === "ok" || res.kind === "coded";
    if (!fine) bad++;
    const cpu = (res.kind === "ok" || res.kind === "coded") && res.cpuMs !== undefined ? ` (${res.cpuMs} ms of CPU)` : "";
    const what = (res.kind === "crash" ? `crash ${res.signature}` : res.kind === "coded" ? `coded ${res.code}` : res.kind === "died" ? `died ${res.detail.split("\n")[0]}` : res.kind) + cpu;
    console.log(`${fine ? "ok  " : "FAIL"} ${r.file}: ${what}`);
  });
  process.exit(bad ? 1 : 0);
}

process.stderr.write(
  `fuzz: targets ${opts.targets.join(",")}; counts ${opts.targets.map((t) => `${t} ${opts.counts[t]}${t === "formats" ? ` × ${opts.formats.length} formats` : ""}`).join(", ")}; seed ${opts.seed}; budget ${opts.budgetMs} ms; ${opts.workers} workers\n`,
);
const result = await fuzz(opts);

function codedText(s: Stats): string {
  return Object.entries(s.coded)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${v}`)
    .join(", ");
}

function row(name: string, s: Stats, secs?: number): string {
  const coded = Object.values(s.coded).reduce((a, b) => a + b, 0);
  const rate = secs ? Math.round(s.run / Math.max(secs, 0.001)).toString() : "";
  const cpuRate = s.cpuMs ? Math.round(s.run / (s.cpuMs / 1000)).toString() : "";
  return [name.padEnd(12), String(s.run).padStart(8), String(s.ok).padStart(8), String(coded).padStart(8), String(s.crash).padStart(6), String(s.hang).padStart(5), String(s.skipped).padStart(8), String(s.slow).padStart(6), (secs ? secs.toFixed(1) : "").padStart(8), rate.padStart(8), cpuRate.padStart(9)].join(" ");
}

if (json) {
  console.log(JSON.stringify({ summaries: result.summaries, findings: result.findings.map((f) => ({ signature: f.signature, kind: f.kind, count: f.count, seenIn: f.seenIn, dir: f.dir })) }, null, 1));
} else {
  console.log("");
  console.log(["target".padEnd(12), "inputs".padStart(8), "ok".padStart(8), "coded".padStart(8), "crash".padStart(6), "hang".padStart(5), "skipped".padStart(8), "slow".padStart(6), "seconds".padStart(8), "cases/s".padStart(8), "/cpu-sec".padStart(9)].join(" "));
  for (const s of result.summaries as TargetSummary[]) {
    console.log(row(s.target, s.stats, s.seconds));
    if (s.perFormat) for (const [p, ps] of Object.entries(s.perFormat).sort()) console.log(row("  " + p, ps));
  }
  console.log("");
  for (const s of result.summaries) console.log(`${s.target} coded errors: ${codedText(s.stats) || "none"}`);
  for (const s of result.summaries) {
    if (s.target === "builtins") console.log(`builtins: the builtin under test ran in ${s.stats.reached} of ${s.stats.run} calls (the rest stopped at the type check or an argument's evaluation)`);
  }
  for (const s of result.summaries) {
    const top = Object.entries(s.stats.areas)
      .sort((a, b) => b[1].ms - a[1].ms)
      .slice(0, 8)
      .map(([k, v]) => `${k} ${(v.ms / 1000).toFixed(1)}s/${v.run}`);
    console.log(`${s.target} time by area (worker seconds/cases): ${top.join(", ")}`);
    const q = Object.entries(s.quarantined);
    if (q.length) console.log(`${s.target} skipped from some point on: ${q.map(([a, why]) => `${a} (${why})`).join(", ")}`);
  }
  if (result.findings.length) {
    console.log(`\n${result.findings.length} distinct findings${opts.outDir ? ` (details in ${opts.outDir}/findings.md)` : ""}:`);
    for (const f of result.findings) {
      const seen = f.seenIn.length > 1 || f.seenIn[0] !== f.area ? ` (in ${f.seenIn.slice(0, 6).join(", ")}${f.seenIn.length > 6 ? ", …" : ""})` : "";
      // A hang's first CPU and wall time: one the wall-clock rule stopped (a worker starved on a
      // loaded machine) shows less CPU than the budget.
      const times = f.kind === "hang" && f.detail ? ` [${f.detail}]` : "";
      console.log(`  [${f.kind}] ×${f.count} ${f.signature}${seen}${times}${f.dir ? `  → ${f.dir}` : ""}`);
    }
  } else console.log("\nno crashes, no hangs");
}
process.exit(result.findings.length ? 1 : 0);
