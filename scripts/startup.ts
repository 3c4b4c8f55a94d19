// Cold start of the built CLI: the median wall time of `node bin/portcullis.js eval 1+1` against
// that of `node -e 0` (Node's own start-up), over alternating runs so that both see the same
// machine load. Needs `npm run build` first (bin/ runs dist/).
//
//   npm run bench:startup                     # 15 runs each
//   npm run bench:startup -- --runs 31 --max-ratio 2.5   # exit 1 when the ratio is above 2.5
//   npm run bench:startup -- --args "capabilities"       # another command line

import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const bin = join(root, "bin", "portcullis.js");

function option(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const runs = Number(option("--runs") ?? 15);
const maxRatio = option("--max-ratio") === undefined ? undefined : Number(option("--max-ratio"));
const args = (option("--args") ?? "eval 1+1").split(" ").filter((a) => a !== "");

if (!existsSync(join(root, "dist", "cli", "main.js"))) {
  console.error("dist/ is missing: run `npm run build` first");
  process.exit(2);
}

function wallMs(cmd: string[]): number {
  const t = process.hrtime.bigint();
  const r = spawnSync(cmd[0], cmd.slice(1), { cwd: root, stdio: ["ignore", "ignore", "pipe"] });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd.join(" ")} exited ${r.status}: ${r.stderr}`);
  return ms;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const baseline = [process.execPath, "-e", "0"];
const cli = [process.execPath, bin, ...args];
// One discarded run each: the first one reads the files from disk.
wallMs(baseline);
wallMs(cli);
const base: number[] = [];
const ours: number[] = [];
for (let i = 0; i < runs; i++) {
  base.push(wallMs(baseline));
  ours.push(wallMs(cli));
}
const b = median(base);
const o = median(ours);
const ratio = o / b;
console.log(`node -e 0:                 median ${b.toFixed(0)} ms (${runs} runs; min ${Math.min(...base).toFixed(0)}, max ${Math.max(...base).toFixed(0)})`);
console.log(`portcullis ${args.join(" ")}:`.padEnd(27) + `median ${o.toFixed(0)} ms (${runs} runs; min ${Math.min(...ours).toFixed(0)}, max ${Math.max(...ours).toFixed(0)})`);
console.log(`ratio: ${ratio.toFixed(2)}${maxRatio === undefined ? "" : ` (limit ${maxRatio})`}`);
if (maxRatio !== undefined && ratio > maxRatio) process.exitCode = 1;
