// Evaluation off the main thread for `portcullis run --server`: a WorkerPool (workerpool.ts)
// whose workers each hold a Replica of the policies and data. The main thread validates and
// applies every write first, then sends the change to every worker; messages to a worker arrive
// in order, so an evaluation sent after a write always sees it, and each evaluation runs on one
// immutable engine snapshot.
//
// Every evaluation has a deadline, enforced in the worker by the engine (eval_cancel_error). A
// worker that does not answer within the deadline plus a grace period (a builtin that never
// checks for cancellation) is terminated and replaced, and its evaluations fail with an
// internal error: the main thread never waits without bound.
//
// With `size: 0` evaluations run on the main thread (embedding, small tests): the same code
// path, without the isolation.

import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { PACKAGE_ROOT } from "../package.ts";
import { Replica, type EvalReply, type EvalRequest, type ReplicaConfig, type StateUpdate } from "./replica.ts";
import { WorkerPool, type CancelToken } from "./workerpool.ts";

export type { CancelToken };

/** A worker module: the .mjs shim beside the sources (tests, tsx), or the bundled file in dist/. */
export function workerModule(shim: string, bundled: string, from: string): URL {
  if (from.endsWith(".ts")) return new URL(shim, from);
  return pathToFileURL(join(PACKAGE_ROOT, "dist", bundled));
}

export class EvalPool {
  readonly size: number;
  private readonly pool: WorkerPool<EvalRequest, EvalReply, StateUpdate>;
  private readonly state: { policies: StateUpdate["policies"]; data: string };

  private constructor(pool: WorkerPool<EvalRequest, EvalReply, StateUpdate>, state: { policies: StateUpdate["policies"]; data: string }) {
    this.pool = pool;
    this.size = pool.size;
    this.state = state;
  }

  /** Workers replaced after missing a deadline (for /metrics and tests). */
  get replaced(): number {
    return this.pool.replaced;
  }

  /** Start the workers with the initial state (already validated by the caller). */
  static async start(size: number, config: ReplicaConfig, initial: { policies: StateUpdate["policies"]; data: string }): Promise<EvalPool> {
    const state = { ...initial };
    const pool = await WorkerPool.start<EvalRequest, EvalReply, StateUpdate>(size, {
      file: workerModule("./eval-worker.mjs", "server/eval-worker.js", import.meta.url),
      // A replacement worker starts from the state as it is now.
      workerData: () => ({ config, state: { policies: state.policies, data: state.data } }),
      failed: (message) => ({ ok: false, stage: "eval", errors: [{ code: "eval_internal_error", message: `internal error: evaluation ${message}` }] }),
      local: () => {
        const replica = new Replica(config);
        replica.apply(initial);
        return { update: (u) => replica.apply(u), run: (req, flag) => replica.evaluate(req, flag) };
      },
    });
    return new EvalPool(pool, state);
  }

  /** Send an accepted change to every worker (in order with the evaluations sent around it). */
  update(u: StateUpdate): void {
    if (u.policies !== undefined) this.state.policies = u.policies;
    if (u.data !== undefined) this.state.data = u.data;
    // dataValue is the main thread's parsed copy: only a local replica can use it.
    this.pool.update(this.size === 0 ? u : { policies: u.policies, data: u.data });
  }

  /** Evaluate on the least busy worker; `cancel` (the client went away) stops it. */
  eval(req: EvalRequest, cancel?: CancelToken): Promise<EvalReply> {
    return this.pool.run(req, req.deadline, cancel);
  }

  /** Evaluations in flight (all workers). */
  pending(): number {
    return this.pool.pending();
  }

  async close(): Promise<void> {
    await this.pool.close();
  }
}
