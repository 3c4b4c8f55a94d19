/**
 * Times the oracle's scenario suite on each side: every scenario and format run as a process
 * through the built `bin/portcullis.js` (run `npm run build` first) and through conftest, one
 * after the other, reporting wall time and CPU time (user + system of the child processes).
 *   node --import tsx test/conftest/time-scenarios.ts [REPEAT] [--bin PATH]
 * --bin: another build's bin/portcullis.js (a before/after comparison).
 */
import { spawnSync } from "node:child_process";
import { readFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { scenarios, findConftest, ROOT, OUTPUT_FORMATS, type Scenario } from "./harness.ts";
import type { OutputFormat } from "../../src/output/types.ts";

const conftest = findConftest();
const binAt = process.argv.indexOf("--bin");
const portcullis = binAt > 0 ? process.argv[binAt + 1] : join(ROOT, "bin", "portcullis.js");
if (!existsSync(join(portcullis, "..", "..", "dist", "cli", "portcullis.cjs"))) {
  console.error("dist/ is missing: run `npm run build` first");
  process.exit(2);
}
const repeat = Number(process.argv[2]?.startsWith("--") ? "1" : (process.argv[2] ?? "1"));

const CONFIG_ENV = /^(CONFTEST_|PORTCULLIS_|NO_COLOR$)/;

function env(s: Scenario): Record<string, string> {
  const e: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !CONFIG_ENV.test(k)) e[k] = v;
  return Object.assign(e, s.env ?? {});
}

interface Side {
  wallMs: number;
  cpuMs: number;
  runs: number;
}

/** Runs one command line, adding its wall and CPU time to the side. */
function timed(side: Side, cmd: string[], s: Scenario, f: OutputFormat): void {
  const args = [...cmd.slice(1), ...(s.pre ?? []), s.command ?? "test", "-o", f, ...s.args];
  const cwd = join(ROOT, s.dir);
  const input = s.stdin ? readFileSync(join(cwd, s.stdin)) : "";
  const cpu0 = childrenCpuMs();
  const t0 = process.hrtime.bigint();
  spawnSync(cmd[0], args, { cwd, env: env(s), input, encoding: "utf8" });
  side.wallMs += Number(process.hrtime.bigint() - t0) / 1e6;
  side.cpuMs += childrenCpuMs() - cpu0;
  side.runs++;
}

/** CPU time (user + system) of the waited-for child processes so far, from /proc (Linux). */
function childrenCpuMs(): number {
  try {
    const f = readFileSync("/proc/self/stat", "utf8").split(") ")[1].split(" ");
    // After the command name, field 3 (state) is index 0: cutime (field 16) and cstime (17)
    // are at 13 and 14, in clock ticks (100 per second).
    return ((Number(f[13]) + Number(f[14])) * 1000) / 100;
  } catch {
    return NaN;
  }
}

// The two sides alternate run by run, so that a change in the machine's load hits both alike.
const ours: Side = { wallMs: 0, cpuMs: 0, runs: 0 };
const theirs: Side = { wallMs: 0, cpuMs: 0, runs: 0 };
for (let r = 0; r < repeat; r++) {
  for (const s of scenarios()) {
    if (s.oracle === false) continue;
    for (const f of (s.formats ?? OUTPUT_FORMATS) as OutputFormat[]) {
      timed(ours, [process.execPath, portcullis], s, f);
      if (conftest) timed(theirs, [conftest], s, f);
    }
  }
}
const line = (name: string, x: Side) =>
  `${name} ${x.runs} runs, wall ${(x.wallMs / 1000).toFixed(1)} s, CPU ${(x.cpuMs / 1000).toFixed(1)} s, ${(x.wallMs / x.runs).toFixed(0)} ms wall and ${(x.cpuMs / x.runs).toFixed(0)} ms CPU per run`;
console.log(line("portcullis:", ours));
console.log(conftest ? line("conftest:  ", theirs) : "conftest not installed: its side not timed");
