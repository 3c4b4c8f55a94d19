// A fixed set of worker threads that each hold a copy of some state and answer requests
// against it: the one pool implementation of the servers (the policy server's EvalPool, the
// admission webhook's pool).
//
// - State changes are sent to every worker (`update`); messages to a worker arrive in order, so a
//   request sent after an update is answered on the new state, and one sent before on the old.
// - A request goes to the least busy worker (or, packed, to the first with room: PoolSpec.packBelow)
//   with its deadline and a cancel flag (an Int32Array slot on a SharedArrayBuffer the worker reads). A worker silent past the deadline plus a grace
//   period (stuck in something that never checks for cancellation) is terminated and replaced
//   with a fresh one started from the current state; its requests get `failed(message)`.
// - Requests are sent in batches: a request for an idle worker is sent at once, those for a busy
//   worker during one turn of the event loop go in one message at the end of it (setImmediate),
//   and the worker answers the synchronous ones of a batch in one message. Under load several requests arrive per turn, and a message
//   costs a thread wake-up and a serialisation whatever its size (measured: docs/server.md, "Load").
// - Workers may post events (`{event}`) to the main thread, handed to `onEvent`.
// - With `size: 0` requests run on the calling thread (embedding, small tests).
//
// The worker side is `serveWorker` (workerside.ts).
//
// Why not piscina: piscina is a task queue over interchangeable workers, and this pool is a set
// of replicas. Each worker holds a copy of the policies and data, and a change must reach every
// worker, in order with the requests around it (a read sent after a write sees the write): piscina
// has no broadcast, and a message sent to its workers beside its queue is not ordered with the
// tasks. A worker stuck past its deadline must be replaced by one started from the state as it is
// *now*; piscina restarts workers from the `workerData` given at construction. Cancellation here is
// first cooperative (a flag in a SharedArrayBuffer the engine polls, so a client that goes away
// stops its evaluation without killing the worker) and only then termination; piscina's abort
// terminates the worker at once, losing its replica (a recompile of every policy). And requests
// are batched per turn of the event loop (above), which piscina does not do. What is left — pick the
// least busy worker, a map of pending requests, a timer per request — is the ~200 lines below.

import { Worker } from "node:worker_threads";

/** How long after its deadline a worker may stay silent before it is replaced. */
export const GRACE_MS = 2000;
/** Cancel flags per worker: more than the requests one worker ever has in flight. */
const FLAGS = 65536;
/** The most requests sent to a worker in one message (the worker answers a batch at once). */
export const BATCH = 16;

/** Something that can be cancelled (the client went away): hooks run once, on cancel. */
export interface CancelToken {
  cancelled: boolean;
  hooks: (() => void)[];
}

export interface LocalWorker<Req, Reply, Update> {
  update(u: Update): void;
  run(req: Req, flag: Int32Array): Reply | Promise<Reply>;
}

export interface PoolSpec<Req, Reply, Update> {
  /** The worker's entry module. */
  file: URL;
  /** workerData for a new worker: the current state (the pool adds `flags`). */
  workerData(): Record<string, unknown>;
  /** The reply of a request whose worker died or was replaced. */
  failed(message: string): Reply;
  /** For size 0: run on this thread. */
  local?: () => LocalWorker<Req, Reply, Update>;
  /** Events posted by workers. */
  onEvent?: (event: unknown) => void;
  /**
   * Packed dispatch: a request goes to the first worker (in pool order) with fewer than this many
   * requests in flight, and to the least busy one only when every worker has that many. Unset: the
   * least busy worker (ties to the first). Packing keeps the work on as few threads as the load
   * needs, so a worker's caches stay warm: on a 2-CPU machine an admission review after the
   * thread did other work costs ~2× one right after another review (docs/gatekeeper-webhook.md).
   */
  packBelow?: number;
}

interface Job<Reply> {
  id: number;
  resolve: (r: Reply) => void;
  timer: ReturnType<typeof setTimeout> | undefined;
}

interface Slot<Reply> {
  worker: Worker;
  jobs: Map<number, Job<Reply>>;
  ready: Promise<void>;
  flags: Int32Array;
  /** Requests of this turn of the event loop not yet sent. */
  outbox: { id: number; req: unknown; flag: number }[];
  /** When it was last given a request (performance.now()). */
  lastRun: number;
}

/** Packed dispatch: an idle worker unused for this long gets the next request (PoolSpec.packBelow). */
export const KEEP_WARM_MS = 100;

export class WorkerPool<Req, Reply, Update> {
  readonly size: number;
  private readonly spec: PoolSpec<Req, Reply, Update>;
  private readonly slots: Slot<Reply>[] = [];
  private local: LocalWorker<Req, Reply, Update> | null = null;
  private seq = 0;
  private closed = false;
  private flushScheduled = false;
  /** Workers replaced after missing a deadline or dying (for /metrics and tests). */
  replaced = 0;

  private constructor(size: number, spec: PoolSpec<Req, Reply, Update>) {
    this.size = size;
    this.spec = spec;
  }

  /** Start the workers (each from spec.workerData()); resolves when all are ready. */
  static async start<Req, Reply, Update>(size: number, spec: PoolSpec<Req, Reply, Update>): Promise<WorkerPool<Req, Reply, Update>> {
    const pool = new WorkerPool(size, spec);
    if (size === 0) {
      if (!spec.local) throw new Error("a pool of size 0 needs a local worker");
      pool.local = spec.local();
      return pool;
    }
    for (let i = 0; i < size; i++) pool.slots.push(pool.spawn());
    try {
      await Promise.all(pool.slots.map((s) => s.ready));
    } catch (e) {
      await pool.close();
      throw e;
    }
    return pool;
  }

  private spawn(): Slot<Reply> {
    const flags = new Int32Array(new SharedArrayBuffer(4 * FLAGS));
    const worker = new Worker(this.spec.file, { workerData: { ...this.spec.workerData(), flags } });
    const slot: Slot<Reply> = { worker, jobs: new Map(), ready: Promise.resolve(), flags, outbox: [], lastRun: performance.now() };
    const answer = (m: { id: number; reply?: Reply; error?: string }) => {
      const job = slot.jobs.get(m.id);
      if (!job) return;
      slot.jobs.delete(job.id);
      if (job.timer) clearTimeout(job.timer);
      job.resolve(m.error !== undefined ? this.spec.failed(`internal error in worker: ${m.error}`) : m.reply!);
    };
    slot.ready = new Promise((resolve, reject) => {
      worker.on("message", (m: { ready?: boolean; id?: number; reply?: Reply; error?: string; event?: unknown; replies?: { id: number; reply?: Reply; error?: string }[] }) => {
        if (m.ready) return resolve();
        if (m.event !== undefined) return this.spec.onEvent?.(m.event);
        if (m.replies) {
          for (const r of m.replies) answer(r);
          return;
        }
        answer(m as { id: number; reply?: Reply; error?: string });
      });
      worker.on("error", (e: Error) => {
        reject(e);
        this.fail(slot, `worker failed: ${e.message}`);
      });
      worker.on("exit", () => this.fail(slot, "worker exited"));
    });
    return slot;
  }

  /** Fail the requests of a dead worker and put a new one in its place. */
  private fail(slot: Slot<Reply>, message: string): void {
    const i = this.slots.indexOf(slot);
    if (i < 0) return;
    for (const job of slot.jobs.values()) {
      if (job.timer) clearTimeout(job.timer);
      job.resolve(this.spec.failed(message));
    }
    slot.jobs.clear();
    slot.outbox = [];
    if (this.closed) {
      this.slots.splice(i, 1);
      return;
    }
    this.replaced++;
    this.slots[i] = this.spawn();
    this.slots[i].ready.catch(() => undefined);
  }

  /** Send a state change to every worker, in order with the requests around it. */
  update(u: Update): void {
    if (this.local) return this.local.update(u);
    this.flush(); // requests submitted before the change are answered on the old state
    for (const s of this.slots) s.worker.postMessage({ t: "update", state: u });
  }

  /** Send the requests of this turn, at most BATCH per message. */
  private flush(): void {
    this.flushScheduled = false;
    for (const s of this.slots) {
      while (s.outbox.length > 0) s.worker.postMessage({ t: "runs", jobs: s.outbox.splice(0, BATCH) });
    }
  }

  /** Run a request on the least busy worker; `cancel` (the client went away) raises its flag. */
  run(req: Req, deadline: number | undefined, cancel?: CancelToken): Promise<Reply> {
    if (this.local) {
      const flag = new Int32Array(1);
      if (cancel) cancel.hooks.push(() => (flag[0] = 1));
      const r = this.local.run(req, flag);
      return r instanceof Promise ? r : Promise.resolve(r);
    }
    // Least busy (ties to the first); packed: the first worker with room, but an idle worker
    // that has had no request for KEEP_WARM_MS gets this one, so that every worker's code stays
    // compiled for a burst (a worker left cold costs several times more per review when the load
    // rises). One pass, nothing allocated: this runs on the main thread for every request.
    const pack = this.spec.packBelow;
    const now = pack !== undefined ? performance.now() : 0;
    let least = this.slots[0];
    let room: Slot<Reply> | undefined;
    let stale: Slot<Reply> | undefined;
    for (const s of this.slots) {
      const n = s.jobs.size;
      if (n < least.jobs.size) least = s;
      if (pack === undefined) continue;
      if (room === undefined && n < pack) room = s;
      if (stale === undefined && n === 0 && now - s.lastRun > KEEP_WARM_MS) stale = s;
    }
    const slot = stale ?? room ?? least;
    if (pack !== undefined) slot.lastRun = now;
    const id = ++this.seq;
    const flag = id % FLAGS;
    Atomics.store(slot.flags, flag, 0);
    return new Promise<Reply>((resolve) => {
      const job: Job<Reply> = { id, resolve, timer: undefined };
      if (deadline !== undefined) {
        job.timer = setTimeout(
          () => {
            // The worker stops at the deadline by itself; one still silent now is stuck.
            if (slot.jobs.has(id)) {
              Atomics.store(slot.flags, flag, 1);
              void slot.worker.terminate();
            }
          },
          Math.max(0, deadline - Date.now()) + GRACE_MS,
        );
        job.timer.unref?.();
      }
      if (cancel) {
        if (cancel.cancelled) Atomics.store(slot.flags, flag, 1);
        else cancel.hooks.push(() => slot.jobs.has(id) && Atomics.store(slot.flags, flag, 1));
      }
      const idle = slot.jobs.size === 0 && slot.outbox.length === 0;
      slot.jobs.set(id, job);
      // an idle worker gets the request at once; a busy one gets this turn's requests together
      if (idle) return slot.worker.postMessage({ t: "runs", jobs: [{ id, req, flag }] });
      slot.outbox.push({ id, req, flag });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flushScheduled && this.flush());
      }
    });
  }

  /** Requests in flight (all workers). */
  pending(): number {
    let n = 0;
    for (const s of this.slots) n += s.jobs.size;
    return n;
  }

  async close(): Promise<void> {
    this.flush();
    this.closed = true;
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}
