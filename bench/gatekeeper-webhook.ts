// Load run of the validating webhook (not a timed test): starts `portcullis controller
// --operation=webhook --policy-dir` as its own process on the gatekeeper-library templates with
// their sample constraints, then POSTs AdmissionReviews (mixed Pods and Deployments, CREATE)
// straight to /v1/admit over HTTPS on loopback at fixed rates, open loop. Prints, per rate, the
// achieved requests/s, p50/p90/p99/max latency, errors (anything but an HTTP 200 AdmissionReview)
// and the webhook process's RSS, with the machine's load average.
//
//   node --import tsx bench/gatekeeper-webhook.ts [--rates 200,500,1000] [--seconds 15]
//        [--threads N] [--library ../shared/gatekeeper-library/library] [--built] [--client raw|node]
//        [--soak SECONDS --soak-rate R]   (RSS and p99 every 30 s at R req/s)
//        [--latency-log PREFIX]   (each request's send time and latency, PREFIX-<rate>.csv)
//        [--answers FILE]   (the answers to the 500 sample reviews: written, or compared byte for byte)
//        [--cpu-prof DIR]   (V8 CPU profiles of the webhook process's threads)
//        [--ab DIR [--ab-rounds 7] [--ab-concurrency 4]]   (CPU per review against another build, interleaved)
//
// Needs openssl (for the serving certificate) and the gatekeeper library beside the repository.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { SOURCE_CLI } from "../test/cli/portcullis-src.ts";
import { BODIES, LoadTarget, ReviewSender, activeCounts, clientKind, cpuOf, httpGet, makeServingCert, processCpuSeconds, rateHeader, rateRow, singleLine, startPortcullisWebhook, writePolicyDir, type Answer, type ClientKind } from "./lib/webhook-load.ts";
import { flag } from "./lib/args.ts";

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const RATES = flag("rates", "200,500,1000").split(",").map(Number);
const SECONDS = Number(flag("seconds", "15"));
const SOAK = Number(flag("soak", "0"));
const SOAK_RATE = Number(flag("soak-rate", "50"));
const THREADS = flag("threads", "-1");
// --built: run the shipped build (bin/portcullis.js → dist/, `npm run build` first) instead of the
// sources through tsx, whose keep-names helper adds a cost per named closure the bundle does not have.
const BUILT = args.includes("--built");
// --cpu-prof DIR: the webhook process writes V8 CPU profiles (main thread and each worker) into DIR.
const PROFILE = args.includes("--cpu-prof") ? path.resolve(flag("cpu-prof", ".bench-out/webhook-prof")) : null;
// --answers FILE: the answers to every sample review (one at a time) are written to FILE when it
// does not exist, and compared byte for byte with it when it does (a change must not alter one).
const ANSWERS = args.includes("--answers") ? path.resolve(flag("answers", "")) : null;
// --ab DIR: compare this build's CPU per review with another checkout's build (DIR/bin/portcullis.js,
// DIR/dist built), interleaved; --ab-rounds N (7), --ab-concurrency C (4).
const AB = args.includes("--ab") ? path.resolve(flag("ab", "")) : null;
const AB_ROUNDS = Number(flag("ab-rounds", "7"));
const AB_CONCURRENCY = Number(flag("ab-concurrency", "4"));
// --client raw (default): bench/lib/rawclient.ts, ~10× less of the generator's CPU per request than
// Node's https client (which takes CPU from the webhook on this shared machine); --client node: Node's.
let CLIENT: ClientKind;
try {
  CLIENT = clientKind(flag("client", "raw"));
} catch (e) {
  console.error((e as Error).message);
  process.exit(2);
}
// --latency-log PREFIX: each rate's requests as `send offset ms, latency ms, ok` lines in PREFIX-<rate>.csv
const LATENCY_LOG = args.includes("--latency-log") ? path.resolve(flag("latency-log", "latency")) : null;
const CLI_ARGS = BUILT ? [path.join(here, "../bin/portcullis.js")] : SOURCE_CLI;
const LIBRARY = path.resolve(flag("library", path.join(here, "../../shared/gatekeeper-library/library")));
if (!fs.existsSync(LIBRARY)) {
  console.error(`no gatekeeper library at ${LIBRARY} (pass --library DIR)`);
  process.exit(2);
}

// ---- the policy directory: every template.yaml and every sample constraint.yaml, plus Namespaces
const work = fs.mkdtempSync(path.join(os.tmpdir(), "portcullis-webhook-bench-"));
const policy = path.join(work, "policy");
const certs = path.join(work, "certs");
const policySet = writePolicyDir(LIBRARY, policy);
const nTemplates = policySet.templates.length;
const nConstraints = policySet.constraints.length;
const ca = makeServingCert(certs);
const sender = new ReviewSender(ca, CLIENT);

// ---- the webhook process, on two ports picked here (free when asked; the OS gives each once)
const startWebhook = (cliArgs: string[], profile: string | null) => startPortcullisWebhook({ cliArgs, policy, certs, threads: THREADS, profile });
const main = await startWebhook(CLI_ARGS, PROFILE);
const { child, port, metricsPort, startupSeconds } = main;
const stopChild = () => child.exitCode === null && child.kill("SIGTERM");

const target = new LoadTarget(sender, child.pid!, port);
const webhookCpuSeconds = (pid = child.pid!) => processCpuSeconds(pid);
const rssMiB = () => target.rssMiB();
const send = (i: number, to = port): Promise<Answer> => sender.send(to, i);
const run = (rate: number, seconds: number) => target.run(rate, seconds, LATENCY_LOG ? `${LATENCY_LOG}-${rate}.csv` : null);

const { templates: active, constraints: cActive } = activeCounts(await httpGet(metricsPort, "/metrics"));
console.log(`webhook: ${nTemplates} template files, ${nConstraints} sample constraints; active: ${active} templates, ${cActive} constraints; ready in ${startupSeconds.toFixed(1)} s; threads ${THREADS === "-1" ? os.availableParallelism() : THREADS}; RSS ${rssMiB().toFixed(0)} MiB`);
// Every sample review once, one at a time (their answers kept; this also warms the webhook up).
const answers = await target.answers();
// Service time: one request at a time, every sample review again.
console.log(singleLine(await target.oneAtATime(), BODIES.length));
const denied = answers.filter((a) => a.includes('"allowed":false')).length;
console.log(`answers: ${denied} denied, ${answers.length - denied} allowed`);
if (ANSWERS) {
  if (!fs.existsSync(ANSWERS)) {
    fs.mkdirSync(path.dirname(ANSWERS), { recursive: true });
    fs.writeFileSync(ANSWERS, answers.join("\n") + "\n");
    console.log(`answers written to ${ANSWERS}`);
  } else {
    const want = fs.readFileSync(ANSWERS, "utf8").split("\n").slice(0, -1);
    const differ = answers.map((a, i) => i).filter((i) => answers[i] !== want[i]);
    console.log(`answers compared with ${ANSWERS}: ${differ.length} of ${answers.length} differ${differ.length ? ` (first: review ${differ[0]}:\n  got  ${answers[differ[0]].slice(0, 400)}\n  want ${String(want[differ[0]]).slice(0, 400)})` : ""}`);
    if (differ.length) process.exitCode = 1;
  }
}
if (AB) {
  // A/B: the same reviews, alternately to this build and to the build at AB (its bin/portcullis.js),
  // closed loop with AB_CONCURRENCY requests in flight; each side's process CPU per review per round.
  // Both share the machine's load at the same moments, so the comparison holds on a busy machine.
  const other = await startWebhook([path.join(AB, "bin/portcullis.js")], null);
  const otherAnswers: string[] = [];
  for (let i = 0; i < BODIES.length; i++) otherAnswers.push((await send(i, other.port)).text);
  const differ = answers.filter((a, i) => a !== otherAnswers[i]).length;
  console.log(`A/B against ${AB}: answers to the ${BODIES.length} sample reviews: ${differ} differ`);
  if (differ) process.exitCode = 1;
  // CPU of each thread of a process (the workers are the busiest threads but the main one; the
  // rest are V8's and libuv's helpers: concurrent GC, compilers, …).
  const threadCpu = (pid: number) => new Map(fs.readdirSync(`/proc/${pid}/task`).map((t) => [t, cpuOf(`/proc/${pid}/task/${t}/stat`)]));
  const closedLoop = async (to: number, pid: number) => {
    const c0 = webhookCpuSeconds(pid);
    const t0 = threadCpu(pid);
    let next = 0;
    await Promise.all(
      Array.from({ length: AB_CONCURRENCY }, async () => {
        while (next < BODIES.length) await send(next++, to);
      }),
    );
    const t1 = threadCpu(pid);
    const deltas = [...t1].filter(([t]) => t !== String(pid)).map(([t, v]) => v - (t0.get(t) ?? 0)).sort((a, b) => b - a);
    const workers = deltas.slice(0, Math.max(1, Number(THREADS) > 0 ? Number(THREADS) : os.availableParallelism())).reduce((a, b) => a + b, 0);
    const per = (x: number) => (x * 1000) / BODIES.length;
    const main = (t1.get(String(pid)) ?? 0) - (t0.get(String(pid)) ?? 0);
    const cpu = webhookCpuSeconds(pid) - c0;
    return { cpu: per(cpu), main: per(main), workers: per(workers), rest: per(cpu - main - workers) };
  };
  type Split = { cpu: number; main: number; workers: number; rest: number };
  const mine: Split[] = [];
  const theirs: Split[] = [];
  const split = (x: Split) => `${x.cpu.toFixed(2)} (main ${x.main.toFixed(2)}, workers ${x.workers.toFixed(2)}, other threads ${x.rest.toFixed(2)})`;
  for (let r = 0; r < AB_ROUNDS; r++) {
    if (r % 2 === 0) {
      mine.push(await closedLoop(port, child.pid!));
      theirs.push(await closedLoop(other.port, other.child.pid!));
    } else {
      theirs.push(await closedLoop(other.port, other.child.pid!));
      mine.push(await closedLoop(port, child.pid!));
    }
    console.log(`round ${r + 1}: CPU ms per review: this build ${split(mine[r])}; ${AB}: ${split(theirs[r])}; load average ${os.loadavg()[0].toFixed(1)}`);
  }
  const stat = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    return `min ${s[0].toFixed(2)}, median ${s[Math.floor(s.length / 2)].toFixed(2)}`;
  };
  const stats = (xs: Split[]) => `${stat(xs.map((x) => x.cpu))} (main thread ${stat(xs.map((x) => x.main))}; workers ${stat(xs.map((x) => x.workers))}; other threads ${stat(xs.map((x) => x.rest))})`;
  console.log(`CPU ms per review, ${AB_ROUNDS} rounds of ${BODIES.length} reviews, ${AB_CONCURRENCY} in flight:\n  this build ${stats(mine)}\n  ${AB}: ${stats(theirs)}`);
  other.child.kill("SIGTERM");
  sender.close();
  stopChild();
  await new Promise((r) => child.on("exit", r));
  fs.rmSync(work, { recursive: true, force: true });
  process.exit();
}
await run(50, 5); // warm-up
console.log(`load average before: ${os.loadavg().map((x) => x.toFixed(2)).join(" ")} (${os.availableParallelism()} CPUs)`);
console.log(`client: ${CLIENT === "raw" ? "raw (bench/lib/rawclient.ts)" : "Node's https"}`);
console.log(rateHeader());
for (const rate of RATES) {
  const r = await run(rate, SECONDS);
  console.log(rateRow(r));
  console.log(`  load average: ${os.loadavg().map((x) => x.toFixed(2)).join(" ")}`);
  await new Promise((res) => setTimeout(res, 2000));
}
if (SOAK > 0) {
  const rate = SOAK_RATE;
  console.log(`soak at ${rate} req/s for ${SOAK} s, per 30 s of sending (printed as each finishes):`);
  for (let s = 0; s < SOAK; s += 30) {
    const r = await run(rate, Math.min(30, SOAK - s));
    console.log(`  ${s + 30}s: achieved ${r.achieved.toFixed(0)} req/s, p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms, errors ${r.errors}/${r.sent}, CPU ${r.cpuMsPerReview.toFixed(2)} ms/review, RSS ${r.rssStart.toFixed(0)}→${r.rssEnd.toFixed(0)} (max ${r.rssMax.toFixed(0)}) MiB, load average ${os.loadavg()[0].toFixed(1)}`);
  }
}
sender.close();
stopChild();
await new Promise((r) => child.on("exit", r));
fs.rmSync(work, { recursive: true, force: true });
