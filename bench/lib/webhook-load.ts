// The webhook bench's pieces shared by bench/gatekeeper-webhook.ts (Portcullis's webhook) and
// bench/peers/gatekeeper-webhook.ts (the real Gatekeeper beside it): the policy set written as
// files, the serving certificate, the 500 sample reviews, and a load client that POSTs them to
// `/v1/admit?timeout=3s` over HTTPS (open loop at a fixed rate, or one at a time) and reads the
// serving process's CPU (all threads, /proc) and RSS.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import http from "node:http";
import https from "node:https";
import net from "node:net";
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import yaml from "js-yaml";
import { NAMESPACES, reviewBody } from "./reviews.ts";
import { RawClient } from "./rawclient.ts";

/** The sample reviews: Pods and Deployments, half of them violating several policies. */
export const BODIES = Array.from({ length: 500 }, (_, i) => reviewBody(i));

function walk(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? walk(p) : /\.ya?ml$/.test(e.name) ? [p] : [];
  });
}

export interface PolicySet {
  /** t_*.yaml: every template.yaml of the library, in sorted path order. */
  templates: string[];
  /** c_*.yaml: every samples/…/constraint*.yaml, in sorted path order. */
  constraints: string[];
  /** namespaces.yaml: the reviews' Namespaces, with labels. */
  namespaces: string;
}

/** Copy the library's templates and sample constraints into `policy` (made), plus the Namespaces. */
export function writePolicyDir(library: string, policy: string): PolicySet {
  fs.mkdirSync(policy, { recursive: true });
  const set: PolicySet = { templates: [], constraints: [], namespaces: path.join(policy, "namespaces.yaml") };
  for (const f of walk(library).sort()) {
    const rel = path.relative(library, f).replace(/[\\/]/g, "_");
    if (path.basename(f) === "template.yaml") {
      const to = path.join(policy, `t_${rel}`);
      fs.copyFileSync(f, to);
      set.templates.push(to);
    } else if (/[\\/]samples[\\/]/.test(f) && path.basename(f).startsWith("constraint")) {
      const to = path.join(policy, `c_${rel}`);
      fs.copyFileSync(f, to);
      set.constraints.push(to);
    }
  }
  fs.writeFileSync(
    set.namespaces,
    NAMESPACES.map((n, i) => yaml.dump({ apiVersion: "v1", kind: "Namespace", metadata: { name: n, labels: { env: i % 2 ? "dev" : "prod", owner: "team" } } })).join("---\n"),
  );
  return set;
}

/** A self-signed EC serving certificate for 127.0.0.1 in `certs` (tls.crt, tls.key; made); returns the certificate (the client's CA). */
export function makeServingCert(certs: string): Buffer {
  fs.mkdirSync(certs, { recursive: true });
  execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", path.join(certs, "tls.key"), "-out", path.join(certs, "tls.crt"), "-days", "1", "-subj", "/CN=webhook", "-addext", "subjectAltName=IP:127.0.0.1"], { stdio: "ignore" });
  return fs.readFileSync(path.join(certs, "tls.crt"));
}

/** A free TCP port on loopback (free when asked; the OS gives each once). */
export async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const p = (srv.address() as net.AddressInfo).port;
  await new Promise((r) => srv.close(r));
  return p;
}

/** Wait until `port` accepts a connection, while `child` runs, for at most `ms`: true when it does. */
export async function waitForPort(port: number, child: ChildProcess, ms: number): Promise<boolean> {
  const t0 = Date.now();
  while (Date.now() - t0 < ms && child.exitCode === null && child.signalCode === null) {
    await new Promise((r) => setTimeout(r, 200));
    const up = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, "127.0.0.1", () => {
        s.destroy();
        resolve(true);
      });
      s.on("error", () => resolve(false));
    });
    if (up) return true;
  }
  return false;
}

/** CPU seconds (user + system) a process has used: every thread (/proc/PID/stat), or one thread (/proc/PID/task/TID/stat). */
const CLK_TCK = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    return 100; // USER_HZ, the unit of /proc/PID/stat's times on Linux
  }
})();
export function cpuOf(statFile: string): number {
  const stat = fs.readFileSync(statFile, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) / CLK_TCK;
}
export function processCpuSeconds(pid: number): number {
  return cpuOf(`/proc/${pid}/stat`);
}
export function mainThreadCpuSeconds(pid: number): number {
  return cpuOf(`/proc/${pid}/task/${pid}/stat`);
}
export function rssMiBOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : NaN;
}

export interface Answer {
  ms: number;
  /** An HTTP 200 AdmissionReview with a boolean response.allowed. */
  ok: boolean;
  /** "STATUS BODY", or "error MESSAGE". */
  text: string;
}

export interface RunResult {
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
  /** Of which its main thread (Portcullis: HTTP, TLS, messages to and from the workers). */
  mainCpuMsPerReview: number;
  /** The load generator's own CPU (this process) per request, ms. */
  generatorCpuMs: number;
}

export interface SingleResult {
  n: number;
  /** Answers other than an HTTP 200 AdmissionReview. */
  errors: number;
  p50: number;
  p99: number;
  cpuMsPerReview: number;
  mainCpuMsPerReview: number;
  rss: number;
}

/** HTTPS keep-alive client (at most 128 connections: requests beyond them wait in the client, and that wait counts in their latency). */
export function loadAgent(ca: Buffer): https.Agent {
  return new https.Agent({ keepAlive: true, maxSockets: 128, ca });
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

/**
 * The client the load runs use: "raw" (bench/lib/rawclient.ts, ~10× less of the generator's CPU
 * per request than Node's https client, which takes CPU from the webhook on this shared machine;
 * the default) or "node" (Node's https client, the bench's client before 2026-12-07 11:00 UTC).
 */
export type ClientKind = "raw" | "node";
export function clientKind(v: string): ClientKind {
  if (v !== "raw" && v !== "node") throw new Error(`--client is raw or node, not ${v}`);
  return v;
}

/** Sends the sample reviews to webhooks on 127.0.0.1 (one connection pool per port). */
export class ReviewSender {
  private readonly agent: https.Agent;
  private readonly raw = new Map<number, { client: RawClient; requests: Buffer[] }>();
  constructor(
    private readonly ca: Buffer,
    readonly kind: ClientKind,
  ) {
    this.agent = loadAgent(ca);
  }

  private rawFor(port: number): { client: RawClient; requests: Buffer[] } {
    let r = this.raw.get(port);
    if (!r) this.raw.set(port, (r = { client: new RawClient("127.0.0.1", port, this.ca, 128), requests: BODIES.map((b) => RawClient.request("127.0.0.1", port, "/v1/admit?timeout=3s", b)) }));
    return r;
  }

  /** Hold `n` open connections to port before a rate starts (raw client; Node's agent opens them as needed). */
  async preconnect(port: number, n: number): Promise<void> {
    if (this.kind === "raw" && n > 0) await this.rawFor(port).client.preconnect(n);
  }

  /** Sample review i (of BODIES) to 127.0.0.1:port/v1/admit?timeout=3s. */
  send(port: number, i: number): Promise<Answer> {
    const t = performance.now();
    if (this.kind === "raw") {
      const r = this.rawFor(port);
      return r.client.send(r.requests[i % r.requests.length]).then(
        (x) => ({ ms: performance.now() - t, ok: answered(x.status, x.body), text: `${x.status} ${x.body}` }),
        (e: Error) => ({ ms: performance.now() - t, ok: false, text: `error ${e.message}` }),
      );
    }
    const body = BODIES[i % BODIES.length];
    return new Promise((resolve) => {
      const req = https.request({ host: "127.0.0.1", port, path: "/v1/admit?timeout=3s", method: "POST", agent: this.agent, headers: { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) } }, (res) => {
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

  close(): void {
    this.agent.destroy();
    for (const r of this.raw.values()) r.client.close();
    this.raw.clear();
  }
}

/**
 * Connections the raw client holds open before each rate (more are opened when all are busy, up
 * to 128), as the API server keeps idle connections to a webhook and as wrk's -c does: their TLS
 * handshakes are not part of the measured seconds. (Measured on 2026-12-07: the first-second
 * backlog at 500 req/s after one-at-a-time traffic stayed with or without them, so handshakes
 * were not its cause; docs/gatekeeper-webhook.md, "Eighth session".)
 */
export const PRECONNECT = 32;

/** The load client against one webhook process (its pid for CPU and RSS, its port). */
export class LoadTarget {
  constructor(
    readonly sender: ReviewSender,
    readonly pid: number,
    readonly port: number,
  ) {}

  send(i: number): Promise<Answer> {
    return this.sender.send(this.port, i);
  }
  cpuSeconds(): number {
    return processCpuSeconds(this.pid);
  }
  mainCpuSeconds(): number {
    return mainThreadCpuSeconds(this.pid);
  }
  rssMiB(): number {
    return rssMiBOf(this.pid);
  }

  /** Every sample review once, one at a time: the answers' texts. */
  async answers(): Promise<string[]> {
    const out: string[] = [];
    for (let i = 0; i < BODIES.length; i++) out.push((await this.send(i)).text);
    return out;
  }

  /** Service time: every sample review, one request at a time. */
  async oneAtATime(): Promise<SingleResult> {
    const single: number[] = [];
    const cpu0 = this.cpuSeconds();
    const main0 = this.mainCpuSeconds();
    let errors = 0;
    for (let i = 0; i < BODIES.length; i++) {
      const a = await this.send(i);
      single.push(a.ms);
      if (!a.ok) errors++;
    }
    const cpuMsPerReview = ((this.cpuSeconds() - cpu0) * 1000) / BODIES.length;
    const mainCpuMsPerReview = ((this.mainCpuSeconds() - main0) * 1000) / BODIES.length;
    single.sort((a, b) => a - b);
    const q = (p: number) => single[Math.min(single.length - 1, Math.floor(p * single.length))];
    return { n: BODIES.length, errors, p50: q(0.5), p99: q(0.99), cpuMsPerReview, mainCpuMsPerReview, rss: this.rssMiB() };
  }

  /**
   * Open loop: rate × seconds requests, sent on schedule whatever the answers' pace. latencyLog:
   * a file for each request's `send offset ms, latency ms, ok` (to see whether a tail is a burst or a queue).
   */
  async run(rate: number, seconds: number, latencyLog?: string | null): Promise<RunResult> {
    await this.sender.preconnect(this.port, PRECONNECT);
    const total = Math.round(rate * seconds);
    const lat: number[] = [];
    const log: string[] | null = latencyLog ? [] : null;
    const genStart = process.cpuUsage();
    let errors = 0;
    let sent = 0;
    let done = 0;
    const rssStart = this.rssMiB();
    const cpuStart = this.cpuSeconds();
    const mainStart = this.mainCpuSeconds();
    let rssMax = rssStart;
    const rssTimer = setInterval(() => (rssMax = Math.max(rssMax, this.rssMiB())), 1000);
    const start = performance.now();
    await new Promise<void>((finish) => {
      const tick = () => {
        const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * rate));
        while (sent < due) {
          const i = sent++;
          const at = performance.now() - start;
          void this.send(i).then((r) => {
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
    if (log) fs.writeFileSync(latencyLog!, "send_ms,latency_ms,ok\n" + log.join("\n") + "\n");
    lat.sort((a, b) => a - b);
    const q = (p: number) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))];
    const cpuMsPerReview = ((this.cpuSeconds() - cpuStart) * 1000) / total;
    const mainCpuMsPerReview = ((this.mainCpuSeconds() - mainStart) * 1000) / total;
    const gen = process.cpuUsage(genStart);
    const generatorCpuMs = (gen.user + gen.system) / 1000 / total;
    return { generatorCpuMs, mainCpuMsPerReview, rate, achieved: total / wall, p50: q(0.5), p90: q(0.9), p99: q(0.99), max: lat[lat.length - 1], errors, sent: total, rssStart, rssEnd: this.rssMiB(), rssMax, cpuMsPerReview };
  }
}

/** The rates table's header and rows; `main` false leaves out the main thread's share (a Go process has no such split). */
export function rateHeader(main = true): string {
  return `rate req/s | achieved req/s | p50 ms | p90 ms | p99 ms | max ms | errors | webhook CPU ms/review${main ? " (main thread)" : ""} | generator CPU ms/request | RSS MiB start→end (max)`;
}
export function rateRow(r: RunResult, main = true): string {
  return `${r.rate} | ${r.achieved.toFixed(0)} | ${r.p50.toFixed(2)} | ${r.p90.toFixed(2)} | ${r.p99.toFixed(2)} | ${r.max.toFixed(1)} | ${r.errors}/${r.sent} | ${r.cpuMsPerReview.toFixed(2)}${main ? ` (${r.mainCpuMsPerReview.toFixed(2)})` : ""} | ${r.generatorCpuMs.toFixed(3)} | ${r.rssStart.toFixed(0)}→${r.rssEnd.toFixed(0)} (${r.rssMax.toFixed(0)})`;
}
export function singleLine(s: SingleResult, warmup: number, main = true): string {
  return `one at a time (${s.n} reviews, after ${warmup} of warm-up): p50 ${s.p50.toFixed(2)} ms, p99 ${s.p99.toFixed(2)} ms; webhook process CPU ${s.cpuMsPerReview.toFixed(2)} ms per review${main ? ` (main thread ${s.mainCpuMsPerReview.toFixed(2)})` : ""}${s.errors ? `; ${s.errors} errors` : ""}`;
}
export function loadAverage(): string {
  return os.loadavg().map((x) => x.toFixed(2)).join(" ");
}

export interface PortcullisWebhook {
  child: ChildProcess;
  port: number;
  metricsPort: number;
  startupSeconds: number;
}

/**
 * Start `portcullis controller --operation=webhook --policy-dir POLICY --cert-dir CERTS` (cliArgs:
 * the CLI's entry, e.g. [bin/portcullis.js]) on two free ports; resolves once the webhook port
 * opens (after the initial sync: every worker holds the snapshot), exits the bench when it does not
 * within 120 s. The child is sent SIGTERM when the bench exits.
 */
export async function startPortcullisWebhook(o: { cliArgs: string[]; policy: string; certs: string; threads: string; profile?: string | null }): Promise<PortcullisWebhook> {
  const port = await freePort();
  const metricsPort = await freePort();
  const child = spawn(
    process.execPath,
    [...(o.profile ? ["--cpu-prof", `--cpu-prof-dir=${o.profile}`] : []), ...o.cliArgs, "controller", "--operation=webhook", "--policy-dir", o.policy, "--cert-dir", o.certs, "--port", String(port), "--host", "127.0.0.1", "--metrics-addr", `127.0.0.1:${metricsPort}`, "--health-addr", "0", "--max-serving-threads", o.threads, "--log-level", "WARNING"],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let log = "";
  child.stderr!.on("data", (c) => (log += c));
  process.on("exit", () => child.exitCode === null && child.kill("SIGTERM"));
  const t0 = Date.now();
  if (!(await waitForPort(port, child, 120_000))) {
    console.error(`the webhook did not start:\n${log}`);
    process.exit(1);
  }
  return { child, port, metricsPort, startupSeconds: (Date.now() - t0) / 1000 };
}

/** GET http://127.0.0.1:port/path's body ("" when it cannot be read). */
export function httpGet(port: number, p: string): Promise<string> {
  return new Promise((resolve) => {
    const req = http.get({ host: "127.0.0.1", port, path: p, timeout: 5000 }, (res) => {
      let t = "";
      res.on("data", (c) => (t += c));
      res.on("end", () => resolve(t));
    });
    req.on("timeout", () => req.destroy());
    req.on("error", () => resolve(""));
  });
}

/** Active templates and constraints from Gatekeeper's metrics (both webhooks export them). */
export function activeCounts(metricsText: string): { templates: number; constraints: number } {
  const templates = Number(/gatekeeper_constraint_templates\{status="active"\} (\d+)/.exec(metricsText)?.[1] ?? NaN);
  const constraints = (metricsText.match(/gatekeeper_constraints\{enforcement_action="[a-z]+",status="active"\} (\d+)/g) ?? []).map((l) => Number(l.split(" ")[1])).reduce((a, b) => a + b, 0);
  return { templates, constraints };
}
