// A load run (not part of `npm test`): POST /v1/data/k8s/requiredlabels/violation at a fixed rate
// to `portcullis run --server` and, when installed, to `opa run --server`, started on the same
// gatekeeper-style policy, each as its own process, after a 5 s warm-up; prints the latency percentiles and the errors of each, side by side.
//   node --import tsx test/server/load.mts [rate=1000] [seconds=10]
import http from "node:http";
import { fileURLToPath } from "node:url";
import { spawn } from "node:child_process";
import { HAVE_OPA, freePort, startOPA, type Started } from "./harness.ts";
import { SOURCE_CLI } from "../cli/portcullis-src.ts";

const POLICY = fileURLToPath(new URL("./fixtures/load/", import.meta.url));
const rate = Number(process.argv[2] ?? 1000);
const seconds = Number(process.argv[3] ?? 10);
let rateNow = rate;
let secondsNow = seconds;

const body = (i: number) =>
  JSON.stringify({
    input: {
      review: { object: { metadata: { name: `pod-${i}`, labels: i % 3 === 0 ? { owner: "me.example.com" } : { owner: "nobody", team: "x" } } } },
      parameters: { labels: [{ key: "owner", allowedRegex: "^[a-zA-Z]+\\.example\\.com$" }, { key: "team", allowedRegex: "" }] },
    },
  });

async function load(target: Started): Promise<string> {
  const url = new URL(`${target.base}/v1/data/k8s/requiredlabels/violation`);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const lat: number[] = [];
  let errors = 0;
  let sent = 0;
  const total = rateNow * secondsNow;
  const start = performance.now();
  await new Promise<void>((done) => {
    let finished = 0;
    const tick = () => {
      const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * rateNow));
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
  agent.destroy();
  lat.sort((a, b) => a - b);
  const p = (q: number) => (lat[Math.min(lat.length - 1, Math.floor(q * lat.length))] ?? NaN).toFixed(1);
  return `${total} requests in ${wall.toFixed(1)} s (${(total / wall).toFixed(0)}/s): p50 ${p(0.5)} ms, p90 ${p(0.9)} ms, p99 ${p(0.99)} ms, max ${p(1)} ms, errors ${errors}`;
}

/** portcullis run --server as its own process (as OPA is), so the load generator does not share its event loop. */
async function startPortcullisProcess(paths: string[], workers: number): Promise<Started> {
  const port = await freePort();
  const child = spawn(process.execPath, [...SOURCE_CLI, "run", "--server", "--addr", `127.0.0.1:${port}`, "--log-level", "error", "--eval-workers", String(workers), ...paths], { stdio: "ignore" });
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 600; i++) {
    try {
      if ((await fetch(`${base}/health`)).status === 200) break;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return { base, stop: async () => void (child.kill("SIGTERM"), await new Promise((r) => child.once("exit", r))) };
}

/** A short run at the same rate first, not measured (JIT warm-up, connections). */
async function warm(t: Started): Promise<void> {
  const saved = [rateNow, secondsNow];
  [rateNow, secondsNow] = [rate, 5];
  await load(t);
  [rateNow, secondsNow] = saved;
}

const pc = await startPortcullisProcess([POLICY], Number(process.env.WORKERS ?? 2));
try {
  await warm(pc);
  console.log(`portcullis: ${await load(pc)}`);
} finally {
  await pc.stop();
}
if (HAVE_OPA) {
  const opa = await startOPA([POLICY]);
  try {
    await warm(opa);
    console.log(`opa:        ${await load(opa)}`);
  } finally {
    await opa.stop();
  }
}
