// The floor of this machine for an admission webhook written in Node (a script, not a test): the
// latency a TRIVIAL webhook gets at a given rate when each review costs a fixed amount of work,
// with the same TLS certificate, the same reviews and the same load generator as
// bench/gatekeeper-webhook.ts. It tells how much of the webhook's p99 is the machine's (TLS, HTTP,
// thread wake-ups, the hypervisor, the generator on the same CPUs) and how much is evaluation: a
// target below the floor at the evaluation's cost cannot be met by any change to the request path.
//
//   node --import tsx bench/webhook-floor.ts [--modes worker,inline,cluster] [--work 0,0/measured]
//        [--rates 500] [--seconds 15] [--repeat 2] [--threads 2] [--library DIR]
//
// --work: work lists separated by "/", each POD_MS,OTHER_MS (busy-loop milliseconds for a Pod
// review and for any other review: the load is half Pods, half Deployments), or `measured`: the
// gatekeeper-library set's own cost per Pod and per Deployment review, measured here first in one
// process (`admit` back to back, median of 7 rounds; the shipped build's code, or the sources with
// --src, bench/lib/engine.ts), or `measured*F` for that scaled by F (a
// faster evaluator: F < 1). Modes: see bench/lib/floor-server.ts (worker is how the webhook is built).
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { BODIES, LoadTarget, ReviewSender, cpuOf, freePort, loadAverage, makeServingCert, rateHeader, rateRow, waitForPort, writePolicyDir } from "./lib/webhook-load.ts";
import { BUILD_LABEL, loadAdmission } from "./lib/engine.ts";
import { flag } from "./lib/args.ts";

const here = path.dirname(fileURLToPath(import.meta.url));
const MODES = flag("modes", "worker").split(",");
const WORK = flag("work", "0,0/measured").split("/");
const RATES = flag("rates", "500").split(",").map(Number);
const SECONDS = Number(flag("seconds", "15"));
const REPEAT = Number(flag("repeat", "2"));
const THREADS = flag("threads", "2");
const LIBRARY = path.resolve(flag("library", path.join(here, "../../shared/gatekeeper-library/library")));
const bad = MODES.find((m) => !["worker", "inline", "cluster"].includes(m));
if (bad || RATES.some((r) => !(r > 0)) || !(SECONDS > 0) || !(REPEAT >= 1)) {
  console.error(bad ? `unknown mode ${bad} (worker, inline, cluster)` : "usage: see the head of bench/webhook-floor.ts");
  process.exit(2);
}

/** The library set's CPU per Pod and per Deployment review, in one process, back to back (ms). */
async function measuredWork(): Promise<[number, number]> {
  if (!fs.existsSync(LIBRARY)) {
    console.error(`--work measured needs the gatekeeper library (no ${LIBRARY}; pass --library DIR)`);
    process.exit(2);
  }
  const { buildSnapshot, admit, classify, readManifests } = await loadAdmission((s) => console.log(s));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "portcullis-floor-policy-"));
  writePolicyDir(LIBRARY, dir);
  const snap = buildSnapshot(classify(readManifests(dir)));
  fs.rmSync(dir, { recursive: true, force: true });
  const threadMs = () => Number(fs.readFileSync("/proc/thread-self/schedstat", "utf8").split(" ")[0]) / 1e6;
  const perKind = async (pods: boolean): Promise<number> => {
    const bodies = BODIES.filter((_, i) => (i % 2 === 0) === pods);
    const rounds: number[] = [];
    for (let r = 0; r < 10; r++) {
      const t0 = threadMs();
      for (const b of bodies) await admit(snap, JSON.parse(b), { serviceAccount: "" }, { bodyOwned: true }); // as a worker does
      rounds.push((threadMs() - t0) / bodies.length);
    }
    const kept = rounds.slice(3).sort((a, b) => a - b); // the first rounds compile
    return kept[kept.length >> 1];
  };
  const pod = await perKind(true);
  const other = await perKind(false);
  console.log(`measured in process (${BUILD_LABEL}; back to back, median of 7 rounds): ${pod.toFixed(3)} ms per Pod review, ${other.toFixed(3)} ms per Deployment review`);
  return [pod, other];
}

let measured: [number, number] | null = null;
async function workOf(spec: string): Promise<[number, number]> {
  const m = /^measured(?:\*([0-9.]+))?$/.exec(spec);
  if (m) {
    measured ??= await measuredWork();
    const f = m[1] ? Number(m[1]) : 1;
    return [measured[0] * f, measured[1] * f];
  }
  const w = spec.split(",").map(Number);
  if (w.length !== 2 || w.some((x) => !(x >= 0))) {
    console.error(`--work ${spec}: POD_MS,OTHER_MS or measured[*F]`);
    process.exit(2);
  }
  return [w[0], w[1]];
}

/** CPU seconds of a process and all its descendants (cluster mode's children). */
function treeCpuSeconds(pid: number): number {
  let total = 0;
  try {
    total = cpuOf(`/proc/${pid}/stat`);
    for (const t of fs.readdirSync(`/proc/${pid}/task`)) {
      const kids = fs.readFileSync(`/proc/${pid}/task/${t}/children`, "utf8").trim();
      for (const k of kids ? kids.split(" ") : []) total += treeCpuSeconds(Number(k));
    }
  } catch {
    // the process ended while read
  }
  return total;
}
class FloorTarget extends LoadTarget {
  override cpuSeconds(): number {
    return treeCpuSeconds(this.pid);
  }
}

const work = fs.mkdtempSync(path.join(os.tmpdir(), "portcullis-floor-"));
const ca = makeServingCert(path.join(work, "certs"));
const sender = new ReviewSender(ca, "raw");
console.log(`load average ${loadAverage()}; ${os.availableParallelism()} CPUs; ${THREADS} threads or processes; ${SECONDS} s per rate`);
const workSpecs: [string, [number, number]][] = [];
for (const w of WORK) workSpecs.push([w, await workOf(w)]);
console.log(`mode | work per Pod, per other review (ms) | ${rateHeader()}`);
for (let r = 0; r < REPEAT; r++) {
  for (const [spec, [pod, other]] of workSpecs) {
    for (const mode of MODES) {
      const port = await freePort();
      const child = spawn(process.execPath, ["--import", "tsx", path.join(here, "lib/floor-server.ts"), "--port", String(port), "--certs", path.join(work, "certs"), "--mode", mode, "--work", `${pod},${other}`, "--threads", THREADS], { stdio: ["ignore", "ignore", "inherit"] });
      if (!(await waitForPort(port, child, 30_000))) {
        console.error("the floor server did not start");
        process.exit(1);
      }
      const target = new FloorTarget(sender, child.pid!, port);
      await target.answers(); // every sample once: connections open, code compiled
      for (const rate of RATES) console.log(`${mode} | ${spec === `${pod},${other}` ? spec : `${spec} = ${pod.toFixed(3)},${other.toFixed(3)}`} | ${rateRow(await target.run(rate, SECONDS))}`);
      child.kill("SIGTERM");
      await new Promise((res) => child.once("exit", res));
      sender.close();
    }
  }
}
fs.rmSync(work, { recursive: true, force: true });
process.exit(0);
