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
  port.on("message", (m: { t: "update"; state: Update } | { t: "run"; id: number; req: Req; flag: number }) => {
    if (m.t === "update") return handler.update(m.state);
    // A handler that throws is a bug: the request fails with the error's text (never hangs).
    const fail = (e: unknown) => port.postMessage({ id: m.id, error: e instanceof Error ? e.message : String(e) });
    try {
      const out = handler.run(m.req, new Int32Array(data.flags.buffer, m.flag * 4, 1));
      if (out instanceof Promise) void out.then((reply) => port.postMessage({ id: m.id, reply }), fail);
      else port.postMessage({ id: m.id, reply: out });
    } catch (e) {
      fail(e);
    }
  });
  port.postMessage({ ready: true });
}
