// An evaluation worker of `portcullis run --server` (src/server/pool.ts): keeps a Replica of the
// server's policies and data, applies every change in the order the main thread sent it, and
// answers evaluations. Evaluations run here, off the main thread, so the server keeps answering
// (health, metrics, other requests) while a long one runs.
import { Replica, type EvalReply, type EvalRequest, type ReplicaConfig, type StateUpdate } from "./replica.ts";
import { serveWorker } from "./workerside.ts";

serveWorker<EvalRequest, EvalReply, StateUpdate>((data) => {
  const replica = new Replica(data.config as ReplicaConfig);
  let startError: string | null = null;
  try {
    replica.apply(data.state as StateUpdate);
  } catch (e) {
    startError = e instanceof Error ? e.message : String(e);
  }
  return {
    update(u) {
      try {
        replica.apply(u);
        startError = null;
      } catch (e) {
        // The main thread applied the same change successfully: a difference here is a bug.
        startError = e instanceof Error ? e.message : String(e);
      }
    },
    run(req, flag) {
      if (startError !== null) return { ok: false, stage: "eval", errors: [{ code: "eval_internal_error", message: `internal error: evaluation worker out of step: ${startError}` }] };
      return replica.evaluate(req, flag);
    },
  };
});
