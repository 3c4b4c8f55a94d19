// The real Gatekeeper (v3.21 manager, `~/go/bin/gatekeeper --operation=webhook`) beside
// Portcullis's webhook on the webhook bench's load (bench/gatekeeper-webhook.ts): a bench, not a
// test (it needs the real kube-apiserver, etcd and the gatekeeper binary, and runs for minutes).
//
// It starts kube-apiserver + etcd (test/support/kube.ts), applies Gatekeeper's CRDs (from the
// manifest in its module source) and the gatekeeper-system namespace, runs the gatekeeper
// manager out of cluster against it (webhook and generate operations: generate creates the
// constraint CRDs from the templates), applies the bench's Namespaces, the library's 49 templates
// and its sample constraints, and waits until Gatekeeper reports every constraint enforced (its
// ConstraintPodStatus objects) and active (its metrics). Portcullis's webhook runs on the same
// files (`controller --policy-dir`). Then:
//   1. both answer the 500 sample reviews; the answers are compared (allowed, status code and
//      message, warnings) and every difference is printed;
//   2. --repeat times (2), ours and Gatekeeper's one after the other (the order alternating): the
//      500 reviews one at a time, then each rate for --seconds, open loop, same client, same
//      reviews, `/v1/admit?timeout=3s`, with the same columns as bench/gatekeeper-webhook.ts plus
//      the API server's and etcd's CPU per review (Gatekeeper reads Namespaces through a watch).
//
//   node --import tsx bench/peers/gatekeeper-webhook.ts [--rates 200,500,1000] [--seconds 10]
//        [--repeat 2] [--threads N] [--built] [--client raw|node] [--answers-only] [--library DIR]
//        [--gatekeeper BIN (~/go/bin/gatekeeper)] [--gatekeeper-src DIR (its module source)]
//        [--gk-profile FILE [--gk-profile-seconds 15]]   (Gatekeeper's Go CPU profile under load)
//
// --built runs Portcullis's shipped build (bin/portcullis.js → dist/; `npm run build` first),
// otherwise the sources through tsx. Both webhooks serve with 2 threads by default (Gatekeeper's
// --max-serving-threads -1 is GOMAXPROCS; Portcullis's -1 is the CPU count).
import * as fs from "node:fs";
import http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import yaml from "js-yaml";
import { SOURCE_CLI } from "../../test/cli/portcullis-src.ts";
import { KUBE_DIR, kubeMissing, startKube, until, type Kube } from "../../test/support/kube.ts";
import {
  BODIES,
  LoadTarget,
  activeCounts,
  freePort,
  httpGet,
  ReviewSender,
  clientKind,
  loadAverage,
  makeServingCert,
  processCpuSeconds,
  rateHeader,
  rateRow,
  singleLine,
  startPortcullisWebhook,
  writePolicyDir,
  type RunResult,
  type SingleResult,
  type ClientKind,
} from "../lib/webhook-load.ts";
import { flag } from "../lib/args.ts";

const here = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.join(here, "../..");
const args = process.argv.slice(2);
const GK_VERSION = "v3.21.0";
const RATES = flag("rates", "200,500,1000").split(",").map(Number);
const SECONDS = Number(flag("seconds", "10"));
const REPEAT = Number(flag("repeat", "2"));
const THREADS = flag("threads", "-1");
const BUILT = args.includes("--built");
// --client raw (default) or node: as bench/gatekeeper-webhook.ts (the same client for both webhooks).
let CLIENT: ClientKind = "raw";
try {
  CLIENT = clientKind(flag("client", "raw"));
} catch (e) {
  console.error((e as Error).message);
  process.exit(2);
}
const ANSWERS_ONLY = args.includes("--answers-only");
// --gk-profile FILE: a Go CPU profile of Gatekeeper (pprof) over --gk-profile-seconds (15) of
// reviews, 4 in flight, before the load runs; read it with `go tool pprof -top FILE`.
const GK_PROFILE = args.includes("--gk-profile") ? path.resolve(flag("gk-profile", "")) : null;
const GK_PROFILE_SECONDS = Number(flag("gk-profile-seconds", "15"));
const LIBRARY = path.resolve(flag("library", path.join(ROOT, "../shared/gatekeeper-library/library")));
const GATEKEEPER = path.resolve(flag("gatekeeper", process.env.GATEKEEPER ?? path.join(os.homedir(), "go/bin/gatekeeper")));
const GK_SRC = path.resolve(flag("gatekeeper-src", path.join(os.homedir(), `go/pkg/mod/github.com/open-policy-agent/gatekeeper/v3@${GK_VERSION}`)));
const GK_MANIFEST = path.join(GK_SRC, "deploy/gatekeeper.yaml");
const CLI_ARGS = BUILT ? [path.join(ROOT, "bin/portcullis.js")] : SOURCE_CLI;

function fail(message: string): never {
  console.error(`bench/peers/gatekeeper-webhook: ${message}`);
  process.exit(2);
}
const bad = (xs: number[]) => xs.some((x) => !Number.isFinite(x) || x <= 0);
if (bad(RATES) || bad([SECONDS, REPEAT, GK_PROFILE_SECONDS])) fail("--rates, --seconds and --repeat take positive numbers");

// ---- what it needs, each missing piece named
const onPath = (cmd: string) => spawnSync("sh", ["-c", `command -v ${cmd}`]).status === 0;
{
  const missing: string[] = [];
  const kube = kubeMissing();
  if (kube) missing.push(kube);
  else if (!fs.existsSync(path.join(KUBE_DIR, "kube-apiserver-v1.34.3-linux-amd64.xz"))) missing.push(`the kube-apiserver binary is missing from ${KUBE_DIR}`);
  if (!fs.existsSync(GATEKEEPER)) missing.push(`no gatekeeper binary at ${GATEKEEPER} (go install github.com/open-policy-agent/gatekeeper/v3@${GK_VERSION}, or pass --gatekeeper BIN)`);
  if (!fs.existsSync(GK_MANIFEST)) missing.push(`no Gatekeeper manifest (its CRDs) at ${GK_MANIFEST} (pass --gatekeeper-src DIR, the module source)`);
  if (!fs.existsSync(LIBRARY)) missing.push(`no gatekeeper library at ${LIBRARY} (pass --library DIR)`);
  if (!onPath("openssl")) missing.push("openssl is not installed");
  if (BUILT && !fs.existsSync(path.join(ROOT, "dist"))) missing.push("--built without dist/: run `npm run build` first");
  if (!fs.existsSync("/proc/self/stat")) missing.push("no /proc (CPU and RSS are read from it)");
  if (missing.length) fail(`cannot run:\n  ${missing.join("\n  ")}`);
}

// ---- the policy files (the same for both), the serving certificate (the same for both)
const work = fs.mkdtempSync(path.join(os.tmpdir(), "portcullis-gk-peer-"));
const policy = path.join(work, "policy");
const certs = path.join(work, "certs");
const set = writePolicyDir(LIBRARY, policy);
const sender = new ReviewSender(makeServingCert(certs), CLIENT);

const children: ChildProcess[] = [];
let kube: Kube | null = null;
async function cleanup(): Promise<void> {
  sender.close();
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGTERM");
  await Promise.all(children.map((c) => (c.exitCode === null && c.signalCode === null ? new Promise((r) => c.once("exit", r)) : null)));
  if (kube) await kube.stop();
  fs.rmSync(work, { recursive: true, force: true });
}
let stopping = false;
for (const sig of ["SIGINT", "SIGTERM"] as const)
  process.on(sig, () => {
    if (stopping) return;
    stopping = true;
    console.error(`${sig}: stopping`);
    void cleanup().finally(() => process.exit(130));
  });
async function die(message: string): Promise<never> {
  console.error(`bench/peers/gatekeeper-webhook: ${message}`);
  await cleanup();
  process.exit(1);
}

async function kubectl(what: string, argv: string[], input?: string): Promise<string> {
  const r = await kube!.kubectl(argv, input);
  if (r.code !== 0) return die(`${what}: kubectl ${argv.slice(0, 3).join(" ")} … failed (${r.code}): ${r.err.trim().slice(0, 800)}`);
  return r.out;
}

// ---- the API server, Gatekeeper's CRDs, its namespace, the bench's Namespaces
const t0 = Date.now();
try {
  kube = await startKube();
} catch (e) {
  await die(`the API server did not start: ${(e as Error).message}`);
}
const kubePids = (kube!.env.KUBE_PIDS ?? "").split(" ").filter(Boolean).map(Number);
const kubeCpuSeconds = () => kubePids.reduce((a, p) => a + (fs.existsSync(`/proc/${p}/stat`) ? processCpuSeconds(p) : 0), 0);
const crds = (yaml.loadAll(fs.readFileSync(GK_MANIFEST, "utf8")) as Record<string, unknown>[]).filter((d) => d && d.kind === "CustomResourceDefinition");
if (!crds.length) await die(`no CustomResourceDefinition in ${GK_MANIFEST}`);
await kubectl("Gatekeeper's CRDs", ["apply", "--server-side", "-f", "-"], crds.map((d) => yaml.dump(d)).join("---\n"));
await kubectl("Gatekeeper's CRDs", ["wait", "--for=condition=Established", "crd", "--all", "--timeout=60s"]);
await kubectl("namespace gatekeeper-system", ["create", "namespace", "gatekeeper-system"]);
await kubectl("the bench's Namespaces", ["apply", "-f", set.namespaces]);

// ---- Gatekeeper's manager, out of cluster, serving the webhook on the bench's certificate
const gkPort = await freePort();
const gkPrometheus = await freePort();
const gkHealth = await freePort();
const gkPprof = await freePort();
const gkLog = path.join(work, "gatekeeper.log");
const gkArgs = [
  "--operation=webhook",
  "--operation=generate", // the constraint CRDs from the templates (the webhook operation alone does not make them)
  `--kubeconfig=${kube!.kubeconfig}`,
  "--disable-cert-rotation",
  `--cert-dir=${certs}`,
  `--port=${gkPort}`,
  "--host=127.0.0.1",
  "--metrics-addr=0",
  `--prometheus-port=${gkPrometheus}`,
  `--health-addr=127.0.0.1:${gkHealth}`,
  "--debug-use-fake-pod",
  "--default-create-vap-for-templates=false", // no ValidatingAdmissionPolicies in the API server: only the webhook is measured
  "--default-create-vap-binding-for-constraints=false",
  `--max-serving-threads=${THREADS}`,
  "--log-level=WARNING",
  "--shutdown-delay=0",
  ...(GK_PROFILE ? ["--enable-pprof", `--pprof-port=${gkPprof}`] : []),
];
const gkOut = fs.openSync(gkLog, "w");
const gk = spawn(GATEKEEPER, gkArgs, { env: { ...process.env, POD_NAMESPACE: "gatekeeper-system", POD_NAME: "gatekeeper-bench" }, stdio: ["ignore", gkOut, gkOut] });
children.push(gk);
const gkTail = () => fs.readFileSync(gkLog, "utf8").slice(-2000);
const gkAlive = () => gk.exitCode === null && gk.signalCode === null;
try {
  await until(async () => !gkAlive() || (await httpGet(gkHealth, "/readyz")) === "ok", "Gatekeeper's /readyz", 120_000, 300);
} catch {
  await die(`Gatekeeper was not ready within 120 s:\n${gkTail()}`);
}
if (!gkAlive()) await die(`Gatekeeper exited (${gk.exitCode ?? gk.signalCode}):\n${gkTail()}`);

// ---- the templates, then (once Gatekeeper has made their CRDs) the constraints
await kubectl("the templates", ["apply", ...set.templates.flatMap((f) => ["-f", f])]);
const kinds = new Set<string>();
for (const f of set.templates) for (const d of yaml.loadAll(fs.readFileSync(f, "utf8")) as { spec?: { crd?: { spec?: { names?: { kind?: string } } } } }[]) if (d?.spec?.crd?.spec?.names?.kind) kinds.add(d.spec.crd.spec.names.kind.toLowerCase());
try {
  await until(
    async () => {
      const out = (await kube!.kubectl(["get", "crd", "-o", "name"])).out;
      const have = new Set([...out.matchAll(/customresourcedefinition\.apiextensions\.k8s\.io\/([a-z0-9]+)\.constraints\.gatekeeper\.sh/g)].map((m) => m[1]));
      return [...kinds].every((k) => have.has(k));
    },
    `the ${kinds.size} constraint CRDs`,
    180_000,
    500,
  );
} catch (e) {
  await die(`${(e as Error).message}:\n${gkTail()}`);
}
await kubectl("the constraint CRDs", ["wait", "--for=condition=Established", "crd", "--all", "--timeout=60s"]);
// A new CRD takes a moment to appear in discovery: retry the apply for a while.
try {
  await until(async () => (await kube!.kubectl(["apply", ...set.constraints.flatMap((f) => ["-f", f])])).code === 0, "the constraints' apply", 60_000, 1000);
} catch {
  await kubectl("the constraints", ["apply", ...set.constraints.flatMap((f) => ["-f", f])]);
}

// ---- every constraint enforced: its ConstraintPodStatus says so for its current generation
interface KubeItem {
  metadata: { uid: string; generation?: number; name: string };
  kind?: string;
  status?: { constraintUID?: string; enforced?: boolean; observedGeneration?: number };
}
let nUnique = 0;
try {
  await until(
    async () => {
      const constraints = JSON.parse((await kube!.kubectl(["get", "constraints", "-o", "json"])).out || '{"items":[]}').items as KubeItem[];
      const statuses = JSON.parse((await kube!.kubectl(["get", "constraintpodstatuses", "-n", "gatekeeper-system", "-o", "json"])).out || '{"items":[]}').items as KubeItem[];
      const enforced = new Map(statuses.filter((s) => s.status?.enforced).map((s) => [s.status!.constraintUID, s.status!.observedGeneration]));
      nUnique = constraints.length;
      const metrics = activeCounts(await httpGet(gkPrometheus, "/metrics"));
      return (
        constraints.length > 0 &&
        constraints.every((c) => enforced.get(c.metadata.uid) === c.metadata.generation) &&
        metrics.constraints === constraints.length &&
        metrics.templates === set.templates.length
      );
    },
    "every constraint enforced",
    180_000,
    1000,
  );
} catch (e) {
  await die(`${(e as Error).message}:\n${gkTail()}`);
}
const gkTarget = new LoadTarget(sender, gk.pid!, gkPort);
// The last check: the 500 answers twice, the same both times (nothing still arriving). Gatekeeper
// orders a review's denials by (action, message without the constraint's name): lines whose
// messages tie come in any order from one answer to the next, so answers are compared with such
// ties put in name order (canonical()).
let gkAnswers = await gkTarget.answers();
for (let i = 0; i < 10; i++) {
  const again = await gkTarget.answers();
  const j = again.findIndex((a, k) => canonical(verdict(a)) !== canonical(verdict(gkAnswers[k])));
  if (j < 0) break;
  if (i === 9) await die(`Gatekeeper's answers to the sample reviews did not settle in 10 passes (review ${j}:\n  ${gkAnswers[j].slice(0, 3000)}\n  then\n  ${again[j].slice(0, 3000)})`);
  gkAnswers = again;
}
const gkReady = (Date.now() - t0) / 1000;

// ---- Portcullis on the same files
const ours = await startPortcullisWebhook({ cliArgs: CLI_ARGS, policy, certs, threads: THREADS });
children.push(ours.child);
const ourTarget = new LoadTarget(sender, ours.child.pid!, ours.port);
const ourCounts = activeCounts(await httpGet(ours.metricsPort, "/metrics"));
const gkCounts = activeCounts(await httpGet(gkPrometheus, "/metrics"));
console.log(`policy: ${set.templates.length} templates, ${set.constraints.length} sample constraint files (${nUnique} distinct kind/name: the API server keeps the last of a name), ${BODIES.length} sample reviews`);
console.log(`Gatekeeper ${GK_VERSION} (${GATEKEEPER}): active ${gkCounts.templates} templates, ${gkCounts.constraints} constraints; ready (API server up, CRDs, policies applied, all enforced) in ${gkReady.toFixed(1)} s; RSS ${gkTarget.rssMiB().toFixed(0)} MiB`);
console.log(`Portcullis (${BUILT ? "bin/portcullis.js, built" : "sources through tsx"}): active ${ourCounts.templates} templates, ${ourCounts.constraints} constraints; ready in ${ours.startupSeconds.toFixed(1)} s; RSS ${ourTarget.rssMiB().toFixed(0)} MiB`);
console.log(`client: ${CLIENT === "raw" ? "raw (bench/lib/rawclient.ts)" : "Node's https"}`);
console.log(`serving threads: ${THREADS === "-1" ? `${os.availableParallelism()} (both: GOMAXPROCS / CPU count)` : THREADS}`);

// ---- 1. the answers compared
/** The answer's verdict, with Gatekeeper's ties (same action and message, other constraints) put in name order. */
function canonical(v: Verdict): string {
  const key = (l: string) => l.replace(/^\[[^\]]*\] /, "");
  const tie = (xs: string[]) => [...xs].sort((a, b) => (key(a) === key(b) ? (a < b ? -1 : a > b ? 1 : 0) : 0));
  return JSON.stringify([v.http, v.allowed, v.code, tie(v.message), tie(v.warnings)]);
}
interface Verdict {
  allowed?: unknown;
  code?: unknown;
  message: string[];
  warnings: string[];
  http: string;
}
function verdict(text: string): Verdict {
  const sp = text.indexOf(" ");
  const http = text.slice(0, sp);
  try {
    const r = JSON.parse(text.slice(sp + 1)).response ?? {};
    return { http, allowed: r.allowed, code: r.status?.code, message: typeof r.status?.message === "string" ? r.status.message.split("\n") : [], warnings: Array.isArray(r.warnings) ? r.warnings : [] };
  } catch {
    return { http, message: [text.slice(0, 300)], warnings: [] };
  }
}
const ourAnswers = await ourTarget.answers();
let differ = 0;
let orderOnly = 0;
let tieOrder = 0;
const shown: string[] = [];
for (let i = 0; i < BODIES.length; i++) {
  const a = verdict(ourAnswers[i]);
  const b = verdict(gkAnswers[i]);
  const same = a.http === b.http && a.allowed === b.allowed && a.code === b.code && a.message.join("\n") === b.message.join("\n") && a.warnings.join("\n") === b.warnings.join("\n");
  if (same) continue;
  if (canonical(a) === canonical(b)) {
    tieOrder++;
    continue;
  }
  const sorted = (xs: string[]) => [...xs].sort().join("\n");
  if (a.http === b.http && a.allowed === b.allowed && a.code === b.code && sorted(a.message) === sorted(b.message) && sorted(a.warnings) === sorted(b.warnings)) {
    orderOnly++;
    continue;
  }
  differ++;
  if (shown.length < 8) {
    const only = (x: string[], y: string[]) => x.filter((l) => !y.includes(l));
    shown.push(
      `  review ${i} (${JSON.parse(BODIES[i]).request.kind.kind} ${JSON.parse(BODIES[i]).request.name}): Portcullis HTTP ${a.http} allowed ${a.allowed} code ${a.code}, Gatekeeper HTTP ${b.http} allowed ${b.allowed} code ${b.code}\n` +
        only(a.message, b.message).map((l) => `    only Portcullis: ${l}\n`).join("") +
        only(b.message, a.message).map((l) => `    only Gatekeeper: ${l}\n`).join("") +
        only(a.warnings, b.warnings).map((l) => `    warning only Portcullis: ${l}\n`).join("") +
        only(b.warnings, a.warnings).map((l) => `    warning only Gatekeeper: ${l}\n`).join(""),
    );
  }
}
const denied = (xs: string[]) => xs.filter((a) => verdict(a).allowed === false).length;
console.log(`answers to the ${BODIES.length} sample reviews: Portcullis ${denied(ourAnswers)} denied, Gatekeeper ${denied(gkAnswers)} denied; ${differ} differ (allowed, status code, message lines or warnings); ${tieOrder} more differ only in the order of lines whose messages tie (Gatekeeper's order among them varies from one answer to the next)${orderOnly ? `; ${orderOnly} more differ only in the order of their lines` : ""}`);
if (shown.length) console.log(shown.join(""));
if (differ) process.exitCode = 1;
if (GK_PROFILE) {
  let profiling = true;
  const profile = new Promise<Buffer>((resolve, reject) => {
    const req = http.get({ host: "localhost", port: gkPprof, path: `/debug/pprof/profile?seconds=${GK_PROFILE_SECONDS}`, timeout: (GK_PROFILE_SECONDS + 60) * 1000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => (res.statusCode === 200 ? resolve(Buffer.concat(chunks)) : reject(new Error(`HTTP ${res.statusCode}`))));
    });
    req.on("timeout", () => req.destroy(new Error("timed out")));
    req.on("error", reject);
  }).finally(() => (profiling = false));
  let next = 0;
  const c0 = gkTarget.cpuSeconds();
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (profiling) await gkTarget.send(next++);
    }),
  );
  try {
    fs.writeFileSync(GK_PROFILE, await profile);
    console.log(`Gatekeeper CPU profile: ${next} reviews, 4 in flight, ${(((gkTarget.cpuSeconds() - c0) * 1000) / next).toFixed(2)} ms of CPU per review; written to ${GK_PROFILE} (go tool pprof -top ${GK_PROFILE})`);
  } catch (e) {
    await die(`Gatekeeper's CPU profile could not be read: ${(e as Error).message}`);
  }
}
if (ANSWERS_ONLY) {
  await cleanup();
  process.exit();
}

// ---- 2. the load, ours and Gatekeeper's one after the other, REPEAT times (order alternating)
interface Side {
  name: string;
  target: LoadTarget;
  main: boolean;
}
const sides: Side[] = [
  { name: "Portcullis", target: ourTarget, main: true },
  { name: `Gatekeeper ${GK_VERSION}`, target: gkTarget, main: false },
];
await ourTarget.run(50, 5); // warm-up, as bench/gatekeeper-webhook.ts
await gkTarget.run(50, 5);
const kubeMs = (k0: number, n: number) => (((kubeCpuSeconds() - k0) * 1000) / n).toFixed(2);
const rows: { repeat: number; side: string; label: string; r: RunResult | SingleResult; load: string; kube: string }[] = [];
for (let rep = 1; rep <= REPEAT; rep++) {
  for (const side of rep % 2 ? sides : [...sides].reverse()) {
    console.log(`\n== ${side.name}, run ${rep} of ${REPEAT}; load average ${loadAverage()} (${os.availableParallelism()} CPUs)`);
    // The background: the process's and the API server's CPU over 5 idle seconds.
    const i0 = side.target.cpuSeconds();
    let k0 = kubeCpuSeconds();
    await new Promise((res) => setTimeout(res, 5000));
    console.log(`idle for 5 s: webhook process ${(((side.target.cpuSeconds() - i0) * 1000) / 5).toFixed(1)} ms of CPU per second, API server + etcd ${(((kubeCpuSeconds() - k0) * 1000) / 5).toFixed(1)}`);
    k0 = kubeCpuSeconds();
    const single = await side.target.oneAtATime();
    const kSingle = kubeMs(k0, single.n);
    console.log(`${singleLine(single, BODIES.length, side.main)}; API server + etcd CPU ${kSingle} ms per review`);
    rows.push({ repeat: rep, side: side.name, label: "one at a time", r: single, load: loadAverage(), kube: kSingle });
    console.log(`${rateHeader(side.main)} | API server + etcd CPU ms/review`);
    for (const rate of RATES) {
      k0 = kubeCpuSeconds();
      const r = await side.target.run(rate, SECONDS);
      const k = kubeMs(k0, r.sent);
      console.log(`${rateRow(r, side.main)} | ${k}`);
      console.log(`  load average: ${loadAverage()}`);
      rows.push({ repeat: rep, side: side.name, label: `${rate} req/s`, r, load: loadAverage(), kube: k });
      await new Promise((res) => setTimeout(res, 2000));
    }
  }
}

// ---- the side-by-side table (Markdown, for docs/gatekeeper-webhook.md)
const ms = (x: number) => (x >= 100 ? x.toFixed(0) : x.toFixed(2));
console.log(`\n| run | webhook | load | achieved req/s | p50 / p90 / p99 / max ms | errors | CPU ms per review | RSS MiB | API server + etcd CPU ms/review | load average (1 min) |`);
console.log(`| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |`);
for (const row of rows) {
  const r = row.r;
  if ("rate" in r)
    console.log(`| ${row.repeat} | ${row.side} | ${row.label} | ${r.achieved.toFixed(0)} | ${ms(r.p50)} / ${ms(r.p90)} / ${ms(r.p99)} / ${ms(r.max)} | ${r.errors}/${r.sent} | ${r.cpuMsPerReview.toFixed(2)} | ${r.rssStart.toFixed(0)}→${r.rssEnd.toFixed(0)} (${r.rssMax.toFixed(0)}) | ${row.kube} | ${row.load.split(" ")[0]} |`);
  else console.log(`| ${row.repeat} | ${row.side} | ${row.label} | — | ${ms(r.p50)} / — / ${ms(r.p99)} / — | ${r.errors}/${r.n} | ${r.cpuMsPerReview.toFixed(2)} | ${r.rss.toFixed(0)} | ${row.kube} | ${row.load.split(" ")[0]} |`);
}
await cleanup();
