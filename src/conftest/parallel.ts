// The built-in library over a large input on several threads: the documents are checked in
// batches by worker threads (./library-worker.ts), each with its own engine loaded from the same
// policies and data, and the batches' results are put into the spools in input order, so the
// output is byte for byte what one thread gives (runLibraryChecks in ./evaluate.ts).
//
// Per-document checking only: each document is its own input, so no rule needs another
// document (the cross-document rules report on collections, which --combine makes one input).
//
// Limits: at most 2 batches per worker in flight and at most MAX_AHEAD_PER_WORKER batches per
// worker whose results wait for an earlier one; a worker per core, at most MAX_AUTO_WORKERS, and
// not more than free memory allows at WORKER_MEMORY_BYTES each (--parallel sets the count).

import { Worker } from "node:worker_threads";
import { availableParallelism, freemem } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { PACKAGE_ROOT } from "../package.ts";
import type { CheckResultView } from "../output/types.ts";
import type { MetadataForm, ResultSpool, SpoolDir } from "../output/spool.ts";
import { ConftestError } from "./errors.ts";
import { libraryPlan, resolveNamespaces, settleInputs, DEFAULT_TIMEOUT_MS, type Config, type LoadedPolicies } from "./evaluate.ts";
import { packDocuments, type Patch } from "./transfer.ts";
import type { TestOptions } from "./runner.ts";

/** Inputs with fewer documents than this run on one thread (starting a worker costs about a second of CPU: it compiles the library). */
export const PARALLEL_MIN_DOCUMENTS = 2000;
/** Documents sent to a worker at a time. */
export const BATCH_DOCUMENTS = 200;
/** Workers started without --parallel, at most. */
export const MAX_AUTO_WORKERS = 8;
/** Workers --parallel may ask for, at most. */
export const MAX_WORKERS = 64;
/** Memory a worker is assumed to need (its engine, the library, a batch and its results). */
export const WORKER_MEMORY_BYTES = 192 * 1024 * 1024;
/** Batches per worker whose results may wait for an earlier batch's. */
const MAX_AHEAD_PER_WORKER = 4;

/** What a worker is started with: the run's options (as loadPolicies reads them) and the spools' metadata form. */
export interface WorkerSetup {
  options: Omit<TestOptions, "readStdin">;
  form: MetadataForm;
  timeoutMs: number;
}

export interface BatchRequest {
  id: number;
  filename: string;
  file: { name: string; dir: string };
  /** Index of the batch's first document in its file (for error messages). */
  start: number;
  docs: unknown[];
  patches: Patch[];
}

/** Per namespace (the plan's order): successes and result lines; outputs: each document's print output, when it has some. */
export type BatchReply =
  | { id: number; ok: true; successes: number[]; failures: string[][]; warnings: string[][]; exceptions: string[][]; outputs: string[][] }
  | { id: number; ok: false; at: number; conftest: boolean; message: string; stack?: string };

/**
 * How many threads check the library's documents: `requested` (--parallel; 0 and 1 mean one
 * thread, the caller's), else one per core up to MAX_AUTO_WORKERS and free memory when the input
 * has PARALLEL_MIN_DOCUMENTS or more, else 1. Never more than there are batches.
 */
export function libraryWorkers(requested: number | undefined, documents: number, batch = BATCH_DOCUMENTS): number {
  const batches = Math.ceil(documents / batch);
  if (requested !== undefined) return Math.max(1, Math.min(requested, MAX_WORKERS, batches));
  if (documents < PARALLEL_MIN_DOCUMENTS) return 1;
  const byMemory = Math.floor(freemem() / WORKER_MEMORY_BYTES);
  return Math.max(1, Math.min(availableParallelism(), MAX_AUTO_WORKERS, byMemory, batches));
}

/** The worker's entry: through tsx from the sources (a .mjs that registers it), the bundled file from the build. */
function workerFile(): URL {
  if (import.meta.url.endsWith(".ts")) return new URL("./library-worker.mjs", import.meta.url);
  return pathToFileURL(join(PACKAGE_ROOT, "dist", "conftest", "library-worker.js"));
}

interface Batch {
  seq: number;
  config: number;
  start: number;
  count: number;
}

/**
 * runLibraryChecks on `workers` threads (2 or more): the same CheckResultViews, with the same
 * lines in the same spools, as one thread gives.
 */
export async function runLibraryParallel(loaded: LoadedPolicies, configs: Config[], o: TestOptions, dir: SpoolDir, workers: number, batch = BATCH_DOCUMENTS): Promise<CheckResultView[]> {
  const namespaces = resolveNamespaces(loaded.modules, o.namespaces ?? ["main"], o.allNamespaces ?? false);
  const lp = libraryPlan(loaded.modules, namespaces, loaded.engine.getData());
  type Row = Omit<CheckResultView, "skipped" | "warnings" | "failures" | "exceptions"> & { skipped: ResultSpool; warnings: ResultSpool; failures: ResultSpool; exceptions: ResultSpool };
  const rows: Row[][] = configs.map((c) => lp.namespaces.map((p) => ({ filename: c.filename, namespace: p.ns, successes: 0, skipped: dir.spool(), warnings: dir.spool(), failures: dir.spool(), exceptions: dir.spool(), queries: [] })));

  // The batches, in input order.
  const batches: Batch[] = [];
  configs.forEach((c, ci) => {
    for (let s = 0; s < c.documents.length; s += batch) batches.push({ seq: batches.length, config: ci, start: s, count: Math.min(batch, c.documents.length - s) });
  });

  const { readStdin: _unused, parallelBatch: _batch, ...options } = o;
  const setup: WorkerSetup = { options, form: dir.form, timeoutMs: o.timeoutMs ?? DEFAULT_TIMEOUT_MS };
  const pool = Array.from({ length: workers }, () => new Worker(workerFile(), { workerData: setup }));

  let next = 0; // next batch to send
  let applied = 0; // batches whose results are in the spools
  const done = new Map<number, BatchReply>();
  let failed = false;
  let wake: (() => void) | null = null;
  const wakeAll = () => {
    const w = wake;
    wake = null;
    w?.();
  };
  const maxAhead = workers * MAX_AHEAD_PER_WORKER;

  const apply = () => {
    for (let r = done.get(applied); r !== undefined && r.ok; r = done.get(applied)) {
      done.delete(applied);
      const b = batches[applied];
      const perNs = rows[b.config];
      perNs.forEach((row, i) => {
        row.successes += r.successes[i];
        for (const line of r.failures[i]) row.failures.pushLine(line);
        for (const line of r.warnings[i]) row.warnings.pushLine(line);
        for (const line of r.exceptions[i]) row.exceptions.pushLine(line);
      });
      if (perNs.length > 0) for (const outputs of r.outputs) perNs[0].queries!.push({ query: lp.query, outputs });
      applied++;
    }
    wakeAll();
  };

  // One sender per worker and slot: takes the next batch, waits for its reply.
  const send = async (worker: Worker, pending: Map<number, (r: BatchReply) => void>): Promise<void> => {
    while (!failed && next < batches.length) {
      if (next - applied >= maxAhead) {
        await new Promise<void>((resolve) => {
          const prev = wake;
          wake = () => {
            prev?.();
            resolve();
          };
        });
        continue;
      }
      const b = batches[next++];
      const config = configs[b.config];
      const docs = config.lazy ? config.lazy.take(b.start, b.count) : config.documents.slice(b.start, b.start + b.count);
      // Sent documents are not needed here again: let them be collected.
      config.documents.fill(undefined, b.start, b.start + b.count);
      const patches = packDocuments(docs);
      const reply = await new Promise<BatchReply>((resolve) => {
        pending.set(b.seq, resolve);
        worker.postMessage({ id: b.seq, filename: config.filename, file: config.file, start: b.start, docs, patches } satisfies BatchRequest);
      });
      done.set(b.seq, reply);
      if (!reply.ok) failed = true;
      apply();
    }
  };

  try {
    await Promise.all(
      pool.map((worker) => {
        const pending = new Map<number, (r: BatchReply) => void>();
        const fail = (message: string) => {
          for (const [id, resolve] of pending) resolve({ id, ok: false, at: 0, conftest: false, message });
          pending.clear();
        };
        worker.on("message", (r: BatchReply) => {
          const resolve = pending.get(r.id);
          pending.delete(r.id);
          resolve?.(r);
        });
        worker.on("error", (e: Error) => fail(`the library's worker thread failed: ${e.message}`));
        worker.on("exit", (code) => fail(`the library's worker thread stopped (exit code ${code})`));
        return Promise.all([send(worker, pending), send(worker, pending)]);
      }),
    );
  } finally {
    await Promise.all(pool.map((w) => w.terminate()));
  }

  // Every batch before the first failed one has been applied: that failure is what one thread meets first.
  const first = done.get(applied);
  if (first !== undefined && !first.ok) {
    settleInputs(configs);
    if (first.conftest) throw new ConftestError(first.message);
    const e = first.message.startsWith("RangeError: ") ? new RangeError(first.message.slice(12)) : new Error(first.message);
    if (first.stack) e.stack = first.stack;
    throw e;
  }
  if (applied !== batches.length) throw new Error(`the library's parallel run checked ${applied} of ${batches.length} batches`);

  const out: CheckResultView[] = [];
  for (let i = 0; i < lp.namespaces.length; i++) {
    for (const perNs of rows) {
      const r = perNs[i];
      for (const list of [r.skipped, r.warnings, r.failures, r.exceptions]) list.close();
      out.push(r);
    }
  }
  return out;
}
