// Cold start of the built CLI, per process: CPU time (user + system) and wall time of a few
// command lines of `node bin/portcullis.js`, of `node -e 0` (Node's own start-up) and, when
// installed, of conftest on the same inputs. The command lines run in turn, round after round, so
// that a change in the machine's load hits all of them alike; each line reports the minimum and
// the median. Needs `npm run build` first (bin/ runs dist/). The first round is discarded (it
// reads the files from disk and writes the V8 code caches).
//
// CPU time comes from bash's `time` (getrusage of the child, in milliseconds); without bash
// (Windows) only wall time is reported. On a loaded machine CPU time is the steadier figure.
//
//   npm run bench:startup                                  # 10 rounds
//   npm run bench:startup -- --runs 20
//   npm run bench:startup -- --args "capabilities"         # one command line instead of the set
//   npm run bench:startup -- --max-ratio 2.5               # exit 1 when `eval 1+1` / `node -e 0` (CPU) is above 2.5

import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const bin = join(root, "bin", "portcullis.js");

function option(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const runs = Number(option("--runs") ?? 10);
const maxRatio = option("--max-ratio") === undefined ? undefined : Number(option("--max-ratio"));
const only = option("--args");

if (!existsSync(join(root, "dist", "cli", "portcullis.cjs"))) {
  console.error("dist/ is missing: run `npm run build` first");
  process.exit(2);
}
if (!Number.isInteger(runs) || runs < 1 || runs > 1000) {
  console.error("--runs: a whole number from 1 to 1000");
  process.exit(2);
}

interface Line {
  name: string;
  cmd: string[];
  cwd: string;
  cpu: number[];
  wall: number[];
}

const conftest = [process.env.CONFTEST, join(homedir(), "go", "bin", "conftest")].find((p) => p && existsSync(p));
const k8s = join(root, "examples", "kubernetes");
const docker = join(root, "examples", "dockerfile");
const verify = join(root, "examples", "verify");
const node = process.execPath;
const ours = (args: string[]) => [node, bin, ...args];

const lines: Line[] = [];
const add = (name: string, cmd: string[], cwd: string) => lines.push({ name, cmd, cwd, cpu: [], wall: [] });
add("node -e 0", [node, "-e", "0"], root);
if (only !== undefined) {
  const args = only.split(" ").filter((a) => a !== "");
  add(`portcullis ${args.join(" ")}`, ours(args), root);
} else {
  add("portcullis --version", ours(["--version"]), root);
  add("portcullis eval 1+1", ours(["eval", "1+1"]), root);
  add("portcullis test deployment.yaml", ours(["test", "deployment.yaml"]), k8s);
  add("portcullis test Dockerfile", ours(["test", "Dockerfile"]), docker);
  add("portcullis verify -p policy", ours(["verify", "-p", "policy"]), verify);
  if (conftest) {
    add("conftest test deployment.yaml", [conftest, "test", "deployment.yaml"], k8s);
    add("conftest test Dockerfile", [conftest, "test", "Dockerfile"], docker);
    add("conftest verify -p policy", [conftest, "verify", "-p", "policy"], verify);
  }
}

const bash = process.platform === "win32" ? undefined : ["/bin/bash", "/usr/bin/bash"].find((p) => existsSync(p));
const quote = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;

/** Runs the line once: its wall time, and its CPU time when bash can measure it. */
function once(l: Line): { wall: number; cpu: number } {
  const t = process.hrtime.bigint();
  if (bash) {
    // `time` reports the command's rusage on the shell's stderr (the command's own goes to /dev/null).
    const script = `TIMEFORMAT='%3U %3S'; time ${l.cmd.map(quote).join(" ")} >/dev/null 2>&1`;
    const r = spawnSync(bash, ["-c", script], { cwd: l.cwd, encoding: "utf8" });
    const wall = Number(process.hrtime.bigint() - t) / 1e6;
    const m = /(\d+\.\d+) (\d+\.\d+)\s*$/.exec(r.stderr);
    if (!m) throw new Error(`${l.name}: no timing from bash: ${r.stderr}`);
    return { wall, cpu: (Number(m[1]) + Number(m[2])) * 1000 };
  }
  spawnSync(l.cmd[0], l.cmd.slice(1), { cwd: l.cwd, stdio: "ignore" });
  return { wall: Number(process.hrtime.bigint() - t) / 1e6, cpu: NaN };
}

for (const l of lines) once(l);
for (let i = 0; i < runs; i++) {
  for (const l of lines) {
    const r = once(l);
    l.cpu.push(r.cpu);
    l.wall.push(r.wall);
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const fmt = (xs: number[]) => (Number.isNaN(xs[0]) ? "n/a".padStart(13) : `${Math.min(...xs).toFixed(0).padStart(4)} / ${median(xs).toFixed(0).padStart(4)} ms`);

const load = process.platform === "win32" ? "" : `, load average ${(await import("node:os")).loadavg().map((x) => x.toFixed(1)).join(" ")}`;
console.log(`${runs} rounds, Node ${process.version}${load}${process.env.NODE_EXTRA_CA_CERTS ? " (NODE_EXTRA_CA_CERTS is set: Node 20 reads it at every start)" : ""}`);
console.log(`${"".padEnd(34)}${"CPU min / median".padStart(17)}${"wall min / median".padStart(19)}`);
for (const l of lines) console.log(`${l.name.padEnd(34)}${fmt(l.cpu).padStart(17)}${fmt(l.wall).padStart(19)}`);

if (maxRatio !== undefined) {
  const base = lines[0];
  // the one command line of --args, else `eval 1+1`
  const ev = only !== undefined ? lines[1] : lines.find((l) => l.name === "portcullis eval 1+1")!;
  const pick = (l: Line) => (Number.isNaN(l.cpu[0]) ? median(l.wall) : median(l.cpu));
  const ratio = pick(ev) / pick(base);
  console.log(`ratio (${ev.name} / node -e 0): ${ratio.toFixed(2)} (limit ${maxRatio})`);
  if (ratio > maxRatio) process.exitCode = 1;
}
