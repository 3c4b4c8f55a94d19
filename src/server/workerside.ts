// The worker side of WorkerPool (workerpool.ts): build the state from workerData, apply updates
// in the order they arrive, answer requests, post events.
import { parentPort, workerData } from "node:worker_threads";

export interface WorkerHandler<Req, Reply, Update> {
  update(u: Update): void;
  run(req: Req, flag: Int32Array): Reply | Promise<Reply>;
}

/**
 * Serve a pool's messages. `init` gets workerData (with `flags`, the shared cancel flags) and a
 * function that posts an event to the main thread.
 */
export function serveWorker<Req, Reply, Update>(init: (data: Record<string, unknown>, emit: (event: unknown) => void) => WorkerHandler<Req, Reply, Update>): void {
  const port = parentPort!;
  const data = workerData as Record<string, unknown> & { flags: Int32Array };
  const handler = init(data, (event) => port.postMessage({ event }));
  type Job = { id: number; req: Req; flag: number };
  type Answer = { id: number; reply?: Reply; error?: string };
  // Replies of requests that settle later (a Promise) are sent together: at once when no other
  // request is still running (the requests of a batch that need no I/O settle together, right
  // after it), else at the end of this turn of the event loop. A message costs a wake-up of the
  // main thread whatever its size.
  let later: Answer[] = [];
  let running = 0;
  let flushScheduled = false;
  const flushLater = () => {
    flushScheduled = false;
    if (later.length === 0) return;
    const rs = later;
    later = [];
    if (rs.length === 1) port.postMessage(rs[0]);
    else port.postMessage({ replies: rs });
  };
  const settled = (r: Answer) => {
    running--;
    later.push(r);
    if (running === 0) flushLater();
    else if (!flushScheduled) {
      flushScheduled = true;
      setImmediate(flushLater);
    }
  };
  /** Answers one request: synchronously (the reply) or later (sent when it settles). */
  const one = (m: Job): Answer | undefined => {
    // A handler that throws is a bug: the request fails with the error's text (never hangs).
    const fail = (e: unknown) => ({ id: m.id, error: e instanceof Error ? e.message : String(e) });
    try {
      const out = handler.run(m.req, new Int32Array(data.flags.buffer, m.flag * 4, 1));
      if (!(out instanceof Promise)) return { id: m.id, reply: out };
      running++;
      void out.then(
        (reply) => settled({ id: m.id, reply }),
        (e) => settled(fail(e)),
      );
      return undefined;
    } catch (e) {
      return fail(e);
    }
  };
  port.on("message", (m: { t: "update"; state: Update } | ({ t: "run" } & Job) | { t: "runs"; jobs: Job[] }) => {
    if (m.t === "update") return handler.update(m.state);
    if (m.t === "run") {
      const r = one(m);
      if (r) port.postMessage(r);
      return;
    }
    // a batch: the synchronous answers go back together
    const replies: { id: number; reply?: Reply; error?: string }[] = [];
    for (const j of m.jobs) {
      const r = one(j);
      if (r) replies.push(r);
    }
    if (replies.length > 0) port.postMessage({ replies });
  });
  port.postMessage({ ready: true });
}
