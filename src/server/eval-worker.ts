// An evaluation worker of `portcullis run --server` (src/server/pool.ts): keeps a Replica of the
// server's policies and data, applies every change in the order the main thread sent it, and
// answers evaluations. Evaluations run here, off the main thread, so the server keeps answering
// (health, metrics, other requests) while a long one runs.
import { parentPort, workerData } from "node:worker_threads";
import { Replica, type EvalReply, type EvalRequest, type ReplicaConfig, type StateUpdate } from "./replica.ts";

type Message = { t: "update"; state: StateUpdate } | { t: "eval"; id: number; req: EvalRequest; flag: number };

/** `flags`: cancel flags shared with the main thread, one per evaluation (index `flag`). */
const { config, state, flags } = workerData as { config: ReplicaConfig; state: StateUpdate; flags: Int32Array };
const replica = new Replica(config);
let startError: string | null = null;
try {
  replica.apply(state);
} catch (e) {
  startError = e instanceof Error ? e.message : String(e);
}

const port = parentPort!;
port.on("message", (m: Message) => {
  if (m.t === "update") {
    try {
      replica.apply(m.state);
      startError = null;
    } catch (e) {
      // The main thread applied the same change successfully: a difference here is a bug.
      startError = e instanceof Error ? e.message : String(e);
    }
    return;
  }
  if (startError !== null) {
    const reply: EvalReply = { ok: false, stage: "eval", errors: [{ code: "eval_internal_error", message: `internal error: evaluation worker out of step: ${startError}` }] };
    port.postMessage({ id: m.id, reply });
    return;
  }
  const out = replica.evaluate(m.req, new Int32Array(flags.buffer, m.flag * 4, 1));
  if (out instanceof Promise) void out.then((reply) => port.postMessage({ id: m.id, reply }));
  else port.postMessage({ id: m.id, reply: out });
});
port.postMessage({ ready: true });
