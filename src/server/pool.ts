// Evaluation off the main thread: a fixed set of worker threads, each holding a Replica of the
// policies and data. The main thread validates and applies every write first, then sends the
// change to every worker; messages to a worker arrive in order, so an evaluation sent after a
// write always sees it, and each evaluation runs on one immutable engine snapshot.
//
// Every evaluation has a deadline, enforced in the worker by the engine (eval_cancel_error). A
// worker that does not answer within the deadline plus a grace period (a builtin that never
// checks for cancellation) is terminated and replaced, and its evaluations fail with an
// internal error: the main thread never waits without bound.
//
// With `size: 0` evaluations run on the main thread (embedding, small tests): the same code
// path, without the isolation.

import { Worker } from "node:worker_threads";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { PACKAGE_ROOT } from "../package.ts";
import { Replica, type EvalReply, type EvalRequest, type ReplicaConfig, type StateUpdate } from "./replica.ts";

/** How long after its deadline a worker may stay silent before it is replaced. */
const GRACE_MS = 2000;

interface Job {
  id: number;
  resolve: (r: EvalReply) => void;
  timer: ReturnType<typeof setTimeout> | undefined;
}

interface Slot {
  worker: Worker;
  jobs: Map<number, Job>;
  ready: Promise<void>;
  /** Cancel flags shared with the worker, one per job (index: job id modulo FLAGS). */
  flags: Int32Array;
}

/** Cancel flags per worker: more than the evaluations one worker ever has in flight. */
const FLAGS = 65536;

/** Something that can be cancelled (the client went away): hooks run once, on cancel. */
export interface CancelToken {
  cancelled: boolean;
  hooks: (() => void)[];
}

function workerFile(): URL {
  if (import.meta.url.endsWith(".ts")) return new URL("./eval-worker.mjs", import.meta.url);
  return pathToFileURL(join(PACKAGE_ROOT, "dist", "server", "eval-worker.js"));
}

export class EvalPool {
  readonly size: number;
  private readonly config: ReplicaConfig;
  private readonly slots: Slot[] = [];
  private local: Replica | null = null;
  private state: { policies: StateUpdate["policies"]; data: string };
  private seq = 0;
  private closed = false;
  /** Workers replaced after missing a deadline (for /metrics and tests). */
  replaced = 0;

  private constructor(size: number, config: ReplicaConfig, state: { policies: StateUpdate["policies"]; data: string }) {
    this.size = size;
    this.config = config;
    this.state = state;
  }

  /** Start the workers with the initial state (already validated by the caller). */
  static async start(size: number, config: ReplicaConfig, initial: { policies: StateUpdate["policies"]; data: string }): Promise<EvalPool> {
    const pool = new EvalPool(size, config, initial);
    if (size === 0) {
      pool.local = new Replica(config);
      pool.local.apply(initial);
      return pool;
    }
    for (let i = 0; i < size; i++) pool.slots.push(pool.spawn());
    await Promise.all(pool.slots.map((s) => s.ready));
    return pool;
  }

  private spawn(): Slot {
    const flags = new Int32Array(new SharedArrayBuffer(4 * FLAGS));
    const worker = new Worker(workerFile(), { workerData: { config: this.config, state: this.state, flags } });
    const slot: Slot = { worker, jobs: new Map(), ready: Promise.resolve(), flags };
    slot.ready = new Promise((resolve, reject) => {
      const onMessage = (m: { ready?: boolean; id?: number; reply?: EvalReply }) => {
        if (m.ready) {
          resolve();
          return;
        }
        const job = slot.jobs.get(m.id!);
        if (!job) return;
        slot.jobs.delete(job.id);
        if (job.timer) clearTimeout(job.timer);
        job.resolve(m.reply!);
      };
      worker.on("message", onMessage);
      worker.on("error", (e: Error) => {
        reject(e);
        this.fail(slot, `evaluation worker failed: ${e.message}`);
      });
      worker.on("exit", () => this.fail(slot, "evaluation worker exited"));
    });
    return slot;
  }

  /** Fail the jobs of a dead worker and put a new one in its place. */
  private fail(slot: Slot, message: string): void {
    const i = this.slots.indexOf(slot);
    if (i < 0) return;
    for (const job of slot.jobs.values()) {
      if (job.timer) clearTimeout(job.timer);
      job.resolve({ ok: false, stage: "eval", errors: [{ code: "eval_internal_error", message: `internal error: ${message}` }] });
    }
    slot.jobs.clear();
    if (this.closed) {
      this.slots.splice(i, 1);
      return;
    }
    this.replaced++;
    this.slots[i] = this.spawn();
    this.slots[i].ready.catch(() => undefined);
  }

  /** Send an accepted change to every worker (in order with the evaluations sent around it). */
  update(u: StateUpdate): void {
    if (u.policies !== undefined) this.state.policies = u.policies;
    if (u.data !== undefined) this.state.data = u.data;
    const msg = { t: "update", state: { policies: u.policies, data: u.data } };
    if (this.local) {
      this.local.apply({ policies: u.policies, data: u.data, dataValue: u.dataValue });
      return;
    }
    for (const s of this.slots) s.worker.postMessage(msg);
  }

  /** Evaluate on the least busy worker; `cancel` (the client went away) stops it. */
  eval(req: EvalRequest, cancel?: CancelToken): Promise<EvalReply> {
    if (this.local) {
      const flag = new Int32Array(1);
      if (cancel) cancel.hooks.push(() => (flag[0] = 1));
      const r = this.local.evaluate(req, flag);
      return r instanceof Promise ? r : Promise.resolve(r);
    }
    let slot = this.slots[0];
    for (const s of this.slots) if (s.jobs.size < slot.jobs.size) slot = s;
    const id = ++this.seq;
    const flag = id % FLAGS;
    Atomics.store(slot.flags, flag, 0);
    return new Promise<EvalReply>((resolve) => {
      const job: Job = { id, resolve, timer: undefined };
      if (req.deadline !== undefined) {
        job.timer = setTimeout(() => {
          // The engine stops at the deadline by itself; a worker still silent now is stuck.
          if (slot.jobs.has(id)) {
            Atomics.store(slot.flags, flag, 1);
            void slot.worker.terminate();
          }
        }, Math.max(0, req.deadline - Date.now()) + GRACE_MS);
        job.timer.unref?.();
      }
      if (cancel) {
        if (cancel.cancelled) Atomics.store(slot.flags, flag, 1);
        else cancel.hooks.push(() => slot.jobs.has(id) && Atomics.store(slot.flags, flag, 1));
      }
      slot.jobs.set(id, job);
      slot.worker.postMessage({ t: "eval", id, req, flag });
    });
  }

  /** Evaluations in flight (all workers). */
  pending(): number {
    let n = 0;
    for (const s of this.slots) n += s.jobs.size;
    return n;
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}
