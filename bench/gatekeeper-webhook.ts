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
import https from "node:https";
import net from "node:net";
import { spawn, execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import yaml from "js-yaml";
import { SOURCE_CLI } from "../test/cli/portcullis-src.ts";
import { NAMESPACES, reviewBody } from "./lib/reviews.ts";
import { RawClient, type RawResponse } from "./lib/rawclient.ts";

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const arg = (name: string, def: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1] : def;
};
const RATES = arg("rates", "200,500,1000").split(",").map(Number);
const SECONDS = Number(arg("seconds", "15"));
const SOAK = Number(arg("soak", "0"));
const SOAK_RATE = Number(arg("soak-rate", "50"));
const THREADS = arg("threads", "-1");
// --built: run the shipped build (bin/portcullis.js → dist/, `npm run build` first) instead of the
// sources through tsx, whose keep-names helper adds a cost per named closure the bundle does not have.
const BUILT = args.includes("--built");
// --cpu-prof DIR: the webhook process writes V8 CPU profiles (main thread and each worker) into DIR.
const PROFILE = args.includes("--cpu-prof") ? path.resolve(arg("cpu-prof", ".bench-out/webhook-prof")) : null;
// --answers FILE: the answers to every sample review (one at a time) are written to FILE when it
// does not exist, and compared byte for byte with it when it does (a change must not alter one).
const ANSWERS = args.includes("--answers") ? path.resolve(arg("answers", "")) : null;
// --ab DIR: compare this build's CPU per review with another checkout's build (DIR/bin/portcullis.js,
// DIR/dist built), interleaved; --ab-rounds N (7), --ab-concurrency C (4).
const AB = args.includes("--ab") ? path.resolve(arg("ab", "")) : null;
const AB_ROUNDS = Number(arg("ab-rounds", "7"));
const AB_CONCURRENCY = Number(arg("ab-concurrency", "4"));
const CLIENT = arg("client", "raw");
// --latency-log PREFIX: each rate's requests as `send offset ms, latency ms, ok` lines in PREFIX-<rate>.csv
const LATENCY_LOG = args.includes("--latency-log") ? path.resolve(arg("latency-log", "latency")) : null;
if (CLIENT !== "raw" && CLIENT !== "node") {
  console.error(`--client is raw or node, not ${CLIENT}`);
  process.exit(2);
}
const CLI_ARGS = BUILT ? [path.join(here, "../bin/portcullis.js")] : SOURCE_CLI;
const LIBRARY = path.resolve(arg("library", path.join(here, "../../shared/gatekeeper-library/library")));
if (!fs.existsSync(LIBRARY)) {
  console.error(`no gatekeeper library at ${LIBRARY} (pass --library DIR)`);
  process.exit(2);
}

function walk(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? walk(p) : /\.ya?ml$/.test(e.name) ? [p] : [];
  });
}

// ---- the policy directory: every template.yaml and every sample constraint.yaml, plus Namespaces
const work = fs.mkdtempSync(path.join(os.tmpdir(), "portcullis-webhook-bench-"));
const policy = path.join(work, "policy");
const certs = path.join(work, "certs");
fs.mkdirSync(policy);
fs.mkdirSync(certs);
let nTemplates = 0;
let nConstraints = 0;
for (const f of walk(LIBRARY).sort()) {
  const rel = path.relative(LIBRARY, f).replace(/[\\/]/g, "_");
  if (path.basename(f) === "template.yaml") {
    fs.copyFileSync(f, path.join(policy, `t_${rel}`));
    nTemplates++;
  } else if (/[\\/]samples[\\/]/.test(f) && path.basename(f).startsWith("constraint")) {
    fs.copyFileSync(f, path.join(policy, `c_${rel}`));
    nConstraints++;
  }
}
fs.writeFileSync(
  path.join(policy, "namespaces.yaml"),
  NAMESPACES.map((n, i) => yaml.dump({ apiVersion: "v1", kind: "Namespace", metadata: { name: n, labels: { env: i % 2 ? "dev" : "prod", owner: "team" } } })).join("---\n"),
);
execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", path.join(certs, "tls.key"), "-out", path.join(certs, "tls.crt"), "-days", "1", "-subj", "/CN=webhook", "-addext", "subjectAltName=IP:127.0.0.1"], { stdio: "ignore" });
const ca = fs.readFileSync(path.join(certs, "tls.crt"));

// ---- reviews: Pods and Deployments, half of them violating several policies
const BODIES = Array.from({ length: 500 }, (_, i) => reviewBody(i));

// ---- the webhook process, on two ports picked here (free when asked; the OS gives each once)
async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const p = (srv.address() as net.AddressInfo).port;
  await new Promise((r) => srv.close(r));
  return p;
}
interface Webhook {
  child: ReturnType<typeof spawn>;
  port: number;
  metricsPort: number;
  startupSeconds: number;
}
async function startWebhook(cliArgs: string[], profile: string | null): Promise<Webhook> {
  const port = await freePort();
  const metricsPort = await freePort();
  const child = spawn(
    process.execPath,
    [...(profile ? ["--cpu-prof", `--cpu-prof-dir=${profile}`] : []), ...cliArgs, "controller", "--operation=webhook", "--policy-dir", policy, "--cert-dir", certs, "--port", String(port), "--host", "127.0.0.1", "--metrics-addr", `127.0.0.1:${metricsPort}`, "--health-addr", "0", "--max-serving-threads", THREADS, "--log-level", "WARNING"],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let log = "";
  child.stderr!.on("data", (c) => (log += c));
  process.on("exit", () => child.exitCode === null && child.kill("SIGTERM"));
  const t0 = Date.now();
  // The webhook port opens after the initial sync (every worker holds the snapshot).
  let up = false;
  while (Date.now() - t0 < 120_000 && !up && child.exitCode === null) {
    await new Promise((r) => setTimeout(r, 200));
    up = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, "127.0.0.1", () => {
        s.destroy();
        resolve(true);
      });
      s.on("error", () => resolve(false));
    });
  }
  if (!up) {
    console.error(`the webhook did not start:\n${log}`);
    process.exit(1);
  }
  return { child, port, metricsPort, startupSeconds: (Date.now() - t0) / 1000 };
}
const main = await startWebhook(CLI_ARGS, PROFILE);
const { child, port, metricsPort, startupSeconds } = main;
const stopChild = () => child.exitCode === null && child.kill("SIGTERM");

/** CPU seconds (user + system) a process has used: every thread (/proc/PID/stat), and its main thread (/proc/PID/task/PID/stat). */
const CLK_TCK = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
function cpuOf(statFile: string): number {
  const stat = fs.readFileSync(statFile, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) / CLK_TCK;
}
function webhookCpuSeconds(pid = child.pid!): number {
  return cpuOf(`/proc/${pid}/stat`);
}
function webhookMainCpuSeconds(pid = child.pid!): number {
  return cpuOf(`/proc/${pid}/task/${pid}/stat`);
}

function rssMiB(): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${child.pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : NaN;
}

const agent = new https.Agent({ keepAlive: true, maxSockets: 128, ca });
// --client raw (default): bench/lib/rawclient.ts, ~10× less of the generator's CPU per request than
// Node's https client (which takes CPU from the webhook on this shared machine); --client node: Node's.
const RAW = CLIENT === "raw";
const rawClients = new Map<number, RawClient>();
const rawRequests = new Map<number, Buffer[]>();
function rawSend(i: number, to: number): Promise<RawResponse> {
  let c = rawClients.get(to);
  if (!c) rawClients.set(to, (c = new RawClient("127.0.0.1", to, ca, 128)));
  let reqs = rawRequests.get(to);
  if (!reqs) rawRequests.set(to, (reqs = BODIES.map((b) => RawClient.request("127.0.0.1", to, "/v1/admit?timeout=3s", b))));
  return c.send(reqs[i % reqs.length]);
}

/** Whether a response is an HTTP 200 AdmissionReview with a decision. */
function answered(status: number, text: string): boolean {
  if (status !== 200) return false;
  try {
    return typeof JSON.parse(text).response?.allowed === "boolean";
  } catch {
    return false;
  }
}

function send(i: number, to = port): Promise<{ ms: number; ok: boolean; text: string }> {
  const body = BODIES[i % BODIES.length];
  const t = performance.now();
  if (RAW) {
    return rawSend(i, to).then(
      (r) => ({ ms: performance.now() - t, ok: answered(r.status, r.body), text: `${r.status} ${r.body}` }),
      (e: Error) => ({ ms: performance.now() - t, ok: false, text: `error ${e.message}` }),
    );
  }
  return new Promise((resolve) => {
    const req = https.request({ host: "127.0.0.1", port: to, path: "/v1/admit?timeout=3s", method: "POST", agent, headers: { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        resolve({ ms: performance.now() - t, ok: answered(res.statusCode ?? 0, text), text: `${res.statusCode} ${text}` });
      });
    });
    req.on("error", (e) => resolve({ ms: performance.now() - t, ok: false, text: `error ${e.message}` }));
    req.end(body);
  });
}

interface RunResult {
  rate: number;
  achieved: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  errors: number;
  sent: number;
  rssStart: number;
  rssEnd: number;
  rssMax: number;
  /** The webhook process's CPU (all threads) per review, ms. */
  cpuMsPerReview: number;
  /** Of which its main thread (HTTP, TLS, messages to and from the workers). */
  mainCpuMsPerReview: number;
  /** The load generator's own CPU (this process) per request, ms. */
  generatorCpuMs: number;
}

async function run(rate: number, seconds: number): Promise<RunResult> {
  const total = Math.round(rate * seconds);
  const lat: number[] = [];
  const log: string[] | null = LATENCY_LOG ? [] : null;
  let errors = 0;
  let sent = 0;
  let done = 0;
  const rssStart = rssMiB();
  const cpuStart = webhookCpuSeconds();
  const mainStart = webhookMainCpuSeconds();
  const genStart = process.cpuUsage();
  let rssMax = rssStart;
  const rssTimer = setInterval(() => (rssMax = Math.max(rssMax, rssMiB())), 1000);
  const start = performance.now();
  await new Promise<void>((finish) => {
    const tick = () => {
      const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * rate));
      while (sent < due) {
        const i = sent++;
        const at = performance.now() - start;
        void send(i).then((r) => {
          lat.push(r.ms);
          log?.push(`${at.toFixed(2)},${r.ms.toFixed(2)},${r.ok ? 1 : 0}`);
          if (!r.ok) errors++;
          if (++done === total) finish();
        });
      }
      if (sent < total) setTimeout(tick, 2);
    };
    tick();
  });
  const wall = (performance.now() - start) / 1000;
  clearInterval(rssTimer);
  if (log) fs.writeFileSync(`${LATENCY_LOG}-${rate}.csv`, "send_ms,latency_ms,ok\n" + log.join("\n") + "\n");
  lat.sort((a, b) => a - b);
  const q = (p: number) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))];
  const cpuMsPerReview = ((webhookCpuSeconds() - cpuStart) * 1000) / total;
  const mainCpuMsPerReview = ((webhookMainCpuSeconds() - mainStart) * 1000) / total;
  const gen = process.cpuUsage(genStart);
  const generatorCpuMs = (gen.user + gen.system) / 1000 / total;
  return { generatorCpuMs, mainCpuMsPerReview, rate, achieved: total / wall, p50: q(0.5), p90: q(0.9), p99: q(0.99), max: lat[lat.length - 1], errors, sent: total, rssStart, rssEnd: rssMiB(), rssMax, cpuMsPerReview };
}

const metricsText = await new Promise<string>((resolve) => {
  import("node:http").then((http) =>
    http.get({ host: "127.0.0.1", port: metricsPort, path: "/metrics" }, (res) => {
      let t = "";
      res.on("data", (c) => (t += c));
      res.on("end", () => resolve(t));
    }),
  );
});
const active = /gatekeeper_constraint_templates\{status="active"\} (\d+)/.exec(metricsText)?.[1];
const cActive = (metricsText.match(/gatekeeper_constraints\{enforcement_action="[a-z]+",status="active"\} (\d+)/g) ?? []).map((l) => Number(l.split(" ")[1])).reduce((a, b) => a + b, 0);
console.log(`webhook: ${nTemplates} template files, ${nConstraints} sample constraints; active: ${active} templates, ${cActive} constraints; ready in ${startupSeconds.toFixed(1)} s; threads ${THREADS === "-1" ? os.availableParallelism() : THREADS}; RSS ${rssMiB().toFixed(0)} MiB`);
// Every sample review once, one at a time (their answers kept; this also warms the webhook up).
const answers: string[] = [];
for (let i = 0; i < BODIES.length; i++) answers.push((await send(i)).text);
// Service time: one request at a time, every sample review again.
const single: number[] = [];
const singleCpu0 = webhookCpuSeconds();
const singleMain0 = webhookMainCpuSeconds();
for (let i = 0; i < BODIES.length; i++) single.push((await send(i)).ms);
const singleCpu = ((webhookCpuSeconds() - singleCpu0) * 1000) / BODIES.length;
const singleMain = ((webhookMainCpuSeconds() - singleMain0) * 1000) / BODIES.length;
single.sort((a, b) => a - b);
const sq = (p: number) => single[Math.min(single.length - 1, Math.floor(p * single.length))];
console.log(`one at a time (${BODIES.length} reviews, after ${BODIES.length} of warm-up): p50 ${sq(0.5).toFixed(2)} ms, p99 ${sq(0.99).toFixed(2)} ms; webhook process CPU ${singleCpu.toFixed(2)} ms per review (main thread ${singleMain.toFixed(2)})`);
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
  agent.destroy();
  for (const c of rawClients.values()) c.close();
  stopChild();
  await new Promise((r) => child.on("exit", r));
  fs.rmSync(work, { recursive: true, force: true });
  process.exit();
}
await run(50, 5); // warm-up
console.log(`load average before: ${os.loadavg().map((x) => x.toFixed(2)).join(" ")} (${os.availableParallelism()} CPUs)`);
console.log(`client: ${RAW ? "raw (bench/lib/rawclient.ts)" : "Node's https"}`);
console.log("rate req/s | achieved req/s | p50 ms | p90 ms | p99 ms | max ms | errors | webhook CPU ms/review (main thread) | generator CPU ms/request | RSS MiB start→end (max)");
for (const rate of RATES) {
  const r = await run(rate, SECONDS);
  console.log(
    `${r.rate} | ${r.achieved.toFixed(0)} | ${r.p50.toFixed(2)} | ${r.p90.toFixed(2)} | ${r.p99.toFixed(2)} | ${r.max.toFixed(1)} | ${r.errors}/${r.sent} | ${r.cpuMsPerReview.toFixed(2)} (${r.mainCpuMsPerReview.toFixed(2)}) | ${r.generatorCpuMs.toFixed(3)} | ${r.rssStart.toFixed(0)}→${r.rssEnd.toFixed(0)} (${r.rssMax.toFixed(0)})`,
  );
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
agent.destroy();
for (const c of rawClients.values()) c.close();
stopChild();
await new Promise((r) => child.on("exit", r));
fs.rmSync(work, { recursive: true, force: true });
