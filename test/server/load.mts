// A load run (not part of `npm test`): POST /v1/data/k8s/requiredlabels/violation at fixed rates
// to `portcullis run --server` and, when installed, to `opa run --server`, each its own process on
// the same gatekeeper-style policy, both started once and warmed up (5 s at the highest rate).
// Then, for each round and each rate, the two servers are loaded one after the other (the order
// alternates between rounds), so both see the same machine. For each run: achieved rate, latency
// percentiles, errors, and the server process's CPU time per request (user + system of all its
// threads, from /proc/PID/stat: wall time is meaningless on a shared machine), with the load average.
//   node --import tsx test/server/load.mts [rates=250,500,1000] [seconds=10] [rounds=3]
//   WORKERS=2 (portcullis --eval-workers); JSON=file writes the rows as JSON too
import http from "node:http";
import { readFileSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { spawn, type ChildProcess } from "node:child_process";
import { HAVE_OPA, OPA, freePort } from "./harness.ts";
import { SOURCE_CLI } from "../cli/portcullis-src.ts";

const POLICY = fileURLToPath(new URL("./fixtures/load/", import.meta.url));
const rates = (process.argv[2] ?? "250,500,1000").split(",").map(Number);
const seconds = Number(process.argv[3] ?? 10);
const rounds = Number(process.argv[4] ?? 3);
const CLK_TCK = 100; // Linux's USER_HZ for /proc/PID/stat on every architecture Node runs on

const body = (i: number) =>
  JSON.stringify({
    input: {
      review: { object: { metadata: { name: `pod-${i}`, labels: i % 3 === 0 ? { owner: "me.example.com" } : { owner: "nobody", team: "x" } } } },
      parameters: { labels: [{ key: "owner", allowedRegex: "^[a-zA-Z]+\\.example\\.com$" }, { key: "team", allowedRegex: "" }] },
    },
  });

interface Server {
  name: string;
  base: string;
  child: ChildProcess;
}

/** utime + stime of a process (all its threads), in milliseconds. */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return ((Number(f[11]) + Number(f[12])) * 1000) / CLK_TCK;
}

interface Row {
  server: string;
  round: number;
  rate: number;
  achieved: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  errors: number;
  cpuUsPerReq: number;
  load1: number;
}

async function load(s: Server, rate: number, secs: number): Promise<Omit<Row, "server" | "round" | "rate" | "load1">> {
  const url = new URL(`${s.base}/v1/data/k8s/requiredlabels/violation`);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const lat: number[] = [];
  let errors = 0;
  let sent = 0;
  const total = rate * secs;
  const cpu0 = cpuMs(s.child.pid!);
  const start = performance.now();
  await new Promise<void>((done) => {
    let finished = 0;
    const tick = () => {
      const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * rate));
      while (sent < due) {
        const i = sent++;
        const t0 = performance.now();
        const req = http.request(url, { method: "POST", agent, headers: { "Content-Type": "application/json" } }, (res) => {
          res.resume();
          res.on("end", () => {
            if (res.statusCode !== 200) errors++;
            lat.push(performance.now() - t0);
            if (++finished === total) done();
          });
        });
        req.on("error", () => {
          errors++;
          if (++finished === total) done();
        });
        req.end(body(i));
      }
      if (sent < total) setTimeout(tick, 1);
    };
    tick();
  });
  const wall = (performance.now() - start) / 1000;
  const cpu = cpuMs(s.child.pid!) - cpu0;
  agent.destroy();
  lat.sort((a, b) => a - b);
  const p = (q: number) => Number((lat[Math.min(lat.length - 1, Math.floor(q * lat.length))] ?? NaN).toFixed(1));
  return { achieved: Math.round(total / wall), p50: p(0.5), p90: p(0.9), p99: p(0.99), max: p(1), errors, cpuUsPerReq: Math.round((cpu * 1000) / total) };
}

async function start(name: string, cmd: string, args: string[]): Promise<Server> {
  const port = await freePort();
  const child = spawn(cmd, [...args.map((a) => a.replace("PORT", String(port)))], { stdio: "ignore" });
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 600; i++) {
    try {
      if ((await fetch(`${base}/health`)).status === 200) return { name, base, child };
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  child.kill("SIGTERM");
  throw new Error(`${name} did not start`);
}

const servers: Server[] = [await start("portcullis", process.execPath, [...SOURCE_CLI, "run", "--server", "--addr", "127.0.0.1:PORT", "--log-level", "error", "--eval-workers", process.env.WORKERS ?? "2", POLICY])];
if (HAVE_OPA) servers.push(await start("opa", OPA, ["run", "--server", "--addr", "127.0.0.1:PORT", "--log-level", "error", POLICY]));
const rows: Row[] = [];
try {
  for (const s of servers) await load(s, Math.max(...rates), 5);
  for (let round = 1; round <= rounds; round++) {
    for (const rate of rates) {
      const order = round % 2 === 1 ? servers : [...servers].reverse();
      for (const s of order) {
        const r: Row = { server: s.name, round, rate, ...(await load(s, rate, seconds)), load1: Number(loadavg()[0].toFixed(2)) };
        rows.push(r);
        console.log(`round ${round} ${s.name.padEnd(10)} ${String(rate).padStart(5)}/s: achieved ${r.achieved}/s, p50 ${r.p50} ms, p90 ${r.p90} ms, p99 ${r.p99} ms, max ${r.max} ms, errors ${r.errors}, CPU ${r.cpuUsPerReq} µs/request, load ${r.load1}`);
      }
    }
  }
} finally {
  for (const s of servers) {
    s.child.kill("SIGTERM");
    await new Promise((r) => s.child.once("exit", r));
  }
}
if (process.env.JSON) writeFileSync(process.env.JSON, JSON.stringify(rows, null, 1));
