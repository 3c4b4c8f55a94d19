// The fuzz run: jobs per target through the worker pool, findings deduplicated by signature,
// minimized, and written to the findings directory. Used by scripts/fuzz/main.ts (npm run fuzz)
// and by the smoke and regression tests.

import { mkdirSync, writeFileSync, existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Pool, type HangInfo, type CheckResult } from "./pool.ts";
import { workerRuntime } from "./runtime.ts";
import { generate, emptyStats, addStats, type FindingMsg, type Stats } from "./cases.ts";
import { caseArea, quarantinable, reproText, type FuzzCase, type Target, type ErrorInfo } from "./targets.ts";
import { hangSignature } from "./signature.ts";
import { minimizeCase } from "./minimize.ts";
import { FORMAT_NAMES } from "./gen-formats.ts";
import { hash32 } from "./rng.ts";
import { setMaxInput } from "./gen-rego.ts";

export const TARGETS: Target[] = ["rego", "formats", "builtins"];

/** The acceptance counts: Rego modules, inputs per format, builtin calls. */
export const DEFAULT_COUNTS: Record<Target, number> = { rego: 250_000, formats: 20_000, builtins: 300_000 };
const JOB_SIZE: Record<Target, number> = { rego: 100, formats: 250, builtins: 500 };

export interface FuzzOptions {
  targets: Target[];
  /** Cases per target (for formats: per format). */
  counts: Record<Target, number>;
  seed: number;
  budgetMs: number;
  workers: number;
  formats: string[];
  minimize: boolean;
  /** Total time for minimization, ms. */
  minimizeMs: number;
  outDir?: string;
  writeRegressions?: string;
  hangStacks: boolean;
  quarantineAfter: number;
  /** Slow cases after which an area is skipped (keeps throughput up; listed in the summary). */
  slowLimit: number;
  /** Cap on generated input sizes, characters (default 1,000,000; the smoke test uses less). */
  maxInput?: number;
  heapMb: number;
  log: (line: string) => void;
}

export interface Finding {
  signature: string;
  kind: "crash" | "hang" | "died";
  target: Target;
  area: string;
  count: number;
  seed: number;
  index: number;
  case: FuzzCase;
  /** Case areas (builtins, format:recipe, rego recipes) that hit this signature (up to 30). */
  seenIn: string[];
  error?: ErrorInfo;
  where?: string;
  frames?: string[];
  detail?: string;
  minimized?: FuzzCase;
  minimizeTests?: number;
  /** Did the case, run on its own, fail the same way? (undefined: not checked) */
  reproduced?: boolean;
  /** Relative path of the finding's directory under outDir. */
  dir?: string;
}

export interface TargetSummary {
  target: Target;
  stats: Stats;
  seconds: number;
  casesPerSecond: number;
  perFormat?: Record<string, Stats>;
  /** Areas skipped from some point on, and why. */
  quarantined: Record<string, string>;
}

export interface FuzzResult {
  summaries: TargetSummary[];
  findings: Finding[];
}

/** Engine.query's deadline: well inside the budget, so that a cancelled evaluation is a coded error, not a hang. */
export function evalTimeout(budgetMs: number): number {
  return Math.max(50, Math.floor(budgetMs / 8));
}

function caseSize(c: FuzzCase): number {
  return JSON.stringify(c).length;
}

export function defaultOptions(over: Partial<FuzzOptions> = {}): FuzzOptions {
  return {
    targets: TARGETS,
    counts: { ...DEFAULT_COUNTS },
    seed: 1,
    budgetMs: 2000,
    workers: 2,
    formats: FORMAT_NAMES,
    minimize: true,
    minimizeMs: 600_000,
    hangStacks: true,
    quarantineAfter: 3,
    slowLimit: 6,
    heapMb: 2048,
    log: (l) => process.stderr.write(l + "\n"),
    ...over,
  };
}

/** Area of a hang, from the stuck worker's stack when there is one. */
function hangArea(h: HangInfo, c: FuzzCase | undefined): string {
  const base = c ? (c.target === "formats" ? c.parser : caseArea(c)) : h.target;
  let file: string | undefined;
  for (const f of h.frames) {
    const m = /@src\/([a-z0-9_/-]+)\.ts/i.exec(f);
    if (m) {
      file = m[1];
      break;
    }
  }
  if (!file) return base;
  // A builtin or a parser stuck in its own code is that builtin's or parser's; stuck in shared
  // code (the value model, the evaluator), it is that code's, whichever builtin got there.
  if (h.target === "builtins" && file.startsWith("builtins/")) return base;
  if (h.target === "formats" && file.startsWith("formats/")) return base;
  return file;
}

export async function fuzz(opts: FuzzOptions): Promise<FuzzResult> {
  // the parent regenerates hung cases: with the workers' cap
  setMaxInput(opts.maxInput);
  opts.log(workerRuntime().note);
  const pool = new Pool({
    workers: opts.workers,
    budgetMs: opts.budgetMs,
    evalTimeoutMs: evalTimeout(opts.budgetMs),
    heapMb: opts.heapMb,
    quarantineAfter: opts.quarantineAfter,
    hangStacks: opts.hangStacks,
    slowLimit: opts.slowLimit,
  });
  const findings = new Map<string, Finding>();
  const regen = (h: HangInfo): FuzzCase | undefined => (h.case ? h.case : h.job ? generate(h.job.target, h.job.seed, h.index, h.job.parser) : undefined);
  pool.areaOf = (h) => {
    const c = regen(h);
    return c ? caseArea(c) : h.target;
  };
  pool.onFinding = (f: FindingMsg) => {
    const prev = findings.get(f.signature);
    if (prev) {
      prev.count += f.count;
      addSeen(prev, caseArea(f.case));
      if (caseSize(f.case) < caseSize(prev.case)) {
        prev.case = f.case;
        prev.index = f.index;
        prev.error = f.outcome.error;
      }
      return;
    }
    findings.set(f.signature, {
      signature: f.signature,
      kind: "crash",
      target: f.case.target,
      area: f.outcome.area,
      count: f.count,
      seed: opts.seed,
      index: f.index,
      case: f.case,
      seenIn: [caseArea(f.case)],
      error: f.outcome.error,
      where: f.outcome.where,
    });
    opts.log(`  new crash: ${f.signature}`);
  };
  pool.onHang = (h: HangInfo) => {
    const c = regen(h);
    if (!c) return;
    const area = hangArea(h, c);
    const own = quarantinable(caseArea(c)) && (h.target === "rego" || area === hangArea({ ...h, frames: [] }, c)) ? caseArea(c) : undefined;
    const sig = h.kind === "hang" ? hangSignature(h.target, area, h.frames, own) : `${h.target} | ${area} | died | ${diedReason(h.detail ?? "")}`;
    const prev = findings.get(sig);
    if (prev) {
      prev.count++;
      addSeen(prev, caseArea(c));
      if (caseSize(c) < caseSize(prev.case)) {
        prev.case = c;
        prev.index = h.index;
      }
      return;
    }
    findings.set(sig, { signature: sig, kind: h.kind, target: h.target, area, count: 1, seed: opts.seed, index: h.index, case: c, seenIn: [caseArea(c)], frames: h.frames, detail: h.detail ?? `cpu ${h.cpuMs} ms, wall ${h.wallMs} ms` });
    opts.log(`  new ${h.kind}: ${sig} (case ${h.index}: ${"how" in c ? c.how : ""})`);
  };

  const summaries: TargetSummary[] = [];
  try {
    for (const target of opts.targets) {
      const count = opts.counts[target];
      const t0 = Date.now();
      const stats = emptyStats();
      const perFormat: Record<string, Stats> = {};
      const parsers = target === "formats" ? opts.formats : [undefined];
      const streams = parsers.map((parser) => ({ parser, stats: emptyStats(), next: 0 }));
      let done = 0;
      const total = count * parsers.length;
      let lastLog = Date.now();
      // Cases skipped because their area was quarantined do not count: top up with further case
      // indexes until each stream has run its count (a few rounds at most).
      for (let round = 0; round < 50; round++) {
        const jobs: Promise<void>[] = [];
        const want = streams.map((s) => Math.max(0, count - s.stats.run));
        if (want.every((w) => w === 0)) break;
        const maxWant = Math.max(...want);
        for (let off = 0; off < maxWant; off += JOB_SIZE[target]) {
          streams.forEach((st, k) => {
            if (off >= want[k]) return;
            const start = st.next + off;
            const end = st.next + Math.min(want[k], off + JOB_SIZE[target]);
            jobs.push(
              pool.runJob({ target, parser: st.parser, seed: opts.seed, start, end, maxInput: opts.maxInput }).then((s) => {
                addStats(stats, s);
                addStats(st.stats, s);
                done += s.run;
                if (Date.now() - lastLog > 10_000) {
                  lastLog = Date.now();
                  const secs = (Date.now() - t0) / 1000;
                  opts.log(`  ${target}: ${done}/${total} (${Math.round(done / secs)}/s) crashes ${stats.crash} hangs ${stats.hang} quarantined ${pool.quarantine.size}`);
                }
              }),
            );
          });
        }
        streams.forEach((st, k) => (st.next += want[k]));
        await Promise.all(jobs);
      }
      for (const st of streams) if (st.parser) perFormat[st.parser] = st.stats;
      const seconds = (Date.now() - t0) / 1000;
      summaries.push({ target, stats, seconds, casesPerSecond: stats.run / Math.max(seconds, 0.001), perFormat: target === "formats" ? perFormat : undefined, quarantined: {} });
    }
    for (const s of summaries) {
      for (const [area, why] of pool.quarantineWhy) {
        if (s.stats.areas[area]) s.quarantined[area] = why;
      }
    }
    const list = [...findings.values()].sort((a, b) => a.signature.localeCompare(b.signature));
    if (opts.minimize && list.length) await minimizeAll(pool, list, opts);
    if (opts.outDir) writeFindings(opts.outDir, list, summaries, opts);
    if (opts.writeRegressions) writeRegressions(opts.writeRegressions, list);
    return { summaries, findings: list };
  } finally {
    await pool.close();
  }
}

function addSeen(f: Finding, area: string): void {
  if (!f.seenIn.includes(area) && f.seenIn.length < 30) f.seenIn.push(area);
}

function diedReason(detail: string): string {
  if (/heap out of memory|Allocation failed|Reached heap limit/i.test(detail)) return "out of memory";
  const first = detail.split("\n").find((l) => /error|fatal|abort/i.test(l));
  return first ? first.trim().slice(0, 100) : detail.split("\n")[0];
}

/** Does a re-run reproduce the finding? */
export function reproduces(f: Pick<Finding, "kind" | "signature">, r: CheckResult): boolean {
  if (f.kind === "crash") return r.kind === "crash" && r.signature === f.signature;
  if (f.kind === "hang") return r.kind === "hang";
  return r.kind === "died";
}

async function minimizeAll(pool: Pool, list: Finding[], opts: FuzzOptions): Promise<void> {
  const end = Date.now() + opts.minimizeMs;
  // Crashes first (cheap), then hangs and deaths (each test may cost the whole budget).
  const order = [...list.filter((f) => f.kind === "crash"), ...list.filter((f) => f.kind !== "crash")];
  for (const f of order) {
    const left = end - Date.now();
    if (left <= 0) break;
    const cheap = f.kind === "crash";
    const limits = cheap ? { maxTests: 3000, maxMs: Math.min(left, 20_000) } : { maxTests: 14, maxMs: Math.min(left, 60_000) };
    try {
      const first = await pool.check(f.case);
      f.reproduced = reproduces(f, first);
      if (!f.reproduced) {
        opts.log(`  not reproduced on its own (borderline timing, or depends on earlier cases): ${f.signature}`);
        continue;
      }
      let { case: m, tests } = await minimizeCase(f.case, async (c) => reproduces(f, await pool.check(c)), limits);
      // Bisection stops at the size where a hang just crosses the budget: keep a margin.
      if (f.kind === "hang" && "recipe" in m && m.recipe && "recipe" in f.case && f.case.recipe) {
        m = { ...m, recipe: { ...m.recipe, n: Math.min(f.case.recipe.n, m.recipe.n * 2) } } as FuzzCase;
      }
      f.minimized = m;
      f.minimizeTests = tests;
      opts.log(`  minimized (${tests} tests, ${reproText(f.case).length} → ${reproText(m).length} chars): ${f.signature}`);
    } catch (e) {
      opts.log(`  minimization failed: ${(e as Error).message}`);
    }
  }
}

export function slug(f: Pick<Finding, "signature" | "area" | "kind">): string {
  const area = f.area.replace(/[^a-z0-9]+/gi, "-").replace(/^-|-$/g, "").toLowerCase();
  return `${area}-${f.kind}-${hash32(f.signature).toString(16).padStart(8, "0")}`;
}

function writeFindings(outDir: string, list: Finding[], summaries: TargetSummary[], opts: FuzzOptions): void {
  mkdirSync(outDir, { recursive: true });
  if (!existsSync(join(outDir, ".gitignore"))) writeFileSync(join(outDir, ".gitignore"), "*\n");
  const md: string[] = [`# Fuzz findings (seed ${opts.seed}, budget ${opts.budgetMs} ms)`, ""];
  for (const f of list) {
    const dir = join(f.target, slug(f));
    f.dir = dir;
    const abs = join(outDir, dir);
    mkdirSync(abs, { recursive: true });
    writeFileSync(join(abs, "case.json"), JSON.stringify(f.case, null, 1) + "\n");
    if (f.minimized) writeFileSync(join(abs, "min.json"), JSON.stringify(f.minimized, null, 1) + "\n");
    const best = f.minimized ?? f.case;
    const repro = reproText(best);
    writeFileSync(join(abs, "repro.txt"), repro.length > 200_000 ? repro.slice(0, 200_000) + "\n…(truncated; see min.json)\n" : repro);
    const err = f.error
      ? `${f.error.name}: ${f.error.message}\n\n${f.error.stack}\n`
      : `${f.kind}: ${f.detail ?? ""}\n\nstack of the stuck worker:\n${(f.frames ?? []).join("\n")}\n`;
    writeFileSync(join(abs, "error.txt"), `${f.signature}\nseen ${f.count} times; seed ${f.seed} index ${f.index}\n\n${err}`);
    md.push(`## ${f.kind}: ${f.signature}`, "", `- seen ${f.count}×, in ${f.seenIn.join(", ")}`, `- reproducer: seed ${f.seed}, case ${f.index} (${"how" in f.case ? f.case.how : ""}); minimized: ${f.minimized ? "yes" : "no"}`, `- files: ${dir}/`, "", "```", repro.length > 600 ? repro.slice(0, 600) + "…" : repro, "```", "");
  }
  writeFileSync(join(outDir, "findings.json"), JSON.stringify({ seed: opts.seed, summaries, findings: list }, null, 1) + "\n");
  writeFileSync(join(outDir, "findings.md"), md.join("\n"));
}

export interface RegressionFile {
  signature: string;
  kind: Finding["kind"];
  area: string;
  found: string;
  case: FuzzCase;
  /** Not fixed yet: why, and whose code it is. The replay test reports such a case as a todo. */
  open?: string;
  /** Once an open finding is fixed: how, and the figures measured then. */
  fixed?: string;
  /** The replay's CPU budget for this case when it is not the replay's default (test/fuzz/regressions.test.ts). */
  budgetMs?: number;
}

function writeRegressions(dir: string, list: Finding[]): void {
  mkdirSync(dir, { recursive: true });
  for (const f of list) {
    if (f.reproduced === false) continue;
    const c = f.minimized ?? f.case;
    const text = JSON.stringify({ signature: f.signature, kind: f.kind, area: f.area, found: `seed ${f.seed} case ${f.index}`, case: c } satisfies RegressionFile, null, 1) + "\n";
    if (text.length > 64_000) continue;
    const file = join(dir, slug(f) + ".json");
    if (!existsSync(file)) writeFileSync(file, text);
  }
}

export function readRegressions(dir: string): { file: string; reg: RegressionFile }[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((n) => n.endsWith(".json"))
    .sort()
    .map((n) => ({ file: n, reg: readReplayFile(join(dir, n)) }));
}

/**
 * A file to replay: a regression file ({"case": …}, test/fuzz/regressions/) or a case itself (a
 * finding's case.json or min.json in .fuzz-out/). Anything else is an error naming the file.
 */
export function readReplayFile(path: string): RegressionFile {
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new Error(`${path}: ${(e as Error).message}`);
  }
  const isCase = (x: unknown): x is FuzzCase =>
    typeof x === "object" && x !== null && ["rego", "formats", "builtins"].includes((x as { target?: unknown }).target as string);
  if (isCase(doc)) return { signature: "", kind: "crash", area: "", found: path, case: doc };
  if (typeof doc === "object" && doc !== null && isCase((doc as { case?: unknown }).case)) return doc as RegressionFile;
  throw new Error(`${path}: neither a regression file ({"case": …}) nor a fuzz case (case.json, min.json)`);
}

/** Replay cases through the watchdog pool. */
export async function replay(cases: FuzzCase[], o: Partial<FuzzOptions> = {}): Promise<CheckResult[]> {
  const opts = defaultOptions(o);
  opts.log(workerRuntime().note);
  const pool = new Pool({ workers: opts.workers, budgetMs: opts.budgetMs, evalTimeoutMs: evalTimeout(opts.budgetMs), heapMb: opts.heapMb, quarantineAfter: 1e9, hangStacks: false, slowLimit: 1e9 });
  try {
    return await Promise.all(cases.map((c) => pool.check(c)));
  } finally {
    await pool.close();
  }
}
