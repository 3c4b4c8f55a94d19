// A trivial HTTPS admission webhook for bench/webhook-floor.ts: it answers every AdmissionReview
// `allowed: true` after JSON-parsing the body and running a busy loop of a fixed length, so the
// bench can measure what this machine gives ANY Node webhook (TLS, HTTP, thread hand-offs, the
// kernel's and the hypervisor's wake-ups, the load generator on the same CPUs) at a given amount of
// work per review, apart from what Portcullis's evaluation costs.
//
//   node --import tsx bench/lib/floor-server.ts --port P --certs DIR [--mode worker|inline|cluster]
//        [--work POD_MS,OTHER_MS] [--threads N]
//
// Modes:
//   worker  — as the webhook is built: the main thread does TLS and HTTP and hands the body to one
//             of N worker threads (the first with fewer than 2 reviews in flight, else the least
//             busy: the webhook's packed dispatch), which parses, works and replies by message;
//   inline  — everything on the main thread (what a webhook that blocks its event loop would get);
//   cluster — N child processes sharing the port (node:cluster), each serving inline: no hand-off
//             between threads per request, at the price of a process per core.
import * as cluster from "node:cluster";
import * as fs from "node:fs";
import * as https from "node:https";
import { Worker } from "node:worker_threads";
import { flag } from "./args.ts";

const PORT = Number(flag("port", "0"));
const CERTS = flag("certs", "");
const MODE = flag("mode", "worker");
const [POD_MS, OTHER_MS] = flag("work", "0,0").split(",").map(Number);
const THREADS = Number(flag("threads", "2"));
if (!PORT || !CERTS || !["worker", "inline", "cluster"].includes(MODE) || !(POD_MS >= 0) || !(OTHER_MS >= 0) || !(THREADS >= 1)) {
  console.error("usage: floor-server.ts --port P --certs DIR [--mode worker|inline|cluster] [--work POD_MS,OTHER_MS] [--threads N]");
  process.exit(2);
}

// The review's work, shared with the worker threads as source text (they run it from a string).
const WORK_SOURCE = `
const spin = (ms) => { const end = performance.now() + ms; while (performance.now() < end); };
const review = (body) => {
  const r = JSON.parse(body);
  spin(r.request.kind.kind === "Pod" ? ${POD_MS} : ${OTHER_MS});
  return JSON.stringify({ apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", response: { uid: r.request.uid, allowed: true } });
};`;
const review = new Function(`${WORK_SOURCE}; return review;`)() as (body: string) => string;

function serve(handle: (body: string, reply: (answer: string) => void) => void): void {
  https
    .createServer({ cert: fs.readFileSync(`${CERTS}/tls.crt`), key: fs.readFileSync(`${CERTS}/tls.key`) }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () =>
        handle(Buffer.concat(chunks).toString(), (answer) => {
          res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(answer) });
          res.end(answer);
        }),
      );
    })
    .listen(PORT, "127.0.0.1");
}

const primary = (cluster as unknown as { default?: typeof cluster }).default ?? cluster;
if (MODE === "cluster") {
  if (primary.isPrimary) for (let i = 0; i < THREADS; i++) primary.fork();
  else serve((body, reply) => reply(review(body)));
} else if (MODE === "inline") {
  serve((body, reply) => reply(review(body)));
} else {
  const workers: Worker[] = [];
  const inFlight: number[] = [];
  const pending = new Map<number, (answer: string) => void>();
  let seq = 0;
  for (let i = 0; i < THREADS; i++) {
    const w = new Worker(`${WORK_SOURCE}\nconst { parentPort } = require("node:worker_threads");\nparentPort.on("message", ([id, body]) => parentPort.postMessage([id, review(body)]));`, { eval: true });
    w.on("message", ([id, answer]: [number, string]) => {
      inFlight[i]--;
      const reply = pending.get(id)!;
      pending.delete(id);
      reply(answer);
    });
    workers.push(w);
    inFlight.push(0);
  }
  serve((body, reply) => {
    let k = inFlight.findIndex((n) => n < 2);
    if (k < 0) k = inFlight.indexOf(Math.min(...inFlight));
    const id = seq++;
    pending.set(id, reply);
    inFlight[k]++;
    workers[k].postMessage([id, body]);
  });
}
