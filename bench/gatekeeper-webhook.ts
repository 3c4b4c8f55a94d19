// Load run of the validating webhook (not a timed test): starts `portcullis controller
// --operation=webhook --policy-dir` as its own process on the gatekeeper-library templates with
// their sample constraints, then POSTs AdmissionReviews (mixed Pods and Deployments, CREATE)
// straight to /v1/admit over HTTPS on loopback at fixed rates, open loop. Prints, per rate, the
// achieved requests/s, p50/p90/p99/max latency, errors (anything but an HTTP 200 AdmissionReview)
// and the webhook process's RSS, with the machine's load average.
//
//   node --import tsx bench/gatekeeper-webhook.ts [--rates 200,500,1000] [--seconds 15]
//        [--threads N] [--library ../shared/gatekeeper-library/library] [--built]
//        [--soak SECONDS --soak-rate R]   (RSS and p99 every 30 s at R req/s)
//        [--answers FILE]   (the answers to the 500 sample reviews: written, or compared byte for byte)
//        [--cpu-prof DIR]   (V8 CPU profiles of the webhook process's threads)
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
import type { Obj } from "../src/gatekeeper/yaml.ts";

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
const NAMESPACES = ["default", "prod", "dev", "shop"];
fs.writeFileSync(
  path.join(policy, "namespaces.yaml"),
  NAMESPACES.map((n, i) => yaml.dump({ apiVersion: "v1", kind: "Namespace", metadata: { name: n, labels: { env: i % 2 ? "dev" : "prod", owner: "team" } } })).join("---\n"),
);
execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", path.join(certs, "tls.key"), "-out", path.join(certs, "tls.crt"), "-days", "1", "-subj", "/CN=webhook", "-addext", "subjectAltName=IP:127.0.0.1"], { stdio: "ignore" });
const ca = fs.readFileSync(path.join(certs, "tls.crt"));

// ---- reviews: Pods and Deployments, half of them violating several policies
function container(i: number): Obj {
  const images = ["nginx", "nginx:latest", "openpolicyagent/opa:0.9.2", "gcr.io/project/app@sha256:abc", "registry.example.com/app:1.2"];
  const c: Obj = { name: `c${i}`, image: images[i % images.length], ports: [{ containerPort: 8080 + (i % 3), ...(i % 4 === 0 ? { hostPort: 80 } : {}) }] };
  if (i % 2 === 0) c.resources = { limits: { cpu: "500m", memory: "512Mi" }, requests: { cpu: "100m", memory: "128Mi" } };
  if (i % 3 === 0) c.securityContext = { privileged: i % 6 === 0, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: { drop: ["ALL"] } };
  if (i % 4 === 1) c.livenessProbe = { httpGet: { path: "/", port: 8080 } };
  return c;
}
function podSpec(i: number): Obj {
  return {
    containers: [container(i), container(i + 1)],
    ...(i % 7 === 0 ? { hostNetwork: true } : {}),
    volumes: [{ name: "v", ...(i % 5 === 0 ? { hostPath: { path: "/var" } } : { emptyDir: {} }) }],
    ...(i % 2 === 0 ? { securityContext: { runAsUser: 1000, fsGroup: 2000, seccompProfile: { type: "RuntimeDefault" } } } : {}),
  };
}
function reviewBody(i: number): string {
  const ns = NAMESPACES[i % NAMESPACES.length];
  const labels: Obj = { app: `app${i % 10}`, ...(i % 2 ? { owner: "me" } : {}) };
  const pod = i % 2 === 0;
  const object = pod
    ? { apiVersion: "v1", kind: "Pod", metadata: { name: `pod-${i}`, namespace: ns, labels }, spec: podSpec(i) }
    : { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: `deploy-${i}`, namespace: ns, labels }, spec: { replicas: 1 + (i % 5), selector: { matchLabels: labels }, template: { metadata: { labels }, spec: podSpec(i) } } };
  return JSON.stringify({
    apiVersion: "admission.k8s.io/v1",
    kind: "AdmissionReview",
    request: {
      uid: `bench-${i}`,
      kind: pod ? { group: "", version: "v1", kind: "Pod" } : { group: "apps", version: "v1", kind: "Deployment" },
      resource: pod ? { group: "", version: "v1", resource: "pods" } : { group: "apps", version: "v1", resource: "deployments" },
      name: object.metadata.name,
      namespace: ns,
      operation: "CREATE",
      userInfo: { username: "bench", groups: ["system:authenticated"] },
      object,
      oldObject: null,
      dryRun: false,
    },
  });
}
const BODIES = Array.from({ length: 500 }, (_, i) => reviewBody(i));

// ---- the webhook process, on two ports picked here (free when asked; the OS gives each once)
async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const p = (srv.address() as net.AddressInfo).port;
  await new Promise((r) => srv.close(r));
  return p;
}
const port = await freePort();
const metricsPort = await freePort();
const child = spawn(
  process.execPath,
  [...(PROFILE ? ["--cpu-prof", `--cpu-prof-dir=${PROFILE}`] : []), ...CLI_ARGS, "controller", "--operation=webhook", "--policy-dir", policy, "--cert-dir", certs, "--port", String(port), "--host", "127.0.0.1", "--metrics-addr", `127.0.0.1:${metricsPort}`, "--health-addr", "0", "--max-serving-threads", THREADS, "--log-level", "WARNING"],
  { stdio: ["ignore", "ignore", "pipe"] },
);
let log = "";
child.stderr.on("data", (c) => (log += c));
const stopChild = () => child.exitCode === null && child.kill("SIGTERM");
process.on("exit", stopChild);
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
const startupSeconds = (Date.now() - t0) / 1000;

/** CPU seconds (user + system) the webhook process has used: every thread (/proc/PID/stat), and its main thread (/proc/PID/task/PID/stat). */
const CLK_TCK = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
function cpuOf(statFile: string): number {
  const stat = fs.readFileSync(statFile, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) / CLK_TCK;
}
function webhookCpuSeconds(): number {
  return cpuOf(`/proc/${child.pid}/stat`);
}
function webhookMainCpuSeconds(): number {
  return cpuOf(`/proc/${child.pid}/task/${child.pid}/stat`);
}

function rssMiB(): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${child.pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : NaN;
}

const agent = new https.Agent({ keepAlive: true, maxSockets: 128, ca });

function send(i: number): Promise<{ ms: number; ok: boolean; text: string }> {
  const body = BODIES[i % BODIES.length];
  const t = performance.now();
  return new Promise((resolve) => {
    const req = https.request({ host: "127.0.0.1", port, path: "/v1/admit?timeout=3s", method: "POST", agent, headers: { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => {
        let ok = res.statusCode === 200;
        const text = Buffer.concat(chunks).toString("utf8");
        if (ok) {
          try {
            ok = typeof JSON.parse(text).response?.allowed === "boolean";
          } catch {
            ok = false;
          }
        }
        resolve({ ms: performance.now() - t, ok, text: `${res.statusCode} ${text}` });
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
}

async function run(rate: number, seconds: number): Promise<RunResult> {
  const total = Math.round(rate * seconds);
  const lat: number[] = [];
  let errors = 0;
  let sent = 0;
  let done = 0;
  const rssStart = rssMiB();
  const cpuStart = webhookCpuSeconds();
  const mainStart = webhookMainCpuSeconds();
  let rssMax = rssStart;
  const rssTimer = setInterval(() => (rssMax = Math.max(rssMax, rssMiB())), 1000);
  const start = performance.now();
  await new Promise<void>((finish) => {
    const tick = () => {
      const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * rate));
      while (sent < due) {
        const i = sent++;
        void send(i).then((r) => {
          lat.push(r.ms);
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
  lat.sort((a, b) => a - b);
  const q = (p: number) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))];
  const cpuMsPerReview = ((webhookCpuSeconds() - cpuStart) * 1000) / total;
  const mainCpuMsPerReview = ((webhookMainCpuSeconds() - mainStart) * 1000) / total;
  return { mainCpuMsPerReview, rate, achieved: total / wall, p50: q(0.5), p90: q(0.9), p99: q(0.99), max: lat[lat.length - 1], errors, sent: total, rssStart, rssEnd: rssMiB(), rssMax, cpuMsPerReview };
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
await run(50, 5); // warm-up
console.log(`load average before: ${os.loadavg().map((x) => x.toFixed(2)).join(" ")} (${os.availableParallelism()} CPUs)`);
console.log("rate req/s | achieved req/s | p50 ms | p90 ms | p99 ms | max ms | errors | webhook CPU ms/review (main thread) | RSS MiB start→end (max)");
for (const rate of RATES) {
  const r = await run(rate, SECONDS);
  console.log(
    `${r.rate} | ${r.achieved.toFixed(0)} | ${r.p50.toFixed(2)} | ${r.p90.toFixed(2)} | ${r.p99.toFixed(2)} | ${r.max.toFixed(1)} | ${r.errors}/${r.sent} | ${r.cpuMsPerReview.toFixed(2)} (${r.mainCpuMsPerReview.toFixed(2)}) | ${r.rssStart.toFixed(0)}→${r.rssEnd.toFixed(0)} (${r.rssMax.toFixed(0)})`,
  );
  console.log(`  load average: ${os.loadavg().map((x) => x.toFixed(2)).join(" ")}`);
  await new Promise((res) => setTimeout(res, 2000));
}
if (SOAK > 0) {
  const rate = SOAK_RATE;
  const samples: string[] = [];
  for (let s = 0; s < SOAK; s += 30) {
    const r = await run(rate, Math.min(30, SOAK - s));
    samples.push(`${s + 30}s: p99 ${r.p99.toFixed(1)} ms, errors ${r.errors}, RSS ${r.rssEnd.toFixed(0)} MiB`);
  }
  console.log(`soak at ${rate} req/s for ${SOAK} s:\n  ${samples.join("\n  ")}`);
}
agent.destroy();
stopChild();
await new Promise((r) => child.on("exit", r));
fs.rmSync(work, { recursive: true, force: true });
