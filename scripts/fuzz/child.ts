// A fuzz worker process. The parent (pool.ts) sends jobs (a target and a range of case indexes)
// or single cases to check; before each case the worker writes the case's (job id, index) to
// file descriptor 3 with a synchronous write, so the parent always knows which case is running,
// even when this process is stuck in synchronous code and can only be killed.

import { writeSync } from "node:fs";
import { runCase, setupProcess, caseArea, quarantinable } from "./targets.ts";
import { crashSignature } from "./signature.ts";
import { formatSamples, cryptoFixtures } from "./corpus.ts";
import { generate, emptyStats, type JobMsg, type CheckMsg, type FindingMsg } from "./cases.ts";
import { parseWithLargeStack } from "../../src/formats/index.ts";
import { setMaxInput } from "./gen-rego.ts";

Error.stackTraceLimit = 40;

const progress = Buffer.alloc(8);
function mark(id: number, index: number): void {
  progress.writeUInt32LE(id >>> 0, 0);
  progress.writeUInt32LE(index >>> 0, 4);
  writeSync(3, progress);
}

function send(m: unknown): Promise<void> {
  return new Promise((resolve) => process.send!(m, undefined, undefined, () => resolve()));
}

/** Slow cases per area in this process. */
const localSlow = new Map<string, number>();

async function runJob(m: JobMsg): Promise<void> {
  const stats = emptyStats();
  const cpu0 = process.cpuUsage();
  const quarantine = new Set(m.quarantine);
  const found = new Map<string, FindingMsg>();
  setMaxInput(m.maxInput);
  for (let i = m.start; i < m.end; i++) {
    mark(m.id, i);
    const c = generate(m.target, m.seed, i, m.parser);
    const area = caseArea(c);
    if (quarantine.has(area) || ((localSlow.get(area) ?? 0) >= m.slowLimit && quarantinable(area))) {
      stats.skipped++;
      continue;
    }
    const t0 = performance.now();
    const o = runCase(c, { evalTimeoutMs: m.evalTimeoutMs });
    const ms = performance.now() - t0;
    stats.run++;
    const a = (stats.areas[area] ??= { run: 0, crash: 0, ms: 0, slow: 0 });
    a.run++;
    a.ms += ms;
    if (ms > m.slowMs) {
      stats.slow++;
      a.slow++;
      localSlow.set(area, (localSlow.get(area) ?? 0) + 1);
    }
    if (o.kind !== "crash" && o.reached) stats.reached++;
    if (o.kind === "ok") stats.ok++;
    else if (o.kind === "coded") stats.coded[o.code] = (stats.coded[o.code] ?? 0) + 1;
    else {
      stats.crash++;
      a.crash++;
      const sig = crashSignature(m.target, o);
      const prev = found.get(sig);
      if (prev) {
        prev.count++;
        if (JSON.stringify(c).length < JSON.stringify(prev.case).length) {
          prev.case = c;
          prev.index = i;
          prev.outcome = o;
        }
      } else {
        found.set(sig, { type: "finding", jobId: m.id, index: i, signature: sig, count: 1, case: c, outcome: o });
      }
    }
  }
  const cpu = process.cpuUsage(cpu0);
  stats.cpuMs = (cpu.user + cpu.system) / 1000;
  for (const f of found.values()) await send(f);
  await send({ type: "jobDone", id: m.id, stats });
}

async function runCheck(m: CheckMsg): Promise<void> {
  mark(m.id, 0);
  const cpu0 = process.cpuUsage();
  const o = runCase(m.case, { evalTimeoutMs: m.evalTimeoutMs });
  const cpu = process.cpuUsage(cpu0);
  const signature = o.kind === "crash" ? crashSignature(m.case.target, o) : undefined;
  await send({ type: "checked", id: m.id, outcome: o, signature, cpuMs: Math.round((cpu.user + cpu.system) / 1000) });
}

// Work is queued so that messages are handled one at a time.
let chain: Promise<void> = Promise.resolve();
process.on("message", (m: JobMsg | CheckMsg | { type: "exit" }) => {
  if (m.type === "exit") {
    chain = chain.then(() => process.exit(0));
    return;
  }
  chain = chain.then(() => (m.type === "job" ? runJob(m) : runCheck(m)));
});
process.on("disconnect", () => process.exit(0));

setupProcess();
// Warm the corpora before reporting ready, so that job timing excludes start-up.
generate("rego", 1, 0);
generate("builtins", 1, 0);
formatSamples();
cryptoFixtures();
// Start the large-stack worker (src/builtins/support/large-stack.ts) now: it loads the sources
// (a second or more of CPU), which would otherwise be charged to the first deeply nested case.
parseWithLargeStack({ parser: "json", content: "1", file: "warm-up.json" });
void send({ type: "ready" });
